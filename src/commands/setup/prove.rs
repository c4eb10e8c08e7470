//! Logging in with a profile before it is saved (`setup`) or before its new secret replaces the
//! old one (`profile set-secret`): the doctor's relay checks ([`crate::doctor::proof`]), and one
//! line each for the login and the sender.

use std::path::Path;

use crate::config::Profile;
use crate::doctor::Status;
use crate::doctor::proof::{self, Unproven};
use crate::error::{Error, Result};
use crate::options::{Options, Selected};
use crate::queue::Spool;
use crate::relay::{Credentials, Fault};

/// What `setup` leaves behind when the proof fails.
pub const NOTHING_SAVED: &str = "nothing was saved";

/// What `profile set-secret` leaves behind when the proof fails.
pub const OLD_SECRET_KEPT: &str = "the old secret is kept";

/// Proves profile `name` (defined in `config_path`) against its relay, logging in with
/// `credentials`, or with the profile's stored secret when there are none; prints what the relay
/// said. A failure is [`Error::NotProven`], saying what was `kept`.
pub fn run(
    options: &Options,
    name: &str,
    profile: &Profile,
    config_path: &Path,
    credentials: Option<&dyn Credentials>,
    kept: &'static str,
) -> Result<()> {
    let selected = Selected {
        name: name.to_string(),
        profile: profile.clone(),
        file: config_path.to_path_buf(),
        spool: Spool::default_path(options.spool.as_deref()),
        route: None,
    };
    let stored = selected.credentials(options.transcript);
    let credentials = credentials.unwrap_or(&stored);
    let proof = proof::prove(options, &selected, credentials).map_err(|u| unproven(u, kept))?;
    match (proof.login.status, &profile.user) {
        (Status::Pass, _) => println!("login ok: {}", proof.login.summary),
        (_, None) => println!(
            "relay ok: {} answers (the profile does not log in)",
            selected.relay()
        ),
        (_, Some(_)) => println!("login not tried: {}", proof.login.summary),
    }
    if proof.sender.status == Status::Pass {
        println!("sender ok: {}", proof.sender.summary);
    }
    Ok(())
}

fn unproven(u: Unproven, kept: &'static str) -> Error {
    // A relay out of reach now may be reachable from where the profile will be used.
    let kept = match (kept, u.fault) {
        (NOTHING_SAVED, Fault::Transient) => {
            "nothing was saved (--no-verify saves without connecting)"
        }
        _ => kept,
    };
    Error::NotProven {
        line: u.line(),
        fault: u.fault,
        kept,
    }
}
