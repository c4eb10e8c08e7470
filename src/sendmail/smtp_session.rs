//! `sendmail -bs`: an SMTP dialogue on stdin/stdout, as Symfony Mailer and PHPMailer use it.
//! The dialogue is the server side of [`crate::smtpd`]; each message is read, prepared and
//! submitted like any sendmail submission, and delivered before the reply to the final dot
//! (delivery `now`), so the reply carries the relay's verdict.

use std::io::{BufRead, BufReader, BufWriter};

use super::Setup;
use super::args::Invocation;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::message::submission::{MAX_RECIPIENTS, Request};
use crate::printable::one_line;
use crate::relay::Fault;
use crate::smtpd::{self, Backend, Reply, Settings, Transaction};
use crate::submit::{self, ReadError, Ready};

/// Errors after which the dialogue ends (a client that talks nonsense is not served forever).
const MAX_ERRORS: usize = 20;

pub fn run(ctx: &Context, inv: &Invocation) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let setup = match Setup::load(ctx) {
        Ok(s) => s,
        Err(e) => {
            let reply = Reply::new(421, format!("4.3.0 relayctl: {}", one_line(&e.to_string())));
            let _ = reply.write_to(&mut out);
            let _ = std::io::Write::flush(&mut out);
            return Err(e);
        }
    };
    let settings = Settings {
        hostname: crate::relay::system_fqdn().unwrap_or_else(|| "localhost".into()),
        size_limit: setup.selected.profile.max_message_size().0,
        max_recipients: MAX_RECIPIENTS,
        max_errors: MAX_ERRORS,
    };
    let mut backend = Submitter { ctx, inv, setup };
    smtpd::serve(
        &mut BufReader::new(std::io::stdin().lock()),
        &mut out,
        &settings,
        &mut backend,
    )
    .map_err(|e| Error::io("cannot talk SMTP on", "standard input and output", e))
}

/// Takes the messages of a `-bs` dialogue into the queue.
struct Submitter<'a> {
    ctx: &'a Context,
    inv: &'a Invocation,
    setup: Setup,
}

impl Backend for Submitter<'_> {
    type Pending = Ready;

    fn recipient(&mut self, address: &str) -> Result<(), Reply> {
        self.setup
            .aliases
            .resolve(address)
            .map(|_| ())
            .map_err(|e| {
                Reply::new(
                    550,
                    format!("5.1.1 <{address}>: {}", one_line(&e.to_string())),
                )
            })
    }

    fn receive(
        &mut self,
        transaction: &Transaction,
        data: &mut dyn BufRead,
    ) -> Result<Ready, Reply> {
        let limit = self.setup.selected.profile.max_message_size().0;
        let incoming = submit::read(data, true, limit, &self.ctx.scratch_dir()).map_err(|e| {
            let code = match e {
                ReadError::TooLarge(_) | ReadError::HeadTooLarge => "552 5.3.4",
                ReadError::Input(_) => "451 4.3.0",
                ReadError::Scratch { .. } => "452 4.3.1",
            };
            error_reply(code, &e.to_string())
        })?;
        let request = Request {
            recipients: &transaction.recipients,
            extract_recipients: false,
            sender: transaction.sender.as_ref().map(|s| s.as_deref()),
        };
        let policy = self
            .setup
            .policy(self.inv)
            .map_err(|e| error_reply("451 4.3.5", &e.to_string()))?;
        Ready::prepare(
            incoming,
            &request,
            &policy,
            &self.setup.aliases,
            self.setup.selected.profile.allow_bare_hostnames,
            self.inv.dsn.clone(),
        )
        .map_err(|e| error_reply("554 5.6.0", &e.to_string()))
    }

    fn commit(&mut self, mut ready: Ready) -> Reply {
        let verdict = self
            .ctx
            .submit_ready(&self.setup.config, &self.setup.selected, &mut ready);
        match verdict {
            Ok(()) => Reply::new(250, "2.0.0 Ok: delivered"),
            Err(e) => {
                let code = match &e {
                    Error::Delivery(d) if d.fault() == Fault::Transient => "451 4.3.0",
                    Error::Delivery(d) if d.fault() == Fault::Config => "451 4.3.5",
                    Error::Spool(_) => "452 4.3.1",
                    Error::Message(_) | Error::Submission(_) => "554 5.6.0",
                    // The attempt ran in its own process and said why on stderr.
                    Error::Attempt { code: 67, .. } => "550 5.1.1",
                    Error::Attempt { code: 65, .. } => "554 5.6.0",
                    _ => "554 5.0.0",
                };
                error_reply(code, &e.to_string())
            }
        }
    }
}

/// `code` is `NNN X.Y.Z`.
fn error_reply(code: &str, text: &str) -> Reply {
    let (number, status) = code.split_once(' ').unwrap_or((code, ""));
    Reply::new(
        number.parse().unwrap_or(554),
        format!("{status} {}", one_line(text)),
    )
}
