//! `queue retry|hold|release|delete|move`: the messages named by ID, or `--all` narrowed by
//! `--profile`, `--older-than` and `--failed`; each changed under its lock (a message being
//! delivered right now is left alone, and said so), and one line saying what was done
//! (`deleted 3 messages`). An ID that is nowhere is exit 66 and nothing is done.

use crate::cli::Targets;
use crate::error::{Error, Result};
use crate::messages;
use crate::options::Options;
use crate::queue::ratelimit::Limiter;
use crate::queue::schedule::now;
use crate::queue::state::{Hold, MessageState, Status, WaitReason};
use crate::queue::{Area, QueueId, Select, Spool, SpoolError, daemon};

/// `queue hold`.
pub fn hold(options: &Options, spool: &Spool, targets: &Targets) -> Result<()> {
    let ids = queued(spool, targets, options.profile.as_deref(), "hold")?;
    let held = update(spool, &ids, |s| {
        let newly = s.hold != Some(Hold::Administrator);
        s.hold_by_administrator();
        newly
    })?;
    println!("held {}", count(held, "message"));
    Ok(())
}

/// `queue release`: held messages become due; `--all` also lifts the spew brake of the frozen
/// profiles it covers (unless `--older-than` leaves some of their mail out).
pub fn release(options: &Options, spool: &Spool, targets: &Targets) -> Result<()> {
    let ids = queued(spool, targets, options.profile.as_deref(), "release")?;
    if targets.all && targets.older_than.is_none() {
        // First, so that no runner freezes a message again.
        for profile in Limiter::new(spool).release_all(options.profile.as_deref())? {
            println!("delivery for profile {profile} resumed (spew brake released)");
        }
    }
    let released = update(spool, &ids, |s| {
        // Named messages are released whatever holds them; with --all, held and frozen
        // messages become due while those waiting for a token or a cool-down keep waiting.
        let held = s.status == Status::Held || s.waiting == Some(WaitReason::Brake);
        if held || !targets.all {
            s.release(now());
        }
        held || !targets.all
    })?;
    super::prepare_held_now(options, spool, &ids)?;
    if !targets.all {
        for id in &ids {
            if let Ok(state) = spool.state(Area::Queue, id)
                && Limiter::new(spool).frozen(&state.profile).is_some()
            {
                messages::alert(&format!(
                    "delivery for profile {} is frozen by the spew brake; `relayctl queue release --all` lifts the freeze",
                    state.profile
                ));
            }
        }
    }
    daemon::wake(spool);
    println!("released {}", count(released, "message"));
    Ok(())
}

