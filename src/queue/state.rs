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
    /// Not tried until released: by an admin, or after a configuration fault (retried at the
    /// longest retry interval in case it was fixed).
    Held,
    /// In the failed area.
    Failed,
}

/// Why a queued message waits although no attempt at it failed (no attempt is counted for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    /// No relay of its chain has a token of its `rate_limit` left: it leaves when one has.
    RateLimit,
    /// The relay answered with throttling: nothing goes to it before its cool-down ends.
    CoolDown,
    /// Delivery for its profile is frozen by the spew brake until `queue release --all`.
    Brake,
}

/// Everything the queue knows about a message besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageState {
    /// Format version of this file.
    pub version: u32,
    /// The profile the message was submitted for.
    pub profile: String,
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
    /// The message has bytes above 127 and goes out with BODY=8BITMIME (set by the spool).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub eight_bit: bool,
    /// The submission was counted by the spew brake.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub brake_counted: bool,
    /// Why it waits without an attempt being counted; `next_attempt` says until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
}

/// The current format version.
pub const VERSION: u32 = 1;

impl MessageState {
    /// The state of a message just submitted.
    pub fn new(profile: &str, envelope: &Envelope, size: u64, now: u64) -> Self {
        MessageState {
            version: VERSION,
            profile: profile.to_string(),
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
            reason: None,
            warned: false,
            alerted: false,
            notice: false,
            eight_bit: false,
            uid: None,
            brake_counted: false,
            waiting: None,
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

    /// Checks what a hand-edited or damaged file could get wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.version != VERSION {
            return Err(format!("unknown state version {}", self.version));
        }
        if self.recipients.is_empty() {
            return Err("no recipients".into());
        }
        Ok(())
    }
}
