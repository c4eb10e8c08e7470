//! Message rates: a profile's `rate_limit` and the spew brake's thresholds (`brake`,
//! `brake_per_caller`).

use std::fmt;
use std::str::FromStr;

use super::Span;

/// A number of messages per period: `"60/hour"`, `"30/minute"`, `"500/day"`, `"100/10m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Messages allowed per period (at least 1).
    pub count: u32,
    /// The period in seconds (at least 1).
    pub period: u64,
}

impl Rate {
    /// The rate per hour, rounded up: `"500/day"` is 21, `"30/minute"` is 1800.
    pub fn hourly(self) -> u64 {
        (u64::from(self.count) * 3600).div_ceil(self.period)
    }

    /// Seconds between two messages at this rate (at least 1).
    pub fn interval(self) -> u64 {
        self.period.div_ceil(u64::from(self.count)).max(1)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "`{s}` is not a rate (examples: \"60/hour\", \"30/minute\", \"500/day\", \"100/10m\")"
            )
        };
        let (count, per) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let period = match per.trim() {
            "second" | "sec" => 1,
            "minute" | "min" => 60,
            "hour" => 3600,
            "day" => 86400,
            "week" => 7 * 86400,
            // "60/h", "500/d": a bare unit is one of it.
            unit if !unit.is_empty() && unit.bytes().all(|b| b.is_ascii_alphabetic()) => {
                format!("1{unit}").parse::<Span>().map_err(|_| bad())?.0
            }
            span => span.parse::<Span>().map_err(|_| bad())?.0,
        };
        if count == 0 || period == 0 {
            return Err(format!(
                "rate `{s}` allows nothing; remove the setting to have no limit"
            ));
        }
        Ok(Rate { count, period })
    }
}

impl fmt::Display for Rate {
    /// `60/hour`, `30/minute`, `500/day`, `100/10m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.period {
            60 => write!(f, "{}/minute", self.count),
            3600 => write!(f, "{}/hour", self.count),
            86400 => write!(f, "{}/day", self.count),
            p => write!(f, "{}/{}", self.count, Span(p)),
        }
    }
}

super::serde_as_string!(Rate);

/// A spew brake setting: a rate of submissions, or `"off"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brake {
    /// Never freeze.
    Off,
    /// Freeze when submissions exceed this rate.
    Above(Rate),
}

impl FromStr for Brake {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "off" {
            return Ok(Brake::Off);
        }
        s.parse()
            .map(Brake::Above)
            .map_err(|e| format!("{e}, or \"off\""))
    }
}

impl fmt::Display for Brake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Brake::Off => f.write_str("off"),
            Brake::Above(rate) => rate.fmt(f),
        }
    }
}

super::serde_as_string!(Brake);

/// `setup --rate-limit`: a profile's `rate_limit`, or `off` to remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSetting(pub Option<Rate>);

impl FromStr for RateLimitSetting {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "off" {
            return Ok(RateLimitSetting(None));
        }
        s.parse()
            .map(|rate| RateLimitSetting(Some(rate)))
            .map_err(|e| format!("{e}, or \"off\" for no limit"))
    }
}

/// The largest default `rate_burst`.
pub const DEFAULT_MAX_BURST: u32 = 10;

/// The spew brake of a profile without `rate_limit` or `brake`: 1000 submissions an hour.
pub const DEFAULT_BRAKE: Rate = Rate {
    count: 1000,
    period: 3600,
};

/// How many times the hourly `rate_limit` the default spew brake allows per hour.
pub const BRAKE_FACTOR: u64 = 10;
