//! SMTP checks over one connection, as delivery makes it: the greeting, TLS (handshake,
//! certificate chain and name, expiry, protocol version), the EHLO capabilities compared with
//! the profile, AUTH with the stored secret, and whether the relay takes the profile's sender
//! (MAIL FROM, then RSET: no message is sent).

use std::cell::RefCell;
use std::time::Duration;

use rustls::CertificateError;
use secrecy::ExposeSecret;

use super::{Check, Findings};
use crate::config::{ByteSize, Preset, Profile, TlsMode};
use crate::options::{Options, Selected};
use crate::relay::smtp::{Connection, Extensions, Observer, SmtpError};
use crate::relay::{Credentials, client_name, tls};
use crate::transcript::Transcript;

/// The checks of this family, in order: each run reports every one of them.
const IDS: [&str; 13] = [
    "smtp.greeting",
    "tls.handshake",
    "tls.certificate",
    "tls.expiry",
    "ehlo.extensions",
    "ehlo.size",
    "ehlo.8bitmime",
    "ehlo.smtputf8",
    "ehlo.pipelining",
    "ehlo.dsn",
    "ehlo.auth",
    "auth.login",
    "smtp.sender",
];

/// Certificates that expire sooner than this many days are a warning.
const EXPIRY_WARNING_DAYS: i64 = 14;

/// The longest the doctor waits for any reply.
const MAX_TIMEOUT: Duration = Duration::from_secs(10);

/// Passes the dialogue to the `-v` transcript and keeps the relay's last reply lines.
struct Recorder<'t> {
    transcript: &'t Transcript,
    last: RefCell<Vec<String>>,
    /// The previous line ended a reply: the next starts a new one.
    fresh: RefCell<bool>,
}

impl Recorder<'_> {
    /// The relay's last reply on one line, code first.
    fn last_reply(&self) -> String {
        let lines = self.last.borrow();
        let code = lines.first().and_then(|l| l.get(..3)).unwrap_or_default();
        let texts: Vec<&str> = lines
            .iter()
            .map(|l| l.get(4..).unwrap_or_default().trim())
            .filter(|t| !t.is_empty())
            .collect();
        format!("{code} {}", texts.join(" ")).trim().to_string()
    }
}

impl Observer for Recorder<'_> {
    fn client(&self, line: &str) {
        self.transcript.client(line);
        *self.fresh.borrow_mut() = true;
    }

    fn server(&self, line: &str) {
        self.transcript.server(line);
        if std::mem::replace(&mut *self.fresh.borrow_mut(), false) {
            self.last.borrow_mut().clear();
        }
        self.last.borrow_mut().push(line.to_string());
        if line.as_bytes().get(3) != Some(&b'-') {
            *self.fresh.borrow_mut() = true;
        }
    }

    fn note(&self, text: &str) {
        Observer::note(self.transcript, text);
    }
}

/// Runs the SMTP dialogue and reports every check of [`IDS`].
pub fn session(options: &Options, selected: &Selected, found: &Findings, out: &mut Vec<Check>) {
    let start = out.len();
    if found.port_open {
        dialogue(options, selected, found, out);
    }
    let why = if found.port_open {
        "not reached: an earlier check failed"
    } else {
        "not reached: the relay's port cannot be reached"
    };
    for id in IDS {
        if !out[start..].iter().any(|c| c.id == id) {
            out.push(Check::skip(id, why));
        }
    }
    // Keep the family in its documented order.
    out[start..].sort_by_key(|c| IDS.iter().position(|id| *id == c.id));
}

