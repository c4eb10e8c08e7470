//! relayctl: outgoing mail for servers and cloud instances.
//!
//! # Architecture
//!
//! The binary (`main.rs`) parses nothing itself: it calls [`run`] and turns the [`Error`] it gets
//! back into a sysexits code, in one place.
//!
//! - [`cli`]: the clap definitions; their doc comments are the `--help` text.
//! - [`commands`]: one module per subcommand (`setup`, `profile`, `send`).
//! - [`sendmail`]: the sendmail front end (option parsing, `-bs` dialogue, `sendmail-link`),
//!   also reached by invoking the binary as `sendmail`, `mailq` or `newaliases`.
//! - [`aliases`]: local recipients (`root`, `www-data`) resolved through `[aliases]`.
//! - [`config`]: the TOML format, layering of system and user files (flags > env > user >
//!   system), presets for common providers, and comment-preserving atomic edits.
//! - [`secrets`]: the `SecretStore` trait and its stores (keyring, systemd credentials, password
//!   command, private file, environment). The config holds only a reference to the store.
//! - [`message`]: header parsing and rewriting for sendmail submissions, CRLF canonicalisation
//!   for the wire, and MIME composition for `send`.
//! - [`relay`]: SMTP delivery on lettre's low-level connection API, with TLS/AUTH policy and
//!   failure classification (transient, permanent, auth, config) for callers and the queue.
//! - [`atomic_file`]: temp file + fsync + rename + directory fsync.
//! - [`child`]: the environment of the programs relayctl starts (an allow-list).
//! - [`trust`]: whether a config or secret file may be believed (its owner and the directories
//!   above it).
//! - [`doctor`]: `relayctl doctor`'s checks, one family per module, with a small DNS client.
//! - [`log`]: one system-log line per delivery attempt (journald, syslog, or `-v` stderr).
//! - [`printable`]: text from relays and endpoints with its control characters replaced.
//! - [`generate`]: man pages and shell completions from the clap definitions (hidden
//!   `relayctl generate`, for packaging).
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
pub mod generate;
pub mod log;
pub mod message;
pub mod messages;
pub mod oauth;
pub mod printable;
pub mod privilege;
pub mod queue;
pub mod relay;
pub mod secrets;
pub mod sendmail;
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
use commands::Context;
use config::ConfigLocation;
use privilege::Intent;
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
        privilege::allow(|| sendmail::intent(&program, &args[1..]))?;
        let ctx = Context {
            location: ConfigLocation::new(std::env::var_os("RELAYCTL_CONFIG").map(Into::into)),
            profile: std::env::var("RELAYCTL_PROFILE").ok(),
            transcript: Transcript::new(false),
            spool: std::env::var_os("RELAYCTL_SPOOL").map(Into::into),
            wait: false,
        };
        return sendmail::execute(&program, &args[1..], ctx);
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
    privilege::allow(|| intent(&cli.command))?;
    let ctx = Context {
        location: ConfigLocation::new(cli.config),
        profile: cli.profile,
        transcript: Transcript::new(cli.verbose),
        spool: cli.spool,
        wait: cli.wait,
    };
    match cli.command {
        Command::Setup(args) => commands::setup::execute(&ctx, *args),
        Command::Profile(command) => commands::profile::execute(&ctx, command),
        Command::Send(args) => commands::send::execute(&ctx, args),
        Command::Sendmail { args } => sendmail::execute("sendmail", &args, ctx),
        Command::SendmailLink(LinkCommand::Install { prefix, force }) => {
            sendmail::link::install(&prefix, force)
        }
        Command::SendmailLink(LinkCommand::Remove { prefix }) => sendmail::link::remove(&prefix),
        Command::SendmailLink(LinkCommand::Status { prefix }) => sendmail::link::status(&prefix),
        Command::Queue(command) => commands::queue::execute(&ctx, command),
        Command::Doctor { json } => commands::doctor::execute(&ctx, json),
        Command::Test { to } => commands::test::execute(&ctx, &to),
        Command::Generate(command) => generate::execute(&ctx, command),
    }
}

/// What `command` asks for, for the raised-privileges gate ([`privilege::allow`]): only
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
        Command::Test { .. } => other("test"),
        Command::Generate(_) => other("generate"),
    }
}

/// clap's message, up to its usage section, as one line without the `error: ` prefix.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    format!(
        "{} (see relayctl --help)",
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
