//! Configuration checks: the files parse, nobody else can change them, the profile is complete,
//! and its secret resolves from its store.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::{Check, Status};
use crate::config::{ConfigError, LoadedConfig, Origin};
use crate::error::Error;
use crate::options::{Options, Selected};
use crate::secrets::{SecretError, SecretRef, store_for};

/// `config.files` and `config.permissions`; the loaded configuration when it loads.
pub fn load(options: &Options, out: &mut Vec<Check>) -> Option<LoadedConfig> {
    let files: Vec<_> = options
        .location
        .files()
        .into_iter()
        .filter(|(origin, path)| *origin == Origin::Explicit || path.exists())
        .collect();
    permissions(&files, out);
    let shown = files
        .iter()
        .map(|(_, p)| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match options.location.load() {
        Ok(config) if files.is_empty() => {
            out.insert(
                0,
                Check::fail(
                    "config.files",
                    "no configuration file exists",
                    "run `relayctl setup PRESET` (e.g. `relayctl setup gmail --user you@gmail.com`)",
                ),
            );
            Some(config)
        }
        Ok(config) => {
            out.insert(0, Check::pass("config.files", format!("read {shown}")));
            Some(config)
        }
        Err(e) => {
            let fix = match &e {
                ConfigError::Parse { .. } => {
                    "correct that line (config.sample.toml shows every key)".to_string()
                }
                ConfigError::UnsafePermissions { path } => {
                    format!("chmod go-w {}", path.display())
                }
                ConfigError::Untrusted(e) => e.fix(),
                ConfigError::Read { .. } => {
                    "check the path and that this user may read it".to_string()
                }
                ConfigError::InvalidProfile { name, .. } => {
                    format!(
                        "edit profile `{name}` as the message says, or run `relayctl setup` again"
                    )
                }
                _ => "see the message".to_string(),
            };
            out.insert(0, Check::fail("config.files", e.to_string(), fix));
            None
        }
    }
}

/// Config files that others may write could redirect this host's mail or run commands as their
/// reader; a readable `secrets/` directory exposes the secret files' names and may hold copies.
fn permissions(files: &[(Origin, std::path::PathBuf)], out: &mut Vec<Check>) {
    let mut problems: Vec<Check> = Vec::new();
    for (_, path) in files {
        let Ok(meta) = fs::metadata(path) else {
            continue;
        };
        if meta.permissions().mode() & 0o022 != 0 {
            problems.push(Check::fail(
                "config.permissions",
                format!("{} is writable by group or others", path.display()),
                format!("chmod go-w {}", path.display()),
            ));
        }
        if let Err(e) = crate::trust::check("config file", path, &meta) {
            problems.push(Check::fail("config.permissions", e.to_string(), e.fix()));
        }
        let Some(dir) = path.parent() else { continue };
        let secrets = dir.join("secrets");
        if let Ok(smeta) = fs::metadata(&secrets)
            && smeta.permissions().mode() & 0o077 != 0
        {
            problems.push(Check::warn(
                "config.permissions",
                format!(
                    "{} is open to group or others (mode {:04o})",
                    secrets.display(),
                    smeta.permissions().mode() & 0o7777
                ),
                format!("chmod 700 {}", secrets.display()),
            ));
        }
    }
    if problems.is_empty() {
        out.push(Check::pass(
            "config.permissions",
            if files.is_empty() {
                "no configuration file to check".to_string()
            } else {
                "config files and secrets/ are not writable or readable by others".to_string()
            },
        ));
    }
    out.extend(problems);
}

/// `config.profile`: the profile that `--profile` or the default selects, and what it lacks.
pub fn select(options: &Options, config: &LoadedConfig, out: &mut Vec<Check>) -> Option<Selected> {
    let selected = match options.select(config) {
        Ok(s) => s,
        Err(Error::Config(ConfigError::NoProfile)) => {
            let files_failed = out
                .iter()
                .any(|c| c.id == "config.files" && c.status == Status::Fail);
            out.push(if files_failed {
                Check::skip("config.profile", "no profile to check (see config.files)")
            } else {
                Check::fail(
                    "config.profile",
                    "no relay profile is configured",
                    "run `relayctl setup PRESET` (e.g. `relayctl setup gmail --user you@gmail.com`)",
                )
            });
            return None;
        }
        Err(e) => {
            out.push(Check::fail(
                "config.profile",
                e.to_string(),
                "pass --profile NAME, or run `relayctl profile default NAME`",
            ));
            return None;
        }
    };
    let p = &selected.profile;
    let name = &selected.name;
    let defaults = p.preset.defaults(None);
    let mut problems = Vec::new();
    if defaults.auth && p.user.is_none() {
        problems.push(Check::fail(
            "config.profile",
            format!(
                "profile `{name}` has no user, and {} relays require a login",
                p.preset
            ),
            format!(
                "run `relayctl setup {} --name {name} --user ADDRESS` again",
                p.preset
            ),
        ));
    }
    if p.from.is_none() {
        problems.push(Check::warn(
            "config.profile",
            format!("profile `{name}` has no `from`: every sender must give one"),
            format!("add from = \"you@your.domain\" to [profiles.{name}]"),
        ));
    }
    for (key, path) in [
        ("ca_file", &p.ca_file),
        ("client_cert", &p.client_cert),
        ("client_key", &p.client_key),
    ] {
        if let Some(path) = path
            && let Err(e) = fs::File::open(path)
        {
            problems.push(Check::fail(
                "config.profile",
                format!("{key} {} cannot be read: {e}", path.display()),
                format!("fix the path in [profiles.{name}] or the file's permissions"),
            ));
        }
    }
    if problems.is_empty() {
        out.push(Check::pass(
            "config.profile",
            format!(
                "profile `{name}` ({}): {}:{} tls {}, {}, from {}",
                p.preset,
                p.host,
                p.port,
                p.tls,
                p.user
                    .as_ref()
                    .map(|u| format!("login {u}"))
                    .unwrap_or_else(|| "no login".into()),
                p.from.as_deref().unwrap_or("-")
            ),
        ));
    }
    out.extend(problems);
    out.push(notify(config, &selected));
    out.push(root_alias(config));
    Some(selected)
}

/// `config.aliases`: mail to root (what cron and most daemons send) has somewhere to go; else
/// every such message is held until it has.
fn root_alias(config: &LoadedConfig) -> Check {
    let resolved = crate::aliases::Aliases::for_config(config).and_then(|a| a.resolve("root"));
    match resolved {
        Ok(list) => Check::pass(
            "config.aliases",
            format!("mail to root goes to {}", list.join(", ")),
        ),
        Err(e) => Check::fail(
            "config.aliases",
            format!("mail to root has nowhere to go: {e}"),
            "add root = \"you@example.org\" under [aliases] (or default = ... for every local user), or run setup with --notify ADDR --root-alias",
        ),
    }
}

/// `config.notify`: someone hears about failed, delayed and held mail.
fn notify(config: &LoadedConfig, selected: &Selected) -> Check {
    match selected.profile.notify.as_ref().or(config.notify.as_ref()) {
        Some(to) => Check::pass(
            "config.notify",
            format!(
                "notices about failed, delayed and held mail go to {to}, through {}",
                match &config.notify_profile {
                    Some(name) => format!("profile {name} (notify_profile)"),
                    None => "a profile that delivered in the last day".into(),
                }
            ),
        ),
        None => Check::warn(
            "config.notify",
            "no notify address: failed, delayed and held mail goes unnoticed",
            "add notify = \"you@example.org\" at the top of the config (or to the profile)",
        ),
    }
}

/// `secret.store` (and `secret.keyring` for keyring secrets): the secret resolves, and from
/// which store. The secret itself is dropped (and wiped) at once.
pub fn secret(selected: &Selected, out: &mut Vec<Check>) {
    let name = &selected.name;
    if selected.profile.user.is_none() {
        out.push(Check::skip(
            "secret.store",
            format!("profile `{name}` does not log in, so it has no secret"),
        ));
        return;
    }
    if selected.profile.logs_in_with_certificate() {
        out.push(Check::skip(
            "secret.store",
            format!(
                "profile `{name}` logs in with its TLS client certificate, so it has no secret"
            ),
        ));
        return;
    }
    let Some(reference) = &selected.profile.secret else {
        out.push(Check::fail(
            "secret.store",
            format!("profile `{name}` has a user but no `secret`"),
            format!("run `relayctl profile set-secret {name}`"),
        ));
        return;
    };
    let store = store_for(
        reference,
        name,
        &selected.file,
        &selected.profile.secret_env,
    );
    match store.read() {
        Ok(_) => {
            out.push(Check::pass(
                "secret.store",
                format!(
                    "the secret resolves from {} (store `{}`)",
                    store.describe(),
                    reference.to_string().split(':').next().unwrap_or_default()
                ),
            ));
            if *reference == SecretRef::Keyring {
                out.push(Check::warn(
                    "secret.keyring",
                    "the OS keyring answers in this session, but cron jobs, systemd timers and the queue daemon have no keyring session on a server",
                    format!(
                        "for mail from cron and services, run `relayctl setup` for `{name}` again with --secret-store file (or systemd)"
                    ),
                ));
            }
        }
        Err(e) => {
            let fix = match &e {
                SecretError::KeyringUnavailable { .. } => {
                    let why = if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
                        "there is no D-Bus session here (headless host, cron, ssh without a desktop), so no Secret Service: "
                    } else {
                        ""
                    };
                    format!(
                        "{why}run `relayctl setup` for `{name}` again with --secret-store file (a root-only file with --system), systemd, command or env"
                    )
                }
                SecretError::KeyringLocked { .. } => {
                    "unlock the keyring: log in to the desktop session, or run relayctl in a terminal there".into()
                }
                SecretError::UnsafePermissions { path, .. } => {
                    format!("chmod 600 {}", path.display())
                }
                SecretError::Untrusted(e) => e.fix(),
                SecretError::Command { .. } => {
                    "run the password command by hand and make it print the password on its first line".into()
                }
                _ => format!("run `relayctl profile set-secret {name}`"),
            };
            out.push(Check::fail("secret.store", e.to_string(), fix));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_config_fails_and_open_secrets_dir_warns() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let file = dir.path().join("config.toml");
        fs::write(&file, "").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        fs::create_dir(dir.path().join("secrets")).unwrap();
        fs::set_permissions(
            dir.path().join("secrets"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let mut out = Vec::new();
        permissions(&[(Origin::Explicit, file.clone())], &mut out);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].status, super::super::Status::Fail);
        assert!(out[0].fix.as_deref().unwrap().starts_with("chmod go-w"));
        assert_eq!(out[1].status, super::super::Status::Warn);
        fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(
            dir.path().join("secrets"),
            fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        let mut out = Vec::new();
        permissions(&[(Origin::Explicit, file)], &mut out);
        assert_eq!(out[0].status, super::super::Status::Pass, "{out:#?}");
    }
}