fn dialogue(options: &Options, selected: &Selected, found: &Findings, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let recorder = Recorder {
        transcript: &options.transcript,
        last: RefCell::new(Vec::new()),
        fresh: RefCell::new(true),
    };
    let obs: &dyn Observer = &recorder;
    let tls_params = match p.tls {
        TlsMode::None => None,
        _ => match tls::parameters(p) {
            Ok(params) => Some(params),
            Err(e) => {
                out.push(Check::fail(
                    "tls.handshake",
                    format!("cannot set up TLS: {e}"),
                    format!(
                        "fix ca_file, client_cert or tls_name in [profiles.{}]",
                        selected.name
                    ),
                ));
                return;
            }
        },
    };
    let implicit = if p.tls == TlsMode::Tls {
        tls_params.clone()
    } else {
        None
    };
    let host = found
        .relay_address
        .map(|a| a.to_string())
        .unwrap_or_else(|| p.host.clone());
    let timeout = p.timeout().min(MAX_TIMEOUT);
    let mut conn = match Connection::connect(&host, p.port, timeout, implicit, obs) {
        Ok(conn) => conn,
        Err(e) => {
            out.extend(connect_failure(selected, e, &recorder));
            return;
        }
    };
    out.push(Check::pass(
        "smtp.greeting",
        format!("the relay greets: {}", recorder.last_reply()),
    ));
    let name = client_name(p);
    if let Err(e) = conn.ehlo(&name, obs) {
        out.push(ehlo_failure(&name, &e));
        return;
    }
    let offers_starttls = conn.extensions().has("STARTTLS");
    match p.tls {
        TlsMode::Tls => report_tls(selected, &conn, out),
        TlsMode::Starttls | TlsMode::Opportunistic if offers_starttls => {
            let Some((config, server_name)) = tls_params else {
                return;
            };
            if let Err(e) = conn.starttls(config, server_name, obs) {
                out.extend(tls_failure(selected, &e));
                return;
            }
            if let Err(e) = conn.ehlo(&name, obs) {
                out.push(ehlo_failure(&name, &e));
                return;
            }
            report_tls(selected, &conn, out);
        }
        TlsMode::Starttls => {
            out.push(Check::fail(
                "tls.handshake",
                format!("the relay does not offer STARTTLS on port {}", p.port),
                "use the relay's port 465 with tls = \"tls\", or ask its admin to enable STARTTLS; relayctl never sends a password or mail in clear to a starttls profile",
            ));
            let _ = conn.quit(obs);
            return;
        }
        TlsMode::Opportunistic => {
            out.push(Check::warn(
                "tls.handshake",
                "the relay offers no STARTTLS: mail crosses the network in clear",
                "acceptable only on a trusted network; otherwise use a relay port with TLS",
            ));
            no_tls(out, "no TLS on this connection");
        }
        TlsMode::None if offers_starttls => {
            out.push(Check::warn(
                "tls.handshake",
                "the relay offers STARTTLS, but the profile uses none: mail crosses the network in clear",
                format!("set tls = \"opportunistic\" or \"starttls\" in [profiles.{}]", selected.name),
            ));
            no_tls(out, "the profile uses no TLS");
        }
        TlsMode::None => {
            out.push(Check::skip(
                "tls.handshake",
                "the profile uses no TLS (tls = \"none\") and the relay offers none",
            ));
            no_tls(out, "the profile uses no TLS");
        }
    }
    let ext = conn.extensions().clone();
    capabilities(selected, &ext, out);
    let auth_ok = login(selected, &mut conn, &ext, &recorder, out);
    if auth_ok {
        sender(selected, &mut conn, out);
    }
    let _ = conn.quit(obs);
}

fn no_tls(out: &mut Vec<Check>, why: &str) {
    out.push(Check::skip("tls.certificate", why));
    out.push(Check::skip("tls.expiry", why));
}

/// A connection that failed before or at the greeting.
fn connect_failure(selected: &Selected, e: SmtpError, recorder: &Recorder) -> Vec<Check> {
    let p = &selected.profile;
    let name = &selected.name;
    let check = match e {
        // Implicit TLS: the greeting was never reached.
        SmtpError::Tls { .. } => return tls_failure(selected, &e),
        SmtpError::Reply { reply, .. } => Check::fail(
            "smtp.greeting",
            "the relay turned this host away at the greeting",
            "the relay refuses this host's address: see the blocklist checks, and ask its admin",
        )
        .with_reply(&reply.text()),
        SmtpError::Timeout { .. } if p.tls != TlsMode::Tls => Check::fail(
            "smtp.greeting",
            format!("no SMTP greeting from port {} within the timeout", p.port),
            format!(
                "port {} may expect TLS from the first byte: set tls = \"tls\" in [profiles.{name}] (465 is implicit TLS, 587 is STARTTLS)",
                p.port
            ),
        ),
        SmtpError::Timeout { .. } => Check::fail(
            "tls.handshake",
            format!(
                "no answer to the TLS handshake on port {} within the timeout",
                p.port
            ),
            "something other than a TLS mail server listens there: check host and port",
        ),
        SmtpError::Protocol { detail, .. } => Check::fail(
            "smtp.greeting",
            format!("the relay's port does not speak SMTP: {detail}"),
            "check host and port; a web or other service may be listening there",
        ),
        other => Check::fail(
            "smtp.greeting",
            format!(
                "the connection failed before the greeting: {other} {}",
                recorder.last_reply()
            ),
            "the relay or a firewall closes connections from this host: see the blocklist checks",
        ),
    };
    vec![check]
}

