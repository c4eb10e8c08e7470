//! Metrics for Prometheus (`relayctl metrics`, [`textfile`], [`http`]): what the
//! spool holds and what its runners counted, in the text exposition format ([`exposition`]),
//! so that a fleet's monitoring sees mail that is stuck, held, frozen or failing without
//! scraping logs. Every value is read from the spool when asked for: the queue (message states),
//! the runners' counters ([`crate::queue::tally`]), the limits and the spew brake's markers
//! ([`crate::queue::ratelimit`]), the last queue pass ([`crate::queue::health`]) and the OAuth2
//! token cache.
//!
//! Labels are profile names and fixed words only: never an address, a subject, a reply or a
//! secret.

pub mod exposition;
pub mod http;
pub mod textfile;

use std::collections::{BTreeMap, BTreeSet};

use exposition::{Exposition, Kind};

use crate::config::LoadedConfig;
use crate::queue::ratelimit::Limiter;
use crate::queue::state::{Hold, MessageState, Status, WaitReason};
use crate::queue::{Area, Spool, SpoolError, health, tally};

/// The states a message is counted in, as `relayctl_queue_messages{state=...}` names them.
pub const STATES: [&str; 6] = [
    "waiting",
    "rate_limited",
    "frozen",
    "held",
    "held_by_admin",
    "failed",
];

/// The label of the profile of a submission held before the configuration could name one.
const NO_PROFILE: &str = "-";

/// The state `s` is counted in; `frozen` says whether the spew brake froze its profile.
fn state_of(s: &MessageState, frozen: bool) -> &'static str {
    match (s.status, s.hold) {
        (Status::Failed, _) => "failed",
        (Status::Held, Some(Hold::Administrator)) => "held_by_admin",
        (Status::Held, _) => "held",
        (Status::Queued, _) if s.waiting == Some(WaitReason::Brake) || (frozen && !s.notice) => {
            "frozen"
        }
        (Status::Queued, _) => match s.waiting {
            Some(WaitReason::RateLimit | WaitReason::CoolDown) => "rate_limited",
            _ => "waiting",
        },
    }
}

/// What the queue holds for one profile.
#[derive(Debug, Default)]
struct Queued {
    by_state: BTreeMap<&'static str, u64>,
    /// Submission time of the oldest message that is neither failed nor held by the admin.
    oldest: Option<u64>,
}

/// The messages of the queue and the failed area, by profile (`frozen`: the profiles the spew
/// brake froze).
fn queued(
    spool: &Spool,
    frozen: &BTreeSet<String>,
) -> Result<BTreeMap<String, Queued>, SpoolError> {
    let mut queued: BTreeMap<String, Queued> = BTreeMap::new();
    for area in [Area::Queue, Area::Failed] {
        for id in spool.ids(area)? {
            // A message that vanished or is unreadable meanwhile is another command's business.
            let Ok(s) = spool.state(area, &id) else {
                continue;
            };
            let state = match area {
                Area::Queue => state_of(&s, frozen.contains(&s.profile)),
                _ => "failed",
            };
            let profile = match s.profile.as_str() {
                "" => NO_PROFILE,
                name => name,
            };
            let entry = queued.entry(profile.to_string()).or_default();
            *entry.by_state.entry(state).or_default() += 1;
            if !matches!(state, "failed" | "held_by_admin") {
                entry.oldest = Some(entry.oldest.map_or(s.created, |t| t.min(s.created)));
            }
        }
    }
    Ok(queued)
}

