//! `relayctl doctor`: a checklist of everything between this host and the relay, each line
//! pass, warn, fail or skip with a one-line fix.
//!
//! The checks run in order and later ones use what earlier ones found (the relay's address, the
//! address this host reaches it from, whether the port answers). One check family per file:
//! [`config`] (files, permissions, profile, secret), [`network`] (DNS names, TCP reachability),
//! [`oauth`] (the token endpoint of OAuth2 profiles), [`smtp`] (greeting, TLS, EHLO
//! capabilities, AUTH, sender), [`identity`] (the EHLO name and
//! DNS blocklists), [`local`] (queue health, the sendmail link), [`listener`] (the SMTP
//! listener, when `[server]` is configured). [`proof`] runs the relay checks for `setup` before
//! it saves a profile. [`replies`] turns known
//! provider replies into fixes. Nothing here ever prints a secret: AUTH goes through the SMTP
//! client, whose transcript hides credentials, and the report holds only the relay's replies.
//!
//! The JSON form (`--json`) is documented in `docs/doctor-schema.json`; its `schema_version`
//! changes only when a field is removed or changes meaning.

pub mod config;
pub mod dns;
pub mod identity;
pub mod listener;
pub mod local;
pub mod network;
pub mod oauth;
pub mod proof;
pub mod replies;
pub mod smtp;

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::options::{Options, Selected};

/// Version of the JSON report's format.
pub const SCHEMA_VERSION: u32 = 1;

/// How long each TCP connection attempt may take: short, since a filtered port makes every
/// attempt wait this long.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Pass,
    /// Mail may go out, but something deserves attention.
    Warn,
    /// Mail will not go out (or will bounce) until this is fixed.
    Fail,
    /// Not applicable, or not reached because an earlier check failed.
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier, `family.name` (`tls.certificate`, `tcp.port_587`).
    pub id: String,
    /// The outcome.
    pub status: Status,
    /// What was found, in one line.
    pub summary: String,
    /// What to do about it, in one line; none when there is nothing to do.
    pub fix: Option<String>,
    /// The relay's reply the finding rests on, when there is one.
    pub reply: Option<String>,
}

impl Check {
    /// A check with `status` and `summary`, no fix.
    pub fn new(id: impl Into<String>, status: Status, summary: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status,
            summary: summary.into(),
            fix: None,
            reply: None,
        }
    }

    /// A passed check.
    pub fn pass(id: impl Into<String>, summary: impl Into<String>) -> Check {
        Check::new(id, Status::Pass, summary)
    }

    /// A warning with its fix.
    pub fn warn(
        id: impl Into<String>,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(id, Status::Warn, summary).with_fix(fix)
    }

    /// A failure with its fix.
    pub fn fail(
        id: impl Into<String>,
        summary: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(id, Status::Fail, summary).with_fix(fix)
    }

    /// A skipped check, with why.
    pub fn skip(id: impl Into<String>, why: impl Into<String>) -> Check {
        Check::new(id, Status::Skip, why)
    }

    /// Adds the fix.
    pub fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// Adds the relay's reply, and the fix known for it when there is one (it replaces a
    /// generic fix).
    pub fn with_reply(mut self, reply: &str) -> Check {
        if let Some(advice) = replies::advice(reply) {
            self.fix = Some(advice);
        }
        self.reply = Some(reply.to_string());
        self
    }
}

/// What the checks found out that later checks use.
#[derive(Debug, Default)]
pub struct Findings {
    /// The relay's addresses.
    pub relay_addresses: Vec<IpAddr>,
    /// The address the relay answered on.
    pub relay_address: Option<IpAddr>,
    /// This host's address on the connection to the relay.
    pub local_address: Option<IpAddr>,
    /// The profile's port accepted a TCP connection.
    pub port_open: bool,
}

