//! Test support shared by relayctl's unit tests (src/) and integration tests (tests/): one
//! scripted SMTP server ([`smtp::Server`]) for every test that needs a relay relayctl does not
//! find on the machine, plus the TLS configurations it and its test clients use ([`tls`]), and the
//! one TCP forwarder ([`forward`]): a proxy that counts round trips and can put a relay at a
//! network distance, keep what clients sent, or hold connections without a word.
//!
//! A dev-dependency only: nothing here is part of the relayctl binary.

pub mod forward;
pub mod smtp;
pub mod tls;
