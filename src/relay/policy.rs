//! The relay policy: how a profile's relay must be spoken to, decided in one place for delivery
//! ([`super::Session`]) and for `doctor`, so that a doctor pass means delivery would pass and a
//! doctor failure is the failure delivery would meet.
//!
//! It answers: TLS how (implicit, STARTTLS, refuse without it, or clear), with which
//! certificate checks (the system's roots or the profile's `ca_file`, the name to verify, the
//! client certificate), which login mechanism given the relay's offer, whether credentials may
//! go out on a connection, whether a refused token earns one retry with a fresh one, what to
//! tell the user when the login cannot work, and which failures to open a session are mistakes
//! in the profile's setup ([`SetupFault`]) with the one fix doctor and delivery both give.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::certificate::Refusal;
use super::sasl::{Mechanism, Secret};
use super::smtp::{Reply, SmtpError, answers_tls};
use super::{DeliveryError, tls};
use crate::config::{AuthMechanism, Preset, Profile, TlsMode, TlsVersion};

/// The TLS configuration (trust roots, client certificate) and the name the relay's
/// certificate must carry.
pub type TlsParameters = (Arc<ClientConfig>, ServerName<'static>);

/// The mechanisms relayctl logs in with, strongest first, for each kind of secret. With a
/// password: SCRAM bound to the TLS channel (a man in the middle with a trusted certificate
/// can neither learn the password nor pass the login on), then SCRAM (the password never
/// crosses the wire, and the relay proves it knows it), SHA-256 before SHA-1; then PLAIN and
/// LOGIN, which send the password itself, always over TLS (PLAIN first: one round trip instead
/// of three); CRAM-MD5 last, for appliances that offer nothing else. A password only ever goes
/// over TLS, where CRAM-MD5 hides nothing PLAIN shows, and relays often list CRAM-MD5 for every
/// account while they can check it only for the few whose password they keep in clear: taken
/// before PLAIN it would turn working logins into refusals. OAUTHBEARER before XOAUTH2: the standard (RFC 7628) before its
/// predecessor.
const PASSWORD_MECHANISMS: &[Mechanism] = &[
    Mechanism::ScramSha256Plus,
    Mechanism::ScramSha1Plus,
    Mechanism::ScramSha256,
    Mechanism::ScramSha1,
    Mechanism::Plain,
    Mechanism::Login,
    Mechanism::CramMd5,
];
const TOKEN_MECHANISMS: &[Mechanism] = &[Mechanism::OAuthBearer, Mechanism::XOAuth2];

/// What `user` stands for in messages about a certificate login without one.
const CERTIFICATE_LOGIN: &str = "the TLS client certificate";

/// The mechanisms a pinned `auth` allows: the one named, and for a SCRAM family its `-PLUS`
/// form too, which only adds the channel binding.
fn pinned(auth: AuthMechanism) -> &'static [Mechanism] {
    match auth {
        AuthMechanism::ScramSha256Plus => &[Mechanism::ScramSha256Plus],
        AuthMechanism::ScramSha256 => &[Mechanism::ScramSha256Plus, Mechanism::ScramSha256],
        AuthMechanism::ScramSha1Plus => &[Mechanism::ScramSha1Plus],
        AuthMechanism::ScramSha1 => &[Mechanism::ScramSha1Plus, Mechanism::ScramSha1],
        AuthMechanism::CramMd5 => &[Mechanism::CramMd5],
        AuthMechanism::Plain => &[Mechanism::Plain],
        AuthMechanism::Login => &[Mechanism::Login],
        AuthMechanism::External => &[Mechanism::External],
        AuthMechanism::XOAuth2 => &[Mechanism::XOAuth2],
        AuthMechanism::OAuthBearer => &[Mechanism::OAuthBearer],
    }
}

/// What to do about TLS once the relay's (first) EHLO reply is known.
#[derive(Debug, Clone)]
pub enum TlsStep {
    /// TLS has been on since the first byte (`tls = "tls"`).
    Established,
    /// Send STARTTLS with these parameters, then EHLO again.
    Starttls(TlsParameters),
    /// The profile demands STARTTLS and the relay does not offer it (an attacker may have
    /// stripped it): stop before anything else, and before any secret is read.
    Refuse,
    /// Go on without TLS, as the profile allows (`opportunistic` without an offer, `none`).
    Clear,
}