/// The whole checklist.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Format version of this report ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The relayctl version that made it.
    pub relayctl_version: &'static str,
    /// The profile checked, when one could be selected.
    pub profile: Option<String>,
    /// Its relay, `host:port`.
    pub relay: Option<String>,
    /// No check failed.
    pub ok: bool,
    /// How many checks ended in each status.
    pub counts: Counts,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
}

/// Checks per status.
#[derive(Debug, Default, Serialize)]
pub struct Counts {
    /// Checks that passed.
    pub pass: usize,
    /// Warnings.
    pub warn: usize,
    /// Failures.
    pub fail: usize,
    /// Checks skipped.
    pub skip: usize,
}

impl Report {
    fn new(profile: Option<&Selected>, checks: Vec<Check>) -> Report {
        let mut counts = Counts::default();
        for c in &checks {
            match c.status {
                Status::Pass => counts.pass += 1,
                Status::Warn => counts.warn += 1,
                Status::Fail => counts.fail += 1,
                Status::Skip => counts.skip += 1,
            }
        }
        Report {
            schema_version: SCHEMA_VERSION,
            relayctl_version: env!("CARGO_PKG_VERSION"),
            profile: profile.map(|s| s.name.clone()),
            relay: profile.map(|s| format!("{}:{}", s.profile.host, s.profile.port)),
            ok: counts.fail == 0,
            counts,
            checks,
        }
    }

    /// The checklist for people: one line per check, its fix indented below.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match (&self.profile, &self.relay) {
            (Some(p), Some(r)) => {
                let _ = writeln!(out, "relayctl doctor: profile {p}, relay {r}");
            }
            _ => out.push_str("relayctl doctor: no profile could be selected\n"),
        }
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &self.checks {
            let _ = writeln!(out, "{}  {:<width$}  {}", c.status.label(), c.id, c.summary);
            let indent = " ".repeat(width + 8);
            if let Some(reply) = &c.reply {
                let _ = writeln!(out, "{indent}relay said: {reply}");
            }
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "{indent}fix: {fix}");
            }
        }
        let c = &self.counts;
        let _ = writeln!(
            out,
            "doctor: {} ok, {} warning(s), {} failure(s), {} skipped",
            c.pass, c.warn, c.fail, c.skip
        );
        out
    }

    /// The JSON form (see `docs/doctor-schema.json`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

/// Runs every check for the profile `options` selects.
pub fn run(options: &Options) -> Report {
    let mut checks = Vec::new();
    let config = config::load(options, &mut checks);
    let selected = config
        .as_ref()
        .and_then(|c| config::select(options, c, &mut checks));
    match (&config, &selected) {
        (Some(_), Some(selected)) => relay_checks(options, selected, &mut checks),
        _ => checks.push(Check::skip(
            "relay",
            "relay checks need a configured profile (see above)",
        )),
    }
    local::queue(options, config.as_ref(), &mut checks);
    local::sendmail_link(&mut checks);
    if let Some(c) = config.as_ref().filter(|c| c.server_configured) {
        listener::checks(&c.server, &mut checks);
    }
    Report::new(selected.as_ref(), checks)
}

/// Everything that needs a profile: its secret, DNS, the network, SMTP, the host's identity.
fn relay_checks(options: &Options, selected: &Selected, out: &mut Vec<Check>) {
    let resolver = dns::Resolver::from_environment();
    let mut found = Findings::default();
    config::secret(selected, out);
    oauth::token(selected, options.transcript, out);
    network::source_address(selected, out);
    if selected.profile.proxy.is_some() {
        network::proxy(selected, options.transcript, &mut found, out);
        network::sender_domain(selected, &resolver, out);
    } else {
        network::relay_name(selected, &mut found, out);
        network::sender_domain(selected, &resolver, out);
        network::reachability(selected, &mut found, out);
    }
    smtp::session(
        options,
        selected,
        &selected.credentials(options.transcript),
        &found,
        out,
    );
    identity::ehlo_name(selected, &resolver, &found, out);
    identity::blocklists(&resolver, &found, out);
}
