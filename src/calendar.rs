//! Calendar dates of Unix times as relayctl prints them (`2026-11-29`), from the `time` crate.

/// `YYYY-MM-DD` (UTC) of a Unix time; `?` outside the years -9999 to 9999.
pub fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).map_or_else(
        |_| "?".into(),
        |t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()),
    )
}

#[cfg(test)]
mod tests {
    use super::date;

    #[test]
    fn known_dates() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(19_782 * 86_400 + 86_399), "2024-02-29");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(date(i64::MAX), "?");
    }
}
