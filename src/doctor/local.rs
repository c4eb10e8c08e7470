//! This host's side: the queue's health and who answers as `/usr/sbin/sendmail`.

use std::path::Path;

use super::Check;
use crate::config::{LoadedConfig, QueueSettings, Span};
use crate::link::{self, State};
use crate::options::Options;
use crate::queue::health;
use crate::queue::schedule::now;
use crate::queue::state::{Status, WaitReason};
use crate::queue::{Area, Spool};

/// How often a queue runner is expected to pass, in seconds: the timer's and the suggested cron
/// line's five minutes, or `retry_initial` when that is longer.
const RUNNER_INTERVAL: u64 = 300;

/// `queue.waiting`, `queue.runner`, `queue.held` and `queue.failed`. Only reads the spool; it
/// is never created.
pub fn queue(options: &Options, config: Option<&LoadedConfig>, out: &mut Vec<Check>) {
    let path = Spool::default_path(options.spool.as_deref());
    if !path.join("queue").is_dir() {
        let why = format!(
            "no spool at {} yet: nothing was ever queued",
            path.display()
        );
        out.push(Check::pass("queue.waiting", why));
        out.push(Check::pass("queue.runner", "nothing is queued"));
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
    let window = 2 * settings.retry_initial.0.max(RUNNER_INTERVAL);
    let now = now();
    let mut overdue = Overdue::default();
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
        if state.is_due(now.saturating_sub(window)) {
            overdue.count += 1;
            overdue.since = overdue.since.min(state.next_attempt);
        }
        if oldest.as_ref().is_none_or(|(t, _)| state.created < *t) {
            oldest = Some((state.created, state.last_reply.clone().unwrap_or_default()));
        }
    }
    out.push(waiting_check(&settings, waiting, limited, oldest));
    let last_pass = health::read(&path).and_then(|h| h.last_pass);
    out.push(runner_check(options, overdue, last_pass, window, now));
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

/// Messages due for longer than a runner would let them wait.
struct Overdue {
    count: usize,
    /// The earliest time one of them was due.
    since: u64,
}

impl Default for Overdue {
    fn default() -> Self {
        Overdue {
            count: 0,
            since: u64::MAX,
        }
    }
}

/// `queue.runner`: queued mail has a runner. Fails when messages have been due for more than
/// `window` (twice the interval a runner passes at) and no queue pass began within it, with
/// the ways to run one.
fn runner_check(
    options: &Options,
    overdue: Overdue,
    last_pass: Option<u64>,
    window: u64,
    now: u64,
) -> Check {
    let id = "queue.runner";
    let last = match last_pass {
        Some(t) => format!(
            "the last queue pass began {} ago",
            Span(now.saturating_sub(t))
        ),
        None => "no queue pass was ever recorded".to_string(),
    };
    let recent = last_pass.is_some_and(|t| now.saturating_sub(t) <= window);
    if overdue.count == 0 || recent {
        return Check::pass(id, format!("no message is overdue; {last}"));
    }
    let mut relayctl = String::from("relayctl");
    if let Some(config) = options.location.explicit() {
        relayctl.push_str(&format!(" --config {}", config.display()));
    }
    if let Some(spool) = &options.spool {
        relayctl.push_str(&format!(" --spool {}", spool.display()));
    }
    let cron = format!("the cron line `*/5 * * * * {relayctl} queue run`");
    let fix = if rustix::process::geteuid().is_root() && options.spool.is_none() {
        format!(
            "start a queue runner: `systemctl enable --now relayctl-queue.timer` (or relayctl-daemon.service), or {cron}"
        )
    } else {
        format!("add {cron} (crontab -e), or keep `{relayctl} queue daemon` running")
    };
    Check::fail(
        id,
        format!(
            "{} message(s) overdue, the oldest due for {}, and {last}: nothing retries queued mail",
            overdue.count,
            Span(now.saturating_sub(overdue.since))
        ),
        fix,
    )
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
    for id in [
        "queue.waiting",
        "queue.runner",
        "queue.held",
        "queue.failed",
    ] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigLocation;
    use crate::doctor::Status;
    use crate::transcript::Transcript;

    fn options(spool: &str) -> Options {
        Options {
            location: ConfigLocation::new(None),
            profile: None,
            transcript: Transcript::new(false),
            spool: Some(spool.into()),
            wait: false,
        }
    }

    /// Issue 20, part 5: queued mail nobody retries fails doctor, with the command to fix it;
    /// a recent pass, or nothing overdue, passes.
    #[test]
    fn overdue_mail_without_a_recent_pass_fails_with_the_runner_to_start() {
        let now = 1_000_000;
        let options = options("/srv/spool");
        let overdue = || Overdue {
            count: 3,
            since: now - 3600,
        };
        let check = runner_check(&options, overdue(), None, 600, now);
        assert_eq!(check.status, Status::Fail, "{check:?}");
        assert_eq!(
            check.summary,
            "3 message(s) overdue, the oldest due for 1h, and no queue pass was ever recorded: nothing retries queued mail"
        );
        let fix = check.fix.unwrap();
        assert!(
            fix.contains("`*/5 * * * * relayctl --spool /srv/spool queue run`"),
            "{fix}"
        );
        let stale = runner_check(&options, overdue(), Some(now - 1200), 600, now);
        assert_eq!(stale.status, Status::Fail, "{stale:?}");
        assert!(stale.summary.contains("the last queue pass began 20m ago"));
        let recent = runner_check(&options, overdue(), Some(now - 300), 600, now);
        assert_eq!(recent.status, Status::Pass, "{recent:?}");
        let none = runner_check(&options, Overdue::default(), None, 600, now);
        assert_eq!(none.status, Status::Pass, "{none:?}");
    }
}
