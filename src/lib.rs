//! relayctl: outgoing mail for servers and cloud instances.
//!
//! # Architecture
//!
//! The binary (`main.rs`) parses nothing itself: it calls [`run`] and turns the [`Error`] it gets
//! back into one stderr line and a sysexits code, in one place. ARCHITECTURE.md has the same map
//! with the path of a message and the invariants.
//!
//! - Edge: [`cli`] (clap definitions; their doc comments are the `--help` text), [`run`] and [`gate`] (the
//!   raised-privileges gate and dispatch), [`error`].
//! - Commands: [`commands`], one module per subcommand (`serve` and `server` for the SMTP
//!   listener), the sendmail front end among them
//!   (`sendmail`, `mailq`, `newaliases` by program name); [`generate`] (man pages,
//!   completions); [`link`] (`sendmail-link`).
//! - Talking to the user: [`messages`] (alerts, warnings), [`transcript`] (`-v`), [`log`] (one
//!   system-log line per delivery attempt).
//! - Submission, the one way into the queue: [`options`] (global options, the profile chosen),
//!   [`submit`] (read under a size limit, prepare under the sender policy, enqueue, the first
//!   attempt, the maildrop), [`smtpd`] (the server side of SMTP: the dialogue of `sendmail -bs`
//!   and the listener `relayctl serve`, its users and limits), [`aliases`].
//! - The queue: [`queue`] (spool, state, runner, rate limits and the spew brake, relays known
//!   to be down, notices, daemon).
//! - Delivery: [`relay`] (relayctl's own SMTP client, sessions with the profile's TLS and login
//!   policy, failures classified for the queue), [`oauth`] (tokens for Gmail and Microsoft 365).
//! - Diagnosis: [`doctor`], [`metrics`] (for Prometheus).
//! - Foundations: [`config`], [`secrets`], [`message`] (headers, addresses, the envelope, line
//!   endings, bodies, composition), [`state_file`], [`atomic_file`], [`trust`], [`privilege`],
//!   [`users`], [`host`], [`child`], [`printable`], [`calendar`].
#![forbid(unsafe_code)]

pub mod aliases;
pub mod atomic_file;
pub mod calendar;
pub mod child;
pub mod cli;
pub mod commands;
pub mod config;
pub mod doctor;
pub mod error;
pub mod gate;
pub mod generate;
pub mod host;
pub mod link;
pub mod log;
pub mod message;
pub mod messages;
pub mod metrics;
pub mod oauth;
pub mod options;
pub mod printable;
pub mod privilege;
pub mod queue;
pub mod relay;
pub mod secrets;
pub mod smtpd;
pub mod state_file;
pub mod submit;
pub mod transcript;
pub mod trust;
pub mod users;

use std::ffi::OsString;

use clap::Parser;

pub use error::{Error, Result};

use cli::{Cli, Command, LinkCommand};
use commands::sendmail;
use config::ConfigLocation;
use gate::Intent;
use transcript::Transcript;

/// Runs relayctl with the given arguments (the first is the program name). Invoked as
/// `sendmail`, `mailq` or `newaliases`, it behaves as those programs.
pub fn run<I: IntoIterator<Item = OsString>>(args: I) -> Result<()> {
    let args: Vec<OsString> = args.into_iter().collect();
    let program = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if sendmail::PROGRAM_NAMES.contains(&program.as_str()) {
        gate::allow(|| sendmail::intent(&program, &args[1..]))?;
        let options = options::Options {
            location: ConfigLocation::new(std::env::var_os("RELAYCTL_CONFIG").map(Into::into)),
            profile: std::env::var("RELAYCTL_PROFILE").ok(),
            transcript: Transcript::new(false),
            spool: std::env::var_os("RELAYCTL_SPOOL").map(Into::into),
            wait: false,
        };
        return sendmail::execute(&program, &args[1..], options);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            e.print().map_err(Error::Stdin)?;
            return Ok(());
        }
        Err(e) => return Err(Error::Usage(clap_message(&e))),
    };
    gate::allow(|| intent(&cli.command))?;
    let options = options::Options {
        location: ConfigLocation::new(cli.config),
        profile: cli.profile,
        transcript: Transcript::new(cli.verbose),
        spool: cli.spool,
        wait: cli.wait,
    };
    let transcript = options.transcript;
    let result = match cli.command {
        Command::Setup(args) => commands::setup::execute(&options, *args),
        Command::Profile(command) => commands::profile::execute(&options, command),
        Command::Send(args) => commands::send::execute(&options, args),
        Command::Sendmail { args } => sendmail::execute("sendmail", &args, options),
        Command::SendmailLink(LinkCommand::Install { prefix, force }) => {
            link::install(&prefix, force)
        }
        Command::SendmailLink(LinkCommand::Remove { prefix }) => link::remove(&prefix),
        Command::SendmailLink(LinkCommand::Status { prefix }) => link::status(&prefix),
        Command::Queue(command) => commands::queue::execute(&options, command),
        Command::Doctor { json } => commands::doctor::execute(&options, json),
        Command::Metrics => commands::metrics::execute(&options),
        Command::Route { address } => commands::route::execute(&options, &address),
        Command::Test { to } => commands::test_message::execute(&options, &to),
        Command::Serve(args) => commands::serve::execute(&options, args),
        Command::Server(command) => commands::server::execute(&options, command),
        Command::Generate(command) => generate::execute(&options, command),
    };
    if let Err(e) = &result
        && let Some(detail) = e.detail()
    {
        transcript.note(&format!("details: {detail}"));
    }
    result
}