/// The port that speaks TLS from the first byte (RFC 8314 "submissions").
const IMPLICIT_TLS_PORT: u16 = 465;

/// The longest wait for a relay to answer a TLS ClientHello ([`answers_tls`]): a TLS server
/// answers within a round trip.
const TLS_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A mistake in a profile's setup that the relay's answer shows: retrying cannot help, so
/// delivery holds the profile's mail with [`SetupFault::fix`], and `doctor` fails the check
/// [`SetupFault::check`] with the same fix. Failures that pass by themselves are not among
/// them: a refused or timed-out connection, a resolver that does not answer, an expired
/// certificate (its relay's admin renews it) are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupFault {
    /// `tls = "tls"` on a port that speaks plain SMTP first (587, 25): the TLS handshake met
    /// the relay's greeting.
    TlsOnPlainPort,
    /// STARTTLS or no TLS on a port that speaks TLS from the first byte (465): the greeting
    /// never came (or was not SMTP), and the port answers a TLS ClientHello.
    PlainOnTlsPort,
    /// The relay's certificate chain does not lead to a CA this host trusts: self-signed, a
    /// private CA, or an incomplete chain.
    UntrustedCertificate,
    /// The relay's certificate does not carry the name relayctl verifies (`host` or `tls_name`).
    WrongName,
    /// The relay host does not exist in DNS (NXDOMAIN, or no address).
    NoSuchHost,
    /// The profile demands TLS 1.3 (`tls_min_version`) and the relay speaks only older
    /// versions.
    OldTls,
}

impl SetupFault {
    /// What is wrong with `profile`, in words.
    pub fn problem(self, profile: &Profile) -> String {
        let port = profile.port;
        match self {
            SetupFault::TlsOnPlainPort => format!(
                "port {port} speaks plain SMTP first, but the profile starts TLS at once (tls = \"tls\")"
            ),
            SetupFault::PlainOnTlsPort => format!(
                "port {port} speaks TLS from the first byte, but the profile waits for an SMTP greeting (tls = \"{}\")",
                profile.tls
            ),
            SetupFault::UntrustedCertificate => {
                "the relay's certificate chain does not lead to a CA this host trusts: self-signed or a private CA".into()
            }
            SetupFault::WrongName => format!(
                "the relay's certificate is not valid for {}",
                profile.tls_name.as_deref().unwrap_or(&profile.host)
            ),
            SetupFault::NoSuchHost => format!(
                "the relay host {} does not exist in DNS",
                profile.host
            ),
            SetupFault::OldTls => {
                "the relay does not speak TLS 1.3, which the profile demands (tls_min_version = \"1.3\")".into()
            }
        }
    }

    /// The fix, one line, naming the profile `name`'s setting and `setup`'s flag for it.
    pub fn fix(self, name: &str) -> String {
        match self {
            SetupFault::TlsOnPlainPort => format!(
                "set tls = \"starttls\" in [profiles.{name}] (setup --tls starttls), or use the relay's port 465 with tls = \"tls\""
            ),
            SetupFault::PlainOnTlsPort => format!(
                "set tls = \"tls\" in [profiles.{name}] (setup --tls tls), or use the relay's port 587 with tls = \"starttls\""
            ),
            SetupFault::UntrustedCertificate => format!(
                "for a private CA add ca_file = \"/path/ca.pem\" to [profiles.{name}] (setup --ca-file); for a self-signed certificate pin it (setup --trust-on-first-use, or tls_fingerprint); otherwise the relay sends an incomplete chain: tell its admin"
            ),
            SetupFault::WrongName => format!(
                "set host to a name the certificate carries, or tls_name = \"NAME\" in [profiles.{name}] (setup --tls-name) when host is an address"
            ),
            SetupFault::NoSuchHost => format!(
                "check host in [profiles.{name}] (setup --host); for a name only an internal DNS knows, check /etc/resolv.conf"
            ),
            SetupFault::OldTls => format!(
                "set tls_min_version = \"1.2\" in [profiles.{name}] (setup --tls-min-version 1.2), or ask the relay's admin to enable TLS 1.3"
            ),
        }
    }

