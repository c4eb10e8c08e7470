//! `relayctl queue ...` (and `mailq`, `sendmail -bp`, `sendmail -q`): inspect and drive the queue.

pub mod admin;

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use crate::cli::QueueCommand;
use crate::config::{LoadedConfig, Rate};
use crate::error::{Error, Result};
use crate::messages;
use crate::options::Options;
use crate::queue::ratelimit::{Freeze, Limiter};
use crate::queue::schedule::now;
use crate::queue::state::{Hold, MessageState, RecipientStatus, Status, WaitReason};
use crate::queue::{Area, QueueId, Select, Spool, SpoolError, Summary, daemon};
use crate::submit::{self, held, maildrop};
use crate::transcript::Transcript;

pub fn execute(options: &Options, command: QueueCommand) -> Result<()> {
    let spool = options.open_spool()?;
    match command {
        QueueCommand::List { json } => list(
            &spool,
            options.location.load().ok().as_ref(),
            Area::Queue,
            json,
        ),
        QueueCommand::Failed { json } => list(&spool, None, Area::Failed, json),
        QueueCommand::Show { id } => show(&spool, options.location.load().ok().as_ref(), &id),
        QueueCommand::Run => run(options, &spool, Select::Due),
        QueueCommand::Attempt { id, report } => {
            let handed = submit::attempt(options, &options.location.load()?, &spool, id)?;
            if report {
                println!("{handed}");
            }
            Ok(())
        }
        QueueCommand::Flush => {
            // Run by hand: what became of the mail of each profile, one line each.
            for line in pass(options, &spool, Select::AllQueued)?.lines() {
                println!("{line}");
            }
            Ok(())
        }
        QueueCommand::Retry { targets, failed } => admin::retry(options, &spool, &targets, failed),
        QueueCommand::Hold { targets } => admin::hold(options, &spool, &targets),
        QueueCommand::Release { targets } => admin::release(options, &spool, &targets),
        QueueCommand::Delete { targets, failed } => {
            admin::delete(options, &spool, &targets, failed)
        }
        QueueCommand::Move { targets, to } => admin::move_to(options, &spool, &targets, &to),
        QueueCommand::Daemon => {
            // Bound once: a changed metrics_listen takes a restart. A port taken is an alert,
            // never a reason to stop delivering.
            if let Some(addr) = options.location.load().ok().and_then(|c| c.metrics_listen) {
                let root = spool.root().to_path_buf();
                if let Err(e) = crate::metrics::http::spawn(addr, root, options.location.clone()) {
                    messages::alert(&e.to_string());
                }
            }
            let reload = || match options.location.load() {
                Ok(c) => Some(c),
                Err(e) => {
                    crate::messages::alert(&e.to_string());
                    None
                }
            };
            let before_pass = |spool: &Spool, config: &LoadedConfig| {
                if let Err(e) = take_in(spool, config, &options.transcript) {
                    messages::alert(&e.to_string());
                }
            };
            let write_metrics = |spool: &Spool, config: &LoadedConfig| {
                if let Err(e) = crate::metrics::textfile::write(spool, config) {
                    messages::alert(&e.to_string());
                }
            };
            Ok(daemon::run(
                &spool,
                &reload,
                &before_pass,
                &write_metrics,
                &options.transcript,
            )?)
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
        if locked.state.hold == Some(Hold::ConfigFault) && locked.state.profile == profile {
            locked.state.release(now());
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
pub fn run(options: &Options, spool: &Spool, select: Select) -> Result<()> {
    pass(options, spool, select).map(drop)
}

/// One pass, with its summary per profile in the `-v` transcript.
fn pass(options: &Options, spool: &Spool, select: Select) -> Result<Summary> {
    let config = options.location.load()?;
    take_in(spool, &config, &options.transcript)?;
    let summary = crate::queue::pass::run(spool, &config, &options.transcript, &select);
    if let Err(e) = crate::metrics::textfile::write(spool, &config) {
        messages::alert(&e.to_string());
    }
    let summary = summary?;
    for line in summary.lines() {
        options.transcript.note(&line);
    }
    options.transcript.note(&format!(
        "delivered {}, deferred {}, held {}, failed {}, corrupt {}",
        summary.delivered, summary.deferred, summary.held, summary.failed, summary.corrupt
    ));
    Ok(summary)
}

/// Releasing a submission held while the configuration could not deliver it means preparing
/// it: done now for those of `ids`, when the configuration loads and can deliver them, and said.
fn prepare_held_now(options: &Options, spool: &Spool, ids: &[QueueId]) -> Result<()> {
    let unprepared = ids.iter().any(|id| {
        spool
            .state(Area::Queue, id)
            .is_ok_and(|s| s.unprepared.is_some())
    });
    if !unprepared {
        return Ok(());
    }
    let config = match options.location.load() {
        Ok(config) => config,
        Err(e) => {
            messages::alert(&format!(
                "held messages stay held: the configuration still does not load: {e}"
            ));
            return Ok(());
        }
    };
    let prepared = held::prepare_all(spool, &config, &options.transcript)?;
    for (held, queued) in &prepared.queued {
        println!("held message {held} queued as {queued}");
    }
    for id in ids {
        if let Ok(state) = spool.state(Area::Queue, id)
            && state.unprepared.is_some()
        {
            let reason = state.reason.unwrap_or_default();
            messages::alert(&format!("message {id} stays held: {reason}"));
        }
    }
    Ok(())
}

/// What a pass does before delivering: imports the maildrop and prepares the submissions held
/// while the configuration could not deliver them.
fn take_in(spool: &Spool, config: &LoadedConfig, transcript: &Transcript) -> Result<()> {
    maildrop::import(spool, config, transcript)?;
    let prepared = held::prepare_all(spool, config, transcript)?;
    for id in prepared.failed {
        messages::alert(&format!(
            "held message {id} cannot be sent now that the configuration loads; it is in the failed area (`relayctl queue failed`)"
        ));
    }
    Ok(())
}

/// One message in `queue list --json`.
#[derive(Serialize)]
struct Entry {
    id: String,
    /// The profile it is to go through (empty: the default profile, for a submission held
    /// before the configuration could say which).
    profile: String,
    age_seconds: u64,
    size: u64,
    sender: String,
    recipients: Vec<String>,
    attempts: u32,
    last_reply: Option<String>,
    next_attempt: u64,
    state: &'static str,
    /// Unix time until which a rate limit or the relay's throttling holds it back.
    rate_limited_until: Option<u64>,
    /// Unix time since which the spew brake freezes delivery for its profile.
    frozen_since: Option<u64>,
    /// Unix time it will leave, for mail of a profile with a `rate_limit`: once the messages
    /// due before it have taken their tokens (given a queue runner).
    leaves_at: Option<u64>,
    #[serde(skip)]
    waiting: Option<WaitReason>,
    /// It waits for a token of its profile's `rate_limit` like any message (notices, held and
    /// frozen mail do not).
    #[serde(skip)]
    takes_token: bool,
    /// The `rate_limit` behind `leaves_at`.
    #[serde(skip)]
    limit: Option<Rate>,
}

/// The spew brake's freezes, by profile.
type Freezes = Vec<(String, Freeze)>;

fn entry(id: &QueueId, s: &MessageState, freezes: &Freezes) -> Entry {
    let frozen_since = freezes
        .iter()
        .find(|(p, _)| *p == s.profile)
        .filter(|_| s.status == Status::Queued && !s.notice)
        .map(|(_, f)| f.since);
    Entry {
        id: id.to_string(),
        profile: s.profile.clone(),
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
        rate_limited_until: match s.waiting {
            Some(WaitReason::RateLimit | WaitReason::CoolDown) if s.status == Status::Queued => {
                Some(s.next_attempt)
            }
            _ => None,
        },
        takes_token: s.status == Status::Queued
            && !s.notice
            && s.unprepared.is_none()
            && frozen_since.is_none(),
        frozen_since,
        leaves_at: None,
        waiting: s.waiting,
        limit: None,
    }
}

/// Sets `leaves_at` of the messages of rate-limited profiles: each profile's messages take its
/// tokens in the order of their next attempt, as a runner takes them.
fn schedule(spool: &Spool, config: &LoadedConfig, entries: &mut [Entry]) {
    let limiter = Limiter::new(spool);
    let mut by_profile: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.takes_token) {
        by_profile.entry(e.profile.clone()).or_default().push(i);
    }
    for (name, mut indexes) in by_profile {
        let Some(profile) = config.profile(&name) else {
            continue;
        };
        indexes.sort_by(|&a, &b| {
            (entries[a].next_attempt, &entries[a].id)
                .cmp(&(entries[b].next_attempt, &entries[b].id))
        });
        let due: Vec<u64> = indexes.iter().map(|&i| entries[i].next_attempt).collect();
        // The listing goes on without the projection when the limits cannot be read.
        let Ok(Some(times)) = limiter.departures(&name, profile, now(), &due) else {
            continue;
        };
        for (&i, at) in indexes.iter().zip(times) {
            entries[i].leaves_at = Some(at);
            entries[i].limit = profile.rate_limit;
        }
    }
}

/// The mailq-style listing (also `mailq` and `sendmail -bp`). With the configuration, mail of
/// rate-limited profiles shows when it will really leave.
pub fn list(spool: &Spool, config: Option<&LoadedConfig>, area: Area, json: bool) -> Result<()> {
    // Written to a buffer first: `mailq | head` must not make relayctl fail.
    let mut out = String::new();
    list_into(&mut out, spool, config, area, json)?;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(out.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("cannot write to", "standard output", e))
        }
        _ => Ok(()),
    }
}

/// The messages of an area, oldest first, with their departure times when `config` is given.
fn entries(
    spool: &Spool,
    config: Option<&LoadedConfig>,
    area: Area,
    freezes: &Freezes,
) -> Result<Vec<Entry>> {
    let listing = spool.list(area)?;
    for stray in &listing.strays {
        messages::alert(&format!(
            "{} is not a message (its name is not a message ID); left alone",
            stray.display()
        ));
    }
    let mut entries = Vec::new();
    for id in listing.ids {
        match spool.state(area, &id) {
            Ok(s) => entries.push(entry(&id, &s, freezes)),
            Err(e @ SpoolError::Corrupt { .. }) => messages::alert(&e.to_string()),
            Err(SpoolError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(config) = config {
        schedule(spool, config, &mut entries);
    }
    Ok(entries)
}

fn list_into(
    out: &mut String,
    spool: &Spool,
    config: Option<&LoadedConfig>,
    area: Area,
    json: bool,
) -> Result<()> {
    let freezes = if area == Area::Queue {
        Limiter::new(spool).all_frozen()
    } else {
        Vec::new()
    };
    let entries = entries(spool, config, area, &freezes)?;
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&entries).expect("entries serialise")
        );
        return Ok(());
    }
    for (profile, freeze) in &freezes {
        let _ = writeln!(
            out,
            "Delivery for profile {profile} frozen by the spew brake since {}: {}; review, then relayctl queue release --all",
            clock(freeze.since),
            freeze.reason
        );
    }
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            if area == Area::Queue {
                "Mail queue is empty"
            } else {
                "No failed messages"
            }
        );
        return Ok(());
    }
    let width = entries
        .iter()
        .map(|e| profile_name(e).len())
        .chain([7])
        .max()
        .unwrap_or(7);
    let _ = writeln!(
        out,
        "{:<20} {:>6} {:>8} {:<7} {:<width$} {:>4} {:>6}  SENDER -> RECIPIENTS",
        "ID", "AGE", "SIZE", "STATE", "PROFILE", "TRY", "NEXT"
    );
    for e in &entries {
        let (state, next) = match (e.frozen_since, e.state) {
            (Some(_), _) => ("frozen", "-".into()),
            (None, "queued") => (
                "queued",
                age(e
                    .leaves_at
                    .unwrap_or_default()
                    .max(e.next_attempt)
                    .saturating_sub(now())),
            ),
            (None, other) => (other, "-".into()),
        };
        let _ = writeln!(
            out,
            "{:<20} {:>6} {:>8} {:<7} {:<width$} {:>4} {:>6}  {} -> {}",
            e.id,
            age(e.age_seconds),
            e.size,
            state,
            profile_name(e),
            e.attempts,
            next,
            e.sender,
            e.recipients.join(", ")
        );
        for line in waiting_lines(e) {
            let _ = writeln!(out, "{:>22}{line}", "");
        }
        if let Some(reply) = &e.last_reply {
            let _ = writeln!(out, "{:>22}{reply}", "");
        }
    }
    let _ = writeln!(
        out,
        "-- {} message{}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

/// The profile column: `-` for a held submission that goes to the default profile.
fn profile_name(e: &Entry) -> &str {
    if e.profile.is_empty() {
        "-"
    } else {
        &e.profile
    }
}

/// Why a message waits, for the text listing: `rate limited until 14:05 UTC`, when it will
/// leave under its profile's limit, and whether the spew brake freezes its profile.
fn waiting_lines(e: &Entry) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(until) = e.rate_limited_until {
        lines.push(match e.waiting {
            Some(WaitReason::CoolDown) => format!(
                "relay asked to slow down (throttling); rate limited until {}",
                clock(until)
            ),
            _ => format!("rate limited until {}", clock(until)),
        });
    }
    if let (Some(at), Some(limit)) = (e.leaves_at, e.limit)
        && at > now()
        && at > e.rate_limited_until.unwrap_or_default()
    {
        lines.push(format!(
            "leaves at {} (rate_limit {limit} of profile {})",
            clock(at),
            e.profile
        ));
    }
    if e.waiting == Some(WaitReason::RelayDown) && e.state == "queued" {
        lines.push(format!(
            "queued without an attempt: the relay failed to connect or to answer a moment before; tried from {}",
            clock(e.next_attempt)
        ));
    }
    if let Some(since) = e.frozen_since {
        lines.push(format!(
            "delivery frozen by the spew brake since {}; review, then relayctl queue release --all",
            clock(since)
        ));
    }
    lines
}

