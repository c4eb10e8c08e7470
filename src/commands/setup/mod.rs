//! `relayctl setup PRESET`: build a profile from a preset and flags (or change the settings the
//! flags name in an existing one), store and verify its secret, and write the config
//! atomically, saying what changed.

mod build;
mod first_use;
mod notify;
mod oauth;
mod prove;

pub use prove::{OLD_SECRET_KEPT, run as prove};

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use crate::cli::{SetupArgs, StoreKind};
use crate::config::{Change, ConfigEdit, ConfigError, Preset, Profile};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::relay::{Credentials, GivenPassword};
use crate::secrets::{
    self, SecretError, SecretRef, SecretStore, read_new_secret, store_and_verify, store_for,
};
use crate::transcript::Transcript;

pub fn execute(options: &Options, args: SetupArgs) -> Result<()> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| args.preset.name().to_string());
    check_profile_name(&name)?;
    let (origin, config_path) = options.location.target(args.system)?;
    let mut edit = ConfigEdit::open(origin, config_path.clone())?;
    let existing = edit.profile(&name)?;

    let mut profile = build::profile(&args, existing.as_ref())?;
    if args.trust_on_first_use {
        let spool = crate::queue::spool::Spool::default_path(options.spool.as_deref());
        first_use::pin(
            &name,
            &mut profile,
            &config_path,
            &spool,
            options.transcript,
        )?;
    }
    check_fallbacks(options, &edit, &name, &profile)?;
    let (secret, keyring_notice) = secret_reference(
        &args,
        &profile,
        existing.as_ref(),
        &config_path,
        &name,
        options.transcript,
    )?;
    if args.oauth
        && let Some(reference) = &secret
    {
        oauth::check_store(store_kind(reference))?;
    }
    profile.secret = secret;
    profile.validate(&name).map_err(|e| match e {
        ConfigError::InvalidProfile { reason, .. } => Error::Usage(reason),
        other => other.into(),
    })?;
    if let Some(notice) = keyring_notice {
        crate::messages::alert(&notice);
    }
    let make_default = args.default || !edit.has_default();
    let is_default = make_default || edit.default_profile() == Some(name.as_str());
    let given_notify = args.notify.as_deref().map(notify::check).transpose()?;

    // Once per profile: when it is created with a password, or first gets one (the profile in
    // the config is the record that the warning was given).
    let new_password = existing
        .as_ref()
        .is_none_or(|old| old.secret.is_none() || old.oauth.is_some());
    if args.preset == Preset::Institutional
        && profile.oauth.is_none()
        && profile.secret.is_some()
        && new_password
    {
        crate::messages::warning(
            "a single-sign-on password stored on a server puts the whole account at risk; use an app-specific password, a dedicated sending account, or OAuth2 where the institution offers them",
        );
    }

    let secret_status = provide(
        options,
        &args,
        &name,
        &profile,
        existing.as_ref(),
        &config_path,
    )?;

    // Asked after the password: the question is about what happens when things go wrong.
    let notify = match given_notify {
        Some(address) => Some(address),
        None => notify::ask_when_unset(&options.location, &profile)?,
    };
    let mut top_level_notify = None;
    if let Some(address) = &notify {
        match notify::place(profile.notify.as_deref(), is_default) {
            notify::Place::TopLevel => top_level_notify = Some(address.clone()),
            notify::Place::Profile => profile.notify = Some(address.clone()),
        }
    }

    let mut changes = edit.update_profile(&name, &profile)?;
    if make_default && edit.default_profile() != Some(name.as_str()) {
        changes.push(Change {
            key: "default_profile".into(),
            old: edit.default_profile().map(str::to_string),
            new: Some(name.clone()),
        });
        edit.set_default(&name);
    }
    changes.extend(top_level_notify.and_then(|a| edit.set_notify(&a)));
    if args.root_alias
        && let Some(address) = &notify
    {
        changes.extend(edit.set_alias("root", address));
    }
    edit.save()?;

    if existing.is_none() {
        println!(
            "profile `{name}` saved in {}{}",
            config_path.display(),
            if make_default { " (default)" } else { "" }
        );
        println!(
            "relay: {}:{} ({}), user: {}, from: {}",
            profile.host,
            profile.port,
            profile.tls,
            profile.user.as_deref().unwrap_or("-"),
            profile.from.as_deref().unwrap_or("-")
        );
        changes.retain(|c| c.key != "default_profile");
    } else {
        println!("profile `{name}` updated in {}", config_path.display());
        if changes.is_empty() {
            println!("no setting changed");
        }
    }
    for change in &changes {
        println!("{change}");
    }
    if let Some(status) = secret_status {
        println!("secret: {status}");
    }
    // Mail held while the profile's setup was wrong (or it could not sign in) goes with the
    // next queue run; should the setup still be wrong, it is held again with the fix. A spool
    // that cannot be opened holds nothing to release.
    if let Ok(spool) = options.open_spool() {
        let released = crate::commands::queue::release_profile(&spool, &name)?;
        if released > 0 {
            println!("{released} held message(s) released for the next queue run");
        }
    }
    Ok(())
}

