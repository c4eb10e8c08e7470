//! The server side of SMTP: the one dialogue that `sendmail -bs` speaks on stdin and stdout
//! (and the SMTP listener on its sockets), with strict line endings against SMTP smuggling.
//!
//! - [`input`]: command lines and the message after DATA, read strictly (CRLF only).
//! - [`dialogue`]: the commands, their order and limits, and the [`Backend`] that takes mail.

pub mod dialogue;
pub mod input;

pub use dialogue::{Backend, Reply, Settings, Transaction, serve};
