//! Reading, layering and editing config files.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml_edit::{DocumentMut, Item, Table};

use super::change::{self, Change};
use super::{ConfigError, MetricsListen, Pattern, Profile, Route, Routes, ServerSettings, Span};
use crate::aliases::AliasTarget;
use crate::atomic_file;

/// When `sendmail` and `send` deliver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Queue durably, then try at once; exit 0 once delivered or safely queued.
    #[default]
    Now,
    /// Queue durably and leave delivery to the queue runner.
    Queue,
    /// Deliver while the caller waits and exit with the relay's verdict (75 to retry later);
    /// nothing stays queued.
    Wait,
}

/// Retry schedule and notices of the queue (`[queue]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueSettings {
    /// First retry delay; it doubles with each attempt.
    pub retry_initial: Span,
    /// Longest delay between attempts.
    pub retry_max: Span,
    /// Age at which a message is given up and moved to the failed area.
    pub max_age: Span,
    /// Age at which the notify address is told that a message is delayed.
    pub delay_warning: Span,
    /// Most notices sent per hour (failures, delays, held mail).
    pub notices_per_hour: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            retry_initial: Span(60),
            retry_max: Span(3600),
            max_age: Span(5 * 86400),
            delay_warning: Span(4 * 3600),
            notices_per_hour: 10,
        }
    }
}

/// The contents of one config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Profile used when `--profile` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile: Option<String>,
    /// When `sendmail` and `send` deliver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// How long the first attempt of `delivery = "now"` waits for the relay to connect and
    /// greet before leaving the message to the queue runner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit_timeout: Option<Span>,
    /// Where notices about failed, delayed or held mail go (a profile's `notify` wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
    /// The profile notices are sent through (else one that delivered recently).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_profile: Option<String>,
    /// An `/etc/aliases`-style file consulted after `[aliases]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aliases_file: Option<PathBuf>,
    /// The file every queue pass writes the metrics to, for node_exporter's textfile collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_textfile: Option<PathBuf>,
    /// The loopback address where `serve` and `queue daemon` answer `GET /metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_listen: Option<MetricsListen>,
    /// One table per relay profile.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Local recipients (`root`, `www-data`, `default`) and the addresses they stand for.
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasTarget>,
    /// Senders (an address, `@domain`, `@.domain`) and the profile that sends their mail.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, toml::Spanned<String>>,
    /// The line of each route, for errors that point at it (filled in by [`parse`]).
    #[serde(skip)]
    pub route_lines: BTreeMap<String, usize>,
    /// Retry schedule and notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueSettings>,
    /// The SMTP listener (`relayctl serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerSettings>,
}

/// Which layer a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `/etc/relayctl/config.toml`, shared by every user of the host.
    System,
    /// `$XDG_CONFIG_HOME/relayctl/config.toml`.
    User,
    /// A file named by `--config` / `RELAYCTL_CONFIG`.
    Explicit,
}

/// Where configuration is read from and written to.
#[derive(Debug, Clone)]
pub struct ConfigLocation {
    explicit: Option<PathBuf>,
    system: PathBuf,
    user: Option<PathBuf>,
}

/// The default system-wide config file.
const SYSTEM_CONFIG: &str = "/etc/relayctl/config.toml";

