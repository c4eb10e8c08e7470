//! One relay profile: where to connect, how to secure the connection, who to log in as and where
//! the secret lives. A profile never holds the secret itself.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::presets::{DEFAULT_MAX_MESSAGE_SIZE, Preset};
use super::proxy::ProxyUrl;
use super::rate::{BRAKE_FACTOR, Brake, DEFAULT_BRAKE, DEFAULT_MAX_BURST, Rate};
use super::tls::{Fingerprint, TlsMode, TlsVersion};
use super::{AuthMechanism, ByteSize, ConfigError, OAuth};
use crate::secrets::SecretRef;

/// Seconds allowed for connecting and for each reply of the relay, unless the profile says otherwise.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;

/// Connections a queue pass opens to one relay at most, by default (see
/// [`Profile::connections`]), and the most a profile may allow.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4;
const MAX_CONNECTIONS: u32 = 20;

/// A relay profile as stored in `[profiles.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The preset the profile was made from.
    pub preset: Preset,
    /// Relay host name or IP address.
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// Name to verify the relay's certificate against when `host` is an IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    /// Extra CA certificates (PEM) trusted for this relay, besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// SHA-256 fingerprints of the relay's certificate or its public key; with one, the
    /// certificate must match a pin and is not checked against CAs or for its name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tls_fingerprint: Vec<Fingerprint>,
    /// The oldest TLS version accepted; default 1.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_min_version: Option<TlsVersion>,
    /// The local address outgoing connections come from (relays that allow-list by IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<std::net::IpAddr>,
    /// The egress proxy the relay is reached through (`socks5://`, `socks5h://`, `http://`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyUrl>,
    /// Where the proxy's password lives, for a `proxy` URL with a user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_secret: Option<SecretRef>,
    /// TLS client certificate (PEM) presented to the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Private key (PEM) of `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
    /// SMTP AUTH login; no login means no AUTH (except with `auth = "external"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The one login mechanism to use; default: the strongest the relay offers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthMechanism>,
    /// Envelope sender and default From address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Where the password lives (never the password itself); with `oauth`, the refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<SecretRef>,
    /// Variables of relayctl's environment handed to the password command besides the usual
    /// ones (`PATH`, `HOME`, `LANG`, ...; see [`crate::child`]): `["AWS_PROFILE", "VAULT_ADDR"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_env: Vec<String>,
    /// Log in with OAuth2 access tokens (XOAUTH2, OAUTHBEARER) from these endpoints instead of
    /// a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuth>,
    /// Name announced in EHLO; default: this host's fully qualified name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ehlo_name: Option<String>,
    /// Seconds for connecting and for each reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Largest message this relay accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_size: Option<ByteSize>,
    /// Whether callers may choose the envelope sender (`sendmail -f`) and keep their own From.
    /// Off by default: most relays accept only the account's own (verified) addresses.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_from_override: bool,
    /// Whether addresses at bare host names (`root@vm123`, `ops@mailhost`, `a@localhost`) may be
    /// used as sender, From and recipients. Off by default: only an internal relay that knows
    /// those names can deliver them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_bare_hostnames: bool,
    /// Reply-To added when relayctl replaces a caller's From and the message has no Reply-To.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// Profiles tried in order when this relay fails temporarily.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback: Vec<String>,
    /// Where notices about this profile's failed, delayed or held mail go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// Most messages sent through this relay (`"60/hour"`, `"30/minute"`, `"500/day"`), shared
    /// by every relayctl process of the host. Mail over the limit waits in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<Rate>,
    /// Messages that may leave at once after a quiet spell; default: the limit's count, at most
    /// [`DEFAULT_MAX_BURST`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_burst: Option<u32>,
    /// Connections a queue pass may open to this relay at once, each streaming its messages;
    /// default: [`DEFAULT_MAX_CONNECTIONS`], or 1 with a `rate_limit` (the limit holds across
    /// connections either way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Submissions for this profile that freeze its delivery (`"600/hour"`, or `"off"`);
    /// default: ten times the hourly equivalent of `rate_limit`, else [`DEFAULT_BRAKE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake: Option<Brake>,
    /// Submissions for this profile by one local user (uid) that freeze its delivery
    /// (`"100/10m"`, or `"off"`); default: off for root, a quarter of `brake` for users who
    /// submit through the maildrop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brake_per_caller: Option<Brake>,
    /// Local users (names or uids) who may submit through this profile from the maildrop;
    /// with `groups`, a user in either list may. Default (neither set): every user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Local groups (names or gids) whose members may submit through this profile from the
    /// maildrop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

