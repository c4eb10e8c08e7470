//! Local recipients. Cron mails `root`, daemons mail `www-data` or `user@localhost`; a relay
//! rejects those. They are resolved through `[aliases]` in the config (with a `default`
//! catch-all) and, when `aliases_file` names it, `/etc/aliases`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// An alias's target: one address, a comma-separated list, or an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AliasTarget {
    One(String),
    Many(Vec<String>),
}

impl AliasTarget {
    fn addresses(&self) -> Vec<String> {
        let items: Vec<&str> = match self {
            AliasTarget::One(s) => s.split(',').collect(),
            AliasTarget::Many(v) => v.iter().flat_map(|s| s.split(',')).collect(),
        };
        items
            .into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// Why a local recipient could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum AliasError {
    #[error(
        "no alias for local recipient `{0}`; add it under [aliases] in the config (e.g. {0} = \"you@example.org\", or default = \"you@example.org\" for every local user)"
    )]
    Unknown(String),
    #[error("aliases for `{0}` loop or nest deeper than 10 levels")]
    Loop(String),
    #[error("cannot read aliases file {}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The aliases in effect, and the names under which this host is "local".
#[derive(Debug, Clone, Default)]
pub struct Aliases {
    table: BTreeMap<String, Vec<String>>,
    file: BTreeMap<String, Vec<String>>,
    local_domains: Vec<String>,
}

/// Nesting limit for alias chains.
const MAX_DEPTH: usize = 10;

impl Aliases {
    /// The aliases in effect for `config`: its `[aliases]`, its `aliases_file`, and this host's
    /// names as the local domains.
    pub fn for_config(config: &crate::config::LoadedConfig) -> Result<Self, AliasError> {
        Aliases::new(
            &config.aliases,
            config.aliases_file.as_deref(),
            crate::host::local_domains(),
        )
    }

    /// Builds the aliases from the config table and an optional `/etc/aliases`-style file.
    /// `local_domains` are the domains that mean this host (`localhost`, its names).
    pub fn new(
        table: &BTreeMap<String, AliasTarget>,
        file: Option<&Path>,
        local_domains: Vec<String>,
    ) -> Result<Self, AliasError> {
        let table = table
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.addresses()))
            .collect();
        let file = match file {
            Some(path) => parse_aliases_file(&std::fs::read_to_string(path).map_err(|source| {
                AliasError::File {
                    path: path.to_path_buf(),
                    source,
                }
            })?),
            None => BTreeMap::new(),
        };
        Ok(Aliases {
            table,
            file,
            local_domains: local_domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
        })
    }

    /// The local part when `address` is a local recipient (`root`, `root@localhost`,
    /// `root@<this host>`), else `None`.
    pub fn local_part<'a>(&self, address: &'a str) -> Option<&'a str> {
        match address.rsplit_once('@') {
            None => Some(address),
            Some((local, domain)) => {
                let domain = domain.trim_end_matches('.').to_ascii_lowercase();
                self.local_domains.contains(&domain).then_some(local)
            }
        }
    }

    /// The addresses `address` stands for: itself when it is not local, else its aliases,
    /// resolved recursively.
    pub fn resolve(&self, address: &str) -> Result<Vec<String>, AliasError> {
        let mut out = Vec::new();
        self.resolve_into(address, 0, &mut out)?;
        out.dedup();
        Ok(out)
    }

    fn resolve_into(
        &self,
        address: &str,
        depth: usize,
        out: &mut Vec<String>,
    ) -> Result<(), AliasError> {
        let Some(local) = self.local_part(address) else {
            out.push(address.to_string());
            return Ok(());
        };
        if depth >= MAX_DEPTH {
            return Err(AliasError::Loop(address.to_string()));
        }
        let key = local.to_ascii_lowercase();
        let targets = self
            .table
            .get(&key)
            .or_else(|| self.file.get(&key))
            .or_else(|| self.table.get("default"))
            .ok_or_else(|| AliasError::Unknown(local.to_string()))?;
        for target in targets {
            // `root: root` style self-references end the chain rather than loop.
            if self
                .local_part(target)
                .is_some_and(|t| t.eq_ignore_ascii_case(local))
            {
                return Err(AliasError::Unknown(local.to_string()));
            }
            self.resolve_into(target, depth + 1, out)?;
        }
        Ok(())
    }
}

/// Parses `/etc/aliases`: `name: target, target` with continuation lines and `#` comments.
/// Targets that are files, pipes or includes cannot be relayed and are skipped.
fn parse_aliases_file(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_end();
        if trimmed.trim_start().starts_with('#') || trimmed.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = entries.last_mut() {
                value.push(',');
                value.push_str(trimmed.trim());
            }
            continue;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            entries.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    entries
        .into_iter()
        .map(|(name, value)| {
            let targets = value
                .split(',')
                .map(|t| t.trim().trim_matches('"'))
                .filter(|t| !t.is_empty() && !t.starts_with(['|', '/', ':']))
                .map(str::to_string)
                .collect();
            (name, targets)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aliases(entries: &[(&str, AliasTarget)], file: Option<&str>) -> Aliases {
        let table = entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let mut a = Aliases::new(
            &table,
            None,
            vec!["localhost".into(), "vm1.example.org".into()],
        )
        .unwrap();
        if let Some(text) = file {
            a.file = parse_aliases_file(text);
        }
        a
    }

    #[test]
    fn local_recipients_resolve_and_remote_ones_pass_through() {
        let a = aliases(
            &[("root", AliasTarget::One("ops@example.org".into()))],
            None,
        );
        assert_eq!(a.resolve("root").unwrap(), ["ops@example.org"]);
        assert_eq!(a.resolve("ROOT@localhost").unwrap(), ["ops@example.org"]);
        assert_eq!(
            a.resolve("root@vm1.example.org.").unwrap(),
            ["ops@example.org"]
        );
        assert_eq!(a.resolve("root@example.com").unwrap(), ["root@example.com"]);
    }

    #[test]
    fn default_catch_all_lists_and_chains() {
        let a = aliases(
            &[
                ("postmaster", AliasTarget::One("root".into())),
                (
                    "root",
                    AliasTarget::Many(vec!["a@example.org".into(), "b@example.org".into()]),
                ),
                (
                    "default",
                    AliasTarget::One("c@example.org, d@example.org".into()),
                ),
            ],
            None,
        );
        assert_eq!(
            a.resolve("postmaster").unwrap(),
            ["a@example.org", "b@example.org"]
        );
        assert_eq!(
            a.resolve("www-data").unwrap(),
            ["c@example.org", "d@example.org"]
        );
    }

    #[test]
    fn unknown_local_user_says_how_to_fix_it() {
        let a = aliases(&[], None);
        let err = a.resolve("www-data").unwrap_err().to_string();
        assert!(err.contains("www-data = \"you@example.org\""), "{err}");
    }

    #[test]
    fn loops_are_caught() {
        let a = aliases(
            &[
                ("a", AliasTarget::One("b".into())),
                ("b", AliasTarget::One("a".into())),
            ],
            None,
        );
        assert!(matches!(a.resolve("a"), Err(AliasError::Loop(_))));
    }

    #[test]
    fn etc_aliases_format() {
        let file = "# comment\npostmaster: root\nroot: admin@example.org,\n  second@example.org\nlogs: /var/log/mail, |/usr/bin/x, keep@example.org\n";
        let a = aliases(&[], Some(file));
        assert_eq!(
            a.resolve("postmaster").unwrap(),
            ["admin@example.org", "second@example.org"]
        );
        assert_eq!(a.resolve("logs").unwrap(), ["keep@example.org"]);
    }
}
