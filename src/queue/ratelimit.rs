//! Sending limits shared by every relayctl process of the host, kept per profile in
//! `$spool/limits/<profile>.json` and updated under a file lock:
//!
//! - `rate_limit`: a token bucket (`rate_burst` tokens, refilled at the limit's rate). A message
//!   that finds no token is not dropped, bounced or counted as a failed attempt: it waits in the
//!   queue until a token will be there.
//! - throttling replies (`421 4.7.0 Try again later`, `451 4.7.28 ... rate limited`): the relay
//!   gets a cool-down, 1 minute (`retry_initial`) doubling up to `retry_max`, reset by the next
//!   success. Nothing goes to it before the cool-down ends.
//! - when the profile's relay last took a message, so that notices about another profile's
//!   trouble go through one that works (`notice`).
//! - the spew brake: submissions are counted (once per message, by its submission time); more
//!   than `brake` in its period (or more than `brake_per_caller` from one local user) freezes the
//!   profile's delivery. The freeze is the marker file `$spool/limits/<profile>.frozen`;
//!   `relayctl queue release --all` removes it.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::spool::{Spool, SpoolError};
use super::state::WaitReason;
use crate::config::{Profile, Rate};
use crate::relay::DeliveryError;

const DIR: &str = "limits";

/// What is kept for one profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Tokens in the bucket at `updated`; `None` is a full bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<f64>,
    /// Unix time of the last refill.
    pub updated: u64,
    /// Nothing goes to the relay before this Unix time (it asked to slow down).
    pub cooldown_until: u64,
    /// The length of the last cool-down in seconds; 0 when the relay is not throttling.
    pub cooldown: u64,
    /// The throttling reply that started the cool-down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttled_by: Option<String>,
    /// Submissions counted by the spew brake: (Unix second, how many), oldest first.
    pub submissions: Vec<(u64, u32)>,
    /// The same per caller: a local user (`local user 1001`), or a user or client of the SMTP
    /// listener (`SMTP user grafana`, `SMTP client 10.0.0.5`).
    pub callers: BTreeMap<String, Vec<(u64, u32)>>,
    /// Unix time the relay last accepted a message (0: not known to have).
    pub last_delivered: u64,
}

/// Why a profile cannot take a message now, and until when: a wait that counts no attempt
/// against the message (stored with it as its [`WaitReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// No token of `rate_limit` is left.
    RateLimit {
        /// When the next token will be there.
        until: u64,
        /// The profile's limit.
        rate: Rate,
    },
    /// The relay is cooling down after throttling us.
    CoolDown {
        /// When the cool-down ends.
        until: u64,
    },
    /// The relay just failed to connect or to answer ([`super::health`]): a submission does
    /// not try it before then.
    RelayDown {
        /// When it is tried again.
        until: u64,
    },
}

impl Wait {
    /// When the profile can take a message again.
    pub fn until(self) -> u64 {
        match self {
            Wait::RateLimit { until, .. }
            | Wait::CoolDown { until }
            | Wait::RelayDown { until } => until,
        }
    }

    /// Why the message waits, as its state records it.
    pub fn reason(self) -> WaitReason {
        match self {
            Wait::RateLimit { .. } => WaitReason::RateLimit,
            Wait::CoolDown { .. } => WaitReason::CoolDown,
            Wait::RelayDown { .. } => WaitReason::RelayDown,
        }
    }
}

/// A token taken for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The relay was throttling us until recently: a success ends its cool-down.
    pub cooling: bool,
    /// A token was taken (the profile has a `rate_limit`), to give back if nothing was sent.
    pub token: bool,
}

/// One submission as the spew brake counts it.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// When it was submitted (Unix time).
    pub created: u64,
    /// Who submitted it, as the per-caller brake counts them (see [`Limits::callers`]).
    pub caller: Option<String>,
    /// It came through the maildrop, from a user without the profile's secret.
    pub through_maildrop: bool,
}

