//! Notices to the admin about failed, delayed and held mail, and the spew brake's alert. They go
//! only to the configured notify address (never to a message's sender: no backscatter), at most
//! one of each kind per message, never about a notice, and no more than `notices_per_hour` (the
//! brake's alert, given once per freeze, is sent in any case).

use super::id::QueueId;
use super::schedule::now;
use super::spool::{Spool, SpoolError};
use super::state::MessageState;
use crate::config::LoadedConfig;
use crate::message::canonical::canonicalize;
use crate::message::envelope::{Dsn, Envelope};
use crate::message::headers::Field;
use crate::message::message_id;
use crate::state_file::StateFile;

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Failed,
    Delayed,
    Held,
}

impl Kind {
    fn subject(self) -> &'static str {
        match self {
            Kind::Failed => "undeliverable mail",
            Kind::Delayed => "delayed mail",
            Kind::Held => "mail held: relay configuration needs attention",
        }
    }
}

/// Queues a notice about message `id` if a notify address is configured and the hourly limit
/// allows. Returns the notice's id when one was queued.
pub fn send(
    spool: &Spool,
    config: &LoadedConfig,
    id: &QueueId,
    state: &MessageState,
    kind: Kind,
    reason: &str,
) -> Result<Option<QueueId>, SpoolError> {
    if state.notice {
        return Ok(None);
    }
    let host = crate::host::fqdn().unwrap_or_else(|| "this host".into());
    let recipients: Vec<String> = state.recipients.iter().map(|r| format!("  {r}")).collect();
    let body = format!(
        "Message {id}, submitted for profile {profile} by <{sender}>:\r\n\r\n{reason}\r\n\r\nRecipients:\r\n{list}\r\n\r\nAttempts: {attempts}\r\nSee `relayctl queue show {id}` (or `relayctl queue failed`) on {host}.\r\n",
        profile = state.profile,
        sender = state.sender.as_deref().unwrap_or(""),
        list = recipients.join("\r\n"),
        attempts = state.attempts,
    );
    let subject = format!("relayctl: {} ({id})", kind.subject());
    match queue_notice(spool, config, &state.profile, &subject, &body, false)? {
        Queued::Id(notice) => Ok(Some(notice)),
        Queued::NoOne => Ok(None),
        Queued::OverLimit => {
            crate::messages::alert(&format!(
                "notice about message {id} not sent: more than {} notices this hour",
                config.queue.notices_per_hour
            ));
            Ok(None)
        }
    }
}

/// Queues the alert that the spew brake froze delivery for `profile`. It is given once per
/// freeze, so it is sent even when `notices_per_hour` is used up (and counts against it).
/// Returns the alert's id when a notify address is configured.
pub fn brake(
    spool: &Spool,
    config: &LoadedConfig,
    profile: &str,
    reason: &str,
) -> Result<Option<QueueId>, SpoolError> {
    let host = crate::host::fqdn().unwrap_or_else(|| "this host".into());
    let body = format!(
        "relayctl on {host} froze outgoing mail for profile {profile}: {reason}.\r\n\r\nSomething may be sending mail in a loop, or the account may be abused. Nothing more is sent\r\nfor this profile; the messages wait in the queue, none is lost.\r\n\r\nReview them with `relayctl queue list` (and `relayctl queue show ID`), delete what must not go\r\n(`relayctl queue delete ID`), then resume delivery with `relayctl queue release --all`.\r\nThe thresholds are the profile's `brake` and `brake_per_caller` settings.\r\n"
    );
    let subject = format!("relayctl: outgoing mail frozen for profile {profile} (spew brake)");
    notice(spool, config, profile, &subject, &body, true)
}

/// Queues the alert that the OAuth2 refresh token of `profile` was refused. It is given once
/// until the profile signs in again, so it is sent even when `notices_per_hour` is used up. It
/// goes out through the profile's fallback relays when it has some, else once the profile works.
pub fn revoked(
    spool: &Spool,
    config: &LoadedConfig,
    profile: &str,
    reason: &str,
) -> Result<Option<QueueId>, SpoolError> {
    let host = crate::host::fqdn().unwrap_or_else(|| "this host".into());
    let body = format!(
        "relayctl on {host} cannot log in to the relay of profile {profile}:\r\n\r\n{reason}\r\n\r\nMail for this profile is held in the queue, none is lost. Signing in again\r\nreleases it for the next queue run.\r\n"
    );
    let subject = format!("relayctl: sign-in needed for profile {profile} (OAuth2 token refused)");
    notice(spool, config, profile, &subject, &body, true)
}