impl ConfigLocation {
    /// The standard locations, or only `explicit` when given. `RELAYCTL_SYSTEM_CONFIG` moves the
    /// system file (for packaging tests and unusual layouts).
    ///
    /// With raised privileges (set-user-ID), only the system file is read: the caller controls
    /// the explicit path, the environment and the home directory.
    pub fn new(explicit: Option<PathBuf>) -> Self {
        let raised = crate::privilege::raised();
        let system = std::env::var_os("RELAYCTL_SYSTEM_CONFIG")
            .filter(|_| !raised)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG));
        let user = dirs::config_dir()
            .filter(|_| !raised)
            .map(|d| d.join("relayctl").join("config.toml"));
        ConfigLocation {
            explicit: explicit.filter(|_| !raised),
            system,
            user,
        }
    }

    /// The file named by `--config` / `RELAYCTL_CONFIG` / `sendmail -C`, if one was.
    pub fn explicit(&self) -> Option<&std::path::Path> {
        self.explicit.as_deref()
    }

    /// Whether only the system file is in play: no explicit file and no user file. A user
    /// without a configuration of their own submits through the system's maildrop.
    pub fn system_only(&self) -> bool {
        self.explicit.is_none()
            && !self.user.as_ref().is_some_and(|u| u.exists())
            && self.system.exists()
    }

    /// The file `setup` writes to: the explicit one, else the system file with `--system`, else
    /// the user's.
    pub fn target(&self, system: bool) -> Result<(Origin, PathBuf), ConfigError> {
        if let Some(p) = &self.explicit {
            return Ok((Origin::Explicit, p.clone()));
        }
        if system {
            return Ok((Origin::System, self.system.clone()));
        }
        self.user
            .clone()
            .map(|p| (Origin::User, p))
            .ok_or(ConfigError::NoHome)
    }

    /// The files that are read, lowest precedence first, whether they exist or not.
    pub fn files(&self) -> Vec<(Origin, PathBuf)> {
        self.layers()
    }

    /// The files that are read, lowest precedence first.
    fn layers(&self) -> Vec<(Origin, PathBuf)> {
        match &self.explicit {
            Some(p) => vec![(Origin::Explicit, p.clone())],
            None => std::iter::once((Origin::System, self.system.clone()))
                .chain(self.user.clone().map(|p| (Origin::User, p)))
                .collect(),
        }
    }

    /// Reads every layer. Missing files are empty layers, except an explicit file, which must exist.
    pub fn load(&self) -> Result<LoadedConfig, ConfigError> {
        let mut loaded = LoadedConfig::default();
        for (origin, path) in self.layers() {
            let Some(file) = read(&path)? else {
                if origin == Origin::Explicit {
                    return Err(ConfigError::Read {
                        path,
                        source: ErrorKind::NotFound.into(),
                    });
                }
                continue;
            };
            if file.default_profile.is_some() {
                loaded.default_profile = file.default_profile;
            }
            if file.aliases_file.is_some() {
                loaded.aliases_file = file.aliases_file;
            }
            if file.metrics_textfile.is_some() {
                loaded.metrics_textfile = file.metrics_textfile;
            }
            if file.metrics_listen.is_some() {
                loaded.metrics_listen = file.metrics_listen;
            }
            if let Some(d) = file.delivery {
                loaded.delivery = d;
            }
            if file.submit_timeout.is_some() {
                loaded.submit_timeout = file.submit_timeout;
            }
            if file.notify.is_some() {
                loaded.notify = file.notify;
            }
            if file.notify_profile.is_some() {
                loaded.notify_profile = file.notify_profile;
            }
            if let Some(q) = file.queue {
                loaded.queue = q;
            }
            match file.server {
                Some(server) => {
                    loaded.server = server;
                    loaded.server_file = Some(path.clone());
                    loaded.server_configured = true;
                }
                None if !loaded.server_configured => loaded.server_file = Some(path.clone()),
                None => {}
            }
            loaded.aliases.extend(file.aliases);
            for (key, profile) in file.routes {
                // A later layer's entry for the same sender replaces the earlier one.
                loaded.routes.0.retain(|r| r.key != key);
                let line = file.route_lines.get(&key).copied().unwrap_or(1);
                loaded.routes.0.push(Route {
                    pattern: key.parse().map_err(|message| ConfigError::Parse {
                        path: path.clone(),
                        line,
                        message,
                    })?,
                    line,
                    key,
                    profile: profile.into_inner(),
                    file: path.clone(),
                });
            }
            for (name, profile) in file.profiles {
                loaded.profiles.insert(
                    name,
                    LoadedProfile {
                        profile,
                        origin,
                        file: path.clone(),
                    },
                );
            }
        }
        for (name, LoadedProfile { profile, .. }) in &loaded.profiles {
            if let Some(missing) = profile
                .fallback
                .iter()
                .find(|f| !loaded.profiles.contains_key(*f) || *f == name)
            {
                return Err(ConfigError::InvalidProfile {
                    name: name.clone(),
                    reason: format!("fallback `{missing}` is not another configured profile"),
                });
            }
        }
        if let Some(route) = loaded
            .routes
            .0
            .iter()
            .find(|r| !loaded.profiles.contains_key(&r.profile))
        {
            return Err(ConfigError::Parse {
                path: route.file.clone(),
                line: route.line,
                message: format!(
                    "route {:?} names profile `{}`, which is not configured (profiles: {})",
                    route.key,
                    route.profile,
                    loaded
                        .profiles
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if let Some(name) = &loaded.notify_profile
            && !loaded.profiles.contains_key(name)
        {
            return Err(ConfigError::InvalidProfile {
                name: name.clone(),
                reason: "notify_profile names it, but no such profile is configured".into(),
            });
        }
        Ok(loaded)
    }
}

/// A profile as loaded, with the layer and the file that defined it (its secrets may live beside
/// that file).
#[derive(Debug, Clone)]
pub struct LoadedProfile {
    pub profile: Profile,
    pub origin: Origin,
    pub file: PathBuf,
}

/// How long a submission's first attempt waits for the relay to connect and greet, by default.
pub const DEFAULT_SUBMIT_TIMEOUT: Span = Span(2);

/// All layers merged: a user's profile replaces a system profile of the same name.
#[derive(Debug, Default)]
pub struct LoadedConfig {
    pub default_profile: Option<String>,
    pub delivery: Delivery,
    /// `submit_timeout` as configured: see [`LoadedConfig::submit_timeout`].
    pub submit_timeout: Option<Span>,
    pub notify: Option<String>,
    /// The profile notices go through, when the admin chose one.
    pub notify_profile: Option<String>,
    pub queue: QueueSettings,
    /// `[server]` of the last layer that has one.
    pub server: ServerSettings,
    /// Some layer has a `[server]` table (the admin means to run the listener).
    pub server_configured: bool,
    /// The file that `server` came from; without a `[server]`, the last file read (where
    /// the listener's users file goes by default).
    pub server_file: Option<PathBuf>,
    pub aliases_file: Option<PathBuf>,
    /// `metrics_textfile`: see [`crate::metrics::textfile`].
    pub metrics_textfile: Option<PathBuf>,
    /// `metrics_listen`: where `serve` and `queue daemon` answer `GET /metrics`.
    pub metrics_listen: Option<MetricsListen>,
    /// Aliases of all layers; a user's entry replaces a system entry of the same name.
    pub aliases: BTreeMap<String, AliasTarget>,
    /// `[routes]` of all layers; a user's entry replaces a system entry for the same sender.
    pub routes: Routes,
    /// Each profile with the layer and file that defined it.
    pub profiles: BTreeMap<String, LoadedProfile>,
}

impl LoadedConfig {
    /// The time a submission's first attempt gives each relay to connect and greet: at least
    /// a second (a zero would try no relay at all; `delivery = "queue"` says that).
    pub fn submit_timeout(&self) -> std::time::Duration {
        let span = self.submit_timeout.unwrap_or(DEFAULT_SUBMIT_TIMEOUT);
        span.duration().max(std::time::Duration::from_secs(1))
    }

    /// Picks the profile to use: the one requested (flag or environment), else the default, else
    /// the only one.
    pub fn select(&self, requested: Option<&str>) -> Result<(&str, &Profile), ConfigError> {
        let name = match requested.or(self.default_profile.as_deref()) {
            Some(n) => n,
            None => match self.profiles.len() {
                0 => return Err(ConfigError::NoProfile),
                1 => self
                    .profiles
                    .keys()
                    .next()
                    .map(String::as_str)
                    .unwrap_or_default(),
                _ => {
                    return Err(ConfigError::NoDefault {
                        names: self.profiles.keys().cloned().collect(),
                    });
                }
            },
        };
        self.get(name).map(|(n, p, _)| (n, p))
    }

    /// The size limit a message is read under before its sender chooses the profile: the
    /// largest `max_message_size` of `default` and of the profiles `[routes]` name. The chosen
    /// profile's own limit is checked once it is known.
    pub fn routed_size_limit(&self, default: &Profile) -> u64 {
        self.routes
            .0
            .iter()
            .filter_map(|r| self.profiles.get(&r.profile))
            .map(|l| l.profile.max_message_size().0)
            .fold(default.max_message_size().0, u64::max)
    }

    /// The profile of SMTP clients that do not log in: `[server] profile`, where `default`
    /// means the default profile unless a profile is named so.
    pub fn server_profile(&self) -> Result<(&str, &Profile), ConfigError> {
        match self.server.profile.as_str() {
            "default" if !self.profiles.contains_key("default") => self.select(None),
            name => self.get(name).map(|(n, p, _)| (n, p)),
        }
    }

    /// Where the SMTP listener's users are kept: `[server] users_file`, else
    /// `smtpd-users.toml` beside the file with `[server]` (or the system configuration).
    pub fn server_users_file(&self) -> PathBuf {
        if let Some(file) = &self.server.users_file {
            return file.clone();
        }
        let dir = self
            .server_file
            .as_deref()
            .and_then(Path::parent)
            .or(Path::new(SYSTEM_CONFIG).parent())
            .unwrap_or(Path::new("/etc/relayctl"));
        dir.join(super::server::USERS_FILE)
    }

    /// The named profile's settings, if it is configured.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name).map(|l| &l.profile)
    }

    /// The named profile with the file that defines it.
    pub fn get(&self, name: &str) -> Result<(&str, &Profile, &Path), ConfigError> {
        self.profiles
            .get_key_value(name)
            .map(|(n, l)| (n.as_str(), &l.profile, l.file.as_path()))
            .ok_or_else(|| ConfigError::UnknownProfile {
                name: name.to_string(),
                known: self.profiles.keys().cloned().collect(),
            })
    }
}

/// Reads and checks one file; `None` when it does not exist.
fn read(path: &Path) -> Result<Option<ConfigFile>, ConfigError> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    check_permissions(path)?;
    parse(path, &text).map(Some)
}

/// Refuses a file that someone other than root or this user could change: it names commands
/// that run as its reader.
fn check_permissions(path: &Path) -> Result<(), ConfigError> {
    let meta = fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(ConfigError::UnsafePermissions {
            path: path.to_path_buf(),
        });
    }
    Ok(crate::trust::check("config file", path, &meta)?)
}

