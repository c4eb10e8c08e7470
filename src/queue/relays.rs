//! The runner's way to the relays, as lettre's `Transport` is its users': [`Relays`] opens a
//! session to a profile's relay, the session carries messages. [`Smtp`] is the real thing; the
//! runner's unit tests put a script in its place, so that retry, failover and hold are tested
//! without a network.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::config::LoadedProfile;
use crate::message::envelope::Envelope;
use crate::relay::{DeliveryError, ProfileCredentials, Session};
use crate::transcript::Transcript;

/// Opens sessions to the relays of profiles.
pub trait Relays {
    type Session: RelaySession;

    /// Connects to the relay of profile `name` and logs in as the profile says.
    fn open(&mut self, name: &str, profile: &LoadedProfile)
    -> Result<Self::Session, DeliveryError>;
}

/// An open session to a relay, which carries one message after another.
pub trait RelaySession {
    /// One mail transaction for `envelope`, the message (CRLF line endings, no final CRLF)
    /// read from `message` as it goes out. Returns the relay's reply to the final dot.
    fn send(
        &mut self,
        envelope: &Envelope,
        message: &mut dyn Read,
        size: u64,
        eight_bit: bool,
    ) -> Result<String, DeliveryError>;

    /// Whether a message of `size` octets can be streamed: begun without waiting for the
    /// replies to the messages before it.
    fn streams(&self, size: u64) -> bool;

    /// Sends the transaction of `envelope` with the whole `message` without waiting for its
    /// replies; [`RelaySession::finish`] reads them, in the order the messages were begun.
    fn begin(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        eight_bit: bool,
    ) -> Result<(), DeliveryError>;

    /// Whether the replies to the oldest begun message have begun to arrive (reading them
    /// would hardly wait).
    fn answered(&mut self) -> bool;

    /// The outcome of the oldest begun message (whose envelope is `envelope`), as
    /// [`RelaySession::send`]'s.
    fn finish(&mut self, envelope: &Envelope) -> Result<String, DeliveryError>;

    /// Whether the connection can carry another message.
    fn is_usable(&self) -> bool;

    /// Makes the next message the last: the session ends with it, without a round trip of its
    /// own (QUIT in the same flight).
    fn quit_with_next_message(&mut self);

    /// Ends the session politely.
    fn quit(self);
}

/// The relays over SMTP, with the profiles' secrets and the spool's OAuth2 token cache.
pub struct Smtp<'a> {
    spool: &'a Path,
    transcript: &'a Transcript,
    /// The time each relay has to connect and greet, when not the profile's timeout.
    first_answer: Option<Duration>,
}

impl<'a> Smtp<'a> {
    /// Sessions that cache access tokens in the spool at `spool`.
    pub fn new(spool: &'a Path, transcript: &'a Transcript) -> Self {
        Smtp {
            spool,
            transcript,
            first_answer: None,
        }
    }

    /// Gives each relay `first_answer` to connect and greet (a submission's caller waits);
    /// the rest of the dialogue keeps the profile's timeout.
    pub fn first_answer_within(mut self, first_answer: Duration) -> Self {
        self.first_answer = Some(first_answer);
        self
    }
}

impl<'a> Relays for Smtp<'a> {
    type Session = Session<'a>;

    fn open(&mut self, name: &str, p: &LoadedProfile) -> Result<Session<'a>, DeliveryError> {
        let credentials =
            ProfileCredentials::new(name, &p.profile, &p.file, self.spool, *self.transcript);
        Session::open_within(
            name,
            &p.profile,
            &credentials,
            self.transcript,
            self.first_answer,
        )
    }
}

impl RelaySession for Session<'_> {
    fn send(
        &mut self,
        envelope: &Envelope,
        message: &mut dyn Read,
        size: u64,
        eight_bit: bool,
    ) -> Result<String, DeliveryError> {
        self.send_stream(envelope, message, size, eight_bit)
    }

    fn streams(&self, size: u64) -> bool {
        Session::streams(self, size)
    }

    fn begin(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
        eight_bit: bool,
    ) -> Result<(), DeliveryError> {
        Session::begin(self, envelope, message, eight_bit)
    }

    fn answered(&mut self) -> bool {
        Session::answered(self)
    }

    fn finish(&mut self, envelope: &Envelope) -> Result<String, DeliveryError> {
        Session::finish(self, envelope)
    }

    fn is_usable(&self) -> bool {
        Session::is_usable(self)
    }

    fn quit_with_next_message(&mut self) {
        Session::quit_with_next_message(self)
    }

    fn quit(self) {
        Session::quit(self)
    }
}
