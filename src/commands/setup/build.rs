//! The profile `setup` writes: a new one from the preset and the flags, or an existing one with
//! only what the flags name changed, so that re-running `setup` never loses a setting the admin
//! added by hand (a `rate_limit` agreed with a campus relay, a `fallback`).

use std::path::{Path, PathBuf};

use crate::cli::SetupArgs;
use crate::config::{PresetDefaults, Profile, RateLimitSetting, TlsMode};
use crate::error::{Error, Result};
use crate::message::is_plausible_address;

use super::oauth;

/// The profile for `args`: built from the preset when there is no `existing` one, else the
/// existing one changed only where a flag was given. A different preset (or `--region`) brings
/// its endpoint and size limit along; everything else stays.
pub fn profile(args: &SetupArgs, existing: Option<&Profile>) -> Result<Profile> {
    let defaults = args.preset.defaults(args.region.as_deref());
    let (mut p, from_preset) = match existing {
        None => (new_profile(args, &defaults)?, true),
        Some(old) if old.preset == args.preset && args.region.is_none() => (old.clone(), false),
        Some(old) => (
            Profile {
                preset: args.preset,
                host: defaults.host.clone().unwrap_or_else(|| old.host.clone()),
                port: defaults.port,
                tls: defaults.tls,
                max_message_size: Some(defaults.max_message_size),
                rate_limit: old.rate_limit.or(defaults.rate_limit),
                ..old.clone()
            },
            true,
        ),
    };
    if let Some(host) = &args.host {
        p.host = host.clone();
    }
    if let Some(tls) = args.tls {
        // `--tls tls` alone moves a profile on the usual port of its old mode to the new one's.
        if args.port.is_none() && tls != p.tls && p.port == usual_port(p.tls) {
            p.port = usual_port(tls);
        }
        p.tls = tls;
    }
    if let Some(port) = args.port {
        p.port = port;
    }
    replace(&mut p.tls_name, &args.tls_name);
    replace(&mut p.ehlo_name, &args.ehlo_name);
    if let Some(path) = &args.ca_file {
        p.ca_file = Some(absolute(path)?);
    }
    if !args.tls_fingerprint.is_empty() {
        p.tls_fingerprint = args.tls_fingerprint.clone();
    }
    p.tls_min_version = args.tls_min_version.or(p.tls_min_version);
    p.source_address = args.source_address.or(p.source_address);
    if let Some(proxy) = &args.proxy {
        p.proxy = Some(proxy.clone());
    }
    if let Some(reference) = &args.proxy_secret {
        p.proxy_secret = Some(reference.clone());
    }
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        p.client_cert = Some(absolute(cert)?);
        p.client_key = Some(absolute(key)?);
    }
    p.timeout = args.timeout.or(p.timeout);
    p.max_message_size = args.max_message_size.or(p.max_message_size);
    if let Some(RateLimitSetting(rate)) = args.rate_limit {
        p.rate_limit = rate;
        if rate.is_none() {
            // A burst means nothing without a limit (and is refused without one).
            p.rate_burst = None;
        }
    }
    if !args.fallback.is_empty() {
        p.fallback = args.fallback.clone();
    }
    let old_user = p.user.clone();
    replace(&mut p.user, &args.user);
    match &args.from {
        Some(from) => p.from = Some(from.clone()),
        // The login name is the sender when it is an address and no other sender was chosen.
        None if p.from.is_none() || p.from == old_user => {
            p.from = p.user.clone().filter(|u| is_plausible_address(u));
        }
        None => {}
    }
    if args.oauth {
        p.oauth = oauth::table(args)?;
    } else if args.password_stdin || args.password_command.is_some() {
        // A password now: the profile no longer signs in with OAuth2.
        p.oauth = None;
    }
    if from_preset && defaults.auth && p.user.is_none() {
        return Err(Error::Usage(format!(
            "preset {} logs in to the relay: give --user (usually your email address)",
            args.preset
        )));
    }
    if p.from.is_none() && p.user.is_some() {
        return Err(Error::Usage(
            "give --from ADDR: the login name is not an email address".into(),
        ));
    }
    Ok(p)
}