/// Parses a file's text, pointing at the line of the first problem.
pub(super) fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim_end().to_string(),
    })?;
    for (name, profile) in &file.profiles {
        profile.validate(name)?;
    }
    let mut file = file;
    for (key, profile) in &file.routes {
        let line = line_of(text, profile.span().start);
        key.parse::<Pattern>()
            .map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                message,
            })?;
        file.route_lines.insert(key.clone(), line);
    }
    Ok(file)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A profile as relayctl writes it: keys in a fixed order, values in one spelling.
fn profile_table(profile: &Profile) -> Table {
    let text = toml::to_string(profile).expect("a profile always serialises");
    text.parse::<DocumentMut>()
        .expect("serialised TOML parses")
        .as_table()
        .clone()
}

/// An edit of one config file that keeps the admin's comments, order and formatting.
pub struct ConfigEdit {
    path: PathBuf,
    origin: Origin,
    doc: DocumentMut,
}

impl ConfigEdit {
    /// Opens `path` for editing (an absent file starts empty).
    pub fn open(origin: Origin, path: PathBuf) -> Result<Self, ConfigError> {
        let text = match fs::read_to_string(&path) {
            Ok(t) => {
                check_permissions(&path)?;
                t
            }
            Err(e) if e.kind() == ErrorKind::NotFound => String::new(),
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        // Validate with the strict parser first so that errors point at a line.
        parse(&path, &text)?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| ConfigError::Parse {
                path: path.clone(),
                line: e.span().map(|s| line_of(&text, s.start)).unwrap_or(1),
                message: e.message().to_string(),
            })?;
        Ok(ConfigEdit { path, origin, doc })
    }