/// Queues a notice that the corrupt area was trimmed (`count` entries removed, see
/// `Spool::sweep_corrupt`), through the default profile; its id when one was queued.
pub fn corrupt_swept(
    spool: &Spool,
    config: &LoadedConfig,
    count: usize,
) -> Result<Option<QueueId>, SpoolError> {
    let Ok((profile, _)) = config.select(None) else {
        return Ok(None);
    };
    let host = crate::host::fqdn().unwrap_or_else(|| "this host".into());
    let body = format!(
        "relayctl on {host} removed {count} entries from {}:\r\nmessages whose state could not be read and maildrop files it refused, kept\r\nfor review. It keeps at most {} entries, none older than {} days.\r\n\r\nMany refused maildrop files can mean a local user writes into the maildrop by hand.\r\n",
        spool.root().join("corrupt").display(),
        super::spool::CORRUPT_MAX_ENTRIES,
        super::spool::CORRUPT_MAX_AGE.as_secs() / 86400,
    );
    let subject = format!("relayctl: {count} corrupt or refused entries removed");
    notice(spool, config, profile, &subject, &body, false)
}

/// Queues a notice about `profile` (a `forced` one, an alert given once, is never held back by
/// the hourly limit); its id when one was queued.
fn notice(
    spool: &Spool,
    config: &LoadedConfig,
    profile: &str,
    subject: &str,
    body: &str,
    forced: bool,
) -> Result<Option<QueueId>, SpoolError> {
    match queue_notice(spool, config, profile, subject, body, forced)? {
        Queued::Id(notice) => Ok(Some(notice)),
        Queued::NoOne | Queued::OverLimit => Ok(None),
    }
}

/// What became of a notice.
enum Queued {
    /// Queued with this id.
    Id(QueueId),
    /// No notify address or no From for the profile.
    NoOne,
    /// Refused by `notices_per_hour`.
    OverLimit,
}

/// Queues a notice for `profile`'s notify address, with `profile`'s From; a `forced` one is
/// never refused by the hourly limit.
fn queue_notice(
    spool: &Spool,
    config: &LoadedConfig,
    profile: &str,
    subject: &str,
    body: &str,
    forced: bool,
) -> Result<Queued, SpoolError> {
    let Some(settings) = config.profiles.get(profile).map(|l| &l.profile) else {
        return Ok(Queued::NoOne);
    };
    let Some(to) = settings.notify.clone().or_else(|| config.notify.clone()) else {
        return Ok(Queued::NoOne);
    };
    let Some(from) = settings.from.clone() else {
        return Ok(Queued::NoOne);
    };
    if !within_limit(spool, config.queue.notices_per_hour, forced)? {
        return Ok(Queued::OverLimit);
    }
    let host = crate::host::fqdn().unwrap_or_else(|| "this host".into());
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let fields = [
        Field::new("From", &format!("\"relayctl on {host}\" <{from}>")),
        Field::new("To", &to),
        Field::new("Subject", subject),
        Field::new("Date", &crate::message::rfc5322_now()),
        Field::new("Message-ID", &message_id(&domain)),
        Field::new("Auto-Submitted", "auto-generated"),
        Field::new("Content-Type", "text/plain; charset=utf-8"),
    ];
    let mut text = Vec::new();
    for f in &fields {
        text.extend_from_slice(&f.raw);
        text.extend_from_slice(b"\r\n");
    }
    text.extend_from_slice(b"\r\n");
    text.extend_from_slice(body.as_bytes());
    let wire = canonicalize(&text);
    let envelope = Envelope {
        sender: Some(from),
        recipients: vec![to],
        dsn: Dsn::default(),
    };
    let mut notice = MessageState::new(profile, &envelope, wire.len() as u64, now());
    notice.notice = true;
    spool.enqueue(&wire, &notice).map(Queued::Id)
}

/// Counts this notice against the hourly limit (shared by every relayctl process); a `forced`
/// notice is counted even over the limit.
fn within_limit(spool: &Spool, per_hour: u32, forced: bool) -> Result<bool, SpoolError> {
    let (mut state, text) = StateFile::open(&spool.root().join("notices"))?;
    let hour_ago = now().saturating_sub(3600);
    let mut times: Vec<u64> = text
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .filter(|&t| t > hour_ago)
        .collect();
    let allowed = forced || (times.len() as u32) < per_hour;
    if allowed {
        times.push(now());
    }
    let out: Vec<String> = times.iter().map(u64::to_string).collect();
    state.replace(out.join("\n").as_bytes())?;
    Ok(allowed)
}