fn ehlo_failure(name: &str, e: &SmtpError) -> Check {
    let check = Check::fail(
        "ehlo.extensions",
        format!("the relay refused EHLO {name}"),
        "set ehlo_name = \"host.your.domain\" (a fully qualified name registered in DNS) in the profile",
    );
    match e.reply() {
        Some(reply) => check.with_reply(&reply.text()),
        None => Check::fail(
            "ehlo.extensions",
            format!("EHLO failed: {e}"),
            "the connection broke: run `relayctl doctor -v` to see the dialogue",
        ),
    }
}

/// The checks for a TLS failure (`tls.handshake`, `tls.certificate` or `tls.expiry`).
fn tls_failure(selected: &Selected, e: &SmtpError) -> Vec<Check> {
    let p = &selected.profile;
    let name = &selected.name;
    let tls_name = p.tls_name.clone().unwrap_or_else(|| p.host.clone());
    let SmtpError::Tls { reason, error, .. } = e else {
        let check = Check::fail(
            "tls.handshake",
            format!("STARTTLS failed: {e}"),
            "the relay could not start TLS; try again later or ask its admin",
        );
        return vec![match e.reply() {
            Some(reply) => check.with_reply(&reply.text()),
            None => check,
        }];
    };
    let handshake_ok = Check::pass(
        "tls.handshake",
        "the TLS handshake reached the certificate check",
    );
    let check = match error {
        Some(rustls::Error::InvalidCertificate(ce)) => match ce {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => Check::fail(
                "tls.certificate",
                format!(
                    "the relay's certificate chain does not lead to a CA this host trusts ({reason}): self-signed or a private CA"
                ),
                format!(
                    "for a private CA add ca_file = \"/path/ca.pem\" to [profiles.{name}] (setup --ca-file); otherwise the relay sends an incomplete chain: tell its admin"
                ),
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Check::fail(
                    "tls.certificate",
                    format!("the relay's certificate is not valid for {tls_name} ({reason})"),
                    format!(
                        "set host to a name the certificate carries, or tls_name = \"NAME\" in [profiles.{name}] (setup --tls-name) when host is an address"
                    ),
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                return vec![
                    handshake_ok,
                    Check::pass(
                        "tls.certificate",
                        "chain and name were not judged: the certificate has expired",
                    ),
                    Check::fail(
                        "tls.expiry",
                        format!("the relay's certificate has expired ({reason})"),
                        "the relay's admin must renew it; relayctl never skips verification",
                    ),
                ];
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                Check::fail(
                    "tls.certificate",
                    format!("the relay's certificate is not valid yet ({reason})"),
                    "check this host's clock (timedatectl), then the relay's certificate",
                )
            }
            _ => Check::fail(
                "tls.certificate",
                format!("the relay's certificate was refused: {reason}"),
                "ask the relay's admin to check its certificate",
            ),
        },
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired))
        | Some(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure))
            if p.client_cert.is_none() =>
        {
            Check::fail(
                "tls.handshake",
                format!(
                    "the relay ended the handshake ({reason}): it may require a client certificate"
                ),
                format!(
                    "set client_cert and client_key in [profiles.{name}] (setup --client-cert/--client-key)"
                ),
            )
        }
        Some(rustls::Error::PeerIncompatible(_)) => Check::fail(
            "tls.handshake",
            format!("no TLS version or cipher in common with the relay ({reason})"),
            "the relay speaks only TLS older than 1.2: ask its admin to enable TLS 1.2 or 1.3",
        ),
        _ if p.tls == TlsMode::Tls && p.port != 465 => Check::fail(
            "tls.handshake",
            format!("the TLS handshake failed: {reason}"),
            format!(
                "port {} may speak plain SMTP first: set tls = \"starttls\" in [profiles.{name}]",
                p.port
            ),
        ),
        _ => Check::fail(
            "tls.handshake",
            format!("the TLS handshake failed: {reason}"),
            "run `relayctl doctor -v` to see where it stops; ask the relay's admin",
        ),
    };
    if check.id == "tls.handshake" {
        vec![check]
    } else {
        vec![handshake_ok, check]
    }
}

