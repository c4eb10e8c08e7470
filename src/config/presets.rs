//! Relay presets: the documented submission endpoints and limits of common providers, so that
//! `relayctl setup gmail --user me@gmail.com` is all a user has to type.

use std::fmt;
use std::str::FromStr;

use super::ByteSize;
use super::rate::Rate;
use super::tls::TlsMode;

/// A named starting point for a relay profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// Google Gmail / Workspace: smtp.gmail.com:587 STARTTLS, app password, 25 MB.
    Gmail,
    /// A university's or company's authenticated submission server (--host required).
    Institutional,
    /// An unauthenticated network relay on port 25 (default host: localhost).
    Smarthost,
    /// Microsoft 365 / Outlook.com: smtp.office365.com:587 STARTTLS, 35 MB.
    Outlook,
    /// Fastmail: smtp.fastmail.com:465 implicit TLS, app password, 70 MB.
    Fastmail,
    /// Amazon SES: email-smtp.REGION.amazonaws.com:587 STARTTLS, SMTP credentials, 40 MB.
    Ses,
    /// Twilio SendGrid: smtp.sendgrid.net:587 STARTTLS, user "apikey", 30 MB.
    Sendgrid,
    /// Mailgun: smtp.mailgun.org:587 STARTTLS (region eu: smtp.eu.mailgun.org), 25 MB.
    Mailgun,
    /// Apple iCloud Mail: smtp.mail.me.com:587 STARTTLS, app-specific password, 20 MB.
    Icloud,
    /// Yahoo Mail: smtp.mail.yahoo.com:465 implicit TLS, app password, 25 MB.
    Yahoo,
    /// Zoho Mail: smtp.zoho.com:465 implicit TLS (region eu: smtp.zoho.eu), 20 MB.
    Zoho,
}

/// What a preset fills in before the user's flags are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetDefaults {
    /// Relay host; `None` when the user must give `--host`.
    pub host: Option<String>,
    pub port: u16,
    pub tls: TlsMode,
    /// Whether the relay requires SMTP AUTH.
    pub auth: bool,
    /// A fixed login name (SendGrid's literal `apikey`), when the provider has one.
    pub fixed_user: Option<&'static str>,
    /// The provider's documented maximum message size.
    pub max_message_size: ByteSize,
    /// One line on how to obtain the password the provider expects.
    pub password_hint: &'static str,
    /// The provider's documented sending limit, where it publishes one that applies to every
    /// account of the kind the preset is for.
    pub rate_limit: Option<Rate>,
}

const MB: u64 = 1024 * 1024;

/// Used when neither the preset nor the user sets a limit.
pub const DEFAULT_MAX_MESSAGE_SIZE: ByteSize = ByteSize(100 * MB);

impl Preset {
    /// Every preset, in the order `--help` lists them.
    pub const ALL: [Preset; 11] = [
        Preset::Gmail,
        Preset::Institutional,
        Preset::Smarthost,
        Preset::Outlook,
        Preset::Fastmail,
        Preset::Ses,
        Preset::Sendgrid,
        Preset::Mailgun,
        Preset::Icloud,
        Preset::Yahoo,
        Preset::Zoho,
    ];