/// The spew brake engaged for a profile by the submission just counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engaged {
    /// What was exceeded, for the alert.
    pub reason: String,
}

/// The freeze of a profile, as its marker file records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freeze {
    /// Unix time the brake engaged.
    pub since: u64,
    /// What was exceeded.
    pub reason: String,
}

impl Limits {
    /// Refills the bucket of `rate`/`burst` up to `now`.
    fn refill(&mut self, rate: Rate, burst: u32, now: u64) -> f64 {
        let burst = f64::from(burst);
        let tokens = match self.tokens {
            None => burst,
            Some(t) => {
                let elapsed = now.saturating_sub(self.updated) as f64;
                (t + elapsed * f64::from(rate.count) / rate.period as f64).min(burst)
            }
        };
        self.tokens = Some(tokens);
        self.updated = self.updated.max(now);
        tokens
    }

    /// Takes a token of `rate`/`burst` at `now`, or says when one will be there.
    pub fn take(&mut self, rate: Rate, burst: u32, now: u64) -> Result<(), u64> {
        let tokens = self.refill(rate, burst, now);
        if tokens >= 1.0 {
            self.tokens = Some(tokens - 1.0);
            return Ok(());
        }
        let missing = 1.0 - tokens;
        let wait = (missing * rate.period as f64 / f64::from(rate.count)).ceil() as u64;
        Err(now + wait.max(1))
    }

    /// The tokens of `rate`/`burst` there are at `now`, without taking one.
    pub fn tokens_at(&self, rate: Rate, burst: u32, now: u64) -> f64 {
        self.clone().refill(rate, burst, now)
    }

    /// Gives back a token taken for a message that was not sent after all.
    pub fn give_back(&mut self, burst: u32) {
        if let Some(t) = self.tokens {
            self.tokens = Some((t + 1.0).min(f64::from(burst)));
        }
    }

    /// The relay throttled us at `now`: a cool-down of `initial` seconds, doubling with each
    /// further throttling reply up to `max`.
    pub fn throttle(&mut self, reply: &str, initial: u64, max: u64, now: u64) -> u64 {
        let initial = initial.max(1);
        self.cooldown = if self.cooldown == 0 {
            initial
        } else {
            self.cooldown.saturating_mul(2)
        }
        .min(max.max(initial));
        self.cooldown_until = now + self.cooldown;
        self.throttled_by = Some(reply.to_string());
        self.cooldown_until
    }

    /// When messages due at `due` (in the order the runner takes them) will each find a token
    /// of `rate`/`burst`, from the bucket as it is at `now` and no earlier than the end of a
    /// cool-down: the time each will really leave, given a runner. Nothing is taken.
    pub fn departures(&self, rate: Rate, burst: u32, now: u64, due: &[u64]) -> Vec<u64> {
        let mut bucket = self.clone();
        let mut at = now.max(self.cooldown_until);
        due.iter()
            .map(|&due| {
                at = at.max(due);
                while let Err(until) = bucket.take(rate, burst, at) {
                    at = until;
                }
                at
            })
            .collect()
    }

    /// A message went through at `now`: the relay works, and is no longer throttling.
    pub fn succeeded(&mut self, now: u64) {
        self.cooldown = 0;
        self.cooldown_until = 0;
        self.throttled_by = None;
        self.last_delivered = self.last_delivered.max(now);
    }

    /// Counts a submission made at `created` by `caller` and says whether it exceeds `brake`
    /// or `per_caller` (each checked over its own period ending `now`).
    pub fn count(
        &mut self,
        created: u64,
        caller: Option<&str>,
        brake: Option<Rate>,
        per_caller: Option<Rate>,
        now: u64,
    ) -> Option<String> {
        let mut exceeded = None;
        if let Some(rate) = brake {
            let n = add(&mut self.submissions, created, rate, now);
            if n > u64::from(rate.count) {
                exceeded = Some(format!(
                    "{n} messages were submitted within {} (brake = \"{rate}\")",
                    crate::config::Span(rate.period)
                ));
            }
        } else {
            self.submissions.clear();
        }
        if let (Some(rate), Some(caller)) = (per_caller, caller) {
            let list = self.callers.entry(caller.to_string()).or_default();
            let n = add(list, created, rate, now);
            if n > u64::from(rate.count) && exceeded.is_none() {
                exceeded = Some(format!(
                    "{caller} submitted {n} messages within {} (brake_per_caller = \"{rate}\")",
                    crate::config::Span(rate.period)
                ));
            }
        }
        self.callers.retain(|_, list| !list.is_empty());
        exceeded
    }
}