/// `tls.handshake`, `tls.certificate` and `tls.expiry` for an established TLS connection.
fn report_tls(selected: &Selected, conn: &Connection, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let tls_name = p.tls_name.clone().unwrap_or_else(|| p.host.clone());
    out.push(Check::pass(
        "tls.handshake",
        format!(
            "TLS established: {}",
            conn.tls_info().unwrap_or_else(|| "version unknown".into())
        ),
    ));
    let chain = conn.peer_certificates();
    let Some(leaf) = chain.first() else {
        out.push(Check::skip(
            "tls.certificate",
            "the relay sent no certificate",
        ));
        out.push(Check::skip("tls.expiry", "the relay sent no certificate"));
        return;
    };
    let issuer = cert::issuer_name(leaf).unwrap_or_else(|| "an unnamed issuer".into());
    out.push(Check::pass(
        "tls.certificate",
        format!("the certificate is valid for {tls_name} and chains to a trusted CA (issued by {issuer})"),
    ));
    match cert::not_after(leaf) {
        Some(expiry) => {
            let days = (expiry - crate::queue::schedule::now() as i64).div_euclid(86400);
            let date = cert::date(expiry);
            if days < EXPIRY_WARNING_DAYS {
                out.push(Check::warn(
                    "tls.expiry",
                    format!("the relay's certificate expires in {days} day(s), on {date}"),
                    "the relay's admin must renew it soon: mail stops when it expires",
                ));
            } else {
                out.push(Check::pass(
                    "tls.expiry",
                    format!("the certificate is valid until {date} ({days} days)"),
                ));
            }
        }
        None => out.push(Check::skip(
            "tls.expiry",
            "the certificate's expiry could not be read",
        )),
    }
}