    /// The file being edited.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file names a default profile.
    pub fn has_default(&self) -> bool {
        self.doc.contains_key("default_profile")
    }

    /// Whether the file defines the named profile.
    pub fn has_profile(&self, name: &str) -> bool {
        self.doc
            .get("profiles")
            .and_then(Item::as_table_like)
            .is_some_and(|t| t.contains_key(name))
    }

    /// Adds or replaces a profile.
    pub fn set_profile(&mut self, name: &str, profile: &Profile) {
        let profiles = self.doc.entry("profiles").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        profiles[name] = Item::Table(profile_table(profile));
    }

    /// The named profile as this file defines it, if it does.
    pub fn profile(&self, name: &str) -> Result<Option<Profile>, ConfigError> {
        if !self.has_profile(name) {
            return Ok(None);
        }
        Ok(parse(&self.path, &self.doc.to_string())?
            .profiles
            .remove(name))
    }

    /// Changes the named profile to `profile` key by key (see [`super::change`]): what did not
    /// change stays as the admin wrote it, comments included. A profile the file does not
    /// define yet is added whole, and no change is reported for it.
    pub fn update_profile(
        &mut self,
        name: &str,
        profile: &Profile,
    ) -> Result<Vec<Change>, ConfigError> {
        let Some(old) = self.profile(name)? else {
            self.set_profile(name, profile);
            return Ok(Vec::new());
        };
        let table = self.doc["profiles"][name]
            .as_table_like_mut()
            .expect("has_profile found a table");
        Ok(change::apply(
            table,
            &profile_table(&old),
            &profile_table(profile),
        ))
    }