    /// The `doctor` check that reports it.
    pub fn check(self) -> &'static str {
        match self {
            SetupFault::TlsOnPlainPort | SetupFault::OldTls => "tls.handshake",
            SetupFault::PlainOnTlsPort => "smtp.greeting",
            SetupFault::UntrustedCertificate | SetupFault::WrongName => "tls.certificate",
            SetupFault::NoSuchHost => "dns.relay",
        }
    }
}

/// The policy for one profile.
pub struct Policy<'p> {
    profile: &'p Profile,
    /// `None` for `tls = "none"`: no TLS is ever started, so none is prepared.
    tls: Option<TlsParameters>,
}

impl<'p> Policy<'p> {
    /// The policy for `profile`. Fails when its TLS settings cannot be used (an unreadable CA
    /// file or client certificate, a host that cannot be a certificate name).
    pub fn new(profile: &'p Profile) -> Result<Self, DeliveryError> {
        let tls = match profile.tls {
            TlsMode::None => None,
            _ => Some(tls::parameters(profile)?),
        };
        Ok(Policy { profile, tls })
    }

    /// The TLS parameters to start TLS with before the greeting (implicit TLS, port 465).
    pub fn implicit_tls(&self) -> Option<TlsParameters> {
        match self.profile.tls {
            TlsMode::Tls => self.tls.clone(),
            _ => None,
        }
    }

    /// What to do about TLS after the first EHLO, given whether the relay offers STARTTLS.
    pub fn tls_step(&self, offers_starttls: bool) -> TlsStep {
        match (self.profile.tls, &self.tls) {
            (TlsMode::Tls, _) => TlsStep::Established,
            (TlsMode::Starttls | TlsMode::Opportunistic, Some(params)) if offers_starttls => {
                TlsStep::Starttls(params.clone())
            }
            (TlsMode::Starttls, _) => TlsStep::Refuse,
            (TlsMode::Opportunistic | TlsMode::None, _) => TlsStep::Clear,
        }
    }

