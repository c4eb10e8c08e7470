//! `relayctl route ADDRESS`: which profile a sender's mail goes through, and why (`[routes]`,
//! `--profile`/`RELAYCTL_PROFILE`, or the default), as submission would choose it.

use crate::error::{Error, Result};
use crate::message::is_plausible_address;
use crate::options::Options;

/// Prints `ADDRESS -> profile NAME (relay host:port): why`.
pub fn execute(options: &Options, address: &str) -> Result<()> {
    if !is_plausible_address(address) {
        return Err(Error::Usage(format!("{address:?} is not an email address")));
    }
    let config = options.location.load()?;
    let selected = options.select_for(&config, Some(address))?;
    let why = match (&selected.route, &options.profile) {
        (_, Some(_)) => {
            "--profile (or RELAYCTL_PROFILE) chooses it; routes are not consulted".to_string()
        }
        (Some(key), None) => config
            .routes
            .0
            .iter()
            .find(|r| &r.key == key)
            .map_or_else(|| format!("route {key:?}"), ToString::to_string),
        (None, None) if config.routes.is_empty() => "the default profile (no [routes])".into(),
        (None, None) => "the default profile (no route matches)".into(),
    };
    println!(
        "{address} -> profile {} ({}): {why}",
        selected.name,
        selected.relay()
    );
    Ok(())
}
