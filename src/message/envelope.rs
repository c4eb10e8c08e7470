//! The envelope: who a message is from and to, as MAIL FROM and RCPT TO give it to the relay,
//! and the delivery status notifications asked for (DSN, RFC 3461).
//!
//! DSN values are typed from where they are read (`sendmail -N -R -V`, a maildrop ticket, a
//! queued message's state) to where they are written as SMTP parameters: nothing on the way is a
//! free string that could carry a space and a second parameter (`ENVID=x AUTH=<ceo@x>`).

use std::fmt;
use std::str::FromStr;

/// Who a message is from and to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The envelope sender; `None` is the null sender `<>`.
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    /// Delivery status notifications asked for (sent only to relays that offer DSN).
    pub dsn: Dsn,
}

/// DSN parameters: NOTIFY on each RCPT, RET and ENVID on MAIL.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dsn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ret: Option<Ret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envid: Option<EnvId>,
}

impl Dsn {
    /// Whether any DSN parameter was asked for.
    pub fn is_requested(&self) -> bool {
        self.notify.is_some() || self.ret.is_some() || self.envid.is_some()
    }

    /// MAIL FROM's DSN parameters (`RET=HDRS`, `ENVID=...`).
    pub fn mail_parameters(&self) -> Vec<String> {
        let mut params = Vec::new();
        params.extend(self.ret.map(|r| format!("RET={r}")));
        params.extend(self.envid.as_ref().map(|e| format!("ENVID={}", e.xtext())));
        params
    }

    /// RCPT TO's DSN parameter (`NOTIFY=FAILURE,DELAY`).
    pub fn rcpt_parameters(&self) -> Vec<String> {
        self.notify.iter().map(|n| format!("NOTIFY={n}")).collect()
    }
}

/// Why a DSN value is not one RFC 3461 allows (the caller names the value and where it was).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DsnError(String);

/// When the relay should report on a recipient (NOTIFY).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Never send a delivery status notification.
    Never,
    /// Any non-empty combination of these.
    On {
        success: bool,
        failure: bool,
        delay: bool,
    },
}

impl fmt::Display for Notify {
    /// `NEVER` or a comma-separated subset of `SUCCESS,FAILURE,DELAY`, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Notify::Never => f.write_str("NEVER"),
            Notify::On {
                success,
                failure,
                delay,
            } => {
                let words: Vec<&str> =
                    [(success, "SUCCESS"), (failure, "FAILURE"), (delay, "DELAY")]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, word)| *word)
                        .collect();
                f.write_str(&words.join(","))
            }
        }
    }
}

impl FromStr for Notify {
    type Err = DsnError;

    /// `never`, or a comma-separated list of `success`, `failure`, `delay` (any case).
    fn from_str(value: &str) -> Result<Self, DsnError> {
        let bad = |why: String| {
            DsnError(format!(
                "{why} (expected `never` or a list of `failure`, `delay`, `success`)"
            ))
        };
        let (mut never, mut success, mut failure, mut delay) = (false, false, false, false);
        for item in value.split(',') {
            let word = item.trim();
            let flag = match word.to_ascii_lowercase().as_str() {
                "never" => &mut never,
                "success" => &mut success,
                "failure" => &mut failure,
                "delay" => &mut delay,
                "" => return Err(bad("empty item".into())),
                _ => return Err(bad(format!("unknown word {word:?}"))),
            };
            *flag = true;
        }
        match (never, success || failure || delay) {
            (true, true) => Err(bad("`never` cannot be combined with other values".into())),
            (true, false) => Ok(Notify::Never),
            (false, _) => Ok(Notify::On {
                success,
                failure,
                delay,
            }),
        }
    }
}

/// What a bounce carries of the message (RET).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// The whole message.
    Full,
    /// Its header section only.
    Headers,
}

impl fmt::Display for Ret {
    /// `FULL` or `HDRS`, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ret::Full => "FULL",
            Ret::Headers => "HDRS",
        })
    }
}

impl FromStr for Ret {
    type Err = DsnError;

    /// `full` or `hdrs`, any case.
    fn from_str(value: &str) -> Result<Self, DsnError> {
        match value.to_ascii_lowercase().as_str() {
            "full" => Ok(Ret::Full),
            "hdrs" => Ok(Ret::Headers),
            _ => Err(DsnError("expected `full` or `hdrs`".into())),
        }
    }
}

/// The envelope identifier (ENVID) as the submitter wrote it: 1 to 100 printable ASCII
/// characters, spaces and tabs. It goes on the wire xtext-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvId(String);

impl EnvId {
    /// The identifier xtext-encoded (RFC 3461 section 4): `+`, `=`, spaces and controls as `+HH`.
    pub fn xtext(&self) -> String {
        xtext(&self.0)
    }