    /// The login name, when the profile logs in; a certificate login without `user` is named
    /// by what it logs in with.
    pub fn user(&self) -> Option<&'p str> {
        match self.profile.user.as_deref() {
            None if self.profile.logs_in_with_certificate() => Some(CERTIFICATE_LOGIN),
            user => user,
        }
    }

    /// Whether credentials may be sent on a connection: only an encrypted one, whatever the
    /// profile says (the config loader refuses a login without TLS; this holds all the same).
    pub fn may_send_credentials(&self, encrypted: bool) -> bool {
        encrypted
    }

    /// What the profile logs in with.
    pub fn secret(&self) -> Secret {
        if self.profile.logs_in_with_certificate() {
            Secret::Certificate
        } else if self.profile.oauth.is_some() {
            Secret::Token
        } else {
            Secret::Password
        }
    }

    /// The mechanisms this profile can log in with, most preferred first: the pinned one
    /// (`auth`), or every one for its kind of secret.
    pub fn mechanisms(&self) -> &'static [Mechanism] {
        match (self.profile.auth, self.secret()) {
            (Some(auth), _) => pinned(auth),
            (None, Secret::Password) => PASSWORD_MECHANISMS,
            (None, Secret::Token) => TOKEN_MECHANISMS,
            (None, Secret::Certificate) => &[Mechanism::External],
        }
    }

    /// The mechanism to log in with, given the relay's offer (EHLO's AUTH keyword, upper
    /// case) and whether the connection has a channel binding (`-PLUS` needs one); `None` when
    /// it offers none this profile can use. Never a weaker one than a pinned `auth` allows.
    pub fn mechanism(&self, offered: &[String], can_bind: bool) -> Option<Mechanism> {
        self.mechanisms()
            .iter()
            .copied()
            .filter(|m| can_bind || !m.binds_channel())
            .find(|m| offered.iter().any(|o| o == m.name()))
    }

    /// Whether the relay takes the TLS client certificate itself as the login: a certificate
    /// login (`auth = "external"`) at a relay that offers no AUTH at all (Postfix's
    /// `permit_tls_clientcerts`). A relay that offers AUTH without EXTERNAL does not.
    pub fn certificate_is_the_login(&self, offered: &[String]) -> bool {
        self.secret() == Secret::Certificate && offered.is_empty()
    }

    /// The mechanisms this profile can use, for messages (`PLAIN, LOGIN` with `", "`).
    pub fn mechanism_names(&self, separator: &str) -> String {
        let names: Vec<&str> = self.mechanisms().iter().map(|m| m.name()).collect();
        names.join(separator)
    }

    /// Whether to log in again with a fresh token after the relay refused `refusal` to a token
    /// that was `fresh` (just issued) or not (cached). A cached token the relay refuses for
    /// good may have been revoked, or expired early by the provider's clock: one fresh token is
    /// worth trying. A fresh one refused would be refused again, and a temporary refusal is not
    /// about the token.
    pub fn retry_with_fresh_token(&self, refusal: &Reply, fresh: bool) -> bool {
        self.secret() == Secret::Token && refusal.is_permanent() && !fresh
    }

    /// The mistake in the profile's setup that `e`, a failure to open a session (resolving,
    /// connecting, the greeting, TLS), shows; `None` when it shows none. A port 465 that stays
    /// silent where a greeting was due, or a greeting that is not SMTP, is asked whether it
    /// speaks TLS ([`answers_tls`], one more connection): a relay that is merely silent must be
    /// retried, not held. Other ports are not asked: a relay that greets late (a spam filter's
    /// greeting pause) would count the ClientHello against this host.
    pub fn setup_fault(&self, e: &SmtpError) -> Option<SetupFault> {
        let p = self.profile;
        match e {
            SmtpError::NoSuchHost { .. } => Some(SetupFault::NoSuchHost),
            // The peer's first bytes were not a TLS record: an SMTP greeting.
            SmtpError::Tls {
                stage: "connect",
                error: Some(rustls::Error::InvalidMessage(_)),
                ..
            } if p.tls == TlsMode::Tls => Some(SetupFault::TlsOnPlainPort),
            // A relay without TLS 1.3 answers a ClientHello offering only 1.3 so.
            SmtpError::Tls {
                error:
                    Some(
                        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)
                        | rustls::Error::PeerIncompatible(_),
                    ),
                ..
            } if p.tls_min_version == Some(TlsVersion::Tls13) => Some(SetupFault::OldTls),
            SmtpError::Tls {
                error: Some(error), ..
            } => match Refusal::of(error)? {
                Refusal::Untrusted => Some(SetupFault::UntrustedCertificate),
                Refusal::WrongName => Some(SetupFault::WrongName),
                Refusal::Expired | Refusal::NotYetValid | Refusal::Other => None,
            },
            SmtpError::Timeout { stage: "greeting" } if p.port != IMPLICIT_TLS_PORT => None,
            SmtpError::Timeout { stage: "greeting" }
            | SmtpError::Protocol {
                stage: "greeting", ..
            } if p.tls != TlsMode::Tls
                && p.proxy.is_none()
                && answers_tls(
                    &p.host,
                    p.port,
                    p.source_address,
                    p.timeout().min(TLS_PROBE_TIMEOUT),
                ) =>
            {
                Some(SetupFault::PlainOnTlsPort)
            }
            _ => None,
        }
    }

    /// What to do when the relay refuses the login for good.
    pub fn refused_login_hint(&self) -> &'static str {
        match self.secret() {
            Secret::Certificate => {
                "the relay does not take this client certificate: ask its admin to allow it (Postfix: relay_clientcerts or the CA in smtpd_tls_CAfile)"
            }
            Secret::Password => self.profile.preset.defaults(None).password_hint,
            Secret::Token => {
                "the relay refused a fresh OAuth2 token: check that the account may send by SMTP (Microsoft 365: Authenticated SMTP enabled for the mailbox) and that the login name is the account the token was issued for"
            }
        }
    }

    /// What to do when the relay offers no mechanism this profile can use (`offered`: what it
    /// does offer, perhaps nothing).
    pub fn no_mechanism_hint(&self, offered: &[String]) -> String {
        if let Some(auth) = self.profile.auth {
            return format!(
                "the profile allows only {} (auth = \"{auth}\"): ask the relay's admin to offer it, or remove auth to take the strongest the relay offers",
                self.mechanism_names(" or ")
            );
        }
        match (self.profile.preset, offered.is_empty(), self.secret()) {
            (Preset::Outlook, true, _) => {
                "Microsoft 365 offers AUTH only when SMTP AUTH is enabled for the tenant: an admin must enable Authenticated SMTP".into()
            }
            (Preset::Outlook, false, _) => {
                "Microsoft 365 has basic SMTP AUTH disabled for this tenant: an admin must enable Authenticated SMTP for the mailbox".into()
            }
            (_, true, _) => {
                "this port takes mail without login: use the relay's submission port (587 or 465), or remove user from the profile if the relay accepts this host's address".into()
            }
            (_, false, Secret::Password) => {
                "ask the relay's admin to allow SCRAM-SHA-256, PLAIN or LOGIN over TLS, or use an app password where the provider has them".into()
            }
            (_, false, Secret::Certificate) => {
                "the relay does not offer AUTH EXTERNAL: ask its admin to take the client certificate".into()
            }
            (_, false, Secret::Token) => format!(
                "the relay takes no OAuth2 token here: ask its admin to allow {}, or set the profile up with a password (`relayctl setup` without --oauth)",
                self.mechanism_names(" or ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::relay::certificate::tests::ca_file;

    /// A profile for relay.test that trusts the test certificate (so that no system store is
    /// needed), with a login, and OAuth2 when `oauth`.
    fn profile(tls: TlsMode, oauth: bool) -> Profile {
        let ca = ca_file();
        let oauth = if oauth {
            "[oauth]\ntoken_endpoint = \"https://t.test/token\"\nclient_id = \"c\"\nscope = \"s\"\n"
        } else {
            ""
        };
        let text = format!(
            "preset = \"institutional\"\nhost = \"relay.test\"\nport = 587\ntls = \"{tls}\"\nuser = \"jdoe@relay.test\"\nca_file = \"{}\"\n{oauth}",
            ca.display()
        );
        toml::from_str(&text).unwrap()
    }

    fn offers(list: &[&str]) -> Vec<String> {
        list.iter().map(|m| m.to_string()).collect()
    }

    /// Every mode against a relay with and without STARTTLS.
    #[test]
    fn tls_decisions() {
        let step = |mode, offered| {
            let p = profile(mode, false);
            let policy = Policy::new(&p).unwrap();
            match policy.tls_step(offered) {
                TlsStep::Established => "established",
                TlsStep::Starttls(_) => "starttls",
                TlsStep::Refuse => "refuse",
                TlsStep::Clear => "clear",
            }
        };
        let table = [
            (TlsMode::Tls, true, "established"),
            (TlsMode::Tls, false, "established"),
            (TlsMode::Starttls, true, "starttls"),
            (TlsMode::Starttls, false, "refuse"),
            (TlsMode::Opportunistic, true, "starttls"),
            (TlsMode::Opportunistic, false, "clear"),
            (TlsMode::None, true, "clear"),
            (TlsMode::None, false, "clear"),
        ];
        for (mode, offered, expected) in table {
            assert_eq!(step(mode, offered), expected, "{mode} offered={offered}");
        }
        let implicit = |mode| {
            let p = profile(mode, false);
            Policy::new(&p).unwrap().implicit_tls().is_some()
        };
        assert!(implicit(TlsMode::Tls));
        assert!(!implicit(TlsMode::Starttls));
        assert!(!implicit(TlsMode::None));
    }

    #[test]
    fn an_unusable_tls_setting_fails_the_policy() {
        let mut p = profile(TlsMode::Starttls, false);
        p.ca_file = Some("/nonexistent/ca.pem".into());
        let err = Policy::new(&p).err().expect("an unreadable CA file");
        assert!(err.to_string().contains("cannot read CA file"), "{err}");
        // Without TLS nothing is prepared, so nothing can fail.
        p.tls = TlsMode::None;
        assert!(Policy::new(&p).is_ok());
    }

    #[test]
    fn credentials_go_out_only_encrypted() {
        let p = profile(TlsMode::Starttls, false);
        let policy = Policy::new(&p).unwrap();
        assert!(policy.may_send_credentials(true));
        assert!(!policy.may_send_credentials(false));
    }

    #[test]
    fn mechanism_choice_follows_the_secret_and_the_preference() {
        let password = profile(TlsMode::Starttls, false);
        let password = Policy::new(&password).unwrap();
        let token = profile(TlsMode::Starttls, true);
        let token = Policy::new(&token).unwrap();
        let table: [(&[&str], Option<Mechanism>, Option<Mechanism>); 9] = [
            (&["LOGIN", "PLAIN"], Some(Mechanism::Plain), None),
            (&["LOGIN", "CRAM-MD5"], Some(Mechanism::Login), None),
            (&["CRAM-MD5"], Some(Mechanism::CramMd5), None),
            (
                &["PLAIN", "XOAUTH2", "OAUTHBEARER"],
                Some(Mechanism::Plain),
                Some(Mechanism::OAuthBearer),
            ),
            (&["XOAUTH2"], None, Some(Mechanism::XOAuth2)),
            (
                &["PLAIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"],
                Some(Mechanism::ScramSha256),
                None,
            ),
            (
                &["SCRAM-SHA-256", "SCRAM-SHA-1-PLUS"],
                Some(Mechanism::ScramSha1Plus),
                None,
            ),
            (&["SCRAM-SHA-1", "LOGIN"], Some(Mechanism::ScramSha1), None),
            (&[], None, None),
        ];
        for (offered, with_password, with_token) in table {
            let offered = offers(offered);
            assert_eq!(
                password.mechanism(&offered, true),
                with_password,
                "{offered:?}"
            );
            assert_eq!(token.mechanism(&offered, true), with_token, "{offered:?}");
        }
        // Without a channel binding, no -PLUS.
        assert_eq!(
            password.mechanism(&offers(&["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]), false),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(
            password.mechanism_names(", "),
            "SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5"
        );
        assert_eq!(token.mechanism_names(" or "), "OAUTHBEARER or XOAUTH2");
    }

    /// A pinned mechanism is the only one taken, whatever else the relay offers; a SCRAM pin
    /// takes its -PLUS form too, a -PLUS pin only that.
    #[test]
    fn a_pinned_mechanism_is_never_traded_down() {
        let all = offers(&[
            "PLAIN",
            "LOGIN",
            "CRAM-MD5",
            "SCRAM-SHA-1",
            "SCRAM-SHA-256",
            "SCRAM-SHA-256-PLUS",
        ]);
        let mut p = profile(TlsMode::Starttls, false);
        for (auth, offered, can_bind, expected) in [
            (
                AuthMechanism::ScramSha256,
                &all,
                true,
                Some(Mechanism::ScramSha256Plus),
            ),
            (
                AuthMechanism::ScramSha256,
                &all,
                false,
                Some(Mechanism::ScramSha256),
            ),
            (
                AuthMechanism::ScramSha256,
                &offers(&["PLAIN", "SCRAM-SHA-1"]),
                true,
                None,
            ),
            (AuthMechanism::ScramSha256Plus, &all, false, None),
            (
                AuthMechanism::ScramSha1,
                &all,
                true,
                Some(Mechanism::ScramSha1),
            ),
            (AuthMechanism::CramMd5, &all, true, Some(Mechanism::CramMd5)),
            (AuthMechanism::Login, &all, true, Some(Mechanism::Login)),
            (AuthMechanism::Plain, &offers(&["LOGIN"]), true, None),
        ] {
            p.auth = Some(auth);
            let policy = Policy::new(&p).unwrap();
            assert_eq!(
                policy.mechanism(offered, can_bind),
                expected,
                "{auth} {offered:?}"
            );
        }
        p.auth = Some(AuthMechanism::ScramSha256);
        let policy = Policy::new(&p).unwrap();
        let hint = policy.no_mechanism_hint(&offers(&["PLAIN"]));
        assert!(
            hint.contains(
                "allows only SCRAM-SHA-256-PLUS or SCRAM-SHA-256 (auth = \"scram-sha-256\")"
            ),
            "{hint}"
        );
    }

    #[test]
    fn a_certificate_login_needs_no_secret_and_no_auth_offer() {
        let mut p = profile(TlsMode::Tls, false);
        p.auth = Some(AuthMechanism::External);
        p.user = None;
        let policy = Policy::new(&p).unwrap();
        assert_eq!(policy.secret(), Secret::Certificate);
        assert_eq!(policy.user(), Some("the TLS client certificate"));
        assert_eq!(
            policy.mechanism(&offers(&["PLAIN", "EXTERNAL"]), true),
            Some(Mechanism::External)
        );
        assert_eq!(policy.mechanism(&offers(&["PLAIN"]), true), None);
        assert!(policy.certificate_is_the_login(&[]));
        assert!(!policy.certificate_is_the_login(&offers(&["PLAIN"])));
        let password = profile(TlsMode::Tls, false);
        assert!(
            !Policy::new(&password)
                .unwrap()
                .certificate_is_the_login(&[])
        );
    }

    #[test]
    fn only_a_cached_token_refused_for_good_is_retried() {
        let reply = |code| Reply {
            code,
            lines: vec!["refused".into()],
        };
        let token = profile(TlsMode::Starttls, true);
        let token = Policy::new(&token).unwrap();
        assert!(token.retry_with_fresh_token(&reply(535), false));
        assert!(!token.retry_with_fresh_token(&reply(535), true));
        assert!(!token.retry_with_fresh_token(&reply(454), false));
        let password = profile(TlsMode::Starttls, false);
        let password = Policy::new(&password).unwrap();
        assert!(!password.retry_with_fresh_token(&reply(535), false));
    }

    #[test]
    fn hints_name_what_the_profile_needs() {
        let mut p = profile(TlsMode::Starttls, false);
        p.preset = Preset::Gmail;
        let gmail = Policy::new(&p).unwrap();
        assert!(gmail.refused_login_hint().contains("app password"));
        assert!(
            gmail
                .no_mechanism_hint(&offers(&["XOAUTH2"]))
                .contains("allow SCRAM-SHA-256, PLAIN or LOGIN over TLS")
        );
        assert!(gmail.no_mechanism_hint(&[]).contains("587 or 465"));
        let t = profile(TlsMode::Starttls, true);
        let token = Policy::new(&t).unwrap();
        assert!(token.refused_login_hint().contains("fresh OAuth2 token"));
        assert!(
            token
                .no_mechanism_hint(&offers(&["PLAIN"]))
                .contains("allow OAUTHBEARER or XOAUTH2")
        );
        p.preset = Preset::Outlook;
        let outlook = Policy::new(&p).unwrap();
        assert!(
            outlook
                .no_mechanism_hint(&offers(&["XOAUTH2"]))
                .contains("Authenticated SMTP")
        );
    }

    /// A relay that answers a TLS 1.3-only ClientHello with a protocol version alert does not
    /// match a profile with tls_min_version = "1.3"; without that setting the alert is the
    /// relay's own trouble, retried.
    #[test]
    fn a_relay_without_tls_13_is_a_setup_fault_only_when_the_profile_demands_it() {
        let alert = SmtpError::Tls {
            stage: "STARTTLS",
            reason: "received fatal alert: ProtocolVersion".into(),
            certificate: false,
            error: Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::ProtocolVersion,
            )),
        };
        let mut p = profile(TlsMode::Starttls, false);
        assert_eq!(Policy::new(&p).unwrap().setup_fault(&alert), None);
        p.tls_min_version = Some(TlsVersion::Tls13);
        assert_eq!(
            Policy::new(&p).unwrap().setup_fault(&alert),
            Some(SetupFault::OldTls)
        );
    }

    /// Each failure to open a session, for a profile: a setup fault with its fix, or `None`
    /// (retried). Nothing here asks DNS; the one probe goes to a listener on 127.0.0.1.
    #[test]
    fn setup_faults_are_told_from_failures_that_pass() {
        use rustls::CertificateError;
        let tls = |stage, e: rustls::Error| SmtpError::Tls {
            stage,
            reason: e.to_string(),
            certificate: true,
            error: Some(e),
        };
        let corrupt = || rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let refused = || SmtpError::Network {
            stage: "connect",
            source: std::io::ErrorKind::ConnectionRefused.into(),
        };
        let table = [
            (
                TlsMode::Tls,
                tls("connect", corrupt()),
                Some(SetupFault::TlsOnPlainPort),
            ),
            // The same error after STARTTLS is a broken relay, not a mode for the port.
            (TlsMode::Starttls, tls("STARTTLS", corrupt()), None),
            (
                TlsMode::Starttls,
                tls(
                    "STARTTLS",
                    rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
                ),
                Some(SetupFault::UntrustedCertificate),
            ),
            (
                TlsMode::Tls,
                tls(
                    "connect",
                    rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
                ),
                Some(SetupFault::WrongName),
            ),
            // The relay's admin renews it; meanwhile mail is retried.
            (
                TlsMode::Tls,
                tls(
                    "connect",
                    rustls::Error::InvalidCertificate(CertificateError::Expired),
                ),
                None,
            ),
            (
                TlsMode::Starttls,
                SmtpError::NoSuchHost {
                    host: "relay.test".into(),
                    reason: "Name or service not known".into(),
                },
                Some(SetupFault::NoSuchHost),
            ),
            (TlsMode::Starttls, refused(), None),
            (
                TlsMode::Starttls,
                SmtpError::Timeout { stage: "connect" },
                None,
            ),
            // A silent port other than 465 is a relay that does not answer: not even asked.
            (
                TlsMode::Starttls,
                SmtpError::Timeout { stage: "greeting" },
                None,
            ),
        ];
        for (mode, e, expected) in table {
            let p = profile(mode, false);
            let policy = Policy::new(&p).unwrap();
            assert_eq!(policy.setup_fault(&e), expected, "{mode} {e:?}");
        }
        // A greeting that is not SMTP from a port that answers a ClientHello in TLS.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut p = profile(TlsMode::Starttls, false);
        p.host = "127.0.0.1".into();
        p.port = listener.local_addr().unwrap().port();
        let answer = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut tcp, _) = listener.accept().unwrap();
            let _ = tcp.read(&mut [0u8; 512]);
            tcp.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                .unwrap();
        });
        let garbage = SmtpError::Protocol {
            stage: "greeting",
            detail: "not an SMTP reply".into(),
        };
        let policy = Policy::new(&p).unwrap();
        assert_eq!(
            policy.setup_fault(&garbage),
            Some(SetupFault::PlainOnTlsPort)
        );
        answer.join().unwrap();
    }

    #[test]
    fn setup_fault_fixes_name_the_setting_and_the_setup_flag() {
        let p = profile(TlsMode::Tls, false);
        for (fault, setting, flag) in [
            (
                SetupFault::TlsOnPlainPort,
                "tls = \"starttls\"",
                "--tls starttls",
            ),
            (SetupFault::PlainOnTlsPort, "tls = \"tls\"", "--tls tls"),
            (SetupFault::UntrustedCertificate, "ca_file", "--ca-file"),
            (SetupFault::WrongName, "tls_name", "--tls-name"),
            (SetupFault::NoSuchHost, "host", "--host"),
            (SetupFault::OldTls, "tls_min_version", "--tls-min-version"),
        ] {
            let fix = fault.fix("uni");
            assert!(
                fix.contains(setting) && fix.contains("[profiles.uni]") && fix.contains(flag),
                "{fix}"
            );
            assert!(!fix.contains('\n'), "one line: {fix}");
        }
        assert!(
            SetupFault::TlsOnPlainPort
                .problem(&p)
                .contains("port 587 speaks plain SMTP")
        );
        assert!(
            SetupFault::NoSuchHost
                .problem(&p)
                .contains("relay.test does not exist")
        );
    }
}
