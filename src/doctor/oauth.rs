//! `oauth.token`: for OAuth2 profiles, asks the token endpoint for a new access token with the
//! stored refresh token, and reports its lifetime and scopes. A refused refresh token means the
//! profile must sign in again.

use super::Check;
use crate::oauth::OAuthError;
use crate::options::Selected;
use crate::transcript::Transcript;

/// Runs the check when the profile uses OAuth2; others get nothing.
pub fn token(selected: &Selected, transcript: Transcript, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let name = &selected.name;
    let Some(oauth) = &p.oauth else {
        return;
    };
    let credentials = selected.credentials(transcript);
    let again = format!(
        "sign in again: `relayctl setup {} --oauth --name {name}` with the options used before",
        p.preset
    );
    let source = match credentials.token_source() {
        Ok(source) => source,
        Err(e) => {
            out.push(Check::fail("oauth.token", e.to_string(), again));
            return;
        }
    };
    match source.refresh() {
        Ok(token) => {
            let minutes = token.expires.saturating_sub(token.obtained) / 60;
            let granted: Vec<&str> = token
                .scope
                .as_deref()
                .map(|s| s.split_whitespace().collect())
                .unwrap_or_default();
            // offline_access only asks for a refresh token; it is not echoed as a scope.
            let missing: Vec<&str> = oauth
                .scope
                .split_whitespace()
                .filter(|s| *s != "offline_access")
                .filter(|s| token.scope.is_some() && !granted.contains(s))
                .collect();
            let summary = format!(
                "{} issued an access token valid for {minutes} minutes{}",
                oauth.token_endpoint,
                token
                    .scope
                    .as_deref()
                    .map(|s| format!(", scopes: {s}"))
                    .unwrap_or_default()
            );
            out.push(if !missing.is_empty() {
                Check::fail(
                    "oauth.token",
                    format!("{summary}; missing: {}", missing.join(" ")),
                    format!(
                        "the account did not grant {}: {again}, and approve every permission asked",
                        missing.join(" ")
                    ),
                )
            } else if minutes < 5 {
                Check::warn(
                    "oauth.token",
                    summary,
                    "tokens this short-lived mean a refresh before nearly every connection; check the provider's token policy",
                )
            } else {
                Check::pass("oauth.token", summary)
            });
        }
        Err(e @ OAuthError::Revoked { .. }) => {
            out.push(Check::fail("oauth.token", e.to_string(), again));
        }
        Err(e @ OAuthError::Refused { .. }) => {
            out.push(Check::fail(
                "oauth.token",
                e.to_string(),
                format!(
                    "check oauth.client_id (and the client secret in the secret store) in [profiles.{name}] against the app registered with the provider"
                ),
            ));
        }
        Err(e @ OAuthError::Secret(_)) => {
            out.push(Check::fail(
                "oauth.token",
                format!("the refresh token cannot be read: {e}"),
                again,
            ));
        }
        Err(e) => {
            out.push(Check::fail(
                "oauth.token",
                e.to_string(),
                "check that this host reaches the token endpoint over https (proxy, firewall, DNS)",
            ));
        }
    }
}
