//! How the connection to a relay is secured (`tls` in a profile).

use std::fmt;

use serde::{Deserialize, Serialize};

/// How the connection to the relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with STARTTLS; refused when the relay does not offer it (587).
    Starttls,
    /// Implicit TLS from the first byte (465).
    Tls,
    /// Use STARTTLS when offered, plain otherwise (never with a password).
    Opportunistic,
    /// No encryption (a trusted network relay on port 25; never with a password).
    None,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::Opportunistic => "opportunistic",
            TlsMode::None => "none",
        })
    }
}

/// The oldest TLS version a profile accepts (`tls_min_version`); TLS 1.2 when unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl std::str::FromStr for TlsVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "1.2" => Ok(TlsVersion::Tls12),
            "1.3" => Ok(TlsVersion::Tls13),
            other => Err(format!(
                "tls_min_version {other:?} is not a TLS version relayctl speaks (\"1.2\" or \"1.3\")"
            )),
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        })
    }
}

super::serde_as_string!(TlsVersion);

/// A SHA-256 fingerprint the relay's certificate is pinned to (`tls_fingerprint`), written as
/// `sha256:AB:CD:...` (what `openssl x509 -fingerprint -sha256` prints, with the prefix). It
/// matches the relay's end-entity certificate or that certificate's public key (SPKI): a pin
/// on the key survives a renewal that keeps the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// The SHA-256 fingerprint of `bytes` (a DER certificate or SubjectPublicKeyInfo).
    pub fn of(bytes: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Fingerprint(out)
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "tls_fingerprint {s:?} is not a SHA-256 fingerprint (sha256:AB:CD:... with 32 bytes in hex)"
            )
        };
        let (kind, hex) = s.trim().split_once(':').ok_or_else(bad)?;
        if !kind.eq_ignore_ascii_case("sha256") {
            return Err(bad());
        }
        let digits: Vec<u8> = hex.bytes().filter(|b| *b != b':').collect();
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

super::serde_as_string!(Fingerprint);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_openssl_form_and_without_colons() {
        let shown = "sha256:".to_string() + &["AB"; 32].join(":");
        let fp: Fingerprint = shown.parse().unwrap();
        assert_eq!(fp, Fingerprint([0xAB; 32]));
        assert_eq!(fp.to_string(), shown);
        let bare = format!("SHA256:{}", "ab".repeat(32));
        assert_eq!(bare.parse::<Fingerprint>().unwrap(), fp);
        for bad in [
            "AB:CD",
            "sha1:AB",
            "sha256:AB",
            &format!("sha256:{}", "zz".repeat(32)),
            &format!("sha256:{}", "ab".repeat(33)),
            &format!("sha256:{}é", "a".repeat(63)),
            &format!("sha256:+f{}", "a".repeat(62)),
        ] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
        assert_eq!(
            Fingerprint::of(b"abc").to_string(),
            "sha256:BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }

    #[test]
    fn tls_versions() {
        assert_eq!("1.3".parse(), Ok(TlsVersion::Tls13));
        assert_eq!(TlsVersion::Tls12.to_string(), "1.2");
        assert!(
            "1.1"
                .parse::<TlsVersion>()
                .unwrap_err()
                .contains("\"1.2\" or \"1.3\"")
        );
    }
}