    /// The default profile this file names.
    pub fn default_profile(&self) -> Option<&str> {
        self.doc.get("default_profile").and_then(Item::as_str)
    }

    /// Sets the top-level `notify` (where notices about every profile's mail go).
    pub fn set_notify(&mut self, address: &str) -> Option<Change> {
        let old = self.doc.get("notify").map(change::shown);
        let item = toml_edit::value(address);
        if old.as_deref() == Some(address) {
            return None;
        }
        change::set(self.doc.as_table_mut(), "notify", &item);
        Some(Change {
            key: "notify (every profile)".into(),
            old,
            new: Some(address.to_string()),
        })
    }

    /// Sets `[aliases] local = address`.
    pub fn set_alias(&mut self, local: &str, address: &str) -> Option<Change> {
        let aliases = self
            .doc
            .entry("aliases")
            .or_insert_with(|| Item::Table(Table::new()));
        let table = aliases.as_table_like_mut()?;
        let old = table.get(local).map(change::shown);
        if old.as_deref() == Some(address) {
            return None;
        }
        change::set(table, local, &toml_edit::value(address));
        Some(Change {
            key: format!("aliases.{local}"),
            old,
            new: Some(address.to_string()),
        })
    }

    /// Removes a profile, and the default when it named that profile. Returns whether it existed.
    pub fn remove_profile(&mut self, name: &str) -> bool {
        let removed = self
            .doc
            .get_mut("profiles")
            .and_then(Item::as_table_like_mut)
            .and_then(|t| t.remove(name))
            .is_some();
        if self.doc.get("default_profile").and_then(Item::as_str) == Some(name) {
            self.doc.remove("default_profile");
        }
        removed
    }

    /// Makes `name` the default profile.
    pub fn set_default(&mut self, name: &str) {
        self.doc["default_profile"] = toml_edit::value(name);
    }

