//! `relayctl queue ...` (and `mailq`, `sendmail -bp`, `sendmail -q`): inspect and drive the queue.

use serde::Serialize;

use crate::cli::QueueCommand;
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::queue::schedule::now;
use crate::queue::state::{MessageState, RecipientStatus, Status};
use crate::queue::{Area, Runner, Select, Spool, SpoolError, daemon};

pub fn execute(ctx: &Context, command: QueueCommand) -> Result<()> {
    let spool = ctx.open_spool()?;
    match command {
        QueueCommand::List { json } => list(&spool, Area::Queue, json),
        QueueCommand::Failed { json } => list(&spool, Area::Failed, json),
        QueueCommand::Show { id } => show(&spool, &id),
        QueueCommand::Run => run(ctx, &spool, Select::Due),
        QueueCommand::Flush => run(ctx, &spool, Select::AllQueued),
        QueueCommand::Retry { id, all } => {
            let ids = pick(&spool, id, all)?;
            update(&spool, &ids, |s| s.next_attempt = now())?;
            run(ctx, &spool, Select::Ids(ids))
        }
        QueueCommand::Hold { id } => update(&spool, &[id], |s| {
            s.status = Status::Held;
            s.reason = Some("held by an administrator".into());
            s.next_attempt = u64::MAX;
        }),
        QueueCommand::Release { id, all } => {
            let ids = pick(&spool, id, all)?;
            update(&spool, &ids, |s| {
                s.status = Status::Queued;
                s.reason = None;
                s.next_attempt = now();
            })?;
            daemon::wake(&spool);
            Ok(())
        }
        QueueCommand::Delete { id } => Ok(spool
            .delete(Area::Queue, &id)
            .or_else(|_| spool.delete(Area::Failed, &id))?),
        QueueCommand::Daemon => {
            let reload = || match ctx.location.load() {
                Ok(c) => Some(c),
                Err(e) => {
                    eprintln!("relayctl: {e}");
                    None
                }
            };
            let before_pass = |spool: &Spool, config: &crate::config::LoadedConfig| {
                if let Err(e) = crate::sendmail::import_maildrop(spool, config, &ctx.transcript) {
                    eprintln!("relayctl: {e}");
                }
            };
            Ok(daemon::run(&spool, &reload, &before_pass, &ctx.transcript)?)
        }
    }
}

/// Releases the mail held because `profile`'s relay refused its configuration (after the
/// secret was replaced), and wakes a running daemon.
pub fn release_profile(spool: &Spool, profile: &str) -> Result<usize> {
    let mut released = 0;
    for id in spool.ids(Area::Queue)? {
        let Ok(Some(mut locked)) = spool.lock(&id) else {
            continue;
        };
        if locked.state.status == Status::Held
            && locked.state.profile == profile
            && locked.state.next_attempt != u64::MAX
        {
            locked.state.status = Status::Queued;
            locked.state.reason = None;
            locked.state.next_attempt = now();
            locked.save()?;
            released += 1;
        }
    }
    if released > 0 {
        daemon::wake(spool);
    }
    Ok(released)
}

/// One pass; quiet unless -v, since cron mails any output.
pub fn run(ctx: &Context, spool: &Spool, select: Select) -> Result<()> {
    let config = ctx.location.load()?;
    crate::sendmail::import_maildrop(spool, &config, &ctx.transcript)?;
    let mut runner = Runner::new(spool, &config, &ctx.transcript);
    let summary = runner.run(&select);
    runner.close();
    let summary = summary?;
    ctx.transcript.note(&format!(
        "delivered {}, deferred {}, held {}, failed {}, corrupt {}",
        summary.delivered, summary.deferred, summary.held, summary.failed, summary.corrupt
    ));
    Ok(())
}

fn pick(spool: &Spool, id: Option<String>, all: bool) -> Result<Vec<String>> {
    match (id, all) {
        (Some(id), false) => Ok(vec![id]),
        (None, true) => Ok(spool.ids(Area::Queue)?),
        _ => Err(Error::Usage("give a message ID or --all".into())),
    }
}