impl Profile {
    /// Whether this profile logs in to the relay: with a user, or with its client certificate.
    pub fn authenticates(&self) -> bool {
        self.user.is_some() || self.logs_in_with_certificate()
    }

    /// Whether the login is the TLS client certificate (`auth = "external"`): no secret.
    pub fn logs_in_with_certificate(&self) -> bool {
        self.auth == Some(AuthMechanism::External)
    }

    /// The timeout for connecting and for each reply.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// The largest message relayctl hands to this relay.
    pub fn max_message_size(&self) -> ByteSize {
        self.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// How many connections a queue pass may open to this relay at once.
    pub fn connections(&self) -> usize {
        let default = match self.rate_limit {
            Some(_) => 1,
            None => DEFAULT_MAX_CONNECTIONS,
        };
        self.max_connections.map_or(default, |n| n as usize)
    }

    /// The token bucket of `rate_limit`: the rate and the burst (the bucket's size).
    pub fn bucket(&self) -> Option<(Rate, u32)> {
        let rate = self.rate_limit?;
        let burst = self
            .rate_burst
            .unwrap_or(rate.count.min(DEFAULT_MAX_BURST))
            .max(1);
        Some((rate, burst))
    }

    /// The spew brake on this profile's submissions; `None` when it is off.
    pub fn brake(&self) -> Option<Rate> {
        match self.brake {
            Some(Brake::Off) => None,
            Some(Brake::Above(rate)) => Some(rate),
            None => Some(match self.rate_limit {
                Some(limit) => Rate {
                    count: u32::try_from(limit.hourly().saturating_mul(BRAKE_FACTOR))
                        .unwrap_or(u32::MAX),
                    period: 3600,
                },
                None => DEFAULT_BRAKE,
            }),
        }
    }

    /// The spew brake on one local user's submissions for this profile; `None` when it is off.
    /// Unset, it is on for users who submit through the maildrop (`through_maildrop`): a quarter
    /// of [`Profile::brake`], so that one runaway account is stopped before the whole profile's
    /// brake would be.
    pub fn brake_per_caller(&self, through_maildrop: bool) -> Option<Rate> {
        match self.brake_per_caller {
            Some(Brake::Above(rate)) => Some(rate),
            Some(Brake::Off) => None,
            None if through_maildrop => self.brake().map(|b| Rate {
                count: (b.count / 4).max(1),
                period: b.period,
            }),
            None => None,
        }
    }

    /// Whether `user` may submit through this profile from the maildrop: every user when
    /// neither `users` nor `groups` is set, else those they list.
    pub fn admits(&self, user: &crate::users::LocalUser) -> bool {
        if self.users.is_none() && self.groups.is_none() {
            return true;
        }
        user.listed_in(
            self.users.as_deref().unwrap_or_default(),
            self.groups.as_deref().unwrap_or_default(),
        )
    }

    /// Checks what no relay could work with, so that mistakes surface at `setup` and at load time
    /// rather than in the middle of a delivery.
    pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidProfile {
            name: name.to_string(),
            reason,
        };
        if self.host.trim().is_empty() {
            return Err(invalid("no relay host (set `host`)".into()));
        }
        if self.port == 0 {
            return Err(invalid("port 0 is not a port".into()));
        }
        if self.authenticates() {
            if matches!(self.tls, TlsMode::None | TlsMode::Opportunistic) {
                return Err(invalid(format!(
                    "tls = \"{}\" with a user would risk sending the password in clear; use starttls or tls",
                    self.tls
                )));
            }
            if self.secret.is_none() && !self.logs_in_with_certificate() {
                return Err(invalid(
                    "a user is set but no secret store (set `secret`, e.g. \"file\")".into(),
                ));
            }
        }
        if let Some(oauth) = &self.oauth {
            if !self.authenticates() {
                return Err(invalid(
                    "oauth needs the account's login name (set `user`)".into(),
                ));
            }
            oauth.validate().map_err(invalid)?;
        }
        if !self.secret_env.is_empty() && !matches!(self.secret, Some(SecretRef::Command(_))) {
            return Err(invalid(
                "secret_env names variables for a password command; the secret is not `command:...`"
                    .into(),
            ));
        }
        if let Some(bad) = self
            .secret_env
            .iter()
            .find(|v| v.is_empty() || v.contains(['=', '\0']) || v.starts_with("RELAYCTL_PASSWORD"))
        {
            return Err(invalid(format!(
                "secret_env: {bad:?} is not a variable a password command may get (a name without `=`, not RELAYCTL_PASSWORD*)"
            )));
        }
        if let Some(n) = self.max_connections
            && !(1..=MAX_CONNECTIONS).contains(&n)
        {
            return Err(invalid(format!(
                "max_connections = {n}: between 1 and {MAX_CONNECTIONS}"
            )));
        }
        if self.rate_burst.is_some() && self.rate_limit.is_none() {
            return Err(invalid("rate_burst needs a rate_limit".into()));
        }
        if self.rate_burst == Some(0) {
            return Err(invalid(
                "rate_burst = 0 would never send; remove rate_limit to have no limit".into(),
            ));
        }
        if self.proxy.as_ref().is_some_and(|p| p.user.is_some()) != self.proxy_secret.is_some() {
            return Err(invalid(
                "a proxy user and proxy_secret go together (the user in the proxy URL, its password in proxy_secret)".into(),
            ));
        }
        if !self.tls_fingerprint.is_empty() && self.tls == TlsMode::None {
            return Err(invalid(
                "tls_fingerprint pins the relay's certificate, but tls = \"none\" uses no TLS"
                    .into(),
            ));
        }
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(invalid("client_cert and client_key go together".into()));
        }
        match self.auth {
            Some(AuthMechanism::External) if self.client_cert.is_none() => {
                return Err(invalid(
                    "auth = \"external\" logs in with the TLS client certificate: set client_cert and client_key".into(),
                ));
            }
            Some(auth)
                if auth != AuthMechanism::External
                    && auth.takes_token() != self.oauth.is_some() =>
            {
                return Err(invalid(if self.oauth.is_some() {
                    format!(
                        "auth = \"{auth}\" needs a password, but the profile logs in with OAuth2 (use xoauth2 or oauthbearer)"
                    )
                } else {
                    format!(
                        "auth = \"{auth}\" logs in with an OAuth2 token: the profile needs [profiles.{name}.oauth]"
                    )
                }));
            }
            _ => {}
        }
        for (key, value) in [
            ("from", &self.from),
            ("reply_to", &self.reply_to),
            ("notify", &self.notify),
        ] {
            if let Some(addr) = value
                && !crate::message::is_plausible_address(addr)
            {
                return Err(invalid(format!("`{key}` {addr:?} is not an email address")));
            }
        }
        if let Some(from) = &self.from
            && !self.allow_bare_hostnames
            && let Some(domain) = crate::message::bare_hostname(from)
        {
            return Err(invalid(format!(
                "`from` {from:?} is at the bare host name {domain:?}, which relays refuse or misroute; {}",
                crate::message::BARE_HOSTNAME_FIX
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_display() {
        for (text, count, period, shown) in [
            ("60/hour", 60, 3600, "60/hour"),
            ("30/minute", 30, 60, "30/minute"),
            ("500/day", 500, 86400, "500/day"),
            ("100/10m", 100, 600, "100/10m"),
            (" 5 / 1h ", 5, 3600, "5/hour"),
            ("2/90s", 2, 90, "2/90s"),
            ("60/h", 60, 3600, "60/hour"),
            ("500/d", 500, 86400, "500/day"),
        ] {
            let rate: Rate = text.parse().unwrap();
            assert_eq!((rate.count, rate.period), (count, period), "{text}");
            assert_eq!(rate.to_string(), shown);
        }
        for bad in [
            "60",
            "60/",
            "60/fortnight",
            "x/hour",
            "0/hour",
            "5/0s",
            "-1/hour",
            "5/x",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert_eq!("off".parse(), Ok(Brake::Off));
        assert!(
            "sometimes"
                .parse::<Brake>()
                .unwrap_err()
                .contains("\"off\"")
        );
    }

    /// A profile from TOML lines, validated as `uni`.
    fn validated(lines: &str) -> Result<Profile, String> {
        let text = format!(
            "preset = \"institutional\"\nhost = \"smtp.uni.example\"\nport = 465\ntls = \"tls\"\n{lines}"
        );
        let profile: Profile = toml::from_str(&text).map_err(|e| e.to_string())?;
        profile.validate("uni").map_err(|e| e.to_string())?;
        Ok(profile)
    }

    #[test]
    fn auth_pins_parse_and_fit_the_secret() {
        let login = "user = \"jdoe\"\nsecret = \"file\"\n";
        for name in [
            "scram-sha-256",
            "scram-sha-256-plus",
            "scram-sha-1",
            "scram-sha-1-plus",
            "cram-md5",
            "plain",
            "login",
        ] {
            let p = validated(&format!("{login}auth = \"{name}\"")).unwrap();
            assert_eq!(p.auth.map(|a| a.name()), Some(name));
        }
        assert!(validated(&format!("{login}auth = \"digest-md5\"")).is_err());
        let err = validated(&format!("{login}auth = \"xoauth2\"")).unwrap_err();
        assert!(err.contains("OAuth2"), "{err}");
        let oauth = "[oauth]\ntoken_endpoint = \"https://t.test/token\"\ndevice_endpoint = \"https://t.test/device\"\nclient_id = \"c\"\nscope = \"s\"\n";
        let err = validated(&format!("{login}auth = \"scram-sha-256\"\n{oauth}")).unwrap_err();
        assert!(err.contains("needs a password"), "{err}");
        assert!(validated(&format!("{login}auth = \"oauthbearer\"\n{oauth}")).is_ok());
    }

    #[test]
    fn a_certificate_login_needs_the_certificate_and_tls_but_no_secret() {
        let cert = "client_cert = \"/c.pem\"\nclient_key = \"/c.key\"\n";
        let p = validated(&format!("{cert}auth = \"external\"")).unwrap();
        assert!(p.authenticates() && p.logs_in_with_certificate());
        let err = validated("auth = \"external\"").unwrap_err();
        assert!(err.contains("set client_cert and client_key"), "{err}");
        let mut clear = p.clone();
        clear.tls = TlsMode::None;
        let err = clear.validate("uni").unwrap_err().to_string();
        assert!(
            err.contains("tls = \"none\""),
            "no certificate login without TLS: {err}"
        );
    }

    #[test]
    fn hourly_equivalents_round_up() {
        let r = |s: &str| s.parse::<Rate>().unwrap();
        assert_eq!(r("60/hour").hourly(), 60);
        assert_eq!(r("500/day").hourly(), 21);
        assert_eq!(r("30/minute").hourly(), 1800);
        assert_eq!(r("60/hour").interval(), 60);
        assert_eq!(r("30/minute").interval(), 2);
        assert_eq!(r("7/1s").interval(), 1);
    }
}
