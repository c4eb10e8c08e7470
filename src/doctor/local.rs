//! This host's side: the queue's health and who answers as `/usr/sbin/sendmail`.

use std::path::Path;

use super::Check;
use crate::config::{LoadedConfig, QueueSettings, Span};
use crate::link::{self, State};
use crate::options::Options;
use crate::queue::schedule::now;
use crate::queue::state::{Status, WaitReason};
use crate::queue::{Area, Spool};

/// `queue.waiting`, `queue.held` and `queue.failed`. Only reads the spool; it is never created.
pub fn queue(options: &Options, config: Option<&LoadedConfig>, out: &mut Vec<Check>) {
    let path = Spool::default_path(options.spool.as_deref());
    if !path.join("queue").is_dir() {
        let why = format!(
            "no spool at {} yet: nothing was ever queued",
            path.display()
        );
        out.push(Check::pass("queue.waiting", why));
        out.push(Check::pass("queue.held", "nothing held"));
        out.push(Check::pass("queue.failed", "no failed messages"));
        return;
    }
    let spool = match Spool::open(&path) {
        Ok(s) => s,
        Err(e) => {
            skip_all(out, &e.to_string());
            return;
        }
    };
    let ids = match spool.ids(Area::Queue) {
        Ok(ids) => ids,
        Err(e) => {
            skip_all(out, &format!("{e} (run as the spool's owner, e.g. root)"));
            return;
        }
    };
    let settings = config.map(|c| c.queue.clone()).unwrap_or_default();
    let mut waiting = 0;
    let mut limited = 0;
    let mut oldest: Option<(u64, String)> = None;
    let mut held: Vec<String> = Vec::new();
    let mut frozen = 0;
    for id in &ids {
        let Ok(state) = spool.state(Area::Queue, id) else {
            continue;
        };
        match (state.status, state.waiting) {
            (Status::Held, _) => held.push(
                state
                    .reason
                    .clone()
                    .unwrap_or_else(|| "held by an admin".into()),
            ),
            (_, Some(WaitReason::Brake)) => frozen += 1,
            (_, Some(WaitReason::RateLimit | WaitReason::CoolDown)) => limited += 1,
            _ => waiting += 1,
        }
        if oldest.as_ref().is_none_or(|(t, _)| state.created < *t) {
            oldest = Some((state.created, state.last_reply.clone().unwrap_or_default()));
        }
    }
    out.push(waiting_check(&settings, waiting, limited, oldest));
    out.push(if frozen > 0 {
        Check::warn(
            "queue.held",
            format!("{frozen} message(s) frozen by the spew brake{}", held_text(&held)),
            "find what submitted so much mail (relayctl queue list), stop it, then `relayctl queue release --all`",
        )
    } else if let Some(reason) = held.first() {
        Check::warn(
            "queue.held",
            format!("{} message(s) held: {reason}", held.len()),
            "fix the relay configuration (see the checks above), then `relayctl queue release --all`",
        )
    } else {
        Check::pass("queue.held", "nothing held or frozen")
    });
    let failed = spool.ids(Area::Failed).map(|f| f.len()).unwrap_or(0);
    out.push(if failed > 0 {
        Check::warn(
            "queue.failed",
            format!("{failed} message(s) in the failed area"),
            "see why with `relayctl queue failed`; delete them with `relayctl queue delete ID`",
        )
    } else {
        Check::pass("queue.failed", "no failed messages")
    });
}

fn held_text(held: &[String]) -> String {
    if held.is_empty() {
        String::new()
    } else {
        format!(", {} held", held.len())
    }
}

fn waiting_check(
    settings: &QueueSettings,
    waiting: usize,
    limited: usize,
    oldest: Option<(u64, String)>,
) -> Check {
    let total = waiting + limited;
    let Some((created, last_reply)) = oldest.filter(|_| total > 0) else {
        return Check::pass("queue.waiting", "the queue is empty");
    };
    let age = now().saturating_sub(created);
    let limited_text = if limited > 0 {
        format!(", {limited} of them waiting for the rate limit")
    } else {
        String::new()
    };
    let summary = format!(
        "{total} message(s) waiting{limited_text}, the oldest for {}",
        Span(age)
    );
    if age >= settings.delay_warning.0 {
        let last = if last_reply.is_empty() {
            String::new()
        } else {
            format!(" (last: {last_reply})")
        };
        Check::warn(
            "queue.waiting",
            format!("{summary}{last}"),
            "fix what the relay checks above report, then `relayctl queue flush`",
        )
    } else {
        Check::pass("queue.waiting", summary)
    }
}

fn skip_all(out: &mut Vec<Check>, why: &str) {
    for id in ["queue.waiting", "queue.held", "queue.failed"] {
        out.push(Check::skip(id, format!("cannot read the spool: {why}")));
    }
}

/// `sendmail.link`: whether programs calling `/usr/sbin/sendmail` reach relayctl.
pub fn sendmail_link(out: &mut Vec<Check>) {
    let id = "sendmail.link";
    let path = "/usr/sbin/sendmail";
    out.push(match link::sendmail_state(Path::new("/usr")) {
        Ok(State::Ours) => Check::pass(id, format!("{path} is relayctl")),
        Ok(State::Missing) => Check::warn(
            id,
            format!("there is no {path}: mail from cron, PHP's mail() and scripts is lost"),
            "relayctl sendmail-link install",
        ),
        Ok(State::Other { target, package }) => Check::warn(
            id,
            format!(
                "{path} is another mail program ({target}{}): programs that call sendmail do not use relayctl",
                package.map(|p| format!(", package {p}")).unwrap_or_default()
            ),
            "remove that package, or `relayctl sendmail-link install --force` (moves its files aside)",
        ),
        Err(e) => Check::skip(id, e.to_string()),
    });
}