/// `queue retry`: an attempt now at each message (within the rate limits); failed messages
/// are put back into the queue first. Held messages are not tried: each named one says how to
/// release it.
pub fn retry(options: &Options, spool: &Spool, targets: &Targets, failed: bool) -> Result<()> {
    let area = if failed { Area::Failed } else { Area::Queue };
    let chosen = select(spool, targets, options.profile.as_deref(), area)?;
    let mut ids = Vec::new();
    let mut held = 0;
    for (area, id) in chosen {
        if area == Area::Failed {
            let mut state = spool.state(Area::Failed, &id)?;
            state.retry_failed(now());
            spool.requeue(&id, &state)?;
            ids.push(id);
            continue;
        }
        match spool.state(Area::Queue, &id) {
            Ok(state) if state.status == Status::Held => {
                held += 1;
                if !targets.all {
                    messages::alert(&format!(
                        "message {id} is held ({}); release it with `relayctl queue release {id}`",
                        state.reason.as_deref().unwrap_or("held")
                    ));
                }
            }
            Ok(_) => ids.push(id),
            Err(SpoolError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    update(spool, &ids, |s| {
        s.next_attempt = now();
        true
    })?;
    if !ids.is_empty() {
        super::run(options, spool, Select::Ids(ids.clone()))?;
    }
    let mut line = format!("retried {}", count(ids.len(), "message"));
    let outcomes = outcomes(spool, &ids);
    if !outcomes.is_empty() {
        line.push_str(&format!(": {outcomes}"));
    }
    if targets.all && held > 0 {
        line.push_str(&format!(
            "; {} held, left alone (relayctl queue release --all)",
            count(held, "message")
        ));
    }
    println!("{line}");
    Ok(())
}

/// What became of retried messages, from where they are now: `2 delivered, 1 waiting`.
fn outcomes(spool: &Spool, ids: &[QueueId]) -> String {
    let (mut delivered, mut waiting, mut held, mut failed) = (0, 0, 0, 0);
    for id in ids {
        match spool.state(Area::Queue, id) {
            Ok(s) if s.status == Status::Held => held += 1,
            Ok(_) => waiting += 1,
            Err(_) if spool.state(Area::Failed, id).is_ok() => failed += 1,
            Err(_) => delivered += 1,
        }
    }
    [
        (delivered, "delivered"),
        (waiting, "waiting"),
        (held, "held"),
        (failed, "failed"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// `queue delete`: from the queue (under the message's lock) or the failed area.
pub fn delete(options: &Options, spool: &Spool, targets: &Targets, failed: bool) -> Result<()> {
    let area = if failed { Area::Failed } else { Area::Queue };
    let chosen = select(spool, targets, options.profile.as_deref(), area)?;
    let mut deleted = 0;
    for (area, id) in chosen {
        if area == Area::Failed {
            spool.delete(Area::Failed, &id)?;
            deleted += 1;
            continue;
        }
        match spool.lock(&id)? {
            Some(locked) => {
                spool.delete(Area::Queue, &id)?;
                drop(locked);
                deleted += 1;
            }
            None => busy(spool, &id)?,
        }
    }
    println!("deleted {}", count(deleted, "message"));
    Ok(())
}

/// `queue move --to PROFILE`.
pub fn move_to(options: &Options, spool: &Spool, targets: &Targets, to: &str) -> Result<()> {
    let config = options.location.load()?;
    config.get(to)?;
    let ids = queued(spool, targets, options.profile.as_deref(), "move")?;
    let (moved, held) = reassign(spool, &ids, to)?;
    let mut line = format!("moved {} to profile {to}", count(moved, "message"));
    if held > 0 {
        line.push_str(&format!(
            "; {held} stay held by an administrator (relayctl queue release ID...)"
        ));
    }
    println!("{line}");
    Ok(())
}

/// Sends queued messages through profile `to`: a message held for its old profile's
/// configuration is released (the fault was that profile's), one waiting for the old profile's
/// limits becomes due, an administrator's hold stays. Returns how many were moved and how many
/// of them stay held.
pub fn reassign(spool: &Spool, ids: &[QueueId], to: &str) -> Result<(usize, usize)> {
    let mut held = 0;
    let moved = update(spool, ids, |s| {
        s.profile = to.to_string();
        match s.hold {
            Some(Hold::Administrator) => held += 1,
            Some(Hold::ConfigFault) | None => s.release(now()),
        }
        true
    })?;
    daemon::wake(spool);
    Ok((moved, held))
}

/// Holds the queued messages of a profile being removed, with the reason and the way out.
pub fn hold_for_removal(spool: &Spool, ids: &[QueueId], profile: &str) -> Result<usize> {
    update(spool, ids, |s| {
        s.hold_by_administrator();
        s.reason = Some(format!(
            "its profile {profile} was removed; send it through another with `relayctl queue move ID --to PROFILE`, then `relayctl queue release ID`"
        ));
        true
    })
}

/// The queued messages of `profile`.
pub fn of_profile(spool: &Spool, profile: &str) -> Result<Vec<QueueId>> {
    let targets = Targets {
        ids: Vec::new(),
        all: true,
        older_than: None,
    };
    Ok(select(spool, &targets, Some(profile), Area::Queue)?
        .into_iter()
        .map(|(_, id)| id)
        .collect())
}

/// The queued messages `targets` names, for a command that acts on the queue only.
fn queued(
    spool: &Spool,
    targets: &Targets,
    profile: Option<&str>,
    command: &str,
) -> Result<Vec<QueueId>> {
    let chosen = select(spool, targets, profile, Area::Queue)?;
    if let Some((_, id)) = chosen.iter().find(|(area, _)| *area == Area::Failed) {
        return Err(Error::Usage(format!(
            "message {id} is in the failed area, which `queue {command}` does not touch; `relayctl queue retry {id}` puts it back into the queue"
        )));
    }
    Ok(chosen.into_iter().map(|(_, id)| id).collect())
}

/// The messages `targets` names, with the area each is in: named messages wherever they are
/// (the queue or the failed area), each of which must exist or nothing is done; with `--all`,
/// those of area `all` that pass the filters.
fn select(
    spool: &Spool,
    targets: &Targets,
    profile: Option<&str>,
    all: Area,
) -> Result<Vec<(Area, QueueId)>> {
    if !targets.all {
        let mut found = Vec::new();
        for id in &targets.ids {
            let area = [Area::Queue, Area::Failed]
                .into_iter()
                .find(|area| spool.state(*area, id).is_ok())
                .ok_or_else(|| Error::NoMessage(id.clone()))?;
            if !found.iter().any(|(_, f)| f == id) {
                found.push((area, id.clone()));
            }
        }
        return Ok(found);
    }
    let area = all;
    let mut found = Vec::new();
    for id in spool.ids(area)? {
        let state = match spool.state(area, &id) {
            Ok(state) => state,
            Err(e @ SpoolError::Corrupt { .. }) => {
                messages::alert(&e.to_string());
                continue;
            }
            Err(SpoolError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if profile.is_some_and(|p| p != state.profile) {
            continue;
        }
        if targets
            .older_than
            .is_some_and(|age| now().saturating_sub(state.created) <= age.0)
        {
            continue;
        }
        found.push((area, id));
    }
    Ok(found)
}

/// Changes the state of queued messages, each under its lock; `change` says whether it counts.
/// A message being delivered is left alone. Returns how many counted.
fn update(
    spool: &Spool,
    ids: &[QueueId],
    mut change: impl FnMut(&mut MessageState) -> bool,
) -> Result<usize> {
    let mut counted = 0;
    for id in ids {
        match spool.lock(id)? {
            Some(mut locked) => {
                if change(&mut locked.state) {
                    counted += 1;
                }
                locked.save()?;
            }
            None => busy(spool, id)?,
        }
    }
    Ok(counted)
}

/// A message that could not be locked: being delivered (said, and left alone), or gone.
fn busy(spool: &Spool, id: &QueueId) -> Result<()> {
    if spool.ids(Area::Queue)?.contains(id) {
        messages::alert(&format!(
            "message {id} is being delivered right now; left alone"
        ));
    }
    Ok(())
}

/// `3 messages`, `1 message`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