/// Changes the state of messages, each under its lock; a message being delivered is skipped.
fn update(spool: &Spool, ids: &[String], change: impl Fn(&mut MessageState)) -> Result<()> {
    for id in ids {
        match spool.lock(id)? {
            Some(mut locked) => {
                change(&mut locked.state);
                locked.save()?;
            }
            None if spool.ids(Area::Queue)?.contains(id) => {
                eprintln!("relayctl: message {id} is being delivered right now; left alone");
            }
            None => return Err(SpoolError::NotFound(id.clone()).into()),
        }
    }
    Ok(())
}

/// One message in `queue list --json`.
#[derive(Serialize)]
struct Entry {
    id: String,
    age_seconds: u64,
    size: u64,
    sender: String,
    recipients: Vec<String>,
    attempts: u32,
    last_reply: Option<String>,
    next_attempt: u64,
    state: &'static str,
}

fn entry(id: &str, s: &MessageState) -> Entry {
    Entry {
        id: id.to_string(),
        age_seconds: now().saturating_sub(s.created),
        size: s.size,
        sender: s.sender.clone().unwrap_or_else(|| "<>".into()),
        recipients: s
            .recipients
            .iter()
            .filter(|r| r.status != RecipientStatus::Sent)
            .map(|r| r.address.clone())
            .collect(),
        attempts: s.attempts,
        last_reply: match s.status {
            Status::Queued => s.last_reply.clone(),
            Status::Held | Status::Failed => s.reason.clone().or_else(|| s.last_reply.clone()),
        },
        next_attempt: s.next_attempt,
        state: match s.status {
            Status::Queued => "queued",
            Status::Held => "held",
            Status::Failed => "failed",
        },
    }
}

/// The mailq-style listing (also `mailq` and `sendmail -bp`).
pub fn list(spool: &Spool, area: Area, json: bool) -> Result<()> {
    let mut entries = Vec::new();
    for id in spool.ids(area)? {
        match spool.state(area, &id) {
            Ok(s) => entries.push(entry(&id, &s)),
            Err(e @ SpoolError::Corrupt { .. }) => eprintln!("relayctl: {e}"),
            Err(SpoolError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).expect("entries serialise")
        );
        return Ok(());
    }
    if entries.is_empty() {
        println!(
            "{}",
            if area == Area::Queue {
                "Mail queue is empty"
            } else {
                "No failed messages"
            }
        );
        return Ok(());
    }
    println!(
        "{:<20} {:>6} {:>8} {:<7} {:>4} {:>6}  SENDER -> RECIPIENTS",
        "ID", "AGE", "SIZE", "STATE", "TRY", "NEXT"
    );
    for e in &entries {
        let next = if e.state == "queued" {
            age(e.next_attempt.saturating_sub(now()))
        } else {
            "-".into()
        };
        println!(
            "{:<20} {:>6} {:>8} {:<7} {:>4} {:>6}  {} -> {}",
            e.id,
            age(e.age_seconds),
            e.size,
            e.state,
            e.attempts,
            next,
            e.sender,
            e.recipients.join(", ")
        );
        if let Some(reply) = &e.last_reply {
            println!("{:>22}{reply}", "");
        }
    }
    println!(
        "-- {} message{}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

fn show(spool: &Spool, id: &str) -> Result<()> {
    let (area, state) = match spool.state(Area::Queue, id) {
        Ok(s) => (Area::Queue, s),
        Err(SpoolError::NotFound(_)) => (Area::Failed, spool.state(Area::Failed, id)?),
        Err(e) => return Err(e.into()),
    };
    let e = entry(id, &state);
    println!(
        "id:           {id} ({})",
        if area == Area::Queue {
            "queue"
        } else {
            "failed"
        }
    );
    println!("profile:      {}", state.profile);
    println!(
        "state:        {}{}",
        e.state,
        state
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
    println!("age:          {}", age(e.age_seconds));
    println!("size:         {} bytes", state.size);
    println!("sender:       {}", e.sender);
    for r in &state.recipients {
        println!("recipient:    {r}");
    }
    println!("attempts:     {}", state.attempts);
    println!(
        "last reply:   {}",
        state.last_reply.as_deref().unwrap_or("-")
    );
    if area == Area::Queue {
        println!(
            "next attempt: in {}",
            age(state.next_attempt.saturating_sub(now()))
        );
    }
    Ok(())
}

/// A short age: 45s, 12m, 3h, 2d.
fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
