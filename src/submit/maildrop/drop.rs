//! Writing a drop file (the user's side of the maildrop): the envelope line ([`Ticket`]) and
//! the message, made durable before the file appears under its final name.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::message::envelope::{Dsn, Envelope};
use crate::queue::SpoolError;
use crate::queue::spool::{MAILDROP, SYSTEM_SPOOL, io};
use crate::submit::SmtpClient;

/// The longest envelope line read from a drop file.
pub(super) const MAX_TICKET: u64 = 64 * 1024;

/// The envelope line at the top of a drop file. Its DSN values are typed: one that `sendmail`
/// would refuse on its command line refuses the drop.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Ticket {
    pub(super) version: u32,
    /// Empty: the system configuration's default profile (the user's side could not load the
    /// configuration to name one).
    pub(super) profile: String,
    pub(super) recipients: Vec<String>,
    #[serde(default)]
    pub(super) dsn: Dsn,
    /// `-t` (the recipients of the headers too): set only when the user's side could not
    /// prepare the message because the configuration could not deliver it yet.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) extract_recipients: bool,
    /// The SMTP client the listener took the message from: believed only in a drop of the
    /// listener's own system user (`[server] user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) client: Option<SmtpClient>,
    /// The envelope sender that client gave, kept when its server user may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sender: Option<String>,
    /// The `[routes]` key that chose `profile`: believed only while the system configuration
    /// has that route for that profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) route: Option<String>,
}

/// The system maildrop.
fn system_dir() -> PathBuf {
    Path::new(SYSTEM_SPOOL).join(MAILDROP)
}

/// Drops a prepared message for the root runner (user side): `write` writes the message after
/// the envelope line (streaming it, for a spooled body); `profile` is the profile's name and the
/// route that chose it; `client` is the SMTP client the listener took it from. The file is written under a hidden name, synced, renamed into view,
/// and the file system synced (a user cannot open the unreadable directory to fsync it).
pub fn submit(
    spool_root: &Path,
    (profile, route): (&str, Option<&str>),
    envelope: &Envelope,
    client: Option<&SmtpClient>,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<String, SpoolError> {
    let ticket = Ticket {
        version: 1,
        profile: profile.to_string(),
        recipients: envelope.recipients.clone(),
        dsn: envelope.dsn.clone(),
        extract_recipients: false,
        client: client.cloned(),
        sender: client.and(envelope.sender.clone()),
        route: route.map(str::to_string),
    };
    drop_file(&spool_root.join(MAILDROP), &ticket, write)
}

/// Drops a message the user's side could not prepare, because the configuration could not
/// deliver it yet, as the caller gave it: the root runner prepares it (`profile` empty for the
/// default), or holds it while the system configuration cannot deliver it either.
pub fn submit_unprepared(
    profile: &str,
    recipients: &[String],
    extract_recipients: bool,
    dsn: &Dsn,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<String, SpoolError> {
    let ticket = Ticket {
        version: 1,
        profile: profile.to_string(),
        recipients: recipients.to_vec(),
        dsn: dsn.clone(),
        extract_recipients,
        client: None,
        sender: None,
        route: None,
    };
    drop_file(&system_dir(), &ticket, write)
}

fn drop_file(
    dir: &Path,
    ticket: &Ticket,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<String, SpoolError> {
    let id = format!(
        "{:016x}{:04x}",
        fastrand::u64(..),
        std::process::id() & 0xffff
    );
    let part = dir.join(format!(".{id}.part"));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&part)
        .map_err(io("write into the maildrop", dir))?;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, file);
    let mut text = serde_json::to_vec(ticket).expect("ticket serialises");
    text.push(b'\n');
    let written = out
        .write_all(&text)
        .and_then(|_| write(&mut out))
        .and_then(|_| out.into_inner().map_err(|e| e.into_error()))
        .and_then(|file| file.sync_all().map(|_| file));
    let file = match written {
        Ok(file) => file,
        Err(e) => {
            let _ = fs::remove_file(&part);
            return Err(io("write", &part)(e));
        }
    };
    let dest = dir.join(&id);
    fs::rename(&part, &dest).map_err(io("rename", &part))?;
    rustix::fs::syncfs(&file).map_err(|e| io("sync", &dest)(e.into()))?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_with_bad_dsn_values_do_not_parse() {
        let good = serde_json::to_string(&Ticket {
            version: 1,
            profile: "p".into(),
            recipients: vec!["a@example.org".into()],
            dsn: Dsn::default(),
            extract_recipients: false,
            client: None,
            sender: None,
            route: None,
        })
        .unwrap();
        assert!(serde_json::from_str::<Ticket>(&good).is_ok());
        for bad in [
            r#"{"version":1,"profile":"p","recipients":["a@x"],"dsn":{"ret":"FULL X=1"}}"#,
            r#"{"version":1,"profile":"p","recipients":["a@x"],"dsn":{"notify":"NEVER,SUCCESS"}}"#,
            r#"{"version":1,"profile":"p","recipients":["a@x"],"dsn":{"envid":"a\nb"}}"#,
            r#"{"version":1,"profile":"p","recipients":["a@x"],"dsn":{},"orcpt":"x"}"#,
        ] {
            assert!(serde_json::from_str::<Ticket>(bad).is_err(), "{bad}");
        }
    }
}