/// A profile with the preset's values and nothing else.
fn new_profile(args: &SetupArgs, defaults: &PresetDefaults) -> Result<Profile> {
    let host = args
        .host
        .clone()
        .or_else(|| defaults.host.clone())
        .ok_or_else(|| Error::Usage(format!("preset {} needs --host", args.preset)))?;
    Ok(Profile {
        preset: args.preset,
        host,
        port: defaults.port,
        tls: defaults.tls,
        tls_name: None,
        tls_fingerprint: Vec::new(),
        tls_min_version: None,
        source_address: None,
        proxy: None,
        proxy_secret: None,
        ca_file: None,
        client_cert: None,
        client_key: None,
        user: defaults.fixed_user.map(str::to_string),
        auth: None,
        from: None,
        secret: None,
        secret_env: Vec::new(),
        oauth: None,
        ehlo_name: None,
        timeout: None,
        max_message_size: Some(defaults.max_message_size),
        allow_from_override: false,
        allow_bare_hostnames: false,
        reply_to: None,
        fallback: Vec::new(),
        notify: None,
        rate_limit: defaults.rate_limit,
        rate_burst: None,
        max_connections: None,
        brake: None,
        brake_per_caller: None,
        users: None,
        groups: None,
    })
}

fn replace(setting: &mut Option<String>, flag: &Option<String>) {
    if let Some(value) = flag {
        *setting = Some(value.clone());
    }
}

/// Paths are stored absolute: the config is read from other working directories (cron, units).
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::io("cannot resolve", path, e))
}

fn usual_port(tls: TlsMode) -> u16 {
    match tls {
        TlsMode::Tls => 465,
        TlsMode::Starttls => 587,
        TlsMode::Opportunistic | TlsMode::None => 25,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(line: &[&str]) -> SetupArgs {
        let cli =
            crate::cli::Cli::try_parse_from(["relayctl", "setup"].iter().chain(line).copied())
                .unwrap();
        match cli.command {
            crate::cli::Command::Setup(args) => *args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_new_profile_takes_the_preset_and_the_flags() {
        let p = profile(&args(&["gmail", "--user", "me@gmail.com"]), None).unwrap();
        assert_eq!((p.host.as_str(), p.port), ("smtp.gmail.com", 587));
        assert_eq!(p.from.as_deref(), Some("me@gmail.com"));
        assert_eq!(
            p.rate_limit.map(|r| r.to_string()).as_deref(),
            Some("500/day")
        );
        let p = profile(
            &args(&["gmail", "--user", "me@gmail.com", "--tls", "tls"]),
            None,
        )
        .unwrap();
        assert_eq!(p.port, 465);
        let err = profile(&args(&["gmail"]), None).unwrap_err().to_string();
        assert!(err.contains("give --user"), "{err}");
        let err = profile(&args(&["institutional", "--user", "x"]), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs --host"), "{err}");
    }

    #[test]
    fn an_existing_profile_changes_only_where_a_flag_says() {
        let mut old = profile(&args(&["smarthost", "--host", "mx.campus.example"]), None).unwrap();
        old.rate_limit = Some("60/hour".parse().unwrap());
        old.fallback = vec!["backup".into()];
        old.from = Some("vm1@campus.example".into());
        let p = profile(&args(&["smarthost", "--port", "587"]), Some(&old)).unwrap();
        assert_eq!(
            Profile {
                port: 587,
                ..old.clone()
            },
            p,
            "only the port changes"
        );
        let p = profile(&args(&["smarthost", "--rate-limit", "off"]), Some(&old)).unwrap();
        assert_eq!(p.rate_limit, None);
        let p = profile(
            &args(&[
                "smarthost",
                "--fallback",
                "a",
                "--fallback",
                "b",
                "--from",
                "x@y.example",
            ]),
            Some(&old),
        )
        .unwrap();
        assert_eq!(
            (p.fallback.as_slice(), p.from.as_deref()),
            (&["a".to_string(), "b".to_string()][..], Some("x@y.example"))
        );
    }

    #[test]
    fn another_preset_brings_its_endpoint_and_keeps_the_rest() {
        let mut old = profile(&args(&["smarthost", "--host", "mx.campus.example"]), None).unwrap();
        old.rate_limit = Some("60/hour".parse().unwrap());
        let p = profile(
            &args(&["outlook", "--user", "me@contoso.example"]),
            Some(&old),
        )
        .unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.tls),
            ("smtp.office365.com", 587, TlsMode::Starttls)
        );
        assert_eq!(p.rate_limit, old.rate_limit, "the admin's limit stays");
        assert_eq!(p.from.as_deref(), Some("me@contoso.example"));
    }
}