/// Adds a submission at `created` to `list`, drops what is older than `rate`'s period before
/// `now`, and returns how many are left in the period.
fn add(list: &mut Vec<(u64, u32)>, created: u64, rate: Rate, now: u64) -> u64 {
    let start = now.saturating_sub(rate.period);
    list.retain(|&(t, _)| t > start);
    if created > start {
        match list.iter_mut().find(|(t, _)| *t == created) {
            Some((_, n)) => *n = n.saturating_add(1),
            None => {
                list.push((created, 1));
                list.sort_unstable();
            }
        }
    }
    list.iter().map(|&(_, n)| u64::from(n)).sum()
}

/// Whether a relay's reply asks us to slow down: a 421, 450, 451, 452 or 454 whose text speaks
/// of rates, too many messages or connections, or trying again later, or that carries Gmail's
/// 4.7.28 or Microsoft's 4.7.500-4.7.699. "452 4.5.3 Too many recipients" is a limit on one
/// transaction, not throttling.
pub fn is_throttling(reply: &str) -> bool {
    let mut words = reply.split_whitespace();
    let Some(code) = words.next() else {
        return false;
    };
    if !matches!(code, "421" | "450" | "451" | "452" | "454") {
        return false;
    }
    let status = reply
        .split_whitespace()
        .nth(1)
        .filter(|s| s.starts_with("4.") && s.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .unwrap_or("");
    if status == "4.5.3" {
        return false;
    }
    if status == "4.7.28" {
        return true;
    }
    if let Some(detail) = status.strip_prefix("4.7.")
        && let Ok(n) = detail.parse::<u32>()
        && (500..700).contains(&n)
    {
        return true;
    }
    let text = reply.to_ascii_lowercase();
    let phrase = [
        "try again later",
        "too many",
        "too much mail",
        "too fast",
        "slow down",
    ]
    .iter()
    .any(|p| text.contains(p));
    let word = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w == "rate" || w.starts_with("ratelimit") || w.starts_with("throttl"));
    phrase || word
}

/// The throttling reply in a delivery failure, if there is one: a temporary refusal of the
/// session, the login, the sender, the message, or of a recipient.
pub fn throttling_reply(e: &DeliveryError) -> Option<&str> {
    let reply = match e {
        DeliveryError::Refused {
            reply,
            permanent: false,
            ..
        }
        | DeliveryError::Sender {
            reply,
            permanent: false,
            ..
        }
        | DeliveryError::Data {
            reply,
            permanent: false,
            ..
        }
        | DeliveryError::AuthTemporary { reply, .. } => reply.as_str(),
        DeliveryError::Recipients { failures, .. } => failures
            .iter()
            .find(|f| !f.permanent && is_throttling(&f.reply))
            .map(|f| f.reply.as_str())?,
        _ => return None,
    };
    is_throttling(reply).then_some(reply)
}

/// The limits of the profiles in one spool.
pub struct Limiter<'a> {
    spool: &'a Spool,
}

impl<'a> Limiter<'a> {
    /// The limits kept in `spool`.
    pub fn new(spool: &'a Spool) -> Self {
        Limiter { spool }
    }

    fn dir(&self) -> PathBuf {
        self.spool.root().join(DIR)
    }

    fn path(&self, profile: &str, ext: &str) -> PathBuf {
        self.dir().join(format!("{}.{ext}", file_name(profile)))
    }

