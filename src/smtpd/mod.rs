//! The server side of SMTP: the one dialogue that `sendmail -bs` speaks on stdin and stdout
//! and the SMTP listener (`relayctl serve`) on its sockets, with strict line endings against
//! SMTP smuggling.
//!
//! - [`input`]: command lines and the message after DATA, read strictly (CRLF only).
//! - [`command`]: MAIL and RCPT arguments, typed.
//! - [`auth`]: AUTH PLAIN and LOGIN, the server side.
//! - [`chunks`]: the message of a BDAT transaction.
//! - [`dialogue`]: the commands, their order and limits, and the [`Backend`] that takes mail.
//! - [`reply`]: replies that cannot add lines.
//! - [`listener`]: `relayctl serve`'s sockets, connections and limits; [`stream`] their
//!   timeouts and TLS ([`tls`]); [`backend`] who may submit what, and the hand-over to the
//!   queue.
//! - [`users`]: the listener's users, their hashed passwords and the senders they may use.

pub mod auth;
pub mod backend;
pub mod chunks;
pub mod command;
pub mod dialogue;
pub mod error;
pub mod input;
pub mod listener;
pub mod reply;
pub mod stream;
pub mod tls;
pub mod users;

pub use dialogue::{Backend, End, Settings, Transaction, serve};
pub use reply::Reply;
