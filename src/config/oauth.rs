//! The `[profiles.NAME.oauth]` table: where a profile gets its OAuth2 access tokens. A profile
//! with this table logs in with XOAUTH2 or OAUTHBEARER instead of a password; its secret store
//! holds the refresh token (and, for providers that require one, the client secret).

use serde::{Deserialize, Serialize};

use super::Preset;

/// OAuth2 endpoints and client of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth {
    /// The token endpoint (RFC 6749 §3.2), where refresh tokens become access tokens.
    pub token_endpoint: String,
    /// The device authorization endpoint (RFC 8628), for providers that allow the device flow
    /// for mail scopes (Microsoft).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_endpoint: Option<String>,
    /// The authorization endpoint (RFC 6749 §3.1), for the flow that opens a URL elsewhere and
    /// pastes the redirect back (Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The OAuth client registered with the provider (the user's own app registration).
    pub client_id: String,
    /// Space-separated scopes requested.
    pub scope: String,
    /// Redirect URI of the paste-back flow; default `http://localhost` (a loopback redirect,
    /// RFC 8252 §7.3, which a browser on another machine fails to open, leaving the code in its
    /// address bar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

/// The redirect URI used when the profile names none.
pub const DEFAULT_REDIRECT_URI: &str = "http://localhost";

impl OAuth {
    /// The redirect URI of the paste-back flow.
    pub fn redirect_uri(&self) -> &str {
        self.redirect_uri.as_deref().unwrap_or(DEFAULT_REDIRECT_URI)
    }

    /// Checks the endpoints and the client: endpoints must use https, except on this host.
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.trim().is_empty() {
            return Err("oauth.client_id is empty".into());
        }
        if self.scope.trim().is_empty() {
            return Err("oauth.scope is empty".into());
        }
        if self.device_endpoint.is_none() && self.authorization_endpoint.is_none() {
            return Err(
                "oauth needs a device_endpoint or an authorization_endpoint to sign in".into(),
            );
        }
        for (key, value) in [
            ("token_endpoint", Some(&self.token_endpoint)),
            ("device_endpoint", self.device_endpoint.as_ref()),
            (
                "authorization_endpoint",
                self.authorization_endpoint.as_ref(),
            ),
        ] {
            if let Some(url) = value {
                check_endpoint(url).map_err(|why| format!("oauth.{key} {url:?} {why}"))?;
            }
        }
        Ok(())
    }
}

/// An endpoint must be an https URL, or http on a loopback address (a local test or proxy):
/// tokens never cross a network in clear.
pub fn check_endpoint(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(&parsed) => Ok(()),
        "http" => Err("uses http; tokens only travel over https (http is allowed on 127.0.0.1, ::1 and localhost)".into()),
        other => Err(format!("has scheme {other}; use https")),
    }
}

/// Whether `url`'s host is this machine: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback_url(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A provider's OAuth2 endpoints, for `setup PRESET --oauth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub token_endpoint: String,
    pub device_endpoint: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub scope: &'static str,
    /// Whether the provider's token endpoint wants the client secret too.
    pub needs_client_secret: bool,
    /// Extra parameters of the authorization request.
    pub authorization_params: &'static [(&'static str, &'static str)],
    /// Where to register the OAuth client, for messages.
    pub registration: &'static str,
}

/// The OAuth2 endpoints of `preset`, for the providers that have them; `tenant` selects a
/// Microsoft Entra tenant (default `common`: any work, school or personal account).
pub fn provider(preset: Preset, tenant: Option<&str>) -> Option<Provider> {
    match preset {
        // Google's device flow does not allow the Gmail scope: the URL is opened elsewhere and
        // the redirect pasted back. `access_type=offline` asks for a refresh token, `prompt`
        // for a new one even when the account approved this client before.
        Preset::Gmail => Some(Provider {
            token_endpoint: "https://oauth2.googleapis.com/token".into(),
            device_endpoint: None,
            authorization_endpoint: Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
            scope: "https://mail.google.com/",
            needs_client_secret: true,
            authorization_params: &[("access_type", "offline"), ("prompt", "consent")],
            registration: "Google Cloud console > APIs & Services > Credentials > OAuth client ID (type: Desktop app)",
        }),
        Preset::Outlook => {
            let base = format!(
                "https://login.microsoftonline.com/{}/oauth2/v2.0",
                tenant.unwrap_or("common")
            );
            Some(Provider {
                token_endpoint: format!("{base}/token"),
                device_endpoint: Some(format!("{base}/devicecode")),
                authorization_endpoint: Some(format!("{base}/authorize")),
                scope: "https://outlook.office.com/SMTP.Send offline_access",
                needs_client_secret: false,
                authorization_params: &[],
                registration: "Microsoft Entra admin center > App registrations (public client flows allowed, API permission SMTP.Send)",
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_use_the_documented_endpoints() {
        let g = provider(Preset::Gmail, None).unwrap();
        assert_eq!(g.token_endpoint, "https://oauth2.googleapis.com/token");
        assert_eq!(g.device_endpoint, None);
        assert_eq!(g.scope, "https://mail.google.com/");
        let m = provider(Preset::Outlook, Some("contoso.onmicrosoft.com")).unwrap();
        assert_eq!(
            m.device_endpoint.as_deref(),
            Some(
                "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
            )
        );
        assert!(m.scope.contains("SMTP.Send") && m.scope.contains("offline_access"));
        assert_eq!(provider(Preset::Fastmail, None), None);
    }

    fn sample() -> OAuth {
        OAuth {
            token_endpoint: "https://login.example/token".into(),
            device_endpoint: Some("https://login.example/device".into()),
            authorization_endpoint: None,
            client_id: "abc".into(),
            scope: "mail offline_access".into(),
            redirect_uri: None,
        }
    }

    #[test]
    fn endpoints_need_https_except_on_loopback() {
        assert!(sample().validate().is_ok());
        for ok in [
            "http://127.0.0.1:8080/token",
            "http://[::1]/token",
            "http://localhost/t",
        ] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example/token",
            "ftp://x/y",
            "login.example/token",
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
        let mut o = sample();
        o.token_endpoint = "http://10.0.0.1/token".into();
        assert!(o.validate().unwrap_err().contains("token_endpoint"));
        o = sample();
        o.device_endpoint = None;
        assert!(o.validate().unwrap_err().contains("sign in"));
        o = sample();
        o.client_id = " ".into();
        assert!(o.validate().is_err());
    }
}
