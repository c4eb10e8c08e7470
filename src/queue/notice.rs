//! Notices to the admin about failed, delayed and held mail, and the spew brake's alert. They go
//! only to the configured notify address (never to a message's sender: no backscatter), at most
//! one of each kind per message, never about a notice, and no more than `notices_per_hour` (the
//! brake's alert, given once per freeze, is sent in any case).
//!
//! A notice must not wait behind the fault it reports: it goes through `notify_profile`, else
//! through another profile that delivered in the last day, and only failing those through the
//! profile it is about ([`route`]). Its subject and From name the host and the profile, so that
//! the admin of many hosts knows which one.

use super::id::QueueId;
use super::ratelimit::Limiter;
use super::schedule::now;
use super::spool::{Spool, SpoolError};
use super::state::MessageState;
use crate::config::LoadedConfig;
use crate::message::addresses::Mailbox;
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
    let host = crate::host::name();
    let recipients: Vec<String> = state.recipients.iter().map(|r| format!("  {r}")).collect();
    let body = format!(
        "Message {id}, submitted for profile {profile} by <{sender}>:\r\n\r\n{reason}\r\n\r\nRecipients:\r\n{list}\r\n\r\nAttempts: {attempts}\r\nSee `relayctl queue show {id}` (or `relayctl queue failed`) on {host}.\r\n",
        profile = state.profile,
        sender = state.sender.as_deref().unwrap_or(""),
        list = recipients.join("\r\n"),
        attempts = state.attempts,
    );
    let subject = format!("{} ({id})", kind.subject());
    match queue_notice(spool, config, Some(&state.profile), &subject, &body, false)? {
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
    let host = crate::host::name();
    let body = format!(
        "relayctl on {host} froze outgoing mail for profile {profile}: {reason}.\r\n\r\nSomething may be sending mail in a loop, or the account may be abused. Nothing more is sent\r\nfor this profile; the messages wait in the queue, none is lost.\r\n\r\nReview them with `relayctl queue list` (and `relayctl queue show ID`), delete what must not go\r\n(`relayctl queue delete ID`), then resume delivery with `relayctl queue release --all`.\r\nThe thresholds are the profile's `brake` and `brake_per_caller` settings.\r\n"
    );
    let subject = "outgoing mail frozen (spew brake)";
    notice(spool, config, Some(profile), subject, &body, true)
}

/// Queues the alert that the OAuth2 refresh token of `profile` was refused. It is given once
/// until the profile signs in again, so it is sent even when `notices_per_hour` is used up. It
/// goes out through a profile that works ([`route`]), else once the profile signs in again.
pub fn revoked(
    spool: &Spool,
    config: &LoadedConfig,
    profile: &str,
    reason: &str,
) -> Result<Option<QueueId>, SpoolError> {
    let host = crate::host::name();
    let body = format!(
        "relayctl on {host} cannot log in to the relay of profile {profile}:\r\n\r\n{reason}\r\n\r\nMail for this profile is held in the queue, none is lost. Signing in again\r\nreleases it for the next queue run.\r\n"
    );
    let subject = "sign-in needed (OAuth2 token refused)";
    notice(spool, config, Some(profile), subject, &body, true)
}

/// Queues a notice that the corrupt area was trimmed (`count` entries removed, see
/// `Spool::sweep_corrupt`); its id when one was queued.
pub fn corrupt_swept(
    spool: &Spool,
    config: &LoadedConfig,
    count: usize,
) -> Result<Option<QueueId>, SpoolError> {
    let host = crate::host::name();
    let body = format!(
        "relayctl on {host} removed {count} entries from {}:\r\nmessages whose state could not be read and maildrop files it refused, kept\r\nfor review. It keeps at most {} entries, none older than {} days.\r\n\r\nMany refused maildrop files can mean a local user writes into the maildrop by hand.\r\n",
        spool.root().join("corrupt").display(),
        super::spool::CORRUPT_MAX_ENTRIES,
        super::spool::CORRUPT_MAX_AGE.as_secs() / 86400,
    );
    let subject = format!("{count} corrupt or refused entries removed");
    notice(spool, config, None, &subject, &body, false)
}

/// Queues a notice about the profile `about` (`None`: the host's queue as a whole); a `forced`
/// one, an alert given once, is never held back by the hourly limit. Its id when one was queued.
fn notice(
    spool: &Spool,
    config: &LoadedConfig,
    about: Option<&str>,
    subject: &str,
    body: &str,
    forced: bool,
) -> Result<Option<QueueId>, SpoolError> {
    match queue_notice(spool, config, about, subject, body, forced)? {
        Queued::Id(notice) => Ok(Some(notice)),
        Queued::NoOne | Queued::OverLimit => Ok(None),
    }
}

/// A profile that delivered within this many seconds is taken to work.
const RECENT: u64 = 24 * 3600;

/// The profile a notice about the profile `about` goes through: `notify_profile` (unless that is
/// the profile in trouble), else the first other profile that delivered within the last day
/// (`about`'s fallbacks first, then the others by name), else `about` itself (for a notice about
/// the host's queue, the default profile). `None` when there is none.
fn route(
    spool: &Spool,
    config: &LoadedConfig,
    about: Option<&str>,
) -> Result<Option<String>, SpoolError> {
    if let Some(chosen) = &config.notify_profile
        && Some(chosen.as_str()) != about
    {
        return Ok(Some(chosen.clone()));
    }
    let fallbacks = about
        .and_then(|a| config.profile(a))
        .map(|p| p.fallback.as_slice())
        .unwrap_or_default();
    let since = now().saturating_sub(RECENT);
    let limiter = Limiter::new(spool);
    for name in fallbacks.iter().chain(config.profiles.keys()) {
        if Some(name.as_str()) == about || !config.profiles.contains_key(name) {
            continue;
        }
        if limiter.update(name, |l| l.last_delivered)? > since {
            return Ok(Some(name.clone()));
        }
    }
    Ok(match about {
        Some(profile) => Some(profile.to_string()),
        None => config.select(None).ok().map(|(name, _)| name.to_string()),
    })
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

/// Queues a notice about the profile `about` (`None`: the host's queue) for the notify address
/// (the profile's, else the config's), through the profile [`route`] chooses and with its From;
/// a `forced` one is never refused by the hourly limit. The subject and the From's name say
/// which host and which profile.
fn queue_notice(
    spool: &Spool,
    config: &LoadedConfig,
    about: Option<&str>,
    subject: &str,
    body: &str,
    forced: bool,
) -> Result<Queued, SpoolError> {
    let Some(via) = route(spool, config, about)? else {
        return Ok(Queued::NoOne);
    };
    let notify = about
        .or_else(|| config.select(None).ok().map(|(name, _)| name))
        .and_then(|p| config.profile(p))
        .and_then(|p| p.notify.clone());
    let Some(to) = notify.or_else(|| config.notify.clone()) else {
        return Ok(Queued::NoOne);
    };
    let Some(from) = config.profile(&via).and_then(|p| p.from.clone()) else {
        return Ok(Queued::NoOne);
    };
    if !within_limit(spool, config.queue.notices_per_hour, forced)? {
        return Ok(Queued::OverLimit);
    }
    let host = crate::host::name();
    let name = match about {
        Some(profile) => format!("relayctl on {host} (profile {profile})"),
        None => format!("relayctl on {host}"),
    };
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let fields = [
        Field::new("From", &Mailbox::new(Some(name.clone()), &from).to_string()),
        Field::new("To", &to),
        Field::new("Subject", &format!("{name}: {subject}")),
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
    let mut notice = MessageState::new(&via, &envelope, wire.len() as u64, now());
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