/// `ehlo.*`: what the relay offers, compared with what the profile needs.
fn capabilities(selected: &Selected, ext: &Extensions, out: &mut Vec<Check>) {
    let p = &selected.profile;
    let name = &selected.name;
    out.push(Check::pass(
        "ehlo.extensions",
        format!("{} offers {}", ext.server_name(), ext.lines().join(", ")),
    ));
    let max = p.max_message_size();
    out.push(match ext.size_limit() {
        Some(limit) if limit < max.0 => Check::warn(
            "ehlo.size",
            format!("the relay accepts at most {} (SIZE), the profile allows {max}", ByteSize(limit)),
            format!("set max_message_size = \"{}\" in [profiles.{name}] so that larger mail is refused at once, not at the relay", ByteSize(limit)),
        ),
        Some(limit) => Check::pass(
            "ehlo.size",
            format!("the relay accepts up to {} (SIZE); the profile allows {max}", ByteSize(limit)),
        ),
        None => Check::pass("ehlo.size", format!("the relay announces no size limit; the profile allows {max}")),
    });
    out.push(if ext.has("8BITMIME") {
        Check::pass("ehlo.8bitmime", "8BITMIME: 8-bit text goes through unchanged")
    } else {
        Check::warn(
            "ehlo.8bitmime",
            "no 8BITMIME: messages with unencoded 8-bit text are refused before sending",
            "send such mail MIME-encoded (relayctl send does), or use a relay port that offers 8BITMIME",
        )
    });
    let optional = [
        (
            "ehlo.smtputf8",
            "SMTPUTF8",
            "non-ASCII addresses can be used",
            "addresses must be ASCII",
        ),
        (
            "ehlo.pipelining",
            "PIPELINING",
            "commands go out in batches",
            "one round trip per command (slower, works)",
        ),
        (
            "ehlo.dsn",
            "DSN",
            "delivery notifications (sendmail -N) are passed on",
            "sendmail -N is not passed on",
        ),
    ];
    for (id, keyword, with, without) in optional {
        out.push(Check::pass(
            id,
            if ext.has(keyword) {
                format!("{keyword}: {with}")
            } else {
                format!("no {keyword}: {without}")
            },
        ));
    }
    let mechanisms = ext.auth_mechanisms();
    let usable = mechanisms.iter().any(|m| usable_mechanism(p, m));
    out.push(match (&p.user, mechanisms.is_empty(), usable) {
        (None, true, _) => Check::pass("ehlo.auth", "no AUTH offered; the profile does not log in"),
        (None, false, _) => Check::pass(
            "ehlo.auth",
            format!("AUTH {} offered; the profile does not log in (the relay must accept this host's address)", mechanisms.join(" ")),
        ),
        (Some(_), _, true) => Check::pass("ehlo.auth", format!("AUTH {}", mechanisms.join(" "))),
        (Some(_), true, _) => Check::fail(
            "ehlo.auth",
            format!("the relay offers no AUTH on port {}{}", p.port, if p.tls == TlsMode::None { "" } else { ", even after TLS" }),
            if p.preset == Preset::Outlook {
                "Microsoft 365 offers AUTH only when SMTP AUTH is enabled for the tenant: an admin must enable Authenticated SMTP".to_string()
            } else {
                format!("this port takes mail without login: use the relay's submission port (587 or 465), or remove user from [profiles.{name}] if the relay accepts this host's address")
            },
        ),
        (Some(_), false, false) => Check::fail(
            "ehlo.auth",
            format!("the relay offers only AUTH {}; this profile logs in with {}", mechanisms.join(" "), if p.oauth.is_some() { "XOAUTH2 or OAUTHBEARER" } else { "PLAIN or LOGIN" }),
            if p.preset == Preset::Outlook {
                "Microsoft 365 has basic SMTP AUTH disabled for this tenant: an admin must enable Authenticated SMTP for the mailbox".to_string()
            } else {
                "ask the relay's admin to allow PLAIN or LOGIN over TLS, or use an app password where the provider has them".to_string()
            },
        ),
    });
}

/// `auth.login`: logs in with the stored secret. Returns whether the session may go on to the
/// sender check (logged in, or no login needed).
fn login(
    selected: &Selected,
    conn: &mut Connection,
    ext: &Extensions,
    recorder: &Recorder,
    out: &mut Vec<Check>,
) -> bool {
    let p = &selected.profile;
    let name = &selected.name;
    let Some(user) = &p.user else {
        out.push(Check::skip("auth.login", "the profile does not log in"));
        return true;
    };
    if !conn.is_encrypted() {
        out.push(Check::skip(
            "auth.login",
            "not attempted: relayctl never sends a password in clear",
        ));
        return false;
    }
    if !ext.auth_mechanisms().iter().any(|m| usable_mechanism(p, m)) {
        out.push(Check::skip(
            "auth.login",
            "not attempted: no usable AUTH mechanism (see ehlo.auth)",
        ));
        return false;
    }
    let credentials = selected.credentials(*recorder.transcript);
    let attempt = if p.oauth.is_some() {
        match credentials.access_token(None) {
            Ok(token) => conn.authenticate_bearer(user, token.secret.expose_secret(), recorder),
            Err(_) => {
                out.push(Check::skip(
                    "auth.login",
                    "not attempted: no access token (see oauth.token)",
                ));
                return false;
            }
        }
    } else {
        match credentials.password() {
            Ok(password) => conn.authenticate(user, password.expose_secret(), recorder),
            Err(_) => {
                out.push(Check::skip(
                    "auth.login",
                    "not attempted: the secret does not resolve (see secret.store)",
                ));
                return false;
            }
        }
    };
    let hint = if p.oauth.is_some() {
        "the relay refused a fresh OAuth2 token: check that the account may send by SMTP and that the login name is the account that signed in"
    } else {
        p.preset.defaults(None).password_hint
    };
    let fix = if p.oauth.is_some() {
        hint.to_string()
    } else {
        format!("{hint}; then `relayctl profile set-secret {name}`")
    };
    match attempt {
        Ok(reply) => {
            out.push(Check::pass(
                "auth.login",
                format!("logged in as {user}: {}", reply.text()),
            ));
            true
        }
        Err(SmtpError::Reply { reply, .. }) if reply.is_permanent() => {
            out.push(
                Check::fail(
                    "auth.login",
                    format!("the relay refused the login for {user}"),
                    fix,
                )
                .with_reply(&reply.text()),
            );
            false
        }
        Err(SmtpError::Reply { reply, .. }) => {
            out.push(
                Check::warn(
                    "auth.login",
                    format!("the relay refused the login for {user} for now"),
                    "try again later; if it persists, check the account with the provider",
                )
                .with_reply(&reply.text()),
            );
            false
        }
        Err(e) => {
            out.push(Check::fail(
                "auth.login",
                format!("the login failed: {e}"),
                "run `relayctl doctor -v` to see the dialogue (credentials are not shown)",
            ));
            false
        }
    }
}