    /// Reads, changes and writes a profile's limits under the file's lock.
    pub fn update<T>(
        &self,
        profile: &str,
        change: impl FnOnce(&mut Limits) -> T,
    ) -> Result<T, SpoolError> {
        super::shared::update(&self.path(profile, "json"), change)
    }

    /// A profile's limits as kept, read without creating or changing anything (for
    /// `metrics`, which only looks); `None` when nothing is kept for it.
    pub fn peek(&self, profile: &str) -> Option<Limits> {
        super::shared::read(&self.path(profile, "json"))
    }

    /// Takes what sending one message through `name` needs: no cool-down, and a token when the
    /// profile has a `rate_limit` (unless the message is `exempt` from it, as notices are).
    pub fn acquire(
        &self,
        name: &str,
        profile: &Profile,
        now: u64,
        exempt: bool,
    ) -> Result<Result<Grant, Wait>, SpoolError> {
        self.update(name, |l| {
            if l.cooldown_until > now {
                return Err(Wait::CoolDown {
                    until: l.cooldown_until,
                });
            }
            let cooling = l.cooldown > 0;
            match profile.bucket().filter(|_| !exempt) {
                None => Ok(Grant {
                    cooling,
                    token: false,
                }),
                Some((rate, burst)) => match l.take(rate, burst, now) {
                    Ok(()) => Ok(Grant {
                        cooling,
                        token: true,
                    }),
                    Err(until) => Err(Wait::RateLimit { until, rate }),
                },
            }
        })
    }

    /// When messages of profile `name` due at `due` will leave under its `rate_limit` (see
    /// [`Limits::departures`]); `None` when it has no limit.
    pub fn departures(
        &self,
        name: &str,
        profile: &Profile,
        now: u64,
        due: &[u64],
    ) -> Result<Option<Vec<u64>>, SpoolError> {
        let Some((rate, burst)) = profile.bucket() else {
            return Ok(None);
        };
        self.update(name, |l| Some(l.departures(rate, burst, now, due)))
    }

    /// Gives back the token of a message that was not sent after all.
    pub fn give_back(&self, name: &str, profile: &Profile) -> Result<(), SpoolError> {
        if let Some((_, burst)) = profile.bucket() {
            self.update(name, |l| l.give_back(burst))?;
        }
        Ok(())
    }

    /// Counts one submission (see [`Submitted`]) for the spew brake; engages the brake (creating the marker) when
    /// it is exceeded and the profile is not frozen yet. Only the process that engages it gets
    /// `Some`, so the alert is given once.
    pub fn count(
        &self,
        name: &str,
        profile: &Profile,
        submission: Submitted,
        now: u64,
    ) -> Result<Option<Engaged>, SpoolError> {
        let Submitted {
            created,
            caller,
            through_maildrop,
        } = submission;
        let brake = profile.brake();
        let per_caller = profile.brake_per_caller(through_maildrop);
        let marker = self.path(name, "frozen");
        let mut engaged = Ok(None);
        self.update(name, |l| {
            let Some(reason) = l.count(created, caller.as_deref(), brake, per_caller, now) else {
                return;
            };
            let freeze = Freeze {
                since: now,
                reason: reason.clone(),
            };
            engaged = match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&marker)
            {
                Ok(mut f) => f
                    .write_all(&serde_json::to_vec(&freeze).expect("freeze serialises"))
                    .map(|()| Some(Engaged { reason })),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(e),
            };
        })?;
        engaged.map_err(|source| SpoolError::Io {
            action: "create",
            path: marker.clone(),
            source,
        })
    }

    /// Whether delivery for a profile is frozen by the spew brake, and since when.
    pub fn frozen(&self, name: &str) -> Option<Freeze> {
        let path = self.path(name, "frozen");
        let text = std::fs::read(&path).ok()?;
        Some(serde_json::from_slice(&text).unwrap_or_else(|_| Freeze {
            since: std::fs::metadata(&path).map(|m| m.mtime()).unwrap_or(0) as u64,
            reason: "the spew brake engaged".into(),
        }))
    }

    /// Every frozen profile, by name.
    pub fn all_frozen(&self) -> Vec<(String, Freeze)> {
        let Ok(entries) = std::fs::read_dir(self.dir()) else {
            return Vec::new();
        };
        let mut frozen: Vec<(String, Freeze)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let name = profile_name(file.strip_suffix(".frozen")?)?;
                let freeze = self.frozen(&name)?;
                Some((name, freeze))
            })
            .collect();
        frozen.sort_by(|a, b| a.0.cmp(&b.0));
        frozen
    }

    /// Lifts every freeze (or only that of profile `only`) and forgets the submissions counted
    /// so far (they were reviewed). Returns the profiles released.
    pub fn release_all(&self, only: Option<&str>) -> Result<Vec<String>, SpoolError> {
        let mut released = Vec::new();
        for (name, _) in self.all_frozen() {
            if only.is_some_and(|o| o != name) {
                continue;
            }
            self.update(&name, |l| {
                l.submissions.clear();
                l.callers.clear();
            })?;
            let path = self.path(&name, "frozen");
            match std::fs::remove_file(&path) {
                Ok(()) => released.push(name),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(SpoolError::Io {
                        action: "remove",
                        path,
                        source,
                    });
                }
            }
        }
        Ok(released)
    }
}

