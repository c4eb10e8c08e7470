//! Signing in once, at setup, from a server without a browser: the device flow (RFC 8628) where
//! the provider allows it for mail (Microsoft), else the authorization code flow with PKCE
//! (RFC 7636) through a URL opened on any other machine, whose redirect to `http://localhost`
//! fails there and is pasted back (Google).

use std::io::{BufRead, Write};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::endpoint::{Client, Grant, Poll};
use super::{OAuthError, pkce};

/// Signs in the way the client's endpoints allow; instructions go to `out`, the pasted address
/// comes from `input`. `params` are extra parameters of the authorization URL.
pub fn sign_in(
    client: &Client,
    params: &[(&str, &str)],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Grant, OAuthError> {
    match (
        &client.oauth.device_endpoint,
        &client.oauth.authorization_endpoint,
    ) {
        (Some(device), _) => device_flow(client, device, out),
        (None, Some(authorize)) => paste_flow(client, authorize, params, input, out),
        (None, None) => Err(OAuthError::SignIn(
            "the profile has neither a device nor an authorization endpoint".into(),
        )),
    }
}

fn device_flow(client: &Client, endpoint: &str, out: &mut dyn Write) -> Result<Grant, OAuthError> {
    let code = client.device_authorization(endpoint)?;
    let _ = writeln!(
        out,
        "To sign in, open {} on any device and enter the code {} (within {} minutes).\nWaiting for the sign-in...",
        code.verification_uri,
        code.user_code,
        code.expires_in.div_ceil(60)
    );
    let deadline = Instant::now() + Duration::from_secs(code.expires_in);
    let mut interval = code.interval;
    loop {
        sleep(Duration::from_secs(interval));
        if Instant::now() >= deadline {
            return Err(expired());
        }
        match client.poll_device(&code.device_code) {
            Ok(Poll::Granted(grant)) => return Ok(grant),
            Ok(Poll::Pending) => {}
            Ok(Poll::SlowDown) => interval += 5,
            Err(OAuthError::Refused { error, .. }) if error == "access_denied" => {
                return Err(OAuthError::SignIn("the sign-in was declined".into()));
            }
            Err(OAuthError::Refused { error, .. }) if error == "expired_token" => {
                return Err(expired());
            }
            Err(e) => return Err(e),
        }
    }
}

fn expired() -> OAuthError {
    OAuthError::SignIn("the code expired before the sign-in finished; run setup again".into())
}

fn paste_flow(
    client: &Client,
    endpoint: &str,
    params: &[(&str, &str)],
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<Grant, OAuthError> {
    let random = |e: ring::error::Unspecified| {
        OAuthError::SignIn(format!("no random numbers from the system ({e})"))
    };
    let pkce = pkce::pkce().map_err(random)?;
    let state = pkce::random_text(16).map_err(random)?;
    let redirect = client.oauth.redirect_uri();
    let mut url = url::Url::parse(endpoint)
        .map_err(|e| OAuthError::SignIn(format!("authorization endpoint {endpoint}: {e}")))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.oauth.client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", &client.oauth.scope)
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256")
        .extend_pairs(params);
    let _ = write!(
        out,
        "Open this address in a browser on any machine and sign in:\n\n  {url}\n\nThe browser is then sent to {redirect}, which does not load there. Copy the whole\naddress from its address bar and paste it here.\nAddress: "
    );
    let _ = out.flush();
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| OAuthError::SignIn(format!("cannot read the pasted address: {e}")))?;
    let code = code_from(line.trim(), &state)?;
    client.exchange_code(&code, &pkce.verifier, redirect)
}

/// The authorization code in what the user pasted: the redirect address (whose `state` must be
/// this sign-in's) or the bare code.
fn code_from(pasted: &str, state: &str) -> Result<String, OAuthError> {
    if pasted.is_empty() {
        return Err(OAuthError::SignIn("nothing was pasted".into()));
    }
    let Ok(url) = url::Url::parse(pasted) else {
        return Ok(pasted.to_string());
    };
    let param = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        let detail = param("error_description")
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        return Err(OAuthError::SignIn(format!(
            "the provider answered {error}{detail}"
        )));
    }
    if param("state").as_deref() != Some(state) {
        return Err(OAuthError::SignIn(
            "the pasted address belongs to another sign-in (its state differs); use the address from this run".into(),
        ));
    }
    param("code")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::SignIn("the pasted address has no code".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_pasted_addresses() {
        assert_eq!(
            code_from("http://localhost/?code=4%2F0Ab&state=xyz&scope=s", "xyz").unwrap(),
            "4/0Ab"
        );
        assert!(code_from("", "s").is_err());
        assert_eq!(code_from("4/0Ab-bare", "s").unwrap(), "4/0Ab-bare");
        let other = code_from("http://localhost/?code=c&state=other", "xyz").unwrap_err();
        assert!(other.to_string().contains("another sign-in"), "{other}");
        let denied =
            code_from("http://localhost/?error=access_denied&state=xyz", "xyz").unwrap_err();
        assert!(denied.to_string().contains("access_denied"), "{denied}");
        assert!(code_from("http://localhost/?state=xyz", "xyz").is_err());
    }
}