/// Stores the profile's secret when it needs one it does not have yet (a new profile, a new
/// login, another store, `--password-stdin`, `--oauth`), and says how that went. A secret that
/// stays as it was is only checked: re-running `setup` to change a port asks for no password.
/// Unless `--no-verify`, the profile logs in with its relay first, and nothing is stored when
/// that fails.
fn provide(
    options: &Options,
    args: &SetupArgs,
    name: &str,
    profile: &Profile,
    existing: Option<&Profile>,
    config_path: &Path,
) -> Result<Option<String>> {
    let prove = |credentials: Option<&dyn Credentials>| {
        if args.no_verify {
            return Ok(());
        }
        prove::run(
            options,
            name,
            profile,
            config_path,
            credentials,
            prove::NOTHING_SAVED,
        )
    };
    let Some(reference) = &profile.secret else {
        if args.password_stdin {
            return Err(Error::Usage(format!(
                "profile `{name}` does not log in (no --user), so it takes no password"
            )));
        }
        prove(None)?;
        return Ok(existing
            .is_none()
            .then(|| "none (the relay does not require a login)".to_string()));
    };
    let store = store_for(reference, name, config_path, &profile.secret_env);
    let fresh = existing.is_none_or(|old| {
        args.password_stdin
            || args.oauth
            || old.secret.as_ref() != Some(reference)
            || old.user != profile.user
    });
    if !fresh {
        if !matches!(reference, SecretRef::Command(_))
            && let Err(e) = store.read()
        {
            crate::messages::warning(&format!(
                "{e}; store it with `relayctl profile set-secret {name}`"
            ));
        }
        prove(None)?;
        return Ok(None);
    }
    if profile.oauth.is_some() {
        let status = oauth::sign_in(
            args,
            name,
            profile,
            store.as_ref(),
            options.spool.as_deref(),
            options.transcript,
        )?;
        // The token is only known once signed in; a new profile the relay refuses leaves
        // neither its refresh token nor its cached access token behind.
        if let Err(e) = prove(None) {
            if existing.is_none() {
                let _ = store.delete();
                let spool = crate::queue::Spool::default_path(options.spool.as_deref());
                let _ = crate::oauth::cache::remove(&spool, name);
            }
            return Err(e);
        }
        return Ok(Some(status));
    }
    provide_secret(store.as_ref(), store_kind(reference), args, name, prove).map(Some)
}

/// A `--fallback` must name another profile of the configuration.
fn check_fallbacks(
    options: &Options,
    edit: &ConfigEdit,
    name: &str,
    profile: &Profile,
) -> Result<()> {
    if profile.fallback.is_empty() {
        return Ok(());
    }
    let loaded = options.location.load()?;
    for fallback in &profile.fallback {
        if fallback == name
            || !(edit.has_profile(fallback) || loaded.profiles.contains_key(fallback))
        {
            return Err(Error::Usage(format!(
                "--fallback {fallback}: not another configured profile (profiles: {})",
                loaded
                    .profiles
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    Ok(())
}

/// Profile names become file names and environment variable suffixes.
fn check_profile_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "profile name {name:?} may only contain letters, digits, '-' and '_'"
        )))
    }
}