    /// Checks the result and writes it atomically. System files are world-readable (they hold no
    /// secret); user files are private to the user.
    pub fn save(self) -> Result<(), ConfigError> {
        let text = self.doc.to_string();
        parse(&self.path, &text)?;
        let (mode, dir_mode) = match self.origin {
            Origin::System => (0o644, 0o755),
            Origin::User | Origin::Explicit => (0o600, 0o700),
        };
        atomic_file::write(&self.path, text.as_bytes(), mode, dir_mode).map_err(|source| {
            ConfigError::Write {
                path: self.path.clone(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
default_profile = "uni"

[profiles.uni]
preset = "institutional"
host = "smtp.uni.example"
port = 587
tls = "starttls"
user = "jdoe@uni.example"
from = "jdoe@uni.example"
secret = "file"
"#;

    #[test]
    fn parses_the_documented_shape() {
        let file = parse(Path::new("c.toml"), GOOD).unwrap();
        assert_eq!(file.default_profile.as_deref(), Some("uni"));
        let uni = &file.profiles["uni"];
        assert_eq!(uni.port, 587);
        assert_eq!(uni.user.as_deref(), Some("jdoe@uni.example"));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = GOOD.replace("port = 587", "prot = 587");
        let err = parse(Path::new("/etc/x.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/etc/x.toml:7: "), "{err}");
        assert!(err.contains("prot"), "{err}");
    }

    #[test]
    fn bad_value_names_the_line() {
        let text = GOOD.replace("tls = \"starttls\"", "tls = \"sometimes\"");
        let err = parse(Path::new("c.toml"), &text).unwrap_err().to_string();
        assert!(err.starts_with("c.toml:8: "), "{err}");
    }

    #[test]
    fn password_over_plaintext_is_refused_at_load() {
        let text = GOOD.replace("tls = \"starttls\"", "tls = \"none\"");
        let err = parse(Path::new("c.toml"), &text).unwrap_err().to_string();
        assert!(err.contains("in clear"), "{err}");
    }

    #[test]
    fn secret_env_names_variables_for_a_password_command_only() {
        let command = GOOD.replace("secret = \"file\"", "secret = \"command:pass show relay\"");
        let with = |base: &str, list: &str| format!("{base}secret_env = {list}\n");
        let file = parse(
            Path::new("c.toml"),
            &with(&command, r#"["VAULT_ADDR", "AWS_PROFILE"]"#),
        )
        .unwrap();
        assert_eq!(
            file.profiles["uni"].secret_env,
            ["VAULT_ADDR", "AWS_PROFILE"]
        );
        for (text, needle) in [
            (with(GOOD, r#"["VAULT_ADDR"]"#), "not `command:...`"),
            (with(&command, r#"["A=B"]"#), "\"A=B\""),
            (with(&command, r#"["A\u0000B"]"#), "secret_env"),
            (with(&command, r#"[""]"#), "secret_env"),
            (
                with(&command, r#"["RELAYCTL_PASSWORD_UNI"]"#),
                "RELAYCTL_PASSWORD",
            ),
        ] {
            let err = parse(Path::new("c.toml"), &text).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn edits_keep_comments_and_put_settings_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "# my relays\n[profiles.a]\npreset = \"smarthost\"\nhost = \"mx\"\nport = 25\ntls = \"none\"\n").unwrap();
        let mut edit = ConfigEdit::open(Origin::User, path.clone()).unwrap();
        let b = parse(Path::new("x"), GOOD).unwrap().profiles["uni"].clone();
        edit.set_profile("b", &b);
        edit.set_default("b");
        edit.save().unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("# my relays"), "{text}");
        assert!(
            text.find("default_profile").unwrap() < text.find("[profiles.a]").unwrap(),
            "{text}"
        );
        let loaded = ConfigLocation {
            explicit: Some(path),
            system: "/nonexistent".into(),
            user: None,
        }
        .load()
        .unwrap();
        assert_eq!(loaded.select(None).unwrap().0, "b");
        assert_eq!(loaded.select(Some("a")).unwrap().1.port, 25);
    }

    #[test]
    fn user_layer_overrides_system_layer() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("system.toml");
        let user = dir.path().join("user.toml");
        fs::write(&system, GOOD).unwrap();
        fs::write(&user, GOOD.replace("587", "465").replace("starttls", "tls")).unwrap();
        let loc = ConfigLocation {
            explicit: None,
            system,
            user: Some(user.clone()),
        };
        let loaded = loc.load().unwrap();
        let (_, p, path) = loaded.get("uni").unwrap();
        assert_eq!((p.port, path), (465, user.as_path()));
    }

    /// A user file's route replaces the system file's for the same sender and keeps the rest;
    /// a route names a profile of any layer, and its errors point at its file and line.
    #[test]
    fn routes_layer_and_point_at_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("system.toml");
        let user = dir.path().join("user.toml");
        let load = || {
            ConfigLocation {
                explicit: None,
                system: system.clone(),
                user: Some(user.clone()),
            }
            .load()
        };
        fs::write(
            &system,
            format!("{GOOD}\n[routes]\n\"@shop.example\" = \"uni\"\n\"@.uni.example\" = \"uni\"\n"),
        )
        .unwrap();
        let other = GOOD
            .replace("default_profile = \"uni\"", "")
            .replace("[profiles.uni]", "[profiles.shop]");
        fs::write(
            &user,
            format!("{other}\n[routes]\n\"@shop.example\" = \"shop\"\n"),
        )
        .unwrap();
        let loaded = load().unwrap();
        let chosen = |sender: &str| {
            loaded
                .routes
                .choose(sender)
                .map(|r| (r.profile.clone(), r.file.clone()))
        };
        assert_eq!(
            chosen("a@shop.example"),
            Some(("shop".into(), user.clone()))
        );
        assert_eq!(
            chosen("a@www.uni.example"),
            Some(("uni".into(), system.clone()))
        );

        fs::write(
            &user,
            format!("{other}\n[routes]\n\"@shop.example\" = \"nope\"\n"),
        )
        .unwrap();
        let line = other.lines().count() + 3;
        let err = load().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}:{line}: route \"@shop.example\" names profile `nope`",
                user.display()
            )),
            "{err}"
        );
        fs::write(
            &user,
            format!("{other}\n[routes]\n\"shop.example\" = \"shop\"\n"),
        )
        .unwrap();
        let err = load().unwrap_err().to_string();
        assert!(
            err.starts_with(&format!(
                "{}:{line}: route \"shop.example\" is not an address",
                user.display()
            )),
            "{err}"
        );
    }

    /// `submit_timeout` is 2 s unless set, taken from the layer that sets it, and never zero.
    #[test]
    fn submit_timeout_defaults_to_two_seconds_and_is_at_least_one() {
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("system.toml");
        let user = dir.path().join("user.toml");
        let load = || {
            ConfigLocation {
                explicit: None,
                system: system.clone(),
                user: Some(user.clone()),
            }
            .load()
            .unwrap()
            .submit_timeout()
        };
        fs::write(&system, GOOD).unwrap();
        assert_eq!(load(), Duration::from_secs(2));
        fs::write(&system, format!("submit_timeout = \"5s\"\n{GOOD}")).unwrap();
        assert_eq!(load(), Duration::from_secs(5));
        fs::write(&user, "submit_timeout = 0\n").unwrap();
        assert_eq!(load(), Duration::from_secs(1));
    }

    #[test]
    fn notify_profile_must_name_a_configured_profile() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        let load = |text: &str| {
            fs::write(&file, text).unwrap();
            ConfigLocation {
                explicit: Some(file.clone()),
                system: dir.path().join("none.toml"),
                user: None,
            }
            .load()
        };
        let loaded = load(&format!("notify_profile = \"uni\"\n{GOOD}")).unwrap();
        assert_eq!(loaded.notify_profile.as_deref(), Some("uni"));
        let err = load(&format!("notify_profile = \"unu\"\n{GOOD}"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`unu`") && err.contains("notify_profile"),
            "{err}"
        );
    }

    #[test]
    fn the_shipped_sample_config_is_valid() {
        let text = include_str!("../../config.sample.toml");
        let file = parse(Path::new("config.sample.toml"), text).unwrap();
        assert_eq!(file.default_profile.as_deref(), Some("uni"));
        assert_eq!(file.profiles.len(), 3);
        let oauth = file.profiles["m365"].oauth.as_ref().unwrap();
        assert!(oauth.scope.contains("SMTP.Send"));
        assert_eq!(file.aliases.len(), 4);
        assert_eq!(file.routes.len(), 3);
    }

    #[test]
    fn selection_errors_are_helpful() {
        let loaded = LoadedConfig::default();
        assert!(matches!(loaded.select(None), Err(ConfigError::NoProfile)));
        let err = loaded.select(Some("nope")).unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
    }
}
