//! `relayctl test --to ADDR`: a real message through the whole path (spool, queue runner,
//! relay), whatever `delivery` says, reporting the relay's reply and the queue id.

use crate::commands::Context;
use crate::error::{Error, Result};
use crate::message::envelope::Envelope;
use crate::message::headers::Field;
use crate::message::{is_plausible_address, message_id, rfc5322_now};
use crate::queue::schedule::now;
use crate::queue::{MessageState, Outcome, Runner, daemon};
use crate::relay;

/// Queues the test message, delivers it at once and prints what the relay said.
pub fn execute(ctx: &Context, to: &str) -> Result<()> {
    if !is_plausible_address(to) {
        return Err(Error::Usage(format!("--to {to:?} is not an email address")));
    }
    if ctx.uses_maildrop() {
        return Err(Error::Usage(
            "relayctl test needs the profile's secret: run it as root for the system profile"
                .into(),
        ));
    }
    let config = ctx.location.load()?;
    let selected = ctx.select_from(&config)?;
    let from = selected.sender(None)?;
    let p = &selected.profile;
    let relay_name = format!("{}:{}", p.host, p.port);
    let host = relay::system_fqdn()
        .or_else(|| dns_lookup::get_hostname().ok())
        .unwrap_or_else(|| "this host".into());
    let time = rfc5322_now();
    let version = env!("CARGO_PKG_VERSION");
    let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let fields = [
        Field::new("From", &format!("\"relayctl on {host}\" <{from}>")),
        Field::new("To", &format!("<{to}>")),
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
    let mut wire = Vec::new();
    for f in &fields {
        wire.extend_from_slice(&f.raw);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    wire.extend_from_slice(body.as_bytes());
    let envelope = Envelope {
        sender: Some(from),
        recipients: vec![to.to_string()],
        dsn: Default::default(),
    };
    relay::check_size(&selected.name, p, wire.len() as u64)?;
    let spool = ctx.open_spool()?;
    let state = MessageState::new(&selected.name, &envelope, wire.len() as u64, now());
    let id = spool.enqueue(&wire, &state)?;
    println!(
        "queued as {id}; delivering through profile {} ({relay_name})",
        selected.name
    );
    let Some(locked) = spool.lock(&id)? else {
        return Err(Error::NotDelivered {
            id,
            reason: "a queue runner took it first; see `relayctl queue show`".into(),
            held: false,
        });
    };
    let mut runner = Runner::new(&spool, &config, &ctx.transcript);
    let outcome = runner.attempt(locked);
    let notices = runner.send_notices(&mut Default::default());
    runner.close();
    notices?;
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
    match outcome? {
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
            reason: "another runner is delivering it".into(),
            held: false,
        }),
        Outcome::Failed { reason, fault } => Err(Error::Undeliverable { id, reason, fault }),
    }
}