/// Whether the profile can log in with AUTH `mechanism`: a bearer token for OAuth2 profiles, a
/// password otherwise.
fn usable_mechanism(p: &Profile, mechanism: &str) -> bool {
    if p.oauth.is_some() {
        mechanism == "XOAUTH2" || mechanism == "OAUTHBEARER"
    } else {
        mechanism == "PLAIN" || mechanism == "LOGIN"
    }
}

/// `smtp.sender`: MAIL FROM with the profile's address, then RSET.
fn sender(selected: &Selected, conn: &mut Connection, out: &mut Vec<Check>) {
    let Some(from) = &selected.profile.from else {
        out.push(Check::skip("smtp.sender", "the profile has no `from`"));
        return;
    };
    let fix = format!(
        "use an address this login may send as (from in [profiles.{}])",
        selected.name
    );
    match conn.probe(Some(from), &[], &crate::relay::smtp::Silent) {
        Ok(_) => out.push(Check::pass(
            "smtp.sender",
            format!("the relay accepts <{from}> as sender (MAIL FROM, then RSET: nothing sent)"),
        )),
        Err(SmtpError::Reply { reply, .. }) if reply.is_permanent() => out.push(
            Check::fail(
                "smtp.sender",
                format!("the relay refuses <{from}> as sender"),
                fix,
            )
            .with_reply(&reply.text()),
        ),
        Err(SmtpError::Reply { reply, .. }) => out.push(
            Check::warn(
                "smtp.sender",
                format!("the relay refuses <{from}> as sender for now"),
                fix,
            )
            .with_reply(&reply.text()),
        ),
        Err(e) => out.push(Check::warn(
            "smtp.sender",
            format!("could not ask about the sender: {e}"),
            "run `relayctl doctor -v` to see the dialogue",
        )),
    }
}

/// Just enough DER to read a certificate's validity and issuer (RFC 5280 section 4.1).
mod cert {
    /// One element: (tag, contents, the rest after it).
    fn element(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *data.first()?;
        let first = *data.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for b in data.get(2..2 + n)? {
                len = (len << 8) | usize::from(*b);
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len)?;
        Some((tag, data.get(header..end)?, data.get(end..)?))
    }

    /// The elements of the tbsCertificate, version first when present.
    fn tbs(der: &[u8]) -> Option<Vec<(u8, &[u8])>> {
        let (_, certificate, _) = element(der)?;
        let (_, mut tbs, _) = element(certificate)?;
        let mut out = Vec::new();
        while !tbs.is_empty() {
            let (tag, contents, rest) = element(tbs)?;
            out.push((tag, contents));
            tbs = rest;
        }
        Some(out)
    }

    /// The field at `index` counted after the optional `[0]` version.
    fn field(der: &[u8], index: usize) -> Option<(u8, &[u8])> {
        let fields = tbs(der)?;
        let skip = usize::from(fields.first()?.0 == 0xa0);
        fields.get(skip + index).copied()
    }

    /// notAfter as Unix time.
    pub fn not_after(der: &[u8]) -> Option<i64> {
        // serialNumber, signature, issuer, validity
        let (_, validity) = field(der, 3)?;
        let (_, _, rest) = element(validity)?;
        let (tag, time, _) = element(rest)?;
        parse_time(tag, std::str::from_utf8(time).ok()?)
    }