/// A Unix time as `HH:MM UTC`, with the date when it is not within a day from now.
fn clock(t: u64) -> String {
    let secs = t % 86400;
    let hhmm = format!("{:02}:{:02} UTC", secs / 3600, secs % 3600 / 60);
    if t.abs_diff(now()) < 86400 {
        return hhmm;
    }
    format!(
        "{} {hhmm}",
        crate::calendar::date(i64::try_from(t).unwrap_or(i64::MAX))
    )
}

fn show(spool: &Spool, config: Option<&LoadedConfig>, id: &QueueId) -> Result<()> {
    let (area, state) = match spool.state(Area::Queue, id) {
        Ok(s) => (Area::Queue, s),
        Err(SpoolError::NotFound(_)) => match spool.state(Area::Failed, id) {
            Ok(s) => (Area::Failed, s),
            Err(SpoolError::NotFound(_)) => return Err(Error::NoMessage(id.clone())),
            Err(e) => return Err(e.into()),
        },
        Err(e) => return Err(e.into()),
    };
    let freezes = Limiter::new(spool).all_frozen();
    // Where it stands among the messages waiting for the same tokens.
    let scheduled = match area {
        Area::Queue => entries(spool, config, area, &freezes)?
            .into_iter()
            .find(|e| e.id == id.as_str()),
        _ => None,
    };
    let e = scheduled.unwrap_or_else(|| entry(id, &state, &freezes));
    println!(
        "id:           {id} ({})",
        if area == Area::Queue {
            "queue"
        } else {
            "failed"
        }
    );
    match &state.route {
        Some(route) => println!("profile:      {} (route {route:?})", state.profile),
        None => println!("profile:      {}", state.profile),
    }
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
        for line in waiting_lines(&e) {
            println!("waiting:      {line}");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_utc_with_a_date_when_far() {
        assert_eq!(
            clock(86400 * 19_723 + 3600 * 14 + 60 * 5 + 59),
            "2024-01-01 14:05 UTC"
        );
        let soon = now() + 60;
        let text = clock(soon);
        assert!(text.ends_with(" UTC") && text.len() == 9, "{text}");
    }
}