    /// An identifier as an SMTP client sends it (`ENVID=` on MAIL FROM), xtext-encoded.
    pub fn from_xtext(wire: &str) -> Result<EnvId, DsnError> {
        let bad = || DsnError("ENVID is not xtext (RFC 3461 section 4)".into());
        let mut out = Vec::with_capacity(wire.len());
        let mut bytes = wire.bytes();
        while let Some(b) = bytes.next() {
            match b {
                b'+' => {
                    let hex = [bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?];
                    let hex = std::str::from_utf8(&hex).map_err(|_| bad())?;
                    out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
                }
                b'!'..=b'~' if b != b'=' => out.push(b),
                _ => return Err(bad()),
            }
        }
        String::from_utf8(out).map_err(|_| bad())?.parse()
    }
}

impl fmt::Display for EnvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for EnvId {
    type Err = DsnError;

    fn from_str(value: &str) -> Result<Self, DsnError> {
        let printable = value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if (1..=100).contains(&value.len()) && printable {
            Ok(EnvId(value.to_owned()))
        } else {
            Err(DsnError(
                "expected 1 to 100 printable ASCII characters (spaces and tabs allowed)".into(),
            ))
        }
    }
}

/// xtext (RFC 3461 section 4): every byte outside `!`..`~`, and `+` and `=`, as `+` and two
/// upper-case hex digits.
pub fn xtext(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(b as char);
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

crate::config::serde_as_string!(Notify);
crate::config::serde_as_string!(Ret);
crate::config::serde_as_string!(EnvId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_reads_any_case_and_writes_the_wire_form() {
        let n: Notify = "delay, Failure".parse().unwrap();
        assert_eq!(n.to_string(), "FAILURE,DELAY");
        assert_eq!("NEVER".parse::<Notify>().unwrap(), Notify::Never);
        for bad in [
            "",
            "never,failure",
            "FAILURE AUTH=<x>",
            "failure,",
            "sometimes",
        ] {
            assert!(bad.parse::<Notify>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ret_values() {
        assert_eq!("hdrs".parse::<Ret>().unwrap().to_string(), "HDRS");
        assert_eq!("FULL".parse::<Ret>().unwrap(), Ret::Full);
        assert!("HDRS X-INJECT=1".parse::<Ret>().is_err());
    }

    /// Review finding 3: an envelope id cannot add a parameter to MAIL FROM.
    #[test]
    fn envelope_ids_go_out_as_xtext() {
        let id: EnvId = "abc AUTH=<ceo@x> X-INJECT=1".parse().unwrap();
        assert_eq!(id.xtext(), "abc+20AUTH+3D<ceo@x>+20X-INJECT+3D1");
        let id: EnvId = "a+b=c\td".parse().unwrap();
        assert_eq!(id.xtext(), "a+2Bb+3Dc+09d");
        for bad in ["", "a\r\nRCPT TO:<x>", "\u{1b}[2J", "ü", &"x".repeat(101)] {
            assert!(bad.parse::<EnvId>().is_err(), "{bad:?}");
        }
        let dsn = Dsn {
            notify: Some("failure".parse().unwrap()),
            ret: Some(Ret::Headers),
            envid: Some("a b".parse().unwrap()),
        };
        assert_eq!(dsn.mail_parameters(), ["RET=HDRS", "ENVID=a+20b"]);
        assert_eq!(dsn.rcpt_parameters(), ["NOTIFY=FAILURE"]);
        for param in dsn.mail_parameters().iter().chain(&dsn.rcpt_parameters()) {
            assert!(!param.contains([' ', '\r', '\n']), "{param}");
        }
    }

    #[test]
    fn envelope_ids_from_the_wire_are_decoded_and_checked() {
        let id = EnvId::from_xtext("abc+20AUTH+3D<ceo@x>").unwrap();
        assert_eq!(id.to_string(), "abc AUTH=<ceo@x>");
        assert_eq!(EnvId::from_xtext(&id.xtext()).unwrap(), id);
        for bad in ["a+2", "a+ZZ", "a=b", "a b", "+0D+0A", ""] {
            assert!(EnvId::from_xtext(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn state_files_keep_their_shape_and_refuse_bad_values() {
        let dsn: Dsn =
            serde_json::from_str(r#"{"notify":"FAILURE,DELAY","ret":"HDRS","envid":"id1"}"#)
                .unwrap();
        assert_eq!(
            serde_json::to_string(&dsn).unwrap(),
            r#"{"notify":"FAILURE,DELAY","ret":"HDRS","envid":"id1"}"#
        );
        for bad in [
            r#"{"envid":"abc AUTH=<ceo@x>\r\nX"}"#,
            r#"{"notify":"FAILURE X-INJECT=1"}"#,
            r#"{"ret":"FULL AUTH=<>"}"#,
        ] {
            assert!(serde_json::from_str::<Dsn>(bad).is_err(), "{bad}");
        }
    }
}
