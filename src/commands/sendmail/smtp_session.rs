//! `sendmail -bs`: an SMTP dialogue on stdin/stdout, as Symfony Mailer and PHPMailer use it.
//! The dialogue is the server side of [`crate::smtpd`]; each message is read, prepared and
//! submitted like any sendmail submission, and delivered before the reply to the final dot
//! (delivery `now`), so the reply carries the relay's verdict.

use std::io::{BufRead, BufReader, BufWriter};

use super::args::Invocation;
use crate::error::{Error, Result};
use crate::message::submission::{MAX_RECIPIENTS, Request};
use crate::options::Options;
use crate::printable::one_line;
use crate::relay::Fault;
use crate::smtpd::{self, Backend, Reply, Settings, Transaction};
use crate::submit::{self, Intake, Ready};

/// Errors after which the dialogue ends (a client that talks nonsense is not served forever).
const MAX_ERRORS: usize = 20;
/// Commands after which the dialogue ends.
const MAX_COMMANDS: usize = 100_000;

pub fn run(options: &Options, inv: &Invocation) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let intake = match Intake::load(options) {
        Ok(s) => s,
        Err(e) => {
            let reply = Reply::new(421, format!("4.3.0 relayctl: {}", one_line(&e.to_string())));
            let _ = reply.write_to(&mut out);
            let _ = std::io::Write::flush(&mut out);
            return Err(e);
        }
    };
    let settings = Settings {
        hostname: crate::host::fqdn().unwrap_or_else(|| "localhost".into()),
        size_limit: intake.config.routed_size_limit(&intake.selected.profile),
        max_recipients: MAX_RECIPIENTS,
        max_errors: MAX_ERRORS,
        max_commands: MAX_COMMANDS,
        // The caller is a local program on a pipe: no TLS, no login, and it may talk ahead.
        starttls: false,
        auth: false,
        strict_pipelining: false,
        scratch: options.scratch_dir(),
        idle: None,
    };
    let mut backend = Submitter { inv, intake };
    smtpd::serve(
        &mut BufReader::new(std::io::stdin().lock()),
        &mut out,
        &settings,
        &mut backend,
        true,
    )
    .map(|_| ())
    .map_err(|e| Error::io("cannot talk SMTP on", "standard input and output", e))
}

/// Takes the messages of a `-bs` dialogue into the queue.
struct Submitter<'a> {
    inv: &'a Invocation,
    intake: Intake<'a>,
}

impl Backend for Submitter<'_> {
    type Pending = Ready;

    fn recipient(&mut self, address: &str) -> Result<(), Reply> {
        self.intake
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
        let limit = self
            .intake
            .config
            .routed_size_limit(&self.intake.selected.profile);
        let incoming = submit::read(data, true, limit, &self.intake.options.scratch_dir())
            .map_err(|e| Reply::for_read(&e))?;
        let request = Request {
            recipients: &transaction.recipients,
            extract_recipients: false,
            sender: transaction.sender.as_ref().map(|s| s.as_deref()),
        };
        let sender = submit::routing_sender(request.sender, &incoming.head);
        self.intake
            .route(sender.as_deref())
            .map_err(|e| Reply::status("451 4.3.5", &e.to_string()))?;
        let policy = self
            .intake
            .policy(self.inv.full_name.as_deref())
            .map_err(|e| Reply::status("451 4.3.5", &e.to_string()))?;
        Ready::prepare(
            incoming,
            &request,
            &policy,
            &self.intake.aliases,
            self.intake.selected.profile.allow_bare_hostnames,
            // DSN asked for in the dialogue wins over -N, -R and -V.
            if transaction.dsn.is_requested() {
                transaction.dsn.clone()
            } else {
                self.inv.dsn.clone()
            },
        )
        .map_err(|e| Reply::status("554 5.6.0", &e.error.to_string()))
    }

    fn commit(&mut self, mut ready: Ready) -> Reply {
        match self.intake.submit(&mut ready) {
            Ok(_) => Reply::new(250, "2.0.0 Ok: delivered"),
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
                Reply::status(code, &e.to_string())
            }
        }
    }
}
