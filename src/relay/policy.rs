//! The relay policy: how a profile's relay must be spoken to, decided in one place for delivery
//! ([`super::Session`]) and for `doctor`, so that a doctor pass means delivery would pass and a
//! doctor failure is the failure delivery would meet.
//!
//! It answers: TLS how (implicit, STARTTLS, refuse without it, or clear), with which
//! certificate checks (the system's roots or the profile's `ca_file`, the name to verify, the
//! client certificate), which login mechanism given the relay's offer, whether credentials may
//! go out on a connection, whether a refused token earns one retry with a fresh one, and what to
//! tell the user when the login cannot work.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::sasl::{Mechanism, Secret};
use super::smtp::Reply;
use super::{DeliveryError, tls};
use crate::config::{Preset, Profile, TlsMode};

/// The TLS configuration (trust roots, client certificate) and the name the relay's
/// certificate must carry.
pub type TlsParameters = (Arc<ClientConfig>, ServerName<'static>);

/// The mechanisms relayctl logs in with, most preferred first, for each kind of secret.
/// PLAIN before LOGIN: one round trip instead of three. OAUTHBEARER before XOAUTH2: the
/// standard (RFC 7628) before its predecessor.
const PASSWORD_MECHANISMS: &[Mechanism] = &[Mechanism::Plain, Mechanism::Login];
const TOKEN_MECHANISMS: &[Mechanism] = &[Mechanism::OAuthBearer, Mechanism::XOAuth2];

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

    /// The login name, when the profile logs in.
    pub fn user(&self) -> Option<&'p str> {
        self.profile.user.as_deref()
    }

    /// Whether credentials may be sent on a connection: only an encrypted one, whatever the
    /// profile says (the config loader refuses a login without TLS; this holds all the same).
    pub fn may_send_credentials(&self, encrypted: bool) -> bool {
        encrypted
    }

    /// What the profile logs in with.
    pub fn secret(&self) -> Secret {
        if self.profile.oauth.is_some() {
            Secret::Token
        } else {
            Secret::Password
        }
    }

    /// The mechanisms this profile can log in with, most preferred first.
    pub fn mechanisms(&self) -> &'static [Mechanism] {
        match self.secret() {
            Secret::Password => PASSWORD_MECHANISMS,
            Secret::Token => TOKEN_MECHANISMS,
        }
    }

    /// The mechanism to log in with, given the relay's offer (EHLO's AUTH keyword, upper
    /// case); `None` when it offers none this profile can use.
    pub fn mechanism(&self, offered: &[String]) -> Option<Mechanism> {
        self.mechanisms()
            .iter()
            .copied()
            .find(|m| offered.iter().any(|o| o == m.name()))
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

    /// What to do when the relay refuses the login for good.
    pub fn refused_login_hint(&self) -> &'static str {
        match self.secret() {
            Secret::Password => self.profile.preset.defaults(None).password_hint,
            Secret::Token => {
                "the relay refused a fresh OAuth2 token: check that the account may send by SMTP (Microsoft 365: Authenticated SMTP enabled for the mailbox) and that the login name is the account the token was issued for"
            }
        }
    }

    /// What to do when the relay offers no mechanism this profile can use (`offered`: what it
    /// does offer, perhaps nothing).
    pub fn no_mechanism_hint(&self, offered: &[String]) -> String {
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
            (_, false, Secret::Password) => format!(
                "ask the relay's admin to allow {} over TLS, or use an app password where the provider has them",
                self.mechanism_names(" or ")
            ),
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
        let table: [(&[&str], Option<Mechanism>, Option<Mechanism>); 6] = [
            (&["LOGIN", "PLAIN"], Some(Mechanism::Plain), None),
            (&["LOGIN", "CRAM-MD5"], Some(Mechanism::Login), None),
            (
                &["PLAIN", "XOAUTH2", "OAUTHBEARER"],
                Some(Mechanism::Plain),
                Some(Mechanism::OAuthBearer),
            ),
            (&["XOAUTH2"], None, Some(Mechanism::XOAuth2)),
            (&["CRAM-MD5", "SCRAM-SHA-256"], None, None),
            (&[], None, None),
        ];
        for (offered, with_password, with_token) in table {
            let offered = offers(offered);
            assert_eq!(password.mechanism(&offered), with_password, "{offered:?}");
            assert_eq!(token.mechanism(&offered), with_token, "{offered:?}");
        }
        assert_eq!(password.mechanism_names(", "), "PLAIN, LOGIN");
        assert_eq!(token.mechanism_names(" or "), "OAUTHBEARER or XOAUTH2");
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
                .contains("allow PLAIN or LOGIN over TLS")
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
}
