//! The state file kept beside each queued message.

use serde::{Deserialize, Serialize};

use crate::message::envelope::{Dsn, Envelope};

/// Where a recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecipientStatus {
    /// Not yet accepted by a relay.
    Pending,
    /// Accepted by a relay: never sent again.
    Sent,
    /// Refused for good.
    Failed,
}

/// One envelope recipient and what the relay last said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub address: String,
    pub status: RecipientStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
}

impl std::fmt::Display for Recipient {
    /// `ops@example.org Pending: 451 4.3.0 try later`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.address, self.status)?;
        match &self.reply {
            Some(reply) => write!(f, ": {reply}"),
            None => Ok(()),
        }
    }
}

/// Whether the runner may try the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Waiting for its next attempt.
    Queued,
    /// Not tried until released; [`MessageState::hold`] says by whom.
    Held,
    /// In the failed area.
    Failed,
}

/// Why a held message is held, which decides when a runner looks at it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// `relayctl queue hold`: left alone, whatever its schedule, until `queue release`.
    Administrator,
    /// The relay refused the profile's configuration or login: tried again at `next_attempt`
    /// (`retry_max` later) in case it was fixed, and released when the profile's secret is
    /// replaced.
    ConfigFault,
}

/// A submission relayctl accepted but could not prepare, because the configuration could not
/// deliver it (the file did not load, named no such profile, had no alias for a local
/// recipient): the message file holds the input as the caller gave it, and the first run that
/// can load the configuration prepares and queues it (the held submissions of the submit layer). A queue runner never
/// delivers it as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unprepared {
    /// `-t`: recipients are taken from the headers too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extract_recipients: bool,
    /// `-f`/`-r` as the caller gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<RequestedSender>,
    /// `-F`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
}

/// An envelope sender a caller asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestedSender {
    /// `<>`.
    Null,
    Address(String),
}

/// `next_attempt` of a message held by an administrator: none is scheduled.
pub const NEVER: u64 = u64::MAX;

/// Why a queued message waits although no attempt at it failed (no attempt is counted for it).
/// The limiter's `Wait` is such a wait with its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// No relay of its chain has a token of its `rate_limit` left: it leaves when one has.
    RateLimit,
    /// The relay answered with throttling: nothing goes to it before its cool-down ends.
    CoolDown,
    /// Delivery for its profile is frozen by the spew brake until `queue release --all`.
    Brake,
    /// Its relay had just failed to connect or to answer when it was submitted: it was queued
    /// without an attempt, for when the relay is tried again.
    RelayDown,
}

/// Everything the queue knows about a message besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageState {
    /// Format version of this file.
    pub version: u32,
    /// The profile the message was submitted for.
    pub profile: String,
    /// The `[routes]` key that chose `profile` from the sender at submission, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    /// Unix time of submission.
    pub created: u64,
    /// Envelope sender; `None` is `<>`.
    pub sender: Option<String>,
    pub recipients: Vec<Recipient>,
    #[serde(default)]
    pub dsn: Dsn,
    /// Size of the message file in bytes.
    pub size: u64,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply: Option<String>,
    /// Unix time before which the runner leaves the message alone.
    pub next_attempt: u64,
    pub status: Status,
    /// Who or what holds it, while `status` is `held`. Files written before this field existed
    /// are read as [`MessageState::from_json`] says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// Why the message is held or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A delay warning was sent.
    #[serde(default)]
    pub warned: bool,
    /// The configuration-fault alert was given.
    #[serde(default)]
    pub alerted: bool,
    /// This message is itself a notice: no notices are sent about it, and neither rate limits
    /// nor the spew brake hold it back.
    #[serde(default)]
    pub notice: bool,
    /// The local user who submitted it, when known (else the owner of its spool files is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Who submitted it through the SMTP listener (`SMTP user grafana`, `SMTP client
    /// 10.0.0.5`): the spew brake counts them as callers of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// The message has bytes above 127 and goes out with BODY=8BITMIME (set by the spool).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub eight_bit: bool,
    /// The submission was counted by the spew brake.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub brake_counted: bool,
    /// Why it waits without an attempt being counted; `next_attempt` says until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<WaitReason>,
    /// Accepted but not prepared yet (see [`Unprepared`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unprepared: Option<Unprepared>,
}

