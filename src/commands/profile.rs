//! `relayctl profile ...`: list, show, remove, choose the default, rotate the secret.

use std::path::Path;

use crate::cli::ProfileCommand;
use crate::commands::setup::new_secret;
use crate::config::{ConfigEdit, LoadedConfig, LoadedProfile, Origin, Profile};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::secrets::{self, SecretRef, SecretStore, store_and_verify, store_for};

pub fn execute(options: &Options, command: ProfileCommand) -> Result<()> {
    let config = options.location.load()?;
    match command {
        ProfileCommand::List => list(&config),
        ProfileCommand::Show { name } => show(&config, &name),
        ProfileCommand::Remove { name } => remove(options, &config, &name),
        ProfileCommand::Default { name } => set_default(&config, &name),
        ProfileCommand::SetSecret {
            name,
            password_stdin,
        } => set_secret(options, &config, &name, password_stdin),
    }
}

fn list(config: &LoadedConfig) -> Result<()> {
    if config.profiles.is_empty() {
        println!("no profiles; create one with `relayctl setup PRESET`");
        return Ok(());
    }
    let rows: Vec<[String; 6]> = config
        .profiles
        .iter()
        .map(
            |(
                name,
                LoadedProfile {
                    profile: p, origin, ..
                },
            )| {
                let mark = if config.default_profile.as_deref() == Some(name) {
                    "*"
                } else {
                    " "
                };
                [
                    format!("{mark} {name}"),
                    p.preset.to_string(),
                    format!("{}:{}", p.host, p.port),
                    p.tls.to_string(),
                    p.user.clone().unwrap_or_else(|| "-".into()),
                    format!(
                        "{} ({})",
                        p.secret.as_ref().map(store_name).unwrap_or("-"),
                        origin_name(*origin)
                    ),
                ]
            },
        )
        .collect();
    let header = [
        "  NAME",
        "PRESET",
        "RELAY",
        "TLS",
        "USER",
        "SECRET (CONFIG)",
    ]
    .map(String::from);
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Ok(())
}

fn store_name(r: &SecretRef) -> &'static str {
    match r {
        SecretRef::Keyring => "keyring",
        SecretRef::Systemd => "systemd",
        SecretRef::Command(_) => "command",
        SecretRef::File(_) => "file",
        SecretRef::Env(_) => "env",
    }
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::System => "system",
        Origin::User => "user",
        Origin::Explicit => "--config",
    }
}

fn show(config: &LoadedConfig, name: &str) -> Result<()> {
    let (name, p, file) = config.get(name)?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let path = |v: &Option<std::path::PathBuf>| {
        v.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into())
    };
    let is_default = config.default_profile.as_deref() == Some(name);
    println!(
        "profile:          {name}{}",
        if is_default { " (default)" } else { "" }
    );
    println!("defined in:       {}", file.display());
    println!("preset:           {}", p.preset);
    println!("relay:            {}:{}", p.host, p.port);
    println!("tls:              {}", p.tls);
    println!("tls name:         {}", opt(&p.tls_name));
    println!("ca file:          {}", path(&p.ca_file));
    println!("client cert:      {}", path(&p.client_cert));
    println!("user:             {}", opt(&p.user));
    println!("from:             {}", opt(&p.from));
    println!("ehlo name:        {}", opt(&p.ehlo_name));
    println!("timeout:          {}s", p.timeout().as_secs());
    println!("max message size: {}", p.max_message_size());
    println!("secret:           {}", secret_status(name, p, file));
    if let Some(oauth) = &p.oauth {
        println!("login:            OAuth2 (OAUTHBEARER or XOAUTH2)");
        println!("token endpoint:   {}", oauth.token_endpoint);
        println!("client id:        {}", oauth.client_id);
        println!("scope:            {}", oauth.scope);
    }
    Ok(())
}

/// Where the secret lives and whether it can be read now; never the secret. A password command is
/// not run just to show a profile.
fn secret_status(name: &str, p: &Profile, file: &Path) -> String {
    let Some(reference) = &p.secret else {
        return "none (no login)".into();
    };
    let store = store_for(reference, name, file, &p.secret_env);
    if matches!(reference, SecretRef::Command(_)) {
        return format!("{} (not run here)", store.describe());
    }
    match store.read() {
        Ok(_) => format!("{} (readable)", store.describe()),
        Err(e) => format!("{} (NOT readable: {e})", store.describe()),
    }
}

fn remove(options: &Options, config: &LoadedConfig, name: &str) -> Result<()> {
    let (name, p, file) = config.get(name)?;
    let origin = &config.profiles[name].origin;
    if let Some(store) = owned_store(name, p, file) {
        store.delete()?;
    }
    if p.oauth.is_some() {
        let spool = crate::queue::Spool::default_path(options.spool.as_deref());
        crate::oauth::cache::remove(&spool, name)
            .map_err(|e| Error::io("cannot remove the token cache in", spool, e))?;
    }
    let mut edit = ConfigEdit::open(*origin, file.to_path_buf())?;
    edit.remove_profile(name);
    edit.save()?;
    println!("profile `{name}` removed from {}", file.display());
    Ok(())
}

/// The store of a secret that relayctl itself wrote, and so may delete: the keyring entry or the
/// default secret file. Files, commands and variables the admin set up are left alone.
fn owned_store(name: &str, p: &Profile, file: &Path) -> Option<Box<dyn SecretStore>> {
    let reference = p.secret.as_ref()?;
    let owned = match reference {
        SecretRef::Keyring => true,
        SecretRef::File(None) => true,
        SecretRef::File(Some(path)) => *path == secrets::default_file_path(file, name),
        _ => false,
    };
    owned.then(|| store_for(reference, name, file, &p.secret_env))
}

fn set_default(config: &LoadedConfig, name: &str) -> Result<()> {
    let (name, _, file) = config.get(name)?;
    let origin = &config.profiles[name].origin;
    let mut edit = ConfigEdit::open(*origin, file.to_path_buf())?;
    edit.set_default(name);
    edit.save()?;
    println!("default profile: {name} ({})", file.display());
    Ok(())
}

fn set_secret(
    options: &Options,
    config: &LoadedConfig,
    name: &str,
    password_stdin: bool,
) -> Result<()> {
    let (name, p, file) = config.get(name)?;
    let Some(reference) = &p.secret else {
        return Err(crate::error::Error::Usage(format!(
            "profile `{name}` does not log in; it has no secret"
        )));
    };
    if p.oauth.is_some() {
        return Err(crate::error::Error::Usage(format!(
            "profile `{name}` logs in with OAuth2: sign in again with `relayctl setup {} --oauth --name {name}` and the options used before",
            p.preset
        )));
    }
    let store = store_for(reference, name, file, &p.secret_env);
    // Fail before prompting when the store cannot be written.
    if !matches!(reference, SecretRef::Keyring | SecretRef::File(_)) {
        store.write(&secrecy::SecretString::from(String::new()))?;
    }
    let secret = new_secret(password_stdin, p.preset, name)?;
    store_and_verify(store.as_ref(), &secret)?;
    println!(
        "secret of profile `{name}` replaced in {} (read back)",
        store.describe()
    );
    let released = super::queue::release_profile(&options.open_spool()?, name)?;
    if released > 0 {
        println!("{released} held message(s) released for the next queue run");
    }
    Ok(())
}
