//! `relayctl setup PRESET`: build a profile from a preset and flags, store and verify its secret,
//! and write the config atomically.

mod oauth;

use std::path::Path;

use secrecy::{ExposeSecret, SecretString};

use crate::cli::{SetupArgs, StoreKind};
use crate::config::{ConfigEdit, ConfigError, Preset, Profile, TlsMode};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::secrets::{
    self, SecretError, SecretRef, SecretStore, read_new_secret, store_and_verify, store_for,
};

pub fn execute(options: &Options, args: SetupArgs) -> Result<()> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| args.preset.name().to_string());
    check_profile_name(&name)?;
    let (origin, config_path) = options.location.target(args.system)?;
    let mut edit = ConfigEdit::open(origin, config_path.clone())?;

    let (store_kind, keyring_notice) = store_kind(&args, &name)?;
    if args.oauth
        && let Some(kind) = store_kind
    {
        oauth::check_store(kind)?;
    }
    let profile = build_profile(
        &args,
        store_kind.map(|k| reference(k, &args, &config_path, &name)),
    )?;
    profile.validate(&name).map_err(|e| match e {
        ConfigError::InvalidProfile { reason, .. } => Error::Usage(reason),
        other => other.into(),
    })?;
    if let Some(notice) = keyring_notice {
        crate::messages::alert(&notice);
    }

    if args.preset == Preset::Institutional && !args.oauth {
        crate::messages::warning(
            "a single-sign-on password stored on a server puts the whole account at risk; use an app-specific password, a dedicated sending account, or OAuth2 where the institution offers them",
        );
    }

    let secret_status = match (&profile.secret, store_kind) {
        (Some(reference), Some(_)) if profile.oauth.is_some() => {
            let store = store_for(reference, &name, &config_path, &profile.secret_env);
            oauth::sign_in(
                &args,
                &name,
                &profile,
                store.as_ref(),
                options.spool.as_deref(),
                options.transcript,
            )?
        }
        (Some(reference), Some(kind)) => {
            let store = store_for(reference, &name, &config_path, &profile.secret_env);
            provide_secret(store.as_ref(), kind, &args, &name)?
        }
        _ => {
            if args.password_stdin {
                return Err(Error::Usage(format!(
                    "profile `{name}` does not log in (no --user), so it takes no password"
                )));
            }
            "none (the relay does not require a login)".to_string()
        }
    };

    edit.set_profile(&name, &profile);
    let make_default = args.default || !edit.has_default();
    if make_default {
        edit.set_default(&name);
    }
    edit.save()?;

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
    println!("secret: {secret_status}");
    if profile.oauth.is_some() {
        // Mail held while the profile could not sign in goes with the next queue run.
        let released = crate::commands::queue::release_profile(&options.open_spool()?, &name)?;
        if released > 0 {
            println!("{released} held message(s) released for the next queue run");
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

/// The store to use, or `None` when the profile does not log in, with a notice when the keyring
/// was wanted but is not usable here.
fn store_kind(args: &SetupArgs, name: &str) -> Result<(Option<StoreKind>, Option<String>)> {
    let defaults = args.preset.defaults(args.region.as_deref());
    let logs_in = args.user.is_some() || defaults.auth;
    if args.password_command.is_some() && args.secret_store.is_some_and(|k| k != StoreKind::Command)
    {
        return Err(Error::Usage(
            "--password-command goes with --secret-store command".into(),
        ));
    }
    if !logs_in {
        return Ok((None, None));
    }
    if args.password_command.is_some() {
        return Ok((Some(StoreKind::Command), None));
    }
    if let Some(kind) = args.secret_store {
        return Ok((Some(kind), None));
    }
    // Desktop sessions have a keyring; servers, containers and cron do not.
    match secrets::keyring_usable(name) {
        Ok(()) => Ok((Some(StoreKind::Keyring), None)),
        Err(e) => Ok((
            Some(StoreKind::File),
            Some(format!(
                "no OS keyring is usable here ({e}); keeping the secret in a root-only file instead (other choices: --secret-store systemd, command or env)"
            )),
        )),
    }
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

fn build_profile(args: &SetupArgs, secret: Option<SecretRef>) -> Result<Profile> {
    let defaults = args.preset.defaults(args.region.as_deref());
    let host = args
        .host
        .clone()
        .or(defaults.host)
        .ok_or_else(|| Error::Usage(format!("preset {} needs --host", args.preset)))?;
    let tls = args.tls.unwrap_or(defaults.tls);
    let port = args.port.unwrap_or(match args.tls {
        Some(t) if t != defaults.tls => usual_port(t),
        _ => defaults.port,
    });
    let user = args
        .user
        .clone()
        .or(defaults.fixed_user.map(str::to_string));
    if secret.is_some() && user.is_none() {
        return Err(Error::Usage(format!(
            "preset {} logs in to the relay: give --user (usually your email address)",
            args.preset
        )));
    }
    let from = args.from.clone().or_else(|| {
        user.clone()
            .filter(|u| crate::message::is_plausible_address(u))
    });
    if from.is_none() && user.is_some() {
        return Err(Error::Usage(
            "give --from ADDR: the login name is not an email address".into(),
        ));
    }
    Ok(Profile {
        preset: args.preset,
        host,
        port,
        tls,
        tls_name: args.tls_name.clone(),
        ca_file: args.ca_file.as_deref().map(absolute).transpose()?,
        client_cert: args.client_cert.as_deref().map(absolute).transpose()?,
        client_key: args.client_key.as_deref().map(absolute).transpose()?,
        user,
        from,
        secret,
        secret_env: Vec::new(),
        oauth: oauth::table(args)?,
        ehlo_name: args.ehlo_name.clone(),
        timeout: args.timeout,
        max_message_size: Some(args.max_message_size.unwrap_or(defaults.max_message_size)),
        allow_from_override: false,
        allow_bare_hostnames: false,
        reply_to: None,
        fallback: Vec::new(),
        notify: None,
        rate_limit: defaults.rate_limit,
        rate_burst: None,
        brake: None,
        brake_per_caller: None,
        users: None,
        groups: None,
    })
}

/// Paths are stored absolute: the config is read from other working directories (cron, units).
fn absolute(path: &Path) -> Result<std::path::PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io("cannot resolve", path, e))
}

fn usual_port(tls: TlsMode) -> u16 {
    match tls {
        TlsMode::Tls => 465,
        TlsMode::Starttls => 587,
        TlsMode::Opportunistic | TlsMode::None => 25,
    }
}

/// Puts the secret into its store (or checks a store that is filled from outside) and says how it
/// went. Never reports a secret it could not read back.
fn provide_secret(
    store: &dyn SecretStore,
    kind: StoreKind,
    args: &SetupArgs,
    name: &str,
) -> Result<String> {
    if matches!(kind, StoreKind::Keyring | StoreKind::File) {
        let secret = new_secret(args.password_stdin, args.preset, name)?;
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
        Ok(_) => Ok(format!("{} (read successfully)", store.describe())),
        // A command must work now; variables and credentials are often set only where mail is sent.
        Err(e @ SecretError::Command { .. }) => Err(e.into()),
        Err(e) => {
            crate::messages::warning(&e.to_string());
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
