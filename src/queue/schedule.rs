//! When to try a message again: exponential backoff with jitter, capped.

use crate::config::QueueSettings;

/// Seconds to wait after `attempts` failed attempts (1 = after the first): the initial delay
/// doubled per attempt, at most `retry_max`, minus up to 10% jitter so that messages queued
/// together do not all return together.
pub fn backoff(settings: &QueueSettings, attempts: u32) -> u64 {
    let initial = settings.retry_initial.0.max(1);
    let doubled = initial.saturating_mul(1u64 << attempts.saturating_sub(1).min(32));
    let delay = doubled.min(settings.retry_max.0.max(initial));
    delay - fastrand::u64(0..=delay / 10)
}

/// The current Unix time in seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Span;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_below() {
        let s = QueueSettings {
            retry_initial: Span(60),
            retry_max: Span(3600),
            ..QueueSettings::default()
        };
        for (attempts, base) in [
            (1, 60),
            (2, 120),
            (3, 240),
            (6, 1920),
            (7, 3600),
            (40, 3600),
        ] {
            for _ in 0..50 {
                let d = backoff(&s, attempts);
                assert!(d <= base && d >= base - base / 10, "{attempts}: {d}");
            }
        }
    }
}