/// The current format version.
pub const VERSION: u32 = 1;

impl MessageState {
    /// The state of a message just submitted.
    pub fn new(profile: &str, envelope: &Envelope, size: u64, now: u64) -> Self {
        MessageState {
            version: VERSION,
            profile: profile.to_string(),
            route: None,
            created: now,
            sender: envelope.sender.clone(),
            recipients: envelope
                .recipients
                .iter()
                .map(|a| Recipient {
                    address: a.clone(),
                    status: RecipientStatus::Pending,
                    reply: None,
                })
                .collect(),
            dsn: envelope.dsn.clone(),
            size,
            attempts: 0,
            last_reply: None,
            next_attempt: now,
            status: Status::Queued,
            hold: None,
            reason: None,
            warned: false,
            alerted: false,
            notice: false,
            eight_bit: false,
            uid: None,
            caller: None,
            brake_counted: false,
            waiting: None,
            unprepared: None,
        }
    }

    /// The envelope for the recipients still pending.
    pub fn pending_envelope(&self) -> Envelope {
        Envelope {
            sender: self.sender.clone(),
            recipients: self.pending().map(|r| r.address.clone()).collect(),
            dsn: self.dsn.clone(),
        }
    }

    pub fn pending(&self) -> impl Iterator<Item = &Recipient> {
        self.recipients
            .iter()
            .filter(|r| r.status == RecipientStatus::Pending)
    }

    /// Records the relay's answer for one recipient.
    pub fn mark(&mut self, address: &str, status: RecipientStatus, reply: &str) {
        for r in &mut self.recipients {
            if r.address == address && r.status == RecipientStatus::Pending {
                r.status = status;
                r.reply = Some(reply.to_string());
            }
        }
    }

    /// Marks every pending recipient.
    pub fn mark_pending(&mut self, status: RecipientStatus, reply: &str) {
        for r in &mut self.recipients {
            if r.status == RecipientStatus::Pending {
                r.status = status;
                r.reply = Some(reply.to_string());
            }
        }
    }

    /// Reads a state file: parsed, brought up to date and checked ([`MessageState::check`]).
    /// A file written before holds were named says who holds a held message only by its
    /// `next_attempt`: [`NEVER`] for an administrator's hold, a time for a configuration fault.
    pub fn from_json(text: &[u8]) -> Result<Self, String> {
        let mut state: MessageState = serde_json::from_slice(text).map_err(|e| e.to_string())?;
        if state.status == Status::Held && state.hold.is_none() {
            state.hold = Some(if state.next_attempt == NEVER {
                Hold::Administrator
            } else {
                Hold::ConfigFault
            });
        }
        state.check()?;
        Ok(state)
    }

    /// Whether a pass over due mail (`queue run`, the daemon) takes the message at `now`. Mail
    /// held for a configuration fault is looked at again when its (long) retry time comes, in
    /// case the fault was fixed; an administrator's hold never expires.
    pub fn is_due(&self, now: u64) -> bool {
        match (self.status, self.hold) {
            _ if self.unprepared.is_some() => false,
            (Status::Failed, _) | (Status::Held, Some(Hold::Administrator)) => false,
            _ => self.next_attempt <= now,
        }
    }

    /// `relayctl queue hold`: held until an administrator releases it.
    pub fn hold_by_administrator(&mut self) {
        self.status = Status::Held;
        self.hold = Some(Hold::Administrator);
        self.reason = Some("held by an administrator".into());
        self.next_attempt = NEVER;
    }

    /// Releases a held or waiting message: due at `now`. An unprepared submission stays held:
    /// it is released by being prepared, once the configuration allows. The admin acted: should
    /// the configuration still be wrong, the next hold is told again.
    pub fn release(&mut self, now: u64) {
        if self.unprepared.is_some() {
            return;
        }
        self.status = Status::Queued;
        self.hold = None;
        self.reason = None;
        self.waiting = None;
        self.alerted = false;
        self.next_attempt = now;
    }