/// What `command` asks for, for the raised-privileges gate ([`gate::allow`]): only
/// handing over a message is allowed there. Every subcommand is listed, so that a new one must
/// be classified.
fn intent(command: &Command) -> Result<Intent> {
    let other = |name: &str| Ok(Intent::Other(name.to_string()));
    match command {
        Command::Send(args) if args.attach.is_empty() => Ok(Intent::Submission),
        Command::Send(_) => other("send --attach"),
        Command::Sendmail { args } => sendmail::intent("sendmail", args),
        Command::Setup(_) => other("setup"),
        Command::Profile(_) => other("profile"),
        Command::SendmailLink(_) => other("sendmail-link"),
        Command::Queue(_) => other("queue"),
        Command::Doctor { .. } => other("doctor"),
        Command::Metrics => other("metrics"),
        Command::Route { .. } => other("route"),
        Command::Test { .. } => other("test"),
        Command::Serve(_) => other("serve"),
        Command::Server(_) => other("server"),
        Command::Generate(_) => other("generate"),
    }
}

/// clap's message, up to its usage section, as one line without the `error: ` prefix, with
/// the closest subcommand or option when there is one (`did you mean 'send'?`) and the help of
/// the (sub)command the error is about.
fn clap_message(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = match e.kind() {
        // clap would print the whole help.
        clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            "a subcommand is missing".to_string()
        }
        _ => message.join(" "),
    };
    let suggestion = [ContextKind::SuggestedSubcommand, ContextKind::SuggestedArg]
        .into_iter()
        .find_map(|kind| match e.get(kind) {
            Some(ContextValue::String(s)) => Some(s.clone()),
            // Ordered by similarity, the closest last.
            Some(ContextValue::Strings(list)) => list.last().cloned(),
            _ => None,
        })
        .map(|s| format!("; did you mean '{s}'?"))
        .unwrap_or_default();
    // The usage line names the command: `Usage: relayctl queue delete [OPTIONS] <ID>...`.
    let command = match e.get(ContextKind::Usage) {
        Some(ContextValue::StyledStr(usage)) => {
            let usage = usage.to_string();
            let words: Vec<&str> = usage
                .trim()
                .trim_start_matches("Usage:")
                .split_whitespace()
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect();
            words.join(" ")
        }
        _ => String::new(),
    };
    let command = if command.is_empty() {
        "relayctl"
    } else {
        &command
    };
    format!(
        "{}{suggestion} (see {command} --help)",
        message.strip_prefix("error: ").unwrap_or(&message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent_for(args: &[&str]) -> Intent {
        let cli =
            Cli::try_parse_from(std::iter::once("relayctl").chain(args.iter().copied())).unwrap();
        intent(&cli.command).unwrap()
    }

    #[test]
    fn only_handing_over_a_message_is_a_submission() {
        for args in [
            &["send", "--to", "a@example.org", "-s", "x"][..],
            &["sendmail", "-t", "-i"],
            &["sendmail", "-bs"],
            &["sendmail", "-bm", "a@example.org"],
        ] {
            assert_eq!(intent_for(args), Intent::Submission, "{args:?}");
        }
        for (args, name) in [
            (
                &[
                    "send",
                    "--to",
                    "a@example.org",
                    "-s",
                    "x",
                    "--attach",
                    "/etc/shadow",
                ][..],
                "send --attach",
            ),
            (&["sendmail", "-bp"], "sendmail -bp"),
            (&["sendmail", "-q"], "sendmail -q"),
            (&["sendmail", "-bv", "a@example.org"], "sendmail -bv"),
            (&["sendmail", "-bi"], "sendmail -bi"),
            (&["generate", "man", "/root"], "generate"),
            (&["queue", "delete", "0190abcdef0123456789"], "queue"),
            (&["profile", "set-secret", "uni"], "profile"),
            (&["setup", "smarthost", "--system"], "setup"),
        ] {
            assert_eq!(intent_for(args), Intent::Other(name.into()), "{args:?}");
        }
        let argv0 = |program: &str| sendmail::intent(program, &[]).unwrap();
        assert_eq!(argv0("sendmail"), Intent::Submission);
        assert_eq!(argv0("mailq"), Intent::Other("mailq".into()));
        assert_eq!(argv0("newaliases"), Intent::Other("newaliases".into()));
    }
}