/// A profile name as a file name: letters, digits, `-` and `_` as they are, every other byte as
/// `%XX`, so that no name can leave the directory.
fn file_name(profile: &str) -> String {
    let mut out = String::new();
    for b in profile.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The profile name a file name stands for.
fn profile_name(file: &str) -> Option<String> {
    let mut bytes = Vec::new();
    let mut rest = file.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(s: &str) -> Rate {
        s.parse().unwrap()
    }

    #[test]
    fn a_full_bucket_lets_the_burst_go_then_one_per_interval() {
        let mut l = Limits::default();
        let r = rate("60/hour");
        for _ in 0..10 {
            assert_eq!(l.take(r, 10, 1000), Ok(()));
        }
        assert_eq!(l.take(r, 10, 1000), Err(1060), "the next token in a minute");
        assert_eq!(l.take(r, 10, 1030), Err(1060), "still the same minute");
        assert_eq!(l.take(r, 10, 1060), Ok(()));
        assert_eq!(l.take(r, 10, 1061), Err(1120));
        // An idle day refills the bucket to the burst, not beyond.
        for _ in 0..10 {
            assert_eq!(l.take(r, 10, 90_000), Ok(()));
        }
        assert!(l.take(r, 10, 90_000).is_err());
    }

    #[test]
    fn departures_follow_the_tokens_without_taking_them() {
        let mut l = Limits::default();
        let r = rate("60/hour");
        for _ in 0..8 {
            l.take(r, 10, 1000).unwrap();
        }
        let before = l.clone();
        // Two tokens left, then one a minute; a message due later leaves when due.
        assert_eq!(
            l.departures(r, 10, 1000, &[900, 1000, 1000, 1000, 5000]),
            [1000, 1000, 1060, 1120, 5000]
        );
        assert_eq!(l, before, "a projection takes nothing");
        l.cooldown_until = 2000;
        assert_eq!(l.departures(r, 10, 1000, &[1000]), [2000]);
    }

    #[test]
    fn slow_rates_and_fractional_refills() {
        let mut l = Limits::default();
        let r = rate("500/day");
        assert_eq!(l.take(r, 1, 0), Ok(()));
        // 86400 / 500 = 172.8 s per token.
        assert_eq!(l.take(r, 1, 0), Err(173));
        assert_eq!(l.take(r, 1, 100), Err(173));
        assert_eq!(l.take(r, 1, 173), Ok(()));
        let mut l = Limits::default();
        let r = rate("30/minute");
        for _ in 0..10 {
            l.take(r, 10, 5).unwrap();
        }
        assert_eq!(l.take(r, 10, 5), Err(7));
    }

    #[test]
    fn a_lower_burst_in_the_config_applies_at_once() {
        let mut l = Limits::default();
        let r = rate("60/hour");
        l.take(r, 10, 0).unwrap();
        assert_eq!(l.tokens, Some(9.0));
        l.take(r, 2, 0).unwrap();
        assert_eq!(l.tokens, Some(1.0));
    }

    #[test]
    fn a_token_given_back_is_there_for_the_next_message() {
        let mut l = Limits::default();
        let r = rate("1/hour");
        l.take(r, 1, 0).unwrap();
        assert!(l.take(r, 1, 0).is_err());
        l.give_back(1);
        assert_eq!(l.take(r, 1, 0), Ok(()));
    }

    #[test]
    fn cool_down_doubles_up_to_the_cap_and_resets() {
        let mut l = Limits::default();
        assert_eq!(l.throttle("421", 60, 3600, 100), 160);
        assert_eq!(l.throttle("421", 60, 3600, 200), 320);
        assert_eq!(l.cooldown, 120);
        for _ in 0..10 {
            l.throttle("421", 60, 3600, 1000);
        }
        assert_eq!(l.cooldown, 3600);
        l.succeeded(4000);
        assert_eq!(
            (l.cooldown, l.cooldown_until, l.last_delivered),
            (0, 0, 4000)
        );
        assert_eq!(l.throttle("421", 60, 3600, 5000), 5060);
    }

    #[test]
    fn the_brake_counts_submissions_within_its_period() {
        let mut l = Limits::default();
        let brake = Some(rate("3/hour"));
        for t in [100, 100, 101] {
            assert_eq!(l.count(t, None, brake, None, 200), None);
        }
        let over = l.count(102, None, brake, None, 200).unwrap();
        assert!(
            over.contains("4 messages") && over.contains("3/hour"),
            "{over}"
        );
        assert_eq!(l.submissions, [(100, 2), (101, 1), (102, 1)]);
        // An hour on, those have left the window.
        assert_eq!(l.count(4000, None, brake, None, 4000), None);
        assert_eq!(l.submissions, [(4000, 1)]);
        // A message submitted long ago counts for nothing now.
        assert_eq!(l.count(5, None, brake, None, 4000), None);
        assert_eq!(l.submissions, [(4000, 1)]);
    }

    #[test]
    fn the_per_caller_brake_counts_each_uid() {
        let mut l = Limits::default();
        let caller = Some(rate("2/10m"));
        let (alice, bob) = (Some("local user 1000"), Some("SMTP user grafana"));
        assert_eq!(l.count(10, alice, None, caller, 10), None);
        assert_eq!(l.count(10, alice, None, caller, 10), None);
        assert_eq!(l.count(10, bob, None, caller, 10), None);
        assert_eq!(l.count(10, None, None, caller, 10), None);
        let over = l.count(11, alice, None, caller, 11).unwrap();
        assert!(over.contains("local user 1000 submitted 3"), "{over}");
    }

    #[test]
    fn throttling_replies_are_told_from_other_temporary_failures() {
        for yes in [
            "421 4.7.0 Try again later, closing connection.",
            "451 4.7.28 ... rate limited",
            "421 4.7.28 Our system has detected an unusual rate of unsolicited mail",
            "450 4.7.1 Error: too much mail from 192.0.2.1",
            "450 4.7.1 Error: too many recipients from 192.0.2.1",
            "421 4.7.0 mx.example Error: too many connections from 192.0.2.1",
            "451 4.7.500 Server busy. Please try again later",
            "451 4.7.650 The mail server has been temporarily rate limited",
            "454 Throttling failure: Maximum sending rate exceeded.",
            "452 4.3.1 Ratelimit exceeded",
        ] {
            assert!(is_throttling(yes), "{yes}");
        }
        for no in [
            "451 4.3.0 mail-busy try later",
            "452 4.5.3 Too many recipients",
            "550 5.7.1 rate limited",
            "421 4.3.2 System shutting down",
            "451 4.4.1 separate generate accurate",
            "250 2.0.0 ok",
            "",
            "4xx",
        ] {
            assert!(!is_throttling(no), "{no}");
        }
    }

    #[test]
    fn profile_names_round_trip_through_file_names() {
        for name in ["uni", "a-b_c", "../etc", "with space", "ünï"] {
            let file = file_name(name);
            assert!(!file.contains('/') && !file.starts_with('.'), "{file}");
            assert_eq!(profile_name(&file).as_deref(), Some(name));
        }
    }

    #[test]
    fn a_shorter_state_replaces_a_longer_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let limiter = Limiter::new(&spool);
        limiter
            .update("p", |l| {
                l.throttled_by = Some("421 4.7.0 try again later".repeat(20))
            })
            .unwrap();
        limiter.update("p", |l| l.throttled_by = None).unwrap();
        let text = std::fs::read(dir.path().join("limits/p.json")).unwrap();
        let limits: Limits =
            serde_json::from_slice(&text).expect("no leftover of the longer state");
        assert_eq!(limits, Limits::default());
    }

    fn by_root(created: u64) -> Submitted {
        Submitted {
            created,
            caller: None,
            through_maildrop: false,
        }
    }

    /// Users who submit through the maildrop get a per-caller brake of a quarter of the
    /// profile's brake unless the profile says otherwise; root's own submissions do not.
    #[test]
    fn maildrop_submitters_have_a_per_caller_brake_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let limiter = Limiter::new(&spool);
        let profile: Profile = toml::from_str(
            "preset = \"smarthost\"\nhost = \"h\"\nport = 25\ntls = \"none\"\nbrake = \"8/hour\"\n",
        )
        .unwrap();
        assert_eq!(profile.brake_per_caller(false), None);
        let user = Submitted {
            created: 10_000,
            caller: Some("local user 1001".into()),
            through_maildrop: true,
        };
        for _ in 0..2 {
            assert_eq!(
                limiter.count("p", &profile, user.clone(), 10_000).unwrap(),
                None
            );
        }
        let engaged = limiter.count("p", &profile, user, 10_000).unwrap();
        assert!(
            engaged.is_some_and(|e| e.reason.contains("local user 1001")),
            "the third of one user's messages freezes (8/4 = 2 an hour)"
        );
        let off: Profile = toml::from_str(
            "preset = \"smarthost\"\nhost = \"h\"\nport = 25\ntls = \"none\"\nbrake = \"8/hour\"\nbrake_per_caller = \"off\"\n",
        )
        .unwrap();
        assert_eq!(off.brake_per_caller(true), None);
    }

    #[test]
    fn brake_engages_once_and_release_lifts_it() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let limiter = Limiter::new(&spool);
        let profile: Profile = toml::from_str(
            "preset = \"smarthost\"\nhost = \"h\"\nport = 25\ntls = \"none\"\nbrake = \"2/hour\"\n",
        )
        .unwrap();
        let now = 10_000;
        assert_eq!(
            limiter.count("p", &profile, by_root(now), now).unwrap(),
            None
        );
        assert_eq!(
            limiter.count("p", &profile, by_root(now), now).unwrap(),
            None
        );
        assert!(limiter.frozen("p").is_none());
        let engaged = limiter.count("p", &profile, by_root(now), now).unwrap();
        assert!(engaged.is_some_and(|e| e.reason.contains("brake = \"2/hour\"")));
        assert_eq!(limiter.frozen("p").map(|f| f.since), Some(now));
        assert_eq!(
            limiter.count("p", &profile, by_root(now), now).unwrap(),
            None,
            "engaged once"
        );
        assert_eq!(limiter.all_frozen().len(), 1);
        assert_eq!(limiter.release_all(None).unwrap(), ["p"]);
        assert!(limiter.frozen("p").is_none());
        assert!(limiter.update("p", |l| l.submissions.is_empty()).unwrap());
        assert_eq!(
            limiter.count("p", &profile, by_root(now), now).unwrap(),
            None
        );
    }
}