    /// The name used on the command line and in the config file.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Gmail => "gmail",
            Preset::Institutional => "institutional",
            Preset::Smarthost => "smarthost",
            Preset::Outlook => "outlook",
            Preset::Fastmail => "fastmail",
            Preset::Ses => "ses",
            Preset::Sendgrid => "sendgrid",
            Preset::Mailgun => "mailgun",
            Preset::Icloud => "icloud",
            Preset::Yahoo => "yahoo",
            Preset::Zoho => "zoho",
        }
    }

    /// The preset's defaults; `region` selects a regional endpoint where the provider has them
    /// (SES: any AWS region, default us-east-1; Mailgun and Zoho: `eu`).
    pub fn defaults(self, region: Option<&str>) -> PresetDefaults {
        let fixed = |host: &str, port, tls, size_mb: u64, hint| PresetDefaults {
            host: Some(host.to_string()),
            port,
            tls,
            auth: true,
            fixed_user: None,
            max_message_size: ByteSize(size_mb * MB),
            password_hint: hint,
            rate_limit: None,
        };
        let per_day = |count| {
            Some(Rate {
                count,
                period: 86400,
            })
        };
        let is_eu = region.is_some_and(|r| r.eq_ignore_ascii_case("eu"));
        match self {
            // Gmail: 500 messages a day for consumer accounts (Workspace accounts may send more:
            // raise it in the profile).
            Preset::Gmail => PresetDefaults {
                rate_limit: per_day(500),
                ..fixed(
                    "smtp.gmail.com",
                    587,
                    TlsMode::Starttls,
                    25,
                    "Gmail needs an app password (Google Account > Security > 2-Step Verification > App passwords), pasted without spaces",
                )
            },
            Preset::Institutional => PresetDefaults {
                host: None,
                ..fixed(
                    "",
                    587,
                    TlsMode::Starttls,
                    100,
                    "use an app-specific password or a dedicated sending account, not your single-sign-on password",
                )
            },
            Preset::Smarthost => PresetDefaults {
                auth: false,
                ..fixed(
                    "localhost",
                    25,
                    TlsMode::Opportunistic,
                    100,
                    "a smarthost accepts mail from its network without a password",
                )
            },
            // Exchange Online: 30 messages a minute (and 10,000 recipients a day).
            Preset::Outlook => PresetDefaults {
                rate_limit: Some(Rate {
                    count: 30,
                    period: 60,
                }),
                ..fixed(
                    "smtp.office365.com",
                    587,
                    TlsMode::Starttls,
                    35,
                    "Microsoft 365 needs SMTP AUTH enabled for the mailbox (and an app password when MFA is on)",
                )
            },
            Preset::Fastmail => fixed(
                "smtp.fastmail.com",
                465,
                TlsMode::Tls,
                70,
                "Fastmail needs an app password (Settings > Privacy & Security > App passwords)",
            ),
            Preset::Ses => fixed(
                &format!("email-smtp.{}.amazonaws.com", region.unwrap_or("us-east-1")),
                587,
                TlsMode::Starttls,
                40,
                "Amazon SES needs SMTP credentials created in the SES console (not your AWS access key)",
            ),
            Preset::Sendgrid => PresetDefaults {
                fixed_user: Some("apikey"),
                ..fixed(
                    "smtp.sendgrid.net",
                    587,
                    TlsMode::Starttls,
                    30,
                    "SendGrid's user is the literal word apikey; the password is an API key with Mail Send permission",
                )
            },
            Preset::Mailgun => fixed(
                if is_eu {
                    "smtp.eu.mailgun.org"
                } else {
                    "smtp.mailgun.org"
                },
                587,
                TlsMode::Starttls,
                25,
                "Mailgun needs the SMTP credentials of your sending domain (Sending > Domain settings)",
            ),
            // iCloud Mail: 1,000 messages a day.
            Preset::Icloud => PresetDefaults {
                rate_limit: per_day(1000),
                ..fixed(
                    "smtp.mail.me.com",
                    587,
                    TlsMode::Starttls,
                    20,
                    "iCloud needs an app-specific password (account.apple.com > Sign-In and Security)",
                )
            },
            Preset::Yahoo => fixed(
                "smtp.mail.yahoo.com",
                465,
                TlsMode::Tls,
                25,
                "Yahoo needs an app password (Account Security > Generate app password)",
            ),
            Preset::Zoho => fixed(
                if is_eu {
                    "smtp.zoho.eu"
                } else {
                    "smtp.zoho.com"
                },
                465,
                TlsMode::Tls,
                20,
                "Zoho needs an application-specific password when two-factor authentication is on",
            ),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
                format!("unknown preset `{s}` (one of: {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_is_587_starttls_with_a_25_mb_limit() {
        let d = Preset::Gmail.defaults(None);
        assert_eq!(d.host.as_deref(), Some("smtp.gmail.com"));
        assert_eq!((d.port, d.tls, d.auth), (587, TlsMode::Starttls, true));
        assert_eq!(d.max_message_size, ByteSize(25 * MB));
    }

    #[test]
    fn documented_sending_limits_only() {
        let limit = |p: Preset| p.defaults(None).rate_limit.map(|r| r.to_string());
        assert_eq!(limit(Preset::Gmail).as_deref(), Some("500/day"));
        assert_eq!(limit(Preset::Outlook).as_deref(), Some("30/minute"));
        assert_eq!(limit(Preset::Icloud).as_deref(), Some("1000/day"));
        for p in Preset::ALL {
            if !matches!(p, Preset::Gmail | Preset::Outlook | Preset::Icloud) {
                assert_eq!(limit(p), None, "{p}");
            }
        }
    }

    #[test]
    fn smarthost_is_port_25_without_auth() {
        let d = Preset::Smarthost.defaults(None);
        assert_eq!(d.host.as_deref(), Some("localhost"));
        assert_eq!((d.port, d.auth), (25, false));
    }

    #[test]
    fn regional_endpoints() {
        assert_eq!(
            Preset::Ses.defaults(Some("eu-west-1")).host.as_deref(),
            Some("email-smtp.eu-west-1.amazonaws.com")
        );
        assert_eq!(
            Preset::Mailgun.defaults(Some("EU")).host.as_deref(),
            Some("smtp.eu.mailgun.org")
        );
        assert_eq!(Preset::Institutional.defaults(None).host, None);
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
        }
        let err = "gmial".parse::<Preset>().unwrap_err();
        assert!(err.contains("gmail, institutional"), "{err}");
    }
}
