//! SMTP checks over one connection, as delivery makes it: the greeting, TLS (handshake,
//! certificate chain and name, expiry, protocol version), the EHLO capabilities compared with
//! the profile, AUTH with the stored secret, and whether the relay takes the profile's sender
//! (MAIL FROM, then RSET: no message is sent).
//!
//! Every decision (TLS how, which login mechanism, whether credentials may go out, whether a
//! refused token is retried, what to do about a refused login) is the relay policy's, the same
//! delivery follows ([`crate::relay::policy`], [`crate::relay::login`]): this module only
//! reports, step by step.

use std::cell::RefCell;
use std::time::Duration;

use super::{Check, Findings};
use crate::config::{ByteSize, Fingerprint, TlsMode};
use crate::options::{Options, Selected};
use crate::relay::certificate::{Refusal, Summary};
use crate::relay::login::{self, LoggedIn, LoginError, Timing};
use crate::relay::policy::{Policy, SetupFault, TlsStep};
use crate::relay::sasl::Secret;
use crate::relay::smtp::pin::PinMismatch;
use crate::relay::smtp::{Connection, Extensions, Observer, SmtpError};
use crate::relay::{Credentials, client_name};
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
pub(super) const EXPIRY_WARNING_DAYS: i64 = 14;

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

/// Runs the SMTP dialogue and reports every check of [`IDS`], logging in with `credentials`
/// (the stored secret for the doctor; the one about to be stored for `setup`).
pub fn session(
    options: &Options,
    selected: &Selected,
    credentials: &dyn Credentials,
    found: &Findings,
    out: &mut Vec<Check>,
) {
    let start = out.len();
    if found.port_open {
        dialogue(options, selected, credentials, found, out);
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

fn dialogue(
    options: &Options,
    selected: &Selected,
    credentials: &dyn Credentials,
    found: &Findings,
    out: &mut Vec<Check>,
) {
    let p = &selected.profile;
    let recorder = Recorder {
        transcript: &options.transcript,
        last: RefCell::new(Vec::new()),
        fresh: RefCell::new(true),
    };
    let obs: &dyn Observer = &recorder;
    let policy = match Policy::new(p) {
        Ok(policy) => policy,
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
    };
    let host = found
        .relay_address
        .map(|a| a.to_string())
        .unwrap_or_else(|| p.host.clone());
    let timeout = p.timeout().min(MAX_TIMEOUT);
    // The proxy's password was read for `net.proxy`, which says what is wrong when it cannot be.
    let Ok(route) = crate::relay::route(p, &selected.credentials(*recorder.transcript)) else {
        return;
    };
    let mut conn = match Connection::connect_within(
        &host,
        p.port,
        &route,
        None,
        timeout,
        policy.implicit_tls(),
        obs,
    ) {
        Ok(conn) => conn,
        Err(e) => {
            out.extend(match policy.setup_fault(&e) {
                Some(fault) => setup_fault(selected, fault, &e),
                None => connect_failure(selected, e, &recorder),
            });
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
    match policy.tls_step(offers_starttls) {
        TlsStep::Established => report_tls(selected, &conn, out),
        TlsStep::Starttls((config, server_name)) => {
            if let Err(e) = conn.starttls(config, server_name, obs) {
                out.extend(match policy.setup_fault(&e) {
                    Some(fault) => setup_fault(selected, fault, &e),
                    None => tls_failure(selected, &e),
                });
                return;
            }
            if let Err(e) = conn.ehlo(&name, obs) {
                out.push(ehlo_failure(&name, &e));
                return;
            }
            report_tls(selected, &conn, out);
        }
        TlsStep::Refuse => {
            out.push(Check::fail(
                "tls.handshake",
                format!("the relay does not offer STARTTLS on port {}", p.port),
                "use the relay's port 465 with tls = \"tls\", or ask its admin to enable STARTTLS; relayctl never sends a password or mail in clear to a starttls profile",
            ));
            let _ = conn.quit(obs);
            return;
        }
        TlsStep::Clear if p.tls == TlsMode::Opportunistic => {
            out.push(Check::warn(
                "tls.handshake",
                "the relay offers no STARTTLS: mail crosses the network in clear",
                "acceptable only on a trusted network; otherwise use a relay port with TLS",
            ));
            no_tls(out, "no TLS on this connection");
        }
        TlsStep::Clear if offers_starttls => {
            out.push(Check::warn(
                "tls.handshake",
                "the relay offers STARTTLS, but the profile uses none: mail crosses the network in clear",
                format!("set tls = \"opportunistic\" or \"starttls\" in [profiles.{}]", selected.name),
            ));
            no_tls(out, "the profile uses no TLS");
        }
        TlsStep::Clear => {
            out.push(Check::skip(
                "tls.handshake",
                "the profile uses no TLS (tls = \"none\") and the relay offers none",
            ));
            no_tls(out, "the profile uses no TLS");
        }
    }
    let can_bind = conn.channel_binding().is_some();
    capabilities(selected, &policy, conn.extensions(), can_bind, out);
    let auth_ok = log_in(selected, &policy, credentials, &mut conn, &recorder, out);
    if auth_ok {
        sender(selected, &mut conn, out);
    }
    let _ = conn.quit(obs);
}

fn no_tls(out: &mut Vec<Check>, why: &str) {
    out.push(Check::skip("tls.certificate", why));
    out.push(Check::skip("tls.expiry", why));
}

/// The checks for a mistake in the profile's setup: the words and the fix delivery gives when
/// it holds the profile's mail for it ([`SetupFault`]).
fn setup_fault(selected: &Selected, fault: SetupFault, e: &SmtpError) -> Vec<Check> {
    let detail = match e {
        SmtpError::Tls { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    let check = Check::fail(
        fault.check(),
        format!("{} ({detail})", fault.problem(&selected.profile)),
        fault.fix(&selected.name),
    );
    if fault.check() == "tls.certificate" {
        let handshake_ok = Check::pass(
            "tls.handshake",
            "the TLS handshake reached the certificate check",
        );
        return vec![handshake_ok, check];
    }
    vec![check]
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
                "if port {} expects TLS from the first byte: {}",
                p.port,
                SetupFault::PlainOnTlsPort.fix(name)
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
    // An untrusted chain or a wrong name is a setup fault (`setup_fault`), judged before.
    let check = match (error.as_ref().and_then(Refusal::of), error) {
        (Some(Refusal::Expired), _) => {
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
        (Some(Refusal::NotYetValid), _) => Check::fail(
            "tls.certificate",
            format!("the relay's certificate is not valid yet ({reason})"),
            "check this host's clock (timedatectl), then the relay's certificate",
        ),
        (_, Some(error)) if PinMismatch::of(error).is_some() => Check::fail(
            "tls.certificate",
            reason.clone(),
            format!(
                "if the relay's certificate was replaced, confirm the new fingerprint with its admin and set it in tls_fingerprint of [profiles.{name}] (setup --tls-fingerprint or --trust-on-first-use)"
            ),
        ),
        (Some(Refusal::Other), _) => Check::fail(
            "tls.certificate",
            format!("the relay's certificate was refused: {reason}"),
            "ask the relay's admin to check its certificate",
        ),
        (
            None,
            Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::CertificateRequired
                | rustls::AlertDescription::HandshakeFailure,
            )),
        ) if p.client_cert.is_none() => Check::fail(
            "tls.handshake",
            format!(
                "the relay ended the handshake ({reason}): it may require a client certificate"
            ),
            format!(
                "set client_cert and client_key in [profiles.{name}] (setup --client-cert/--client-key)"
            ),
        ),
        (None, Some(rustls::Error::PeerIncompatible(_))) => Check::fail(
            "tls.handshake",
            format!("no TLS version or cipher in common with the relay ({reason})"),
            "the relay speaks only TLS older than 1.2: ask its admin to enable TLS 1.2 or 1.3",
        ),
        _ if p.tls == TlsMode::Tls && p.port != 465 => Check::fail(
            "tls.handshake",
            format!("the TLS handshake failed: {reason}"),
            format!(
                "if port {} speaks plain SMTP first: {}",
                p.port,
                SetupFault::TlsOnPlainPort.fix(name)
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
    let summary = Summary::parse(leaf);
    let issuer = summary
        .as_ref()
        .and_then(|s| s.issuer.clone())
        .unwrap_or_else(|| "an unnamed issuer".into());
    out.push(Check::pass(
        "tls.certificate",
        if p.tls_fingerprint.is_empty() {
            format!("the certificate is valid for {tls_name} and chains to a trusted CA (issued by {issuer})")
        } else {
            format!(
                "the certificate {} matches the pinned tls_fingerprint; its CA and name are not checked (issued by {issuer})",
                Fingerprint::of(leaf)
            )
        },
    ));
    match summary {
        Some(Summary { not_after, .. }) => {
            let days = (not_after - crate::queue::schedule::now() as i64).div_euclid(86400);
            let date = crate::calendar::date(not_after);
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

/// `ehlo.*`: what the relay offers, compared with what the profile needs (`can_bind`: whether
/// the connection has a channel binding for SCRAM's `-PLUS`).
fn capabilities(
    selected: &Selected,
    policy: &Policy,
    ext: &Extensions,
    can_bind: bool,
    out: &mut Vec<Check>,
) {
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
    let chosen = policy.mechanism(&mechanisms, can_bind);
    out.push(match (policy.user(), mechanisms.is_empty(), chosen) {
        (None, true, _) => Check::pass("ehlo.auth", "no AUTH offered; the profile does not log in"),
        (None, false, _) => Check::pass(
            "ehlo.auth",
            format!("AUTH {} offered; the profile does not log in (the relay must accept this host's address)", mechanisms.join(" ")),
        ),
        (Some(_), _, Some(chosen)) => Check::pass(
            "ehlo.auth",
            format!("AUTH {}; the profile logs in with {chosen}", mechanisms.join(" ")),
        ),
        (Some(_), true, None) if policy.certificate_is_the_login(&mechanisms) => Check::pass(
            "ehlo.auth",
            "no AUTH offered; the TLS client certificate is the login (the relay must allow it)",
        ),
        (Some(_), true, None) => Check::fail(
            "ehlo.auth",
            format!("the relay offers no AUTH on port {}{}", p.port, if p.tls == TlsMode::None { "" } else { ", even after TLS" }),
            policy.no_mechanism_hint(&mechanisms),
        ),
        (Some(_), false, None) => Check::fail(
            "ehlo.auth",
            format!("the relay offers only AUTH {}; this profile logs in with {}", mechanisms.join(" "), policy.mechanism_names(" or ")),
            policy.no_mechanism_hint(&mechanisms),
        ),
    });
}

/// `auth.login`: logs in with the stored secret, as delivery would ([`login::log_in`]: the
/// same mechanism, the same retry with a fresh OAuth2 token). Returns whether the session may
/// go on to the sender check (logged in, or no login needed).
fn log_in(
    selected: &Selected,
    policy: &Policy,
    credentials: &dyn Credentials,
    conn: &mut Connection,
    recorder: &Recorder,
    out: &mut Vec<Check>,
) -> bool {
    let Some(user) = policy.user() else {
        out.push(Check::skip("auth.login", "the profile does not log in"));
        return true;
    };
    let failed = match login::log_in(conn, policy, (user, Timing::Now), credentials, recorder) {
        Ok(LoggedIn {
            mechanism,
            reply: Some(reply),
        }) => {
            out.push(Check::pass(
                "auth.login",
                format!("logged in as {user} with {mechanism}: {}", reply.text()),
            ));
            return true;
        }
        Ok(LoggedIn { reply: None, .. }) => {
            out.push(Check::pass(
                "auth.login",
                "no AUTH: the TLS client certificate is the login",
            ));
            return true;
        }
        Err(LoginError::NotEncrypted) => Check::skip(
            "auth.login",
            "not attempted: relayctl never sends a password in clear",
        ),
        Err(LoginError::NoMechanism(_)) => Check::skip(
            "auth.login",
            "not attempted: no usable AUTH mechanism (see ehlo.auth)",
        ),
        Err(LoginError::Secret(_)) => Check::skip(
            "auth.login",
            "not attempted: the secret does not resolve (see secret.store)",
        ),
        Err(LoginError::Token(_)) => Check::skip(
            "auth.login",
            "not attempted: no access token (see oauth.token)",
        ),
        Err(LoginError::Smtp(SmtpError::Reply { reply, .. })) if reply.is_permanent() => {
            let hint = policy.refused_login_hint();
            let fix = match policy.secret() {
                Secret::Password => format!(
                    "{hint}; then `relayctl profile set-secret {}`",
                    selected.name
                ),
                Secret::Token | Secret::Certificate => hint.to_string(),
            };
            // The fix is the one delivery gives for this refusal (the policy's), so the
            // relay's reply is kept without the generic advice for known replies.
            let mut check = Check::fail(
                "auth.login",
                format!("the relay refused the login for {user}"),
                fix,
            );
            check.reply = Some(reply.text());
            check
        }
        Err(LoginError::Smtp(SmtpError::Reply { reply, .. })) => Check::warn(
            "auth.login",
            format!("the relay refused the login for {user} for now"),
            "try again later; if it persists, check the account with the provider",
        )
        .with_reply(&reply.text()),
        Err(LoginError::Smtp(e)) => Check::fail(
            "auth.login",
            format!("the login failed: {e}"),
            "run `relayctl doctor -v` to see the dialogue (credentials are not shown)",
        ),
    };
    out.push(failed);
    false
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
