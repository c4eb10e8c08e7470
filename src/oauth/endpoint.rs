//! The token endpoint's protocol (RFC 6749 §4.1.3, §5, §6; RFC 8628 §3.1–3.5): requests for
//! each grant and what their answers mean.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::OAuthError;
use super::http::{Answer, post_form};
use crate::config::OAuth;
use crate::transcript::Transcript;

/// Tokens from a successful grant.
pub struct Grant {
    pub access_token: SecretString,
    /// Seconds the access token is valid, as the endpoint said (RFC 6749 §5.1 `expires_in`).
    pub lifetime: u64,
    /// A new refresh token, when the endpoint issued one.
    pub refresh_token: Option<SecretString>,
    /// The scopes granted, when the endpoint said.
    pub scope: Option<String>,
}

/// The lifetime assumed when the endpoint does not say (RFC 6749 leaves `expires_in`
/// optional); providers issue one-hour tokens.
const DEFAULT_LIFETIME: u64 = 3600;

/// A device authorization (RFC 8628 §3.2).
pub struct DeviceCode {
    pub device_code: SecretString,
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// What one poll of the device flow gave.
pub enum Poll {
    Granted(Grant),
    /// `authorization_pending`: the user has not finished yet.
    Pending,
    /// `slow_down`: poll 5 seconds less often (RFC 8628 §3.5).
    SlowDown,
}

/// A client of one profile's endpoints.
pub struct Client<'a> {
    pub oauth: &'a OAuth,
    pub client_secret: Option<&'a SecretString>,
    pub timeout: Duration,
    pub ca_file: Option<&'a Path>,
    /// The `-v` transcript, which says when a proxy carries a request.
    pub transcript: Transcript,
}

impl Client<'_> {
    /// Trades a refresh token for an access token (RFC 6749 §6).
    pub fn refresh(&self, refresh_token: &SecretString) -> Result<Grant, OAuthError> {
        let answer = self.token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ])?;
        grant(&self.oauth.token_endpoint, answer)
    }

    /// Trades an authorization code and its PKCE verifier for tokens (RFC 6749 §4.1.3,
    /// RFC 7636 §4.5).
    pub fn exchange_code(
        &self,
        code: &str,
        verifier: &SecretString,
        redirect_uri: &str,
    ) -> Result<Grant, OAuthError> {
        let answer = self.token(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose_secret()),
        ])?;
        grant(&self.oauth.token_endpoint, answer)
    }

    /// Starts the device flow (RFC 8628 §3.1).
    pub fn device_authorization(&self, endpoint: &str) -> Result<DeviceCode, OAuthError> {
        let answer = post_form(
            endpoint,
            &[
                ("client_id", &self.oauth.client_id),
                ("scope", &self.oauth.scope),
            ],
            self.timeout,
            self.ca_file,
            &self.transcript,
        )?;
        if answer.status != 200 {
            return Err(refusal(endpoint, &answer));
        }
        let missing = |key: &str| OAuthError::Endpoint {
            endpoint: endpoint.to_string(),
            reason: format!("the device authorization has no `{key}`"),
        };
        Ok(DeviceCode {
            device_code: SecretString::from(
                answer
                    .json
                    .get("device_code")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| missing("device_code"))?,
            ),
            user_code: text(&answer.json, "user_code").ok_or_else(|| missing("user_code"))?,
            // Early Microsoft answers said `verification_url`.
            verification_uri: text(&answer.json, "verification_uri")
                .or_else(|| text(&answer.json, "verification_url"))
                .ok_or_else(|| missing("verification_uri"))?,
            expires_in: number(&answer.json, "expires_in").unwrap_or(600),
            interval: number(&answer.json, "interval").unwrap_or(5).max(1),
        })
    }

    /// Asks once whether the user has approved the device (RFC 8628 §3.4, §3.5).
    pub fn poll_device(&self, device_code: &SecretString) -> Result<Poll, OAuthError> {
        let answer = self.token(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", device_code.expose_secret()),
        ])?;
        match error_code(&answer).as_deref() {
            Some("authorization_pending") => Ok(Poll::Pending),
            Some("slow_down") => Ok(Poll::SlowDown),
            _ => grant(&self.oauth.token_endpoint, answer).map(Poll::Granted),
        }
    }

    /// A token request with the client's identity (`client_secret_post`, RFC 6749 §2.3.1).
    fn token(&self, params: &[(&str, &str)]) -> Result<Answer, OAuthError> {
        let mut form: Vec<(&str, &str)> = params.to_vec();
        form.push(("client_id", &self.oauth.client_id));
        if let Some(secret) = self.client_secret {
            form.push(("client_secret", secret.expose_secret()));
        }
        post_form(
            &self.oauth.token_endpoint,
            &form,
            self.timeout,
            self.ca_file,
            &self.transcript,
        )
    }
}

