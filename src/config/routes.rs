//! `[routes]`: which profile sends a sender's mail, for hosts that serve several sites, each
//! with its own relay account (msmtp picks the account from `-f`, Postfix has
//! `sender_dependent_relayhost_maps`). A key is an address (`billing@example.org`), a domain
//! (`@shop.example`) or a subdomain wildcard (`@.example.org`: any name below example.org, not
//! example.org itself); the most specific key that matches wins, a longer wildcard before a
//! shorter one. No match leaves the default profile.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// What a route key matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// One address, compared without regard to case.
    Address(String),
    /// Every address in one domain.
    Domain(String),
    /// Every address in a domain below this one.
    Subdomains(String),
}

impl FromStr for Pattern {
    type Err = String;

    fn from_str(key: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "route {key:?} is not an address (billing@example.org), a domain (@shop.example) or a subdomain wildcard (@.example.org)"
            )
        };
        let (local, domain) = key.rsplit_once('@').ok_or_else(bad)?;
        let plain = |s: &str| {
            !s.is_empty()
                && !s.starts_with('.')
                && !s.ends_with('.')
                && !s.contains("..")
                && s.chars()
                    .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>,;\"".contains(c))
        };
        let lower = domain.to_ascii_lowercase();
        match (local, lower.strip_prefix('.')) {
            ("", Some(parent)) if plain(parent) => Ok(Pattern::Subdomains(parent.to_string())),
            ("", None) if plain(&lower) => Ok(Pattern::Domain(lower)),
            (local, None) if plain(local) && plain(&lower) => Ok(Pattern::Address(format!(
                "{}@{lower}",
                local.to_ascii_lowercase()
            ))),
            _ => Err(bad()),
        }
    }
}

impl Pattern {
    /// How specific a match is: an address before a domain before any wildcard, and a longer
    /// wildcard before a shorter one. `None`: no match.
    fn rank(&self, address: &str, domain: &str) -> Option<usize> {
        match self {
            Pattern::Address(a) => (a == address).then_some(usize::MAX),
            Pattern::Domain(d) => (d == domain).then_some(usize::MAX - 1),
            Pattern::Subdomains(parent) => domain
                .strip_suffix(parent.as_str())
                .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.'))
                .then_some(parent.len()),
        }
    }
}

/// One `[routes]` entry, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The key as written (`@shop.example`).
    pub key: String,
    pub pattern: Pattern,
    /// The profile it names.
    pub profile: String,
    /// The file and line of the entry.
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Route {
    /// `route "@shop.example" (/etc/relayctl/config.toml:12)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "route {:?} ({}:{})",
            self.key,
            self.file.display(),
            self.line
        )
    }
}

/// The routes of every layer.
#[derive(Debug, Clone, Default)]
pub struct Routes(pub Vec<Route>);

impl Routes {
    /// The most specific route for `sender`, if any matches.
    pub fn choose(&self, sender: &str) -> Option<&Route> {
        let address = sender.trim().to_ascii_lowercase();
        let (_, domain) = address.rsplit_once('@')?;
        self.0
            .iter()
            .filter_map(|r| r.pattern.rank(&address, domain).map(|rank| (rank, r)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, r)| r)
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(entries: &[(&str, &str)]) -> Routes {
        Routes(
            entries
                .iter()
                .enumerate()
                .map(|(i, (key, profile))| Route {
                    key: key.to_string(),
                    pattern: key.parse().unwrap(),
                    profile: profile.to_string(),
                    file: PathBuf::from("config.toml"),
                    line: i + 1,
                })
                .collect(),
        )
    }

    fn chosen<'r>(r: &'r Routes, sender: &str) -> Option<&'r str> {
        r.choose(sender).map(|r| r.profile.as_str())
    }

    #[test]
    fn the_most_specific_route_wins() {
        let r = routes(&[
            ("@.example.org", "campus"),
            ("@.dept.example.org", "dept"),
            ("@example.org", "org"),
            ("billing@example.org", "gmail-billing"),
            ("@shop.example", "ses-shop"),
        ]);
        assert_eq!(chosen(&r, "billing@example.org"), Some("gmail-billing"));
        assert_eq!(chosen(&r, "Billing@Example.ORG"), Some("gmail-billing"));
        assert_eq!(chosen(&r, "news@example.org"), Some("org"));
        assert_eq!(chosen(&r, "a@www.example.org"), Some("campus"));
        assert_eq!(chosen(&r, "a@x.dept.example.org"), Some("dept"));
        assert_eq!(chosen(&r, "orders@shop.example"), Some("ses-shop"));
        // Neither a parent nor a look-alike domain matches.
        assert_eq!(chosen(&r, "a@www.shop.example"), None);
        assert_eq!(chosen(&r, "a@notexample.org"), None);
        assert_eq!(chosen(&r, "root"), None);
    }

    #[test]
    fn a_wildcard_covers_subdomains_only() {
        let r = routes(&[("@.example.org", "campus")]);
        assert_eq!(chosen(&r, "a@example.org"), None);
        assert_eq!(chosen(&r, "a@mail.example.org"), Some("campus"));
    }

    #[test]
    fn keys_must_be_an_address_a_domain_or_a_wildcard() {
        for bad in [
            "shop.example",
            "@",
            "@.",
            "a@",
            "@..x",
            "a b@x",
            "@x..y",
            "@x.",
        ] {
            assert!(bad.parse::<Pattern>().is_err(), "{bad}");
        }
        assert_eq!(
            "@Shop.Example".parse::<Pattern>(),
            Ok(Pattern::Domain("shop.example".into()))
        );
    }
}