/// Where the secret goes, or `None` when the profile does not log in: the store the flags
/// name, else the one the profile has, else the keyring when one is usable here, else a file
/// (with a notice saying why).
fn secret_reference(
    args: &SetupArgs,
    profile: &Profile,
    existing: Option<&Profile>,
    config_path: &Path,
    name: &str,
    transcript: Transcript,
) -> Result<(Option<SecretRef>, Option<String>)> {
    if args.password_command.is_some() && args.secret_store.is_some_and(|k| k != StoreKind::Command)
    {
        return Err(Error::Usage(
            "--password-command goes with --secret-store command".into(),
        ));
    }
    if !profile.authenticates() {
        return Ok((None, None));
    }
    let wanted = match args.password_command {
        Some(_) => Some(StoreKind::Command),
        None => args.secret_store,
    };
    let current = existing.and_then(|p| p.secret.clone());
    let reference = |kind| reference(kind, args, config_path, name);
    Ok(match (wanted, current) {
        (Some(StoreKind::Command), _) if args.password_command.is_some() => {
            (Some(reference(StoreKind::Command)), None)
        }
        (Some(kind), Some(current)) if store_kind(&current) == kind => (Some(current), None),
        (Some(kind), _) => (Some(reference(kind)), None),
        (None, Some(current)) => (Some(current), None),
        // Desktop sessions have a keyring; servers, containers and cron do not.
        (None, None) => match crate::secrets::keyring_usable(name) {
            Ok(()) => (Some(reference(StoreKind::Keyring)), None),
            Err(e) => {
                // The keyring's own words (D-Bus addresses, error codes) only under -v.
                transcript.note(&format!("keyring: {e}"));
                let why = match e {
                    SecretError::KeyringLocked { what } => format!(
                        "{what} is locked, and without a terminal relayctl does not ask to unlock it"
                    ),
                    SecretError::NoDefaultKeyring => e.to_string(),
                    _ => SecretError::NO_SESSION.to_string(),
                };
                (
                    Some(reference(StoreKind::File)),
                    Some(format!(
                        "{why}; keeping the secret in a file only its owner can read instead (other choices: --secret-store systemd, command or env)"
                    )),
                )
            }
        },
    })
}

fn reference(kind: StoreKind, args: &SetupArgs, config_path: &Path, name: &str) -> SecretRef {
    match kind {
        StoreKind::Keyring => SecretRef::Keyring,
        StoreKind::Systemd => SecretRef::Systemd,
        StoreKind::Command => SecretRef::Command(args.password_command.clone().unwrap_or_default()),
        StoreKind::File => SecretRef::File(Some(secrets::default_file_path(config_path, name))),
        StoreKind::Env => SecretRef::Env(None),
    }
}

/// The kind of store a reference names.
fn store_kind(reference: &SecretRef) -> StoreKind {
    match reference {
        SecretRef::Keyring => StoreKind::Keyring,
        SecretRef::Systemd => StoreKind::Systemd,
        SecretRef::Command(_) => StoreKind::Command,
        SecretRef::File(_) => StoreKind::File,
        SecretRef::Env(_) => StoreKind::Env,
    }
}

/// Puts the secret into its store (or checks a store that is filled from outside) once `prove`
/// has logged in with it, and says how it went. Never reports a secret it could not read back.
fn provide_secret(
    store: &dyn SecretStore,
    kind: StoreKind,
    args: &SetupArgs,
    name: &str,
    prove: impl Fn(Option<&dyn Credentials>) -> Result<()>,
) -> Result<String> {
    if matches!(kind, StoreKind::Keyring | StoreKind::File) {
        let secret = new_secret(args.password_stdin, args.preset, name)?;
        prove(Some(&GivenPassword(secret.clone())))?;
        store_and_verify(store, &secret)?;
        return Ok(format!("{} (stored and read back)", store.describe()));
    }
    if args.password_stdin {
        return Err(Error::Usage(format!(
            "{} is filled outside relayctl; --password-stdin does not apply",
            store.describe()
        )));
    }
    match store.read() {
        Ok(secret) => {
            prove(Some(&GivenPassword(secret)))?;
            Ok(format!("{} (read successfully)", store.describe()))
        }
        // A command must work now; variables and credentials are often set only where mail is sent.
        Err(e @ SecretError::Command { .. }) => Err(e.into()),
        Err(e) => {
            crate::messages::warning(&e.to_string());
            prove(None)?;
            Ok(format!(
                "{} (not readable here yet; see the warning above)",
                store.describe()
            ))
        }
    }
}

/// Reads a new password. Gmail shows app passwords in groups of four; the spaces are not part of
/// the password, so they are removed.
pub fn new_secret(from_stdin: bool, preset: Preset, name: &str) -> Result<SecretString> {
    let secret = read_new_secret(from_stdin, &format!("Password for profile {name}: "))?;
    if preset == Preset::Gmail && secret.expose_secret().contains(' ') {
        let joined: String = secret.expose_secret().split(' ').collect();
        return Ok(SecretString::from(joined));
    }
    Ok(secret)
}