/// Everything `relayctl metrics` reports, at `now`, for the spool and (when it loads) the
/// configuration: the configured profiles appear even when nothing was counted for them yet,
/// so that rates and alerts start from zero.
pub fn render(
    spool: &Spool,
    config: Option<&LoadedConfig>,
    now: u64,
) -> Result<String, SpoolError> {
    let limiter = Limiter::new(spool);
    let frozen: BTreeSet<String> = limiter
        .all_frozen()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let queued = queued(spool, &frozen)?;
    let counters = tally::read(spool.root());
    let configured: Vec<&String> = config
        .map(|c| c.profiles.keys().collect())
        .unwrap_or_default();
    let profiles: BTreeSet<&str> = configured
        .iter()
        .map(|p| p.as_str())
        .chain(queued.keys().map(String::as_str))
        .chain(counters.profiles.keys().map(String::as_str))
        .chain(frozen.iter().map(String::as_str))
        .collect();

    let mut e = Exposition::default();
    e.family(
        "relayctl_build_info",
        Kind::Gauge,
        "relayctl's version; the value is always 1.",
    )
    .sample(&[("version", env!("CARGO_PKG_VERSION"))], 1.0);

    let mut f = e.family(
        "relayctl_queue_messages",
        Kind::Gauge,
        "Messages in the spool by profile and state (waiting, rate_limited, frozen by the spew brake, held for the relay configuration or login, held_by_admin, failed).",
    );
    for &profile in &profiles {
        let q = queued.get(profile);
        for state in STATES {
            let n = q.and_then(|q| q.by_state.get(state)).copied().unwrap_or(0);
            f.sample(&[("profile", profile), ("state", state)], n as f64);
        }
    }

    let mut f = e.family(
        "relayctl_queue_oldest_message_age_seconds",
        Kind::Gauge,
        "Age of the oldest message of the profile still to be delivered (failed and admin-held mail aside); 0 when there is none.",
    );
    for &profile in &profiles {
        let oldest = queued.get(profile).and_then(|q| q.oldest);
        let age = oldest.map_or(0, |t| now.saturating_sub(t));
        f.sample(&[("profile", profile)], age as f64);
    }

    let count = |profile: &str| counters.profiles.get(profile).cloned().unwrap_or_default();
    let mut f = e.family(
        "relayctl_deliveries_total",
        Kind::Counter,
        "Mail transactions the profile's relay accepted.",
    );
    for &profile in &profiles {
        f.sample(&[("profile", profile)], count(profile).delivered as f64);
    }
    let mut f = e.family(
        "relayctl_delivery_failures_total",
        Kind::Counter,
        "Failed mail transactions and sessions by profile and class (transient, throttled, permanent, recipient, auth, config, message).",
    );
    for &profile in &profiles {
        for (class, n) in &count(profile).failures {
            f.sample(&[("profile", profile), ("class", class)], *n as f64);
        }
    }
    let mut f = e.family(
        "relayctl_relay_login_failures_total",
        Kind::Counter,
        "Logins the profile's relay refused, for good or for now.",
    );
    for &profile in &profiles {
        f.sample(
            &[("profile", profile)],
            count(profile).login_failures as f64,
        );
    }
    let mut f = e.family(
        "relayctl_spew_brake_trips_total",
        Kind::Counter,
        "Times the spew brake froze the profile's delivery.",
    );
    for &profile in &profiles {
        f.sample(&[("profile", profile)], count(profile).brake_trips as f64);
    }
    let mut f = e.family(
        "relayctl_spew_brake_frozen",
        Kind::Gauge,
        "1 while the spew brake freezes the profile's delivery (until `relayctl queue release --all`).",
    );
    for &profile in &profiles {
        let n = u8::from(frozen.contains(profile));
        f.sample(&[("profile", profile)], f64::from(n));
    }

    let mut f = e.family(
        "relayctl_last_delivery_timestamp_seconds",
        Kind::Gauge,
        "Unix time the profile's relay last accepted a message, to the queue pass; 0 when not known to have.",
    );
    for &profile in &profiles {
        let last = limiter.peek(profile).map_or(0, |l| l.last_delivered);
        f.sample(&[("profile", profile)], last as f64);
    }

    let mut f = e.family(
        "relayctl_rate_limit_tokens",
        Kind::Gauge,
        "Tokens left in the bucket of the profile's rate_limit (profiles with one).",
    );
    for (name, loaded) in config.map(|c| &c.profiles).into_iter().flatten() {
        if let Some((rate, burst)) = loaded.profile.bucket() {
            let tokens = limiter
                .peek(name)
                .map_or(f64::from(burst), |l| l.tokens_at(rate, burst, now));
            f.sample(&[("profile", name)], tokens.floor());
        }
    }

    let mut f = e.family(
        "relayctl_oauth2_token_expiry_timestamp_seconds",
        Kind::Gauge,
        "Unix time the cached OAuth2 access token of the profile expires (profiles with one cached).",
    );
    for (name, loaded) in config.map(|c| &c.profiles).into_iter().flatten() {
        if loaded.profile.oauth.is_some()
            && let Some(expires) = crate::oauth::cache::expiry(spool.root(), name)
        {
            f.sample(&[("profile", name)], expires as f64);
        }
    }

    let last_pass = health::read(spool.root()).and_then(|h| h.last_pass);
    e.family(
        "relayctl_queue_last_run_timestamp_seconds",
        Kind::Gauge,
        "Unix time the last queue pass (queue run, flush, the daemon) began; 0 when none is recorded.",
    )
    .sample(&[], last_pass.unwrap_or(0) as f64);
    Ok(e.into_text())
}

#[cfg(test)]
mod tests;
