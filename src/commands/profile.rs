//! `relayctl profile ...`: list, show, remove, choose the default, rotate the secret.

use std::path::Path;

use crate::cli::ProfileCommand;
use crate::commands::queue::admin;
use crate::commands::setup::{self, new_secret};
use crate::config::{
    ConfigEdit, Delivery, LoadedConfig, LoadedProfile, Origin, Profile, Rate, TlsVersion,
};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::relay::GivenPassword;
use crate::secrets::{self, SecretRef, SecretStore, store_and_verify, store_for};

pub fn execute(options: &Options, command: ProfileCommand) -> Result<()> {
    let config = options.location.load()?;
    match command {
        ProfileCommand::List => list(&config),
        ProfileCommand::Show { name } => show(&config, &name),
        ProfileCommand::Remove {
            name,
            move_to,
            force,
        } => remove(options, &config, &name, move_to.as_deref(), force),
        ProfileCommand::Default { name } => set_default(&config, &name),
        ProfileCommand::SetSecret {
            name,
            password_stdin,
            no_verify,
        } => set_secret(options, &config, &name, password_stdin, no_verify),
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

/// Every setting in effect for the profile, the ones it does not set marked `(default)`, and
/// what points at it (profiles that fall back to it).
fn show(config: &LoadedConfig, name: &str) -> Result<()> {
    let (name, p, file) = config.get(name)?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let path = |v: &Option<std::path::PathBuf>| {
        v.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into())
    };
    // A value, marked when the profile leaves it to relayctl.
    let marked = |value: String, set: bool| {
        if set {
            value
        } else {
            format!("{value} (default)")
        }
    };
    let yes_no = |b: bool| marked(if b { "yes" } else { "no" }.into(), b);
    let rate = |r: Option<Rate>| r.map_or_else(|| "off".to_string(), |r| r.to_string());
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
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
    let pins: Vec<String> = p.tls_fingerprint.iter().map(ToString::to_string).collect();
    println!("tls fingerprint:  {}", list(&pins));
    println!(
        "tls min version:  {}",
        marked(
            p.tls_min_version.unwrap_or(TlsVersion::Tls12).to_string(),
            p.tls_min_version.is_some()
        )
    );
    println!(
        "source address:   {}",
        p.source_address
            .map_or_else(|| "-".into(), |a| a.to_string())
    );
    println!(
        "proxy:            {}",
        match (&p.proxy, &p.proxy_secret) {
            (Some(url), Some(secret)) => format!("{url} (password: {secret})"),
            (Some(url), None) => url.to_string(),
            (None, _) => "none".into(),
        }
    );
    println!("user:             {}", opt(&p.user));
    println!("from:             {}", opt(&p.from));
    println!("reply to:         {}", opt(&p.reply_to));
    println!("from override:    {}", yes_no(p.allow_from_override));
    println!("bare hostnames:   {}", yes_no(p.allow_bare_hostnames));
    println!(
        "ehlo name:        {}",
        marked(crate::relay::client_name(p), p.ehlo_name.is_some())
    );
    println!(
        "timeout:          {}",
        marked(format!("{}s", p.timeout().as_secs()), p.timeout.is_some())
    );
    println!(
        "max message size: {}",
        marked(
            p.max_message_size().to_string(),
            p.max_message_size.is_some()
        )
    );
    println!(
        "rate limit:       {}",
        marked(rate(p.rate_limit), p.rate_limit.is_some())
    );
    if let Some((_, burst)) = p.bucket() {
        println!(
            "rate burst:       {}",
            marked(burst.to_string(), p.rate_burst.is_some())
        );
    }
    println!(
        "brake:            {}",
        marked(rate(p.brake()), p.brake.is_some())
    );
    println!(
        "brake per caller: {}",
        match p.brake_per_caller {
            Some(_) => rate(p.brake_per_caller(true)),
            None => format!(
                "{} for users of the maildrop, off for root (default)",
                rate(p.brake_per_caller(true))
            ),
        }
    );
    println!("fallback:         {}", list(&p.fallback));
    let fallback_for: Vec<String> = config
        .profiles
        .iter()
        .filter(|(_, l)| l.profile.fallback.iter().any(|f| f == name))
        .map(|(n, _)| n.clone())
        .collect();
    println!("fallback for:     {}", list(&fallback_for));
    println!(
        "notify:           {}",
        match (&p.notify, &config.notify) {
            (Some(own), _) => own.clone(),
            (None, Some(top)) => format!("{top} (the top-level notify)"),
            (None, None) => {
                "none (default): nobody hears of held or failed mail; set one with `relayctl setup ... --notify ADDR`".into()
            }
        }
    );
    println!(
        "delivery:         {}",
        marked(
            delivery_name(config.delivery).into(),
            config.delivery != Delivery::default()
        )
    );
    match (&p.users, &p.groups) {
        (None, None) => println!("users, groups:    every local user (default)"),
        (users, groups) => {
            println!(
                "users:            {}",
                list(users.as_deref().unwrap_or_default())
            );
            println!(
                "groups:           {}",
                list(groups.as_deref().unwrap_or_default())
            );
        }
    }
    println!("secret:           {}", secret_status(name, p, file));
    if let Some(oauth) = &p.oauth {
        println!("login:            OAuth2 (OAUTHBEARER or XOAUTH2)");
        println!("token endpoint:   {}", oauth.token_endpoint);
        println!("client id:        {}", oauth.client_id);
        println!("scope:            {}", oauth.scope);
    }
    Ok(())
}

fn delivery_name(delivery: Delivery) -> &'static str {
    match delivery {
        Delivery::Now => "now",
        Delivery::Queue => "queue",
        Delivery::Wait => "wait",
    }
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

/// Removes a profile. Mail waiting for it must go somewhere: through another profile
/// (`move_to`), or held until the admin moves it (`force`); without either, nothing is removed.
/// A profile that others fall back to stays until they no longer name it.
fn remove(
    options: &Options,
    config: &LoadedConfig,
    name: &str,
    move_to: Option<&str>,
    force: bool,
) -> Result<()> {
    let (name, p, file) = config.get(name)?;
    let origin = &config.profiles[name].origin;
    if let Some(other) = config
        .profiles
        .iter()
        .find(|(_, l)| l.profile.fallback.iter().any(|f| f == name))
        .map(|(n, _)| n)
    {
        return Err(Error::Usage(format!(
            "profile `{name}` is the fallback of profile `{other}`; remove it from that profile's `fallback` first"
        )));
    }
    if let Some(to) = move_to {
        config.get(to)?;
        if to == name {
            return Err(Error::Usage(format!(
                "--move-to {to}: the mail must go to another profile"
            )));
        }
    }
    let spool = options.open_spool()?;
    let waiting = admin::of_profile(&spool, name)?;
    let moved = match (waiting.is_empty(), move_to, force) {
        (true, _, _) => None,
        (false, Some(to), _) => Some(format!(
            "{} queued message(s) now go through profile {to}",
            admin::reassign(&spool, &waiting, to)?.0
        )),
        (false, None, true) => Some(format!(
            "{} queued message(s) held: send them through another profile with `relayctl queue move --all --profile {name} --to PROFILE`, then `relayctl queue release --all`",
            admin::hold_for_removal(&spool, &waiting, name)?
        )),
        (false, None, false) => {
            return Err(Error::Usage(format!(
                "profile `{name}` has {} queued message(s); remove it with --move-to PROFILE to send them through another profile, or with --force to hold them",
                waiting.len()
            )));
        }
    };
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
    if let Some(line) = moved {
        println!("{line}");
    }
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
    no_verify: bool,
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
    if !no_verify {
        setup::prove(
            options,
            name,
            p,
            file,
            Some(&GivenPassword(secret.clone())),
            setup::OLD_SECRET_KEPT,
        )?;
    }
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
