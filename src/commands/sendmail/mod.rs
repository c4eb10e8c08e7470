//! The sendmail front end: `relayctl sendmail ARGS`, or the binary invoked as `sendmail`,
//! `mailq` or `newaliases`. Options mean what they mean to Postfix's sendmail(1).

pub mod args;

mod smtp_session;

use std::ffi::OsString;

use args::{BodyType, Invocation, Mode, Sender};

use crate::commands::queue;
use crate::config::ConfigLocation;
use crate::error::{Error, Result};
use crate::gate::Intent;
use crate::message::envelope::{Dsn, Envelope};
use crate::message::submission::{Request, SubmissionError};
use crate::options::Options;
use crate::queue::{Area, Select};
use crate::relay;
use crate::submit::{self, Intake, Ready, held};
use crate::transcript::Transcript;

/// The names under which the binary acts as sendmail.
pub const PROGRAM_NAMES: [&str; 3] = ["sendmail", "mailq", "newaliases"];

/// Runs a sendmail invocation. `base` carries relayctl's own global options; `-C` and `-v`
/// from the sendmail arguments take precedence.
pub fn execute(program: &str, arguments: &[OsString], base: Options) -> Result<()> {
    let inv = parse(program, arguments)?;
    let options = Options {
        location: match &inv.config {
            Some(file) => ConfigLocation::new(Some(file.clone())),
            None => base.location,
        },
        profile: base.profile,
        transcript: if inv.verbose {
            Transcript::new(true)
        } else {
            base.transcript
        },
        spool: base.spool,
        wait: base.wait,
    };
    match inv.mode {
        Mode::Deliver => deliver(&options, &inv),
        Mode::SmtpSession => smtp_session::run(&options, &inv),
        Mode::Verify => verify(&options, &inv),
        Mode::ListQueue => queue::list(
            &options.open_spool()?,
            options.location.load().ok().as_ref(),
            Area::Queue,
            false,
        ),
        Mode::Newaliases => {
            crate::messages::alert(
                "aliases are read from [aliases] in the config (and aliases_file) for every message; there is nothing to rebuild",
            );
            Ok(())
        }
        Mode::QueueRun => queue::run(&options, &options.open_spool()?, Select::AllQueued),
        Mode::Help => {
            print!("{}", crate::cli::sendmail_help());
            Ok(())
        }
    }
}

/// What a sendmail invocation asks for, for the raised-privileges gate: handing over a
/// message, or a mode named as the caller asked for it (`mailq`, `sendmail -bp`).
pub fn intent(program: &str, arguments: &[OsString]) -> Result<Intent> {
    let mode = parse(program, arguments)?.mode;
    if mode.submits() {
        return Ok(Intent::Submission);
    }
    Ok(Intent::Other(match (program, mode) {
        ("mailq", Mode::ListQueue) | ("newaliases", Mode::Newaliases) => program.to_string(),
        _ => format!("{program} {}", mode.option()),
    }))
}

fn parse(program: &str, arguments: &[OsString]) -> Result<Invocation> {
    args::for_program(program, arguments).map_err(|e| Error::Usage(e.0))
}

fn sender(inv: &Invocation) -> Option<Option<&str>> {
    inv.sender.as_ref().map(|s| match s {
        Sender::Null => None,
        Sender::Address(a) => Some(a.as_str()),
    })
}

fn deliver(options: &Options, inv: &Invocation) -> Result<()> {
    if inv.recipients.is_empty() && !inv.extract_recipients {
        return Err(SubmissionError::NoRecipients.into());
    }
    // A configuration that cannot deliver the message yet does not lose it: it is held.
    let intake = Intake::load(options);
    let limit = match &intake {
        // The sender, once read, may route the message to a profile with a larger limit.
        Ok(intake) => intake.config.routed_size_limit(&intake.selected.profile),
        Err(_) => crate::config::DEFAULT_MAX_MESSAGE_SIZE.0,
    };
    let mut incoming = submit::read(
        &mut std::io::stdin().lock(),
        inv.ignore_dots,
        limit,
        &options.scratch_dir(),
    )?;
    let asked = || held::Asked {
        profile: options.profile.as_deref(),
        recipients: &inv.recipients,
        extract_recipients: inv.extract_recipients,
        sender: sender(inv),
        full_name: inv.full_name.as_deref(),
        dsn: inv.dsn.clone(),
    };
    let routed = intake.and_then(|mut intake| {
        let sender = submit::routing_sender(sender(inv), &incoming.head);
        intake.route(sender.as_deref()).map(|()| intake)
    });
    let intake = match routed {
        Ok(intake) => intake,
        Err(e) if held::is_configuration_fault(&e) => {
            return held::hold(options, &mut incoming, &asked(), &e);
        }
        Err(e) => return Err(e),
    };
    if inv.body_type == Some(BodyType::SevenBit)
        && (!incoming.head.is_ascii() || !incoming.body.utf8)
    {
        options
            .transcript
            .note("-B 7BIT given, but the message has 8-bit content; it is sent as 8BITMIME");
    }
    let request = Request {
        recipients: &inv.recipients,
        extract_recipients: inv.extract_recipients,
        sender: sender(inv),
    };
    let policy = match intake.policy(inv.full_name.as_deref()) {
        Ok(policy) => policy,
        Err(e) => return held::hold(options, &mut incoming, &asked(), &e),
    };
    let prepared = Ready::prepare(
        incoming,
        &request,
        &policy,
        &intake.aliases,
        intake.selected.profile.allow_bare_hostnames,
        inv.dsn.clone(),
    );
    let mut ready = match prepared {
        Ok(ready) => ready,
        Err(refused) => {
            let mut refused = *refused;
            let e = Error::from(refused.error);
            if !held::is_configuration_fault(&e) {
                return Err(e);
            }
            return held::hold(options, &mut refused.incoming, &asked(), &e);
        }
    };
    intake.submit(&mut ready).map(drop)
}

/// `-bv`: asks the relay about each recipient and prints the answers.
fn verify(options: &Options, inv: &Invocation) -> Result<()> {
    let intake = Intake::load(options)?;
    let policy = intake.policy(inv.full_name.as_deref())?;
    let mut recipients = Vec::new();
    for r in &inv.recipients {
        match intake.aliases.resolve(r) {
            Ok(list) => recipients.extend(list),
            Err(e) => {
                println!("{r}... undeliverable: {e}");
                return Err(Error::Alias(e));
            }
        }
    }
    if recipients.is_empty() {
        return Err(Error::Usage("-bv needs at least one recipient".into()));
    }
    let envelope = Envelope {
        sender: Some(policy.profile_from.to_string()),
        recipients,
        dsn: Dsn::default(),
    };
    let results = relay::verify(
        &intake.selected.name,
        &intake.selected.profile,
        &intake.selected.credentials(options.transcript),
        &envelope,
        &options.transcript,
    )?;
    let failures: Vec<_> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .cloned()
        .collect();
    for (rcpt, result) in &results {
        match result {
            Ok(reply) => println!("{rcpt}... deliverable: {reply}"),
            Err(f) => println!("{rcpt}... undeliverable: {}", f.reply),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(relay::DeliveryError::Recipients {
            server: format!(
                "{}:{}",
                intake.selected.profile.host, intake.selected.profile.port
            ),
            accepted: results.len() - failures.len(),
            failures,
        }
        .into())
    }
}