    /// The issuer's common name (or organisation).
    pub fn issuer_name(der: &[u8]) -> Option<String> {
        let (_, issuer) = field(der, 2)?;
        let mut rdns = issuer;
        let mut organisation = None;
        while !rdns.is_empty() {
            let (_, set, rest) = element(rdns)?;
            rdns = rest;
            let (_, attribute, _) = element(set)?;
            let (_, oid, value) = element(attribute)?;
            let (_, text, _) = element(value)?;
            let text = crate::printable::from_bytes(text);
            match oid {
                [0x55, 0x04, 0x03] => return Some(format!("CN={text}")),
                [0x55, 0x04, 0x0a] => organisation = Some(format!("O={text}")),
                _ => {}
            }
        }
        organisation
    }

    /// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
    fn parse_time(tag: u8, text: &str) -> Option<i64> {
        let text = text.strip_suffix('Z')?;
        let (year, rest) = match (tag, text.len()) {
            (0x17, 12) => {
                let yy: i64 = text.get(..2)?.parse().ok()?;
                (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
            }
            (0x18, 14) => (text.get(..4)?.parse().ok()?, &text[4..]),
            _ => return None,
        };
        let num = |i: usize| -> Option<i64> { rest.get(i..i + 2)?.parse().ok() };
        let days = days_from_civil(year, num(0)?, num(2)?);
        Some(days * 86400 + num(4)? * 3600 + num(6)? * 60 + num(8)?)
    }

    /// Days since 1970-01-01 of a Gregorian date (Howard Hinnant's algorithm).
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146097 + doe - 719468
    }

    /// `YYYY-MM-DD` of a Unix time.
    pub fn date(unix: i64) -> String {
        let (y, m, d) = crate::calendar::civil_date(unix.div_euclid(86400));
        format!("{y:04}-{m:02}-{d:02}")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A hand-built certificate skeleton: version, serial, algorithm, issuer, validity.
        fn skeleton(not_after: &[u8], tag: u8) -> Vec<u8> {
            fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
                let mut out = vec![tag];
                if body.len() < 0x80 {
                    out.push(body.len() as u8);
                } else {
                    out.extend_from_slice(&[0x82, (body.len() >> 8) as u8, body.len() as u8]);
                }
                out.extend_from_slice(body);
                out
            }
            let cn = tlv(
                0x30,
                &[tlv(0x06, &[0x55, 0x04, 0x03]), tlv(0x0c, b"Test CA")].concat(),
            );
            let issuer = tlv(0x30, &tlv(0x31, &cn));
            let validity = tlv(
                0x30,
                &[tlv(0x17, b"250101000000Z"), tlv(tag, not_after)].concat(),
            );
            let tbs = tlv(
                0x30,
                &[
                    tlv(0xa0, &tlv(0x02, &[2])),
                    tlv(0x02, &[1; 200]),
                    tlv(0x30, &tlv(0x06, &[0x2a])),
                    issuer,
                    validity,
                ]
                .concat(),
            );
            tlv(0x30, &[tbs, tlv(0x30, &[]), tlv(0x03, &[0])].concat())
        }

        #[test]
        fn reads_validity_and_issuer() {
            let der = skeleton(b"300102030405Z", 0x17);
            let t = not_after(&der).unwrap();
            assert_eq!(date(t), "2030-01-02");
            assert_eq!(t % 86400, 3 * 3600 + 4 * 60 + 5);
            assert_eq!(issuer_name(&der).as_deref(), Some("CN=Test CA"));
            let der = skeleton(b"20991231235959Z", 0x18);
            assert_eq!(date(not_after(&der).unwrap()), "2099-12-31");
            assert_eq!(not_after(&der[..40]), None);
            assert_eq!(not_after(&skeleton(b"2099Z", 0x18)), None);
        }

        #[test]
        fn civil_dates() {
            assert_eq!(days_from_civil(1970, 1, 1), 0);
            assert_eq!(date(0), "1970-01-01");
            assert_eq!(date(days_from_civil(2024, 2, 29) * 86400), "2024-02-29");
            assert_eq!(date(951_782_400), "2000-02-29");
        }
    }
}
