//! Message sizes as admins write them: `26214400`, `"25MB"`, `"25 MiB"`, `"100k"`.

use std::fmt;
use std::str::FromStr;

/// A size in bytes. Written with a unit, `K`/`M`/`G` and `KB`/`MB`/`GB` are binary multiples
/// (as mail providers mean them: Gmail's "25 MB" is 25 MiB), and so are `KiB`/`MiB`/`GiB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{s}` is not a size (examples: 26214400, \"25MB\")"))?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            other => {
                return Err(format!(
                    "unknown size unit `{other}` in `{s}` (use K, MB or GB)"
                ));
            }
        };
        n.checked_mul(1 << shift)
            .map(ByteSize)
            .ok_or_else(|| format!("size `{s}` is too large"))
    }
}

impl fmt::Display for ByteSize {
    /// Whole mebibytes are shown as "25MB", anything else in bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MB: u64 = 1 << 20;
        if self.0 >= MB && self.0.is_multiple_of(MB) {
            write!(f, "{}MB", self.0 / MB)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

super::serde_number_or_text!(ByteSize, ByteSize);

#[cfg(test)]
mod tests {
    use super::ByteSize;

    #[test]
    fn parses_units_and_plain_bytes() {
        assert_eq!("26214400".parse(), Ok(ByteSize(26_214_400)));
        assert_eq!("25MB".parse(), Ok(ByteSize(25 << 20)));
        assert_eq!("25 MiB".parse(), Ok(ByteSize(25 << 20)));
        assert_eq!("100k".parse(), Ok(ByteSize(100 << 10)));
        assert_eq!("1G".parse(), Ok(ByteSize(1 << 30)));
    }

    #[test]
    fn rejects_nonsense() {
        assert!("".parse::<ByteSize>().is_err());
        assert!(
            "25 furlongs"
                .parse::<ByteSize>()
                .unwrap_err()
                .contains("furlongs")
        );
        assert!("99999999999999999999G".parse::<ByteSize>().is_err());
    }

    #[test]
    fn displays_whole_megabytes_with_a_unit() {
        assert_eq!(ByteSize(25 << 20).to_string(), "25MB");
        assert_eq!(ByteSize(1000).to_string(), "1000");
    }
}