    /// A failed message goes back into the queue (`queue retry`): due at `now`, counted as
    /// submitted then (so `max_age` starts again), with its refused recipients pending again.
    /// Recipients a relay accepted stay sent.
    pub fn retry_failed(&mut self, now: u64) {
        self.status = Status::Queued;
        self.hold = None;
        self.reason = None;
        self.waiting = None;
        self.next_attempt = now;
        self.created = now;
        self.attempts = 0;
        self.warned = false;
        self.alerted = false;
        for r in &mut self.recipients {
            if r.status == RecipientStatus::Failed {
                r.status = RecipientStatus::Pending;
            }
        }
    }

    /// Every recipient was accepted by a relay: the message is done.
    pub fn is_delivered(&self) -> bool {
        self.recipients
            .iter()
            .all(|r| r.status == RecipientStatus::Sent)
    }

    /// Checks what a hand-edited or damaged file could get wrong.
    fn check(&self) -> Result<(), String> {
        if self.version != VERSION {
            return Err(format!("unknown state version {}", self.version));
        }
        // An unprepared submission may take its recipients from its headers (`-t`).
        if self.recipients.is_empty() && self.unprepared.is_none() {
            return Err("no recipients".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state file as relayctl wrote it before holds were named: a held message said who held
    /// it only by its `next_attempt`.
    fn old_file(status: &str, next_attempt: u64) -> String {
        format!(
            r#"{{
  "version": 1,
  "profile": "p",
  "created": 1700000000,
  "sender": "app@example.org",
  "recipients": [{{ "address": "ops@example.org", "status": "pending" }}],
  "size": 120,
  "attempts": 2,
  "last_reply": "535 5.7.8 bad credentials",
  "next_attempt": {next_attempt},
  "status": "{status}",
  "reason": "held",
  "warned": false,
  "alerted": true,
  "notice": false
}}"#
        )
    }

    #[test]
    fn version_1_files_without_a_named_hold_still_load() {
        let admin = MessageState::from_json(old_file("held", u64::MAX).as_bytes()).unwrap();
        assert_eq!(admin.hold, Some(Hold::Administrator));
        assert!(
            !admin.is_due(u64::MAX),
            "an administrator's hold never expires"
        );
        let fault = MessageState::from_json(old_file("held", 1700003600).as_bytes()).unwrap();
        assert_eq!(fault.hold, Some(Hold::ConfigFault));
        assert!(!fault.is_due(1700003599) && fault.is_due(1700003600));
        let queued = MessageState::from_json(old_file("queued", 1700000060).as_bytes()).unwrap();
        assert_eq!((queued.hold, queued.waiting), (None, None));
        assert_eq!(queued.attempts, 2);
    }

    #[test]
    fn a_named_hold_is_written_and_read_back() {
        let mut state = MessageState::from_json(old_file("queued", 5).as_bytes()).unwrap();
        state.hold_by_administrator();
        let text = serde_json::to_vec(&state).unwrap();
        assert!(String::from_utf8_lossy(&text).contains(r#""hold":"administrator""#));
        assert_eq!(MessageState::from_json(&text).unwrap(), state);
        state.release(10);
        assert_eq!(
            (
                state.status,
                state.hold,
                state.next_attempt,
                state.reason.clone()
            ),
            (Status::Queued, None, 10, None)
        );
        let text = serde_json::to_vec(&state).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains("hold"));
    }

    #[test]
    fn damaged_files_are_refused() {
        assert!(MessageState::from_json(b"{trunc").is_err());
        let future = old_file("queued", 5).replace(r#""version": 1"#, r#""version": 2"#);
        assert_eq!(
            MessageState::from_json(future.as_bytes()),
            Err("unknown state version 2".into())
        );
        let empty = old_file("queued", 5).replace(
            r#"[{ "address": "ops@example.org", "status": "pending" }]"#,
            "[]",
        );
        assert_eq!(
            MessageState::from_json(empty.as_bytes()),
            Err("no recipients".into())
        );
    }
}
