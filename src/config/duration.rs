//! Durations as admins write them: `"90s"`, `"1m"`, `"4h"`, `"5d"`, or a number of seconds.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration in whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub u64);

impl Span {
    pub fn duration(self) -> Duration {
        Duration::from_secs(self.0)
    }
}

impl FromStr for Span {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = digits.parse().map_err(|_| {
            format!("`{s}` is not a duration (examples: \"90s\", \"1m\", \"4h\", \"5d\")")
        })?;
        let factor = match unit.trim() {
            "" | "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86400,
            "w" => 7 * 86400,
            other => {
                return Err(format!(
                    "unknown duration unit `{other}` in `{s}` (use s, m, h, d or w)"
                ));
            }
        };
        n.checked_mul(factor)
            .map(Span)
            .ok_or_else(|| format!("duration `{s}` is too long"))
    }
}

impl fmt::Display for Span {
    /// The largest whole unit: "5d", "90m", "45s".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] {
            if s >= size && s.is_multiple_of(size) {
                return write!(f, "{}{unit}", s / size);
            }
        }
        write!(f, "{s}s")
    }
}

super::serde_number_or_text!(Span, Span);

#[cfg(test)]
mod tests {
    use super::Span;

    #[test]
    fn parses_and_displays() {
        assert_eq!("90s".parse(), Ok(Span(90)));
        assert_eq!("1m".parse(), Ok(Span(60)));
        assert_eq!("5d".parse(), Ok(Span(432_000)));
        assert_eq!("30".parse(), Ok(Span(30)));
        assert!("5 fortnights".parse::<Span>().is_err());
        assert_eq!(Span(432_000).to_string(), "5d");
        assert_eq!(Span(90).to_string(), "90s");
        assert_eq!(Span(5400).to_string(), "90m");
    }
}
