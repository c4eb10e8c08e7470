//! The relayctl binary: runs the library and maps its error to a sysexits code.

use std::process::ExitCode;

use relayctl::Error;
use relayctl::aliases::AliasError;
use relayctl::message::submission::{AddressRole, SubmissionError};
use relayctl::oauth::OAuthError;
use relayctl::relay::Fault;
use relayctl::secrets::SecretError;
use relayctl::smtpd::error::ServeError;
use relayctl::smtpd::users::UsersError;
use relayctl::submit::ReadError;

// sysexits.h
const EX_USAGE: u8 = 64;
const EX_DATAERR: u8 = 65;
const EX_NOINPUT: u8 = 66;
const EX_NOUSER: u8 = 67;
const EX_UNAVAILABLE: u8 = 69;
const EX_SOFTWARE: u8 = 70;
const EX_OSERR: u8 = 71;
const EX_CANTCREAT: u8 = 73;
const EX_IOERR: u8 = 74;
const EX_TEMPFAIL: u8 = 75;
const EX_NOPERM: u8 = 77;
const EX_CONFIG: u8 = 78;

fn main() -> ExitCode {
    match relayctl::run(std::env::args_os()) {
        Ok(()) => ExitCode::SUCCESS,
        // The attempt's own process has said why already.
        Err(e @ Error::Attempt { .. }) => ExitCode::from(exit_code(&e)),
        Err(e) => {
            // One line, whatever the relay's reply looked like.
            eprintln!(
                "relayctl: {}",
                relayctl::printable::one_line(&e.to_string())
            );
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The one place where errors become exit codes.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Usage(_) => EX_USAGE,
        Error::Message(_) => EX_DATAERR,
        Error::Config(_) => EX_CONFIG,
        Error::Serve(e) => serve_code(e),
        Error::Io { .. } | Error::Stdin(_) => EX_IOERR,
        Error::Conflict(_) => EX_CANTCREAT,
        Error::Forbidden(_) | Error::RaisedPrivileges { .. } => EX_NOPERM,
        Error::Spool(_) => EX_TEMPFAIL,
        Error::NoMessage(_) => EX_NOINPUT,
        Error::Read(e) => match e {
            ReadError::TooLarge(_) | ReadError::HeadTooLarge => EX_DATAERR,
            ReadError::Input(_) => EX_IOERR,
            ReadError::Scratch { .. } => EX_TEMPFAIL,
        },
        Error::Undeliverable { fault, .. } => fault_code(*fault),
        Error::Alias(e) | Error::Submission(SubmissionError::Alias(e)) => alias_code(e),
        Error::Submission(SubmissionError::NoRecipients) => EX_USAGE,
        Error::Submission(SubmissionError::BadRecipient(_)) => EX_NOUSER,
        Error::Submission(SubmissionError::Nul(_) | SubmissionError::LongLine(..)) => EX_DATAERR,
        Error::Submission(SubmissionError::TooManyFields(_)) => EX_DATAERR,
        Error::Submission(SubmissionError::TooManyRecipients {
            on_command_line, ..
        }) => {
            if *on_command_line {
                EX_USAGE
            } else {
                EX_DATAERR
            }
        }
        Error::Submission(
            SubmissionError::BadAddress { role, .. } | SubmissionError::BareHostname { role, .. },
        ) => match role {
            AddressRole::Sender => EX_USAGE,
            AddressRole::From => EX_DATAERR,
            AddressRole::Recipient => EX_NOUSER,
        },
        Error::Secret(s) => secret_code(s),
        Error::Delivery(relayctl::relay::DeliveryError::Secret(s)) => secret_code(s),
        Error::OAuth(OAuthError::Secret(s))
        | Error::Delivery(relayctl::relay::DeliveryError::OAuth(OAuthError::Secret(s))) => {
            secret_code(s)
        }
        Error::OAuth(e) if e.is_transient() => EX_TEMPFAIL,
        Error::OAuth(OAuthError::Refused { .. }) => EX_CONFIG,
        // Declined, expired or revoked: the account must sign in again.
        Error::OAuth(_) => EX_NOPERM,
        Error::Delivery(d) => fault_code(d.fault()),
        Error::NotProven { fault, .. } => fault_code(*fault),
        Error::ChecksFailed(_) => 1,
        Error::Attempt { code, .. } => u8::try_from(*code).unwrap_or(EX_TEMPFAIL),
        Error::NotDelivered { held: true, .. } => EX_CONFIG,
        Error::NotDelivered { held: false, .. } => EX_TEMPFAIL,
    }
}

fn serve_code(e: &ServeError) -> u8 {
    match e {
        ServeError::Bind { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            EX_NOPERM
        }
        ServeError::Bind { .. } | ServeError::Privileges { .. } => EX_OSERR,
        ServeError::NoUser(_) => EX_NOUSER,
        ServeError::Activation(_)
        | ServeError::RootUser
        | ServeError::NoCertificate(_)
        | ServeError::Tls(_) => EX_CONFIG,
        ServeError::Users(u) => match u {
            UsersError::UnsafePermissions { .. } | UsersError::Untrusted(_) => EX_NOPERM,
            UsersError::Parse { .. } => EX_CONFIG,
            UsersError::Read { .. } | UsersError::Write { .. } => EX_IOERR,
            UsersError::Unknown(_) => EX_NOUSER,
            UsersError::BadName(_) | UsersError::BadSender(_) => EX_USAGE,
            UsersError::Hash(_) => EX_SOFTWARE,
        },
    }
}

fn fault_code(fault: Fault) -> u8 {
    match fault {
        Fault::Transient => EX_TEMPFAIL,
        Fault::Permanent => EX_UNAVAILABLE,
        Fault::Recipient => EX_NOUSER,
        Fault::Auth => EX_NOPERM,
        Fault::Config => EX_CONFIG,
        Fault::Message => EX_DATAERR,
    }
}

fn alias_code(e: &AliasError) -> u8 {
    match e {
        AliasError::Unknown(_) | AliasError::Loop(_) => EX_NOUSER,
        AliasError::File { .. } => EX_CONFIG,
    }
}

fn secret_code(e: &SecretError) -> u8 {
    match e {
        SecretError::UnsafePermissions { .. } | SecretError::Untrusted(_) => EX_NOPERM,
        SecretError::NoTerminal => EX_USAGE,
        // A locked keyring: the message waits in the queue until its owner unlocks it.
        s if s.is_transient() => EX_TEMPFAIL,
        SecretError::Io { .. } | SecretError::Input(_) => EX_IOERR,
        SecretError::TooLong => EX_DATAERR,
        _ => EX_CONFIG,
    }
}
