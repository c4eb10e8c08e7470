//! `relayctl test --to ADDR`: a real message through the whole path (spool, queue runner,
//! relay), whatever `delivery` says, reporting the relay's reply and the queue id.

use crate::error::{Error, Result};
use crate::message::envelope::Envelope;
use crate::message::headers::{Field, Message};
use crate::message::{is_plausible_address, message_id, rfc5322_now};
use crate::options::Options;
use crate::queue::{Outcome, daemon};
use crate::submit::{self, Intake, Ready};

/// Queues the test message, delivers it at once and prints what the relay said.
pub fn execute(options: &Options, to: &str) -> Result<()> {
    if options.uses_maildrop() {
        return Err(Error::Usage(
            "relayctl test needs the profile's secret: run it as root for the system profile"
                .into(),
        ));
    }
    let intake = Intake::load(options)?;
    let selected = &intake.selected;
    // A local recipient (`root`) goes where `sendmail root` would send it.
    let recipients = intake.aliases.resolve(to)?;
    if let Some(bad) = recipients.iter().find(|a| !is_plausible_address(a)) {
        return Err(Error::Usage(format!(
            "--to {bad:?} is not an email address"
        )));
    }
    let from = selected.sender(None)?;
    let p = &selected.profile;
    let relay_name = format!("{}:{}", p.host, p.port);
    let host = crate::host::name();
    let time = rfc5322_now();
    let version = env!("CARGO_PKG_VERSION");
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let fields = [
        Field::new("From", &format!("\"relayctl on {host}\" <{from}>")),
        Field::new(
            "To",
            &recipients
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Field::new(
            "Subject",
            &format!(
                "relayctl test from {host} via {} ({relay_name})",
                selected.name
            ),
        ),
        Field::new("Date", &time),
        Field::new("Message-ID", &message_id(domain)),
        Field::new("Content-Type", "text/plain; charset=utf-8"),
    ];
    let body = format!(
        "This is a test message sent by `relayctl test`.\r\n\r\nHost:     {host}\r\nProfile:  {}\r\nRelay:    {relay_name} (tls {})\r\nTime:     {time}\r\nVersion:  relayctl {version}\r\n\r\nIf it reached you, mail from this host works.\r\n",
        selected.name, p.tls
    );
    let message = Message {
        fields: fields.to_vec(),
        body: body.into_bytes(),
    };
    let envelope = Envelope {
        sender: Some(from),
        recipients,
        dsn: Default::default(),
    };
    let mut ready = Ready::whole(envelope, message.to_bytes(), &options.scratch_dir())?;
    let (spool, id) = intake.enqueue(&mut ready)?;
    println!(
        "queued as {id}; delivering through profile {} ({relay_name})",
        selected.name
    );
    let outcome = submit::attempt_now(&intake.config, &spool, &id, &options.transcript)?;
    for record in crate::log::recent(&id) {
        println!(
            "{} via profile {} ({}) in {} ms: {}",
            if record.accepted {
                "accepted"
            } else {
                "not accepted"
            },
            record.profile,
            record.relay,
            record.duration_ms,
            record.text
        );
    }
    match outcome {
        Outcome::Delivered => {
            println!("queue id: {id}");
            Ok(())
        }
        Outcome::Deferred(reason) => {
            daemon::wake(&spool);
            Err(Error::NotDelivered {
                id,
                reason,
                held: false,
            })
        }
        Outcome::Held(reason) => Err(Error::NotDelivered {
            id,
            reason,
            held: true,
        }),
        Outcome::Busy => Err(Error::NotDelivered {
            id,
            reason: "a queue runner took it first; see `relayctl queue show`".into(),
            held: false,
        }),
        Outcome::Failed { reason, fault } => Err(Error::Undeliverable { id, reason, fault }),
    }
}
