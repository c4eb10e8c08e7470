//! The one path by which mail enters the queue. `sendmail` (with `-t`, `-bs`), the maildrop
//! import and the SMTP dialogue read a message with [`read`], prepare it under the profile's
//! sender policy with [`Ready::prepare`], and write it into the spool with [`Ready::enqueue`].
//!
//! - [`read`](mod@read): the size-limited reader (header section in memory, body spooled).
//! - [`policy`]: the sender policy a message is prepared under.
//! - [`Intake`]: handing a prepared message to the queue the configured way (`now`, `queue`,
//!   `wait`, the maildrop), and the first attempt at it.
//! - [`maildrop`]: submission by users who may not read the relay's secret, and its import by
//!   the root runner.

mod client;
pub mod held;
mod intake;
pub mod maildrop;
pub mod policy;
pub mod read;

use std::io::Write;
use std::path::Path;

use crate::aliases::Aliases;
use crate::message::body::SpooledBody;
use crate::message::canonical::CanonicalWriter;
use crate::message::envelope::{Dsn, Envelope};
use crate::message::headers::{Field, split};
use crate::message::submission::{
    Request, SenderPolicy, Submission, SubmissionError, declare_quoted_printable, prepare,
};
use crate::queue::schedule::now;
use crate::queue::{MessageState, QueueId, Spool, SpoolError};

pub use client::SmtpClient;
pub use intake::{Handed, Handover, Intake, Receipt, attempt, attempt_now};
pub use read::{Incoming, ReadError, read};

/// The header naming the local user (or, for the SMTP listener, the client) who submitted a
/// message that relayctl cannot otherwise attribute.
pub const SUBMITTER: &str = "X-Relayctl-Submitter";

/// A message [`Ready::prepare`] refused, with why.
#[derive(Debug)]
pub struct Unprepared {
    pub error: SubmissionError,
    /// What was read: as given, for the fault in `error` that is the configuration's (a local
    /// recipient without an alias), kept by `submit::held`.
    pub incoming: Incoming,
}

impl From<Box<Unprepared>> for crate::error::Error {
    fn from(u: Box<Unprepared>) -> Self {
        u.error.into()
    }
}

/// A message ready for the queue: its rewritten header section, its envelope, and its body.
#[derive(Debug)]
pub struct Ready {
    pub head: Vec<u8>,
    pub envelope: Envelope,
    pub body: SpooledBody,
    /// The body goes out quoted-printable (it has lines longer than SMTP allows).
    pub quoted_printable: bool,
    /// Who the spew brake counts it against, when not a local user (an SMTP client).
    pub caller: Option<String>,
    /// The `[routes]` key that chose its profile, recorded with it in the queue.
    pub route: Option<String>,
}

/// The address that chooses a message's route ([`crate::config::Routes`]): the envelope sender
/// the caller gave, else (when relayctl sets the envelope) the first address of the From field.
/// The null sender `<>` has none.
pub fn routing_sender(given: Option<Option<&str>>, head: &[u8]) -> Option<String> {
    match given {
        Some(sender) => sender.map(str::to_string),
        None => split(head)
            .all("From")
            .next()
            .and_then(|from| {
                crate::message::addresses::parse_list(from.value_bytes())
                    .into_iter()
                    .next()
            })
            .map(|mailbox| mailbox.address),
    }
}

impl Ready {
    /// Prepares a message read from a caller: recipients and aliases, Bcc removed, the sender
    /// policy applied (see [`prepare`]), addresses checked (`allow_bare_hostnames` as the profile
    /// says), NUL bytes refused and over-long lines sent quoted-printable.
    ///
    /// A refusal gives the message back with the reason ([`Unprepared`]), so that a caller can
    /// keep a message the configuration, not the message, was wrong for (`submit::held`).
    pub fn prepare(
        incoming: Incoming,
        request: &Request<'_>,
        policy: &SenderPolicy<'_>,
        aliases: &Aliases,
        allow_bare_hostnames: bool,
        dsn: Dsn,
    ) -> Result<Ready, Box<Unprepared>> {
        let head_lines = incoming.head.iter().filter(|&&b| b == b'\n').count();
        let checked = match incoming.body.nul_line {
            Some(line) => Err(SubmissionError::Nul(head_lines + line)),
            None => prepare(&incoming.head, request, policy, aliases).and_then(|s| {
                s.check_addresses(allow_bare_hostnames)?;
                Ok(s)
            }),
        };
        let submission = match checked {
            Ok(s) => s,
            Err(error) => return Err(Box::new(Unprepared { error, incoming })),
        };
        let body = incoming.body;
        let Submission {
            message: mut head,
            mut envelope,
        } = submission;
        envelope.dsn = dsn;
        let quoted_printable = match body.long_line {
            Some(line) => {
                let mut fields = split(&head);
                if let Err(error) = declare_quoted_printable(&mut fields, line, body.utf8) {
                    return Err(Box::new(Unprepared {
                        error,
                        incoming: Incoming { head, body },
                    }));
                }
                head = fields.to_bytes();
                true
            }
            None => false,
        };
        Ok(Ready {
            head,
            envelope,
            body,
            quoted_printable,
            caller: None,
            route: None,
        })
    }

    /// A message composed whole in memory (`send`, `test`): it goes into the queue as it is.
    pub fn whole(envelope: Envelope, message: Vec<u8>, scratch: &Path) -> Result<Ready, ReadError> {
        let body = SpooledBody::empty(scratch).map_err(|source| ReadError::Scratch {
            dir: scratch.to_path_buf(),
            source,
        })?;
        Ok(Ready {
            head: message,
            envelope,
            body,
            quoted_printable: false,
            caller: None,
            route: None,
        })
    }

    /// The size of the message before line endings are made CRLF (for the profile's limit).
    pub fn size(&self) -> u64 {
        self.head.len() as u64 + self.body.size
    }

    /// Records who submitted the message: every `X-Relayctl-Submitter` field is removed and one
    /// with `who` put first. Called after every rewrite, so that nothing the caller wrote (a
    /// display name included) can stand in for it.
    pub fn stamp_submitter(&mut self, who: &str) {
        self.stamp(who);
    }

    /// Records an SMTP client of the listener as the submitter, and as the caller the spew
    /// brake counts.
    pub fn stamp_client(&mut self, client: &SmtpClient) {
        self.stamp(&client.describe());
        self.caller = Some(client.caller());
    }

    fn stamp(&mut self, who: &str) {
        let mut message = split(&self.head);
        message.remove(SUBMITTER);
        message.fields.insert(0, Field::new(SUBMITTER, who));
        self.head = message.to_bytes();
    }

    /// Writes the message durably into the queue for `profile` and returns its id. `uid` is the
    /// local user who submitted it, when relayctl runs on that user's behalf.
    pub fn enqueue(
        &mut self,
        spool: &Spool,
        profile: &str,
        uid: Option<u32>,
    ) -> Result<QueueId, SpoolError> {
        let Ready {
            head,
            envelope,
            body,
            quoted_printable,
            caller,
            route,
        } = self;
        spool.enqueue_from(
            &mut |w| {
                let mut out = CanonicalWriter::new(w);
                out.write_all(head)?;
                body.copy_to(&mut out, *quoted_printable)
            },
            |written| {
                let mut state = MessageState::new(profile, envelope, written.size, now());
                state.uid = uid;
                state.caller = caller.clone();
                state.route = route.clone();
                state
            },
        )
    }

    /// Writes the message (as it would be queued, before CRLF canonicalisation) to `out`.
    pub fn write_to(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(&self.head)?;
        self.body.copy_to(out, self.quoted_printable)
    }
}
