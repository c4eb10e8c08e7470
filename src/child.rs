//! Programs relayctl starts (a password command, the package query of `sendmail-link status`)
//! get a cleared environment with only the variables listed here, plus those the profile names
//! itself (`secret_env`). relayctl's environment may hold secrets meant for relayctl alone: a
//! profile's `env:SMTP_PASS_A`, `RELAYCTL_PASSWORD*`, a cloud token of the calling program. None
//! of it is another program's business, least of all another profile's password command.

use std::ffi::{OsStr, OsString};
use std::process::Command;

/// The variables every child gets, when relayctl has them. They say where things are and how
/// to talk, never what to log in with:
///
/// - `PATH`, `HOME`, `USER`, `LOGNAME`: finding programs and the user's own files (`pass`,
///   `gpg`, cloud CLIs read their configuration from the home directory);
/// - `LANG`, `LANGUAGE`, `LC_*`, `TZ`: text and times as the caller expects them;
/// - `TMPDIR`: where scratch files may go;
/// - `XDG_RUNTIME_DIR`, `DBUS_SESSION_BUS_ADDRESS`: the session's agents (a keyring, `gpg-agent`,
///   `secret-tool`), reached through sockets the user's permissions already guard;
/// - `CREDENTIALS_DIRECTORY`: a systemd unit's credentials, which a helper may decrypt;
/// - `SSL_CERT_FILE`, `SSL_CERT_DIR`: the CA certificates a secret manager's client trusts;
/// - `http_proxy`, `https_proxy`, `no_proxy` (either case): how a secret manager's client gets
///   out of a network that needs a proxy.
const PASSED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "XDG_RUNTIME_DIR",
    "DBUS_SESSION_BUS_ADDRESS",
    "CREDENTIALS_DIRECTORY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
];

/// `program`, to be run with the variables of [`PASSED`] and the ones named in `also` (a
/// profile's `secret_env`), taken from relayctl's environment, and no others.
pub fn command(program: impl AsRef<OsStr>, also: &[String]) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .envs(std::env::vars_os().filter(|(key, _)| passed(key, also)));
    cmd
}

fn passed(key: &OsString, also: &[String]) -> bool {
    let Some(key) = key.to_str() else {
        return false;
    };
    PASSED.contains(&key) || key.starts_with("LC_") || also.iter().any(|a| a == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_and_named_variables_pass() {
        let also = ["VAULT_ADDR".to_string()];
        let pass = |k: &str| passed(&OsString::from(k), &also);
        for key in [
            "PATH",
            "HOME",
            "LC_ALL",
            "LC_MESSAGES",
            "VAULT_ADDR",
            "no_proxy",
        ] {
            assert!(pass(key), "{key}");
        }
        for key in [
            "SMTP_PASS_A",
            "RELAYCTL_PASSWORD",
            "RELAYCTL_PASSWORD_UNI",
            "AWS_SECRET_ACCESS_KEY",
            "VAULT_TOKEN",
            "LD_PRELOAD",
            "path",
        ] {
            assert!(!pass(key), "{key}");
        }
    }
}
