//! The server's reading of SASL responses (after base64 decoding): PLAIN (RFC 4616), XOAUTH2
//! (Google's) and OAUTHBEARER (RFC 7628). Each gives the user and the secret, or what is wrong
//! with the response, which the server records as a violation. LOGIN needs no parsing: its
//! two responses are the user name and the password.

use std::collections::HashSet;

/// `[authzid] NUL authcid NUL passwd`. An authorization identity (a proxy login) is not
/// expected from relayctl and counts as a fault.
pub fn parse_plain(raw: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the response is not UTF-8")?;
    let &[authzid, user, password] = text.split('\0').collect::<Vec<_>>().as_slice() else {
        return Err("the response is not authzid NUL authcid NUL passwd".into());
    };
    if !authzid.is_empty() {
        return Err(format!("an authorization identity {authzid:?} was sent"));
    }
    if user.is_empty() || password.is_empty() {
        return Err("the user or the password is empty".into());
    }
    Ok((user.to_string(), password.to_string()))
}

/// `user=USER^Aauth=Bearer TOKEN^A^A`: the user and the token.
pub fn parse_xoauth2(raw: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the response is not UTF-8")?;
    let body = text
        .strip_suffix("\x01\x01")
        .ok_or("the response does not end with ^A^A")?;
    let (user, auth) = body
        .split_once('\x01')
        .ok_or("no ^A between user and auth")?;
    let user = user.strip_prefix("user=").ok_or("no user= first")?;
    let token = auth
        .strip_prefix("auth=Bearer ")
        .ok_or("no auth=Bearer second")?;
    if user.is_empty() {
        return Err("the user is empty".into());
    }
    Ok((user.to_string(), check_token(token)?))
}

/// The RFC 7628 §3.1 initial client response: the authzid of its GS2 header (empty when
/// absent) and the token of its `auth` pair.
pub fn parse_oauthbearer(raw: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the response is not UTF-8")?;
    let body = text
        .strip_suffix("\x01\x01")
        .ok_or("the response does not end with ^A^A")?;
    let (gs2, pairs) = body
        .split_once('\x01')
        .ok_or("no ^A after the GS2 header")?;
    let authzid = gs2
        .strip_prefix("n,")
        .or_else(|| gs2.strip_prefix("y,"))
        .and_then(|rest| rest.strip_suffix(','))
        .ok_or("the GS2 header is not n,[a=USER], or y,[a=USER],")?;
    let user = match authzid {
        "" => String::new(),
        _ => decode_saslname(authzid.strip_prefix("a=").ok_or("the authzid lacks a=")?)?,
    };
    let mut seen = HashSet::new();
    let mut auth = None;
    for pair in pairs.split('\x01') {
        let (key, value) = pair.split_once('=').ok_or("a key/value pair lacks =")?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(format!("bad key {key:?}"));
        }
        if !seen.insert(key) {
            return Err(format!("key {key:?} is repeated"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_graphic() || b" \t\r\n".contains(&b))
        {
            return Err(format!("bad value of {key:?}"));
        }
        match key {
            "auth" => auth = Some(value),
            "port" if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) => {
                return Err("port is not a number".into());
            }
            _ => {}
        }
    }
    let auth = auth.ok_or("no auth= pair")?;
    let (scheme, token) = auth.split_once(' ').ok_or("auth= lacks a scheme")?;
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(format!("auth scheme {scheme:?} is not Bearer"));
    }
    Ok((user, check_token(token.trim_start_matches(' '))?))
}

/// Checks a bearer token's syntax (b64token, RFC 6750 §2.1).
fn check_token(token: &str) -> Result<String, String> {
    let body = token.trim_end_matches('=');
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
    if body.is_empty() || !body.bytes().all(allowed) {
        return Err("the bearer token is empty or not a b64token".into());
    }
    Ok(token.to_string())
}

/// A GS2 saslname: `=2C` is a comma, `=3D` an equals sign (RFC 5801 §4).
fn decode_saslname(name: &str) -> Result<String, String> {
    let mut decoded = String::new();
    let mut rest = name;
    while let Some(i) = rest.find([',', '=']) {
        decoded.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => decoded.push(','),
            Some("=3D") => decoded.push('='),
            _ => return Err("the authzid contains a raw , or =".into()),
        }
        rest = &rest[i + 3..];
    }
    decoded.push_str(rest);
    Ok(decoded)
}
