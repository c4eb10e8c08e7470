//! Proving a profile before it is saved: `setup` and `profile set-secret` resolve the relay,
//! connect, do TLS, log in and try the sender (MAIL FROM, then RSET) with the very checks the
//! doctor runs ([`network`], [`smtp`]), so that a refused password or an unreachable relay is
//! found while the admin is still there, not by the first cron mail.

use super::{Check, Findings, Status, network, smtp};
use crate::options::{Options, Selected};
use crate::relay::policy::Policy;
use crate::relay::{Credentials, Fault};

/// What the relay said to a profile that works.
#[derive(Debug)]
pub struct Proof {
    /// `auth.login`: how the login went (passed, or why it was not tried).
    pub login: Check,
    /// `smtp.sender`: whether the relay takes the profile's sender.
    pub sender: Check,
}

/// The check that failed, and whose fault it is (it chooses the exit code).
#[derive(Debug)]
pub struct Unproven {
    pub check: Check,
    pub fault: Fault,
}

impl Unproven {
    /// The check on one line, as the doctor would show it: what was found, the relay's reply,
    /// the fix.
    pub fn line(&self) -> String {
        let c = &self.check;
        let mut line = format!("{}: {}", c.id, c.summary);
        if let Some(reply) = &c.reply {
            line.push_str(&format!(" (relay said: {reply})"));
        }
        if let Some(fix) = &c.fix {
            line.push_str(&format!("; fix: {fix}"));
        }
        line
    }
}

/// Runs the checks from the relay's name to the sender with `credentials` (the secret about to
/// be stored), and stops at the first that fails. A temporary refusal of the login or the
/// sender proves nothing either.
pub fn prove(
    options: &Options,
    selected: &Selected,
    credentials: &dyn Credentials,
) -> Result<Proof, Unproven> {
    let mut found = Findings::default();
    let mut checks = Vec::new();
    network::relay_name(selected, &mut found, &mut checks);
    if !found.relay_addresses.is_empty() {
        network::relay_port(selected, &mut found, &mut checks);
    }
    if found.port_open {
        smtp::session(options, selected, credentials, &found, &mut checks);
    }
    let blocking = checks.iter().position(|c| {
        c.status == Status::Fail
            || (c.status == Status::Warn && matches!(c.id.as_str(), "auth.login" | "smtp.sender"))
    });
    if let Some(i) = blocking {
        let mut check = checks.swap_remove(i);
        let fault = fault(&check);
        if check.id == "auth.login" && fault == Fault::Auth {
            // The doctor's fix ends with `profile set-secret`; here the secret is not stored
            // yet, so the provider's hint is all there is to do.
            if let Ok(policy) = Policy::new(&selected.profile) {
                check.fix = Some(policy.refused_login_hint().to_string());
            }
        }
        return Err(Unproven { check, fault });
    }
    let take = |id: &str, checks: &mut Vec<Check>| {
        checks
            .iter()
            .position(|c| c.id == id)
            .map(|i| checks.swap_remove(i))
            .unwrap_or_else(|| Check::skip(id, "not reached"))
    };
    let login = take("auth.login", &mut checks);
    let sender = take("smtp.sender", &mut checks);
    Ok(Proof { login, sender })
}

/// Whose fault a blocking check is: the relay could not be reached or answered "later"
/// (EX_TEMPFAIL), it refused the login or the sender (EX_NOPERM), or the profile does not
/// match the relay (TLS, EHLO, AUTH offered: EX_CONFIG).
fn fault(check: &Check) -> Fault {
    match (check.id.as_str(), check.status) {
        (_, Status::Warn) => Fault::Transient,
        ("auth.login" | "smtp.sender", _) if check.reply.is_some() => Fault::Auth,
        ("auth.login" | "smtp.sender", _) => Fault::Transient,
        ("dns.relay" | "tcp.relay" | "smtp.greeting" | "tls.expiry", _) => Fault::Transient,
        _ => Fault::Config,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_unreachable_relays_and_mismatches_are_told_apart() {
        let refused = Check::fail("auth.login", "refused", "fix").with_reply("535 5.7.8 no");
        assert_eq!(fault(&refused), Fault::Auth);
        let broken = Check::fail("auth.login", "the login failed: reset", "fix");
        assert_eq!(fault(&broken), Fault::Transient);
        let later = Check::warn("smtp.sender", "for now", "fix").with_reply("451 later");
        assert_eq!(fault(&later), Fault::Transient);
        assert_eq!(
            fault(&Check::fail("tcp.relay", "refused", "fix")),
            Fault::Transient
        );
        assert_eq!(
            fault(&Check::fail("dns.relay", "no such host", "fix")),
            Fault::Transient
        );
        assert_eq!(
            fault(&Check::fail("tls.certificate", "untrusted", "fix")),
            Fault::Config
        );
        assert_eq!(
            fault(&Check::fail("ehlo.auth", "no AUTH", "fix")),
            Fault::Config
        );
    }
}
