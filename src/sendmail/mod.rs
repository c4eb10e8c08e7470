//! The sendmail front end: `relayctl sendmail ARGS`, or the binary invoked as `sendmail`,
//! `mailq` or `newaliases`. Options mean what they mean to Postfix's sendmail(1).

pub mod args;
pub mod link;
mod smtp_session;

use std::ffi::OsString;

use args::{BodyType, Invocation, Mode, Sender};

use crate::aliases::Aliases;
use crate::commands::{self, Context, Selected};
use crate::config::{ConfigLocation, LoadedConfig};
use crate::error::{Error, Result};
use crate::message::envelope::{Dsn, Envelope};
use crate::message::submission::{Request, SenderPolicy, SubmissionError};
use crate::privilege::Intent;
use crate::queue::{Area, Select};
use crate::relay;
use crate::submit::{self, Ready, maildrop};
use crate::transcript::Transcript;

/// The names under which the binary acts as sendmail.
pub const PROGRAM_NAMES: [&str; 3] = ["sendmail", "mailq", "newaliases"];

/// Runs a sendmail invocation. `base` carries relayctl's own global options; `-C` and `-v`
/// from the sendmail arguments take precedence.
pub fn execute(program: &str, arguments: &[OsString], base: Context) -> Result<()> {
    let inv = parse(program, arguments)?;
    let ctx = Context {
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
        Mode::Deliver => deliver(&ctx, &inv),
        Mode::SmtpSession => smtp_session::run(&ctx, &inv),
        Mode::Verify => verify(&ctx, &inv),
        Mode::ListQueue => commands::queue::list(&ctx.open_spool()?, Area::Queue, false),
        Mode::Newaliases => {
            eprintln!(
                "relayctl: aliases are read from [aliases] in the config (and aliases_file) for every message; there is nothing to rebuild"
            );
            Ok(())
        }
        Mode::QueueRun => commands::queue::run(&ctx, &ctx.open_spool()?, Select::AllQueued),
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

/// What every mode that sends needs: the profile, its aliases and the sender policy inputs.
struct Setup {
    config: LoadedConfig,
    selected: Selected,
    aliases: Aliases,
}

impl Setup {
    fn load(ctx: &Context) -> Result<Self> {
        let config = ctx.location.load()?;
        let selected = ctx.select_from(&config)?;
        let aliases = aliases_for(&config)?;
        Ok(Setup {
            config,
            selected,
            aliases,
        })
    }

    fn policy<'a>(&'a self, inv: &'a Invocation) -> Result<SenderPolicy<'a>> {
        let p = &self.selected.profile;
        Ok(SenderPolicy {
            profile_from: p.from.as_deref().ok_or_else(|| {
                Error::Usage(format!(
                    "profile `{}` has no `from` address; set one (relayctl setup ... --from ADDR)",
                    self.selected.name
                ))
            })?,
            allow_from_override: p.allow_from_override,
            reply_to: p.reply_to.as_deref(),
            full_name: inv.full_name.as_deref(),
        })
    }
}

/// The aliases in effect for `config`.
pub fn aliases_for(config: &LoadedConfig) -> Result<Aliases> {
    Aliases::new(
        &config.aliases,
        config.aliases_file.as_deref(),
        local_domains(),
    )
    .map_err(Error::Alias)
}

/// Queues what unprivileged users dropped into the spool's maildrop (root side). Refused drop
/// files are reported and kept in the corrupt area; they never stop the pass.
pub fn import_maildrop(
    spool: &crate::queue::Spool,
    config: &LoadedConfig,
    transcript: &Transcript,
) -> Result<usize> {
    let imported = maildrop::import(spool, config, &aliases_for(config)?, transcript);
    Ok(imported.queued.len())
}

/// The domains that mean "this host": mail to `user@` one of them is local.
fn local_domains() -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "localhost.localdomain".to_string()];
    if let Ok(host) = dns_lookup::get_hostname() {
        names.push(host);
    }
    names.extend(relay::system_fqdn());
    names
}

fn sender(inv: &Invocation) -> Option<Option<&str>> {
    inv.sender.as_ref().map(|s| match s {
        Sender::Null => None,
        Sender::Address(a) => Some(a.as_str()),
    })
}

fn deliver(ctx: &Context, inv: &Invocation) -> Result<()> {
    if inv.recipients.is_empty() && !inv.extract_recipients {
        return Err(SubmissionError::NoRecipients.into());
    }
    let setup = Setup::load(ctx)?;
    let limit = setup.selected.profile.max_message_size().0;
    let incoming = submit::read(
        &mut std::io::stdin().lock(),
        inv.ignore_dots,
        limit,
        &ctx.scratch_dir(),
    )?;
    if inv.body_type == Some(BodyType::SevenBit)
        && (!incoming.head.is_ascii() || !incoming.body.utf8)
    {
        ctx.transcript
            .note("-B 7BIT given, but the message has 8-bit content; it is sent as 8BITMIME");
    }
    let request = Request {
        recipients: &inv.recipients,
        extract_recipients: inv.extract_recipients,
        sender: sender(inv),
    };
    let mut ready = Ready::prepare(
        incoming,
        &request,
        &setup.policy(inv)?,
        &setup.aliases,
        setup.selected.profile.allow_bare_hostnames,
        inv.dsn.clone(),
    )?;
    ctx.submit_ready(&setup.config, &setup.selected, &mut ready)
}

/// `-bv`: asks the relay about each recipient and prints the answers.
fn verify(ctx: &Context, inv: &Invocation) -> Result<()> {
    let setup = Setup::load(ctx)?;
    let policy = setup.policy(inv)?;
    let mut recipients = Vec::new();
    for r in &inv.recipients {
        match setup.aliases.resolve(r) {
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
        &setup.selected.profile,
        &setup.selected.credentials(ctx.transcript),
        &envelope,
        &ctx.transcript,
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
                setup.selected.profile.host, setup.selected.profile.port
            ),
            accepted: results.len() - failures.len(),
            failures,
        }
        .into())
    }
}
