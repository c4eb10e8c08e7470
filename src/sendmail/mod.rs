//! The sendmail front end: `relayctl sendmail ARGS`, or the binary invoked as `sendmail`,
//! `mailq` or `newaliases`. Options mean what they mean to Postfix's sendmail(1).

pub mod args;
pub mod link;
pub mod maildrop;
mod smtp_session;

use std::ffi::OsString;
use std::io::{BufRead, Read};

use args::{BodyType, DsnNotify, DsnRet, Invocation, Mode, Sender};

use crate::aliases::Aliases;
use crate::commands::{self, Context, Selected};
use crate::config::{ConfigLocation, LoadedConfig};
use crate::error::{Error, Result};
use crate::message::body;
use crate::message::headers::split;
use crate::message::submission::{
    Request, SenderPolicy, Submission, SubmissionError, declare_quoted_printable, prepare,
};
use crate::privilege::Intent;
use crate::queue::{Area, Select};
use crate::relay::{self, Dsn, Transcript};

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

    /// Prepares and delivers one message.
    fn submit(
        &self,
        ctx: &Context,
        input: &[u8],
        request: &Request<'_>,
        inv: &Invocation,
    ) -> Result<()> {
        let policy = self.policy(inv)?;
        let submission = prepare(input, request, &policy, &self.aliases)?;
        submission.check_addresses(self.selected.profile.allow_bare_hostnames)?;
        let Submission {
            message,
            mut envelope,
        } = submission;
        envelope.dsn = dsn(inv);
        ctx.submit(&self.config, &self.selected, &envelope, &message)
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

/// Queues what unprivileged users dropped into the spool's maildrop (root side).
pub fn import_maildrop(
    spool: &crate::queue::Spool,
    config: &LoadedConfig,
    transcript: &Transcript,
) -> Result<usize> {
    Ok(maildrop::import(
        spool,
        config,
        &aliases_for(config)?,
        transcript,
    )?)
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

fn dsn(inv: &Invocation) -> Dsn {
    Dsn {
        notify: inv.dsn_notify.as_ref().map(|n| match n {
            DsnNotify::Never => "NEVER".to_string(),
            DsnNotify::On {
                failure,
                delay,
                success,
            } => [(success, "SUCCESS"), (failure, "FAILURE"), (delay, "DELAY")]
                .iter()
                .filter(|(on, _)| **on)
                .map(|(_, word)| *word)
                .collect::<Vec<_>>()
                .join(","),
        }),
        ret: inv.dsn_ret.map(|r| {
            match r {
                DsnRet::Full => "FULL",
                DsnRet::Headers => "HDRS",
            }
            .to_string()
        }),
        envid: inv.envid.clone(),
    }
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
    let mut stdin = std::io::stdin().lock();
    let (head, first_body_line) = read_head(&mut stdin, inv.ignore_dots)?;
    let mut body = body::spool(
        &first_body_line,
        &mut stdin,
        inv.ignore_dots,
        limit.saturating_sub(head.len() as u64),
        &ctx.scratch_dir(),
    )
    .map_err(|e| match e {
        body::BodyError::TooLarge(_) => Error::Message(format!(
            "the message is larger than the profile's limit of {limit} bytes (max_message_size)"
        )),
        body::BodyError::Input(e) => Error::Stdin(e),
        body::BodyError::Scratch(source) => Error::Spool(crate::queue::SpoolError::Io {
            action: "spool the message in",
            path: ctx.scratch_dir(),
            source,
        }),
    })?;
    let head_lines = head.iter().filter(|&&b| b == b'\n').count();
    if let Some(line) = body.nul_line {
        return Err(SubmissionError::Nul(head_lines + line).into());
    }
    if inv.body_type == Some(BodyType::SevenBit) && (!head.is_ascii() || !body.utf8) {
        ctx.transcript
            .note("-B 7BIT given, but the message has 8-bit content; it is sent as 8BITMIME");
    }
    let request = Request {
        recipients: &inv.recipients,
        extract_recipients: inv.extract_recipients,
        sender: sender(inv),
    };
    let policy = setup.policy(inv)?;
    let submission = prepare(&head, &request, &policy, &setup.aliases)?;
    submission.check_addresses(setup.selected.profile.allow_bare_hostnames)?;
    let Submission {
        message: mut head,
        mut envelope,
    } = submission;
    envelope.dsn = dsn(inv);
    let quoted_printable = match body.long_line {
        Some(line) => {
            let mut fields = split(&head);
            declare_quoted_printable(&mut fields, line, body.utf8)?;
            head = fields.to_bytes();
            true
        }
        None => false,
    };
    ctx.submit_parts(
        &setup.config,
        &setup.selected,
        &envelope,
        &head,
        &mut body,
        quoted_printable,
    )
}

/// Reads the header section: lines up to and including the empty line that ends it. A line
/// that is neither a field nor a continuation starts the body and is returned apart. Without
/// `-i`, a lone dot ends the whole message. At most 1 MiB of headers.
fn read_head(input: &mut dyn BufRead, ignore_dots: bool) -> Result<(Vec<u8>, Vec<u8>)> {
    const MAX_HEAD: usize = 1 << 20;
    let mut head = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Never more than the header section may hold, even from a line without an end: a cut
        // line either overflows the limit below or starts the body, which continues it.
        let room = (MAX_HEAD - head.len() + 1) as u64;
        if (&mut *input)
            .take(room)
            .read_until(b'\n', &mut line)
            .map_err(Error::Stdin)?
            == 0
        {
            return Ok((head, Vec::new()));
        }
        if !ignore_dots && matches!(line.as_slice(), b".\n" | b".\r\n" | b".") {
            // The rest of the input is not part of the message.
            return Ok((head, Vec::new()));
        }
        let content = line.strip_suffix(b"\n").unwrap_or(&line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        let continuation = !head.is_empty() && matches!(content.first(), Some(b' ' | b'\t'));
        let mbox_from = head.is_empty() && content.starts_with(b"From ");
        let field = content
            .iter()
            .position(|&b| b == b':')
            .is_some_and(|colon| {
                colon > 0 && content[..colon].iter().all(|&b| (33..=126).contains(&b))
            });
        if content.is_empty() {
            head.extend_from_slice(&line);
            return Ok((head, Vec::new()));
        }
        if !(field || continuation || mbox_from) {
            return Ok((head, line));
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err(Error::Message(
                "the header section is larger than 1 MiB".into(),
            ));
        }
    }
}

/// Reads the message from stdin. Without `-i`/`-oi`, a line holding a single dot ends it, as
/// with every sendmail. More than `limit` bytes is refused rather than buffered.
fn read_message(input: &mut dyn BufRead, limit: u64, ignore_dots: bool) -> Result<Vec<u8>> {
    let mut message = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let room = limit.saturating_sub(message.len() as u64) + 1;
        let n = (&mut *input)
            .take(room)
            .read_until(b'\n', &mut line)
            .map_err(Error::Stdin)?;
        if n == 0 {
            break;
        }
        if !ignore_dots && matches!(line.as_slice(), b".\n" | b".\r\n" | b".") {
            break;
        }
        message.extend_from_slice(&line);
        if message.len() as u64 > limit {
            return Err(Error::Message(format!(
                "the message is larger than the profile's limit of {limit} bytes (max_message_size)"
            )));
        }
    }
    Ok(message)
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
    let envelope = relay::Envelope {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_dot_ends_input_unless_dots_are_ignored() {
        let input = b"Subject: x\n\nline\n.\nafter\n";
        let read = |ignore| read_message(&mut &input[..], 1000, ignore).unwrap();
        assert_eq!(read(false), b"Subject: x\n\nline\n");
        assert_eq!(read(true), input);
        assert_eq!(
            read_message(&mut &b"a\r\n.\r\nb"[..], 1000, false).unwrap(),
            b"a\r\n"
        );
        assert_eq!(
            read_message(&mut &b"a\n..\nb"[..], 1000, false).unwrap(),
            b"a\n..\nb"
        );
    }

    #[test]
    fn input_over_the_limit_is_refused() {
        let err = read_message(&mut &[b'x'; 100][..], 10, true).unwrap_err();
        assert!(err.to_string().contains("limit of 10 bytes"), "{err}");
        // An endless line is refused at the limit, not buffered.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        let err = read_message(&mut endless, 1000, true).unwrap_err();
        assert!(err.to_string().contains("limit of 1000 bytes"), "{err}");
    }

    #[test]
    fn an_endless_header_line_stops_at_the_header_limit() {
        let mut endless = b"Subject: ".chain(std::io::repeat(b'x'));
        let mut endless = std::io::BufReader::new(&mut endless);
        let err = read_head(&mut endless, true).unwrap_err();
        assert!(err.to_string().contains("larger than 1 MiB"), "{err}");
        // A line that is not a field starts the body; the body reader finishes it.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'x'));
        let (head, first) = read_head(&mut endless, true).unwrap();
        assert_eq!((head.len(), first.len()), (0, (1 << 20) + 1));
    }

    #[test]
    fn dsn_parameters() {
        let inv = args::parse(
            &[
                "-N",
                "delay,failure",
                "-R",
                "hdrs",
                "-V",
                "id1",
                "a@b.example",
            ]
            .map(OsString::from),
        )
        .unwrap();
        let d = dsn(&inv);
        assert_eq!(d.notify.as_deref(), Some("FAILURE,DELAY"));
        assert_eq!(
            (d.ret.as_deref(), d.envid.as_deref()),
            (Some("HDRS"), Some("id1"))
        );
    }
}
