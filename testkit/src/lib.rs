//! Test support shared by relayctl's unit tests (src/) and integration tests (tests/): one
//! scripted SMTP server ([`smtp::Server`]) for every test that needs a relay relayctl does not
//! find on the machine, plus the TLS configurations it and its test clients use ([`tls`]), and a
//! proxy that puts a relay at a network distance and counts round trips ([`delay`]).
//!
//! A dev-dependency only: nothing here is part of the relayctl binary.

pub mod delay;
pub mod smtp;
pub mod tls;
