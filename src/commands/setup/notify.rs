//! Where notices about held, delayed and failed mail go: `setup --notify ADDR`, or, when no
//! address is set and a person is at the terminal, one question. A run without a terminal (a
//! script, cloud-init, CI) is never asked anything.

use std::io::{BufRead, IsTerminal};

use crate::config::{ConfigLocation, Profile};
use crate::error::{Error, Result};
use crate::message::{bare_hostname, is_plausible_address};

/// Where `--notify` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The top-level `notify`, for the notices of every profile: the host's own address, set
    /// with its default profile.
    TopLevel,
    /// The profile's own `notify`: the profile is not the default, or it has one already
    /// (which would win over the top-level one).
    Profile,
}

/// Where the address goes for a profile that `is_default` (or becomes it) and whose own
/// `notify` is `own`.
pub fn place(own: Option<&str>, is_default: bool) -> Place {
    if own.is_none() && is_default {
        Place::TopLevel
    } else {
        Place::Profile
    }
}

/// Asks for the address when standard input and standard error are a terminal and neither the
/// configuration nor the profile names one. An empty answer skips it; an answer that is not an
/// address is asked again, twice at most.
pub fn ask_when_unset(location: &ConfigLocation, profile: &Profile) -> Result<Option<String>> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(None);
    }
    let configured = location.load().map(|c| c.notify.is_some()).unwrap_or(true);
    if configured || profile.notify.is_some() {
        return Ok(None);
    }
    for _ in 0..3 {
        crate::messages::ask(
            "Where should notices about held, delayed and failed mail go? Address (Enter to skip):",
        );
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(Error::Stdin)?;
        match line.trim() {
            "" => return Ok(None),
            address => match check(address) {
                Ok(address) => return Ok(Some(address)),
                Err(e) => crate::messages::alert(&e.to_string()),
            },
        }
    }
    crate::messages::warning(
        "no address for notices set; add one later with `relayctl setup ... --notify ADDR`",
    );
    Ok(None)
}

/// `--notify ADDR`, checked: a notice sent to a bare host name (`root@vm1`) would be refused by
/// the relay it reports on.
pub fn check(address: &str) -> Result<String> {
    if !is_plausible_address(address) || bare_hostname(address).is_some() {
        return Err(Error::Usage(format!(
            "--notify {address:?} is not an email address at an internet domain"
        )));
    }
    Ok(address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_sets_the_host_address() {
        assert_eq!(place(None, true), Place::TopLevel);
        assert_eq!(place(Some("a@b.example"), true), Place::Profile);
        assert_eq!(place(None, false), Place::Profile);
    }

    #[test]
    fn addresses_are_checked() {
        assert!(check("ops@example.org").is_ok());
        for bad in ["ops", "root@vm1", "a b@example.org"] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}