/// The tokens of a successful answer, or what the endpoint refused.
fn grant(endpoint: &str, answer: Answer) -> Result<Grant, OAuthError> {
    if answer.status != 200 {
        return Err(refusal(endpoint, &answer));
    }
    let json = &answer.json;
    let token_type = text(json, "token_type");
    if !token_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(OAuthError::Endpoint {
            endpoint: endpoint.to_string(),
            reason: format!(
                "the token is not a bearer token (token_type {})",
                token_type.as_deref().unwrap_or("missing")
            ),
        });
    }
    let access = json
        .get("access_token")
        .and_then(|v| v.as_str())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::Endpoint {
            endpoint: endpoint.to_string(),
            reason: "the answer has no access_token".into(),
        })?;
    Ok(Grant {
        access_token: SecretString::from(access),
        lifetime: number(json, "expires_in").unwrap_or(DEFAULT_LIFETIME),
        refresh_token: json
            .get("refresh_token")
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
            .map(SecretString::from),
        scope: text(json, "scope"),
    })
}

/// An error answer (RFC 6749 §5.2).
fn refusal(endpoint: &str, answer: &Answer) -> OAuthError {
    match error_code(answer) {
        Some(error) => OAuthError::Refused {
            endpoint: endpoint.to_string(),
            error,
            description: text(&answer.json, "error_description")
                .map(|d| d.chars().take(300).collect()),
        },
        None => OAuthError::Endpoint {
            endpoint: endpoint.to_string(),
            reason: format!("HTTP {} without an OAuth error code", answer.status),
        },
    }
}

fn error_code(answer: &Answer) -> Option<String> {
    text(&answer.json, "error")
}

/// A text member of an answer, printable ([`crate::printable`]): the endpoint is a server
/// relayctl does not control, and what it says is shown, logged and put into notices. Tokens
/// are not read with this: they go back to servers as sent.
fn text(json: &serde_json::Value, key: &str) -> Option<String> {
    json.get(key)
        .and_then(|v| v.as_str())
        .map(crate::printable::clean)
}

/// A number that some providers send as a string (`"3599"`).
fn number(json: &serde_json::Value, key: &str) -> Option<u64> {
    match json.get(key)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, json: serde_json::Value) -> Answer {
        Answer { status, json }
    }

    #[test]
    fn grants_and_refusals() {
        let g = grant(
            "e",
            answer(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": "3599", "scope": "s"}),
            ),
        )
        .unwrap();
        assert_eq!(g.access_token.expose_secret(), "at");
        assert_eq!(g.lifetime, 3599);
        assert!(g.refresh_token.is_none());
        assert_eq!(g.scope.as_deref(), Some("s"));
        let no_type = grant("e", answer(200, json!({"access_token": "at"})));
        assert!(matches!(no_type, Err(OAuthError::Endpoint { .. })));
        match grant(
            "e",
            answer(
                400,
                json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
            ),
        ) {
            Err(OAuthError::Refused {
                error, description, ..
            }) => {
                assert_eq!(error, "invalid_grant");
                assert_eq!(
                    description.as_deref(),
                    Some("Token has been expired or revoked.")
                );
            }
            _ => panic!("not a refusal"),
        }
        assert!(matches!(
            grant("e", answer(502, json!({}))),
            Err(OAuthError::Endpoint { .. })
        ));
    }

    /// Issue 14: what an endpoint says is shown and logged, so its control characters go.
    #[test]
    fn refusals_and_scopes_are_printable() {
        let refusal = grant(
            "e",
            answer(
                400,
                json!({"error": "invalid_grant\u{1b}[2J", "error_description": "revoked\u{7}\u{9b}31m"}),
            ),
        );
        let Err(e @ OAuthError::Refused { .. }) = refusal else {
            panic!("not a refusal");
        };
        assert_eq!(
            e.to_string(),
            "e refused: invalid_grant\u{fffd}[2J (revoked\u{fffd}\u{fffd}31m)"
        );
        let g = grant(
            "e",
            answer(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "scope": "mail\u{1b}]0;x\u{7}"}),
            ),
        )
        .unwrap();
        assert_eq!(g.scope.as_deref(), Some("mail\u{fffd}]0;x\u{fffd}"));
    }
}
