//! The arguments of MAIL FROM and RCPT TO, read into typed values: the path, and the parameters
//! of the extensions the dialogue offers (SIZE, BODY, SMTPUTF8, DSN's RET, ENVID, NOTIFY and
//! ORCPT, AUTH). Anything else is refused with the reply that says why.

use super::Reply;
use crate::message::envelope::{EnvId, Notify, Ret};

/// `MAIL FROM:<path> params`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mail {
    /// `None`: the null sender `<>`.
    pub sender: Option<String>,
    pub size: Option<u64>,
    pub ret: Option<Ret>,
    pub envid: Option<EnvId>,
}

/// `RCPT TO:<path> params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rcpt {
    pub recipient: String,
    pub notify: Option<Notify>,
}

/// Reads `FROM:<path> params`.
pub fn mail(rest: &str) -> Result<Mail, Reply> {
    let Some((path, params)) = path_and_parameters(rest, "FROM:") else {
        return Err(Reply::new(501, "5.5.4 Syntax: MAIL FROM:<address>"));
    };
    let mut mail = Mail {
        sender: (!path.is_empty()).then_some(path),
        ..Mail::default()
    };
    for param in params {
        let (key, value, bad) = parameter(param);
        match key.to_ascii_uppercase().as_str() {
            "SIZE" => mail.size = Some(value.parse().map_err(|_| bad())?),
            "BODY" if matches!(value.to_ascii_uppercase().as_str(), "7BIT" | "8BITMIME") => {}
            "SMTPUTF8" if value.is_empty() => {}
            "RET" if mail.ret.is_none() => mail.ret = Some(value.parse().map_err(|_| bad())?),
            "ENVID" if mail.envid.is_none() => {
                mail.envid = Some(EnvId::from_xtext(value).map_err(|_| bad())?)
            }
            // RFC 4954 section 5: an authenticated identity another server vouches for; a
            // submission server takes its own client's login instead.
            "AUTH" if !value.is_empty() => {}
            _ => return Err(unsupported(key)),
        }
    }
    Ok(mail)
}

/// Reads `TO:<path> params`.
pub fn rcpt(rest: &str) -> Result<Rcpt, Reply> {
    let Some((path, params)) = path_and_parameters(rest, "TO:") else {
        return Err(Reply::new(501, "5.5.4 Syntax: RCPT TO:<address>"));
    };
    if path.is_empty() {
        return Err(Reply::new(501, "5.1.3 Bad recipient address syntax"));
    }
    let mut notify = None;
    for param in params {
        let (key, value, bad) = parameter(param);
        match key.to_ascii_uppercase().as_str() {
            "NOTIFY" if notify.is_none() => notify = Some(value.parse().map_err(|_| bad())?),
            // The original recipient is checked, not carried: relayctl's queue keeps one
            // envelope per message, and the relay is told the address it is given.
            "ORCPT" if value.contains(';') && !value.starts_with(';') => {}
            _ => return Err(unsupported(key)),
        }
    }
    Ok(Rcpt {
        recipient: path,
        notify,
    })
}

/// `KEY=value` split, with the reply for a value that is not what KEY takes.
fn parameter(param: &str) -> (&str, &str, impl Fn() -> Reply + '_) {
    let (key, value) = param.split_once('=').unwrap_or((param, ""));
    let bad = move || {
        Reply::new(
            501,
            format!("5.5.4 Bad {} parameter", key.to_ascii_uppercase()),
        )
    };
    (key, value, bad)
}

fn unsupported(key: &str) -> Reply {
    Reply::new(555, format!("5.5.4 Unsupported option: {key}"))
}

/// The address and parameters of `FROM:<a> X=y` / `TO:<a>`; `None` when malformed. An address
/// with white space or control characters in it is malformed.
fn path_and_parameters<'a>(rest: &'a str, prefix: &str) -> Option<(String, Vec<&'a str>)> {
    let head = rest.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let rest = rest[prefix.len()..].trim_start();
    let (path, params) = match rest.strip_prefix('<') {
        Some(inner) => inner.split_once('>')?,
        None => rest.split_once(' ').unwrap_or((rest, "")),
    };
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return None;
    }
    let params: Vec<&str> = params.split(' ').filter(|p| !p.is_empty()).collect();
    Some((path.to_string(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_parameters_are_typed() {
        let m = mail("FROM:<a@x> SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=id+201").unwrap();
        assert_eq!(m.sender.as_deref(), Some("a@x"));
        assert_eq!(m.size, Some(10));
        assert_eq!(m.ret, Some(Ret::Headers));
        assert_eq!(m.envid.unwrap().to_string(), "id 1");
        assert_eq!(mail("from:<>").unwrap().sender, None);
        for (bad, code) in [
            ("FROM:<a b@x>", 501),
            ("FROM:<a@x> SIZE=x", 501),
            ("FROM:<a@x> RET=ALL", 501),
            ("FROM:<a@x> ENVID=a=b", 501),
            ("FROM:<a@x> BODY=BINARYMIME", 555),
            ("FROM:<a@x> X-INJECT=1", 555),
            ("FROM:<a@x> RET=FULL RET=HDRS", 555),
            ("TO:<a@x>", 501),
        ] {
            assert_eq!(mail(bad).unwrap_err().code, code, "{bad}");
        }
    }

    #[test]
    fn rcpt_parameters_are_typed() {
        let r = rcpt("TO:<b@y> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@y").unwrap();
        assert_eq!(r.recipient, "b@y");
        assert_eq!(r.notify.unwrap().to_string(), "FAILURE,DELAY");
        for (bad, code) in [
            ("TO:<>", 501),
            ("TO:<b@y> NOTIFY=SOMETIMES", 501),
            ("TO:<b@y> ORCPT=b@y", 555),
            ("TO:<b@y> X=1", 555),
        ] {
            assert_eq!(rcpt(bad).unwrap_err().code, code, "{bad}");
        }
    }
}
