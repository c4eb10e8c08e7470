//! `setup PRESET --oauth`: the profile's OAuth2 table from the preset and the options, then
//! signing in once and keeping the refresh token (and client secret) in the secret store.

use std::io::BufRead;

use secrecy::SecretString;

use crate::cli::{SetupArgs, StoreKind};
use crate::config::{OAuth, Profile, oauth_provider};
use crate::error::{Error, Result};
use crate::oauth::{Client, OAuthError, OAuthSecret, cache_grant, flow};
use crate::queue::Spool;
use crate::secrets::{SecretError, SecretStore, read_new_secret};
use crate::transcript::Transcript;

/// The `[profiles.NAME.oauth]` table for `args`, or `None` without `--oauth`.
pub fn table(args: &SetupArgs) -> Result<Option<OAuth>> {
    if !args.oauth {
        return Ok(None);
    }
    let provider = oauth_provider(args.preset, args.tenant.as_deref());
    let from_preset =
        |get: fn(&crate::config::Provider) -> Option<String>| provider.as_ref().and_then(get);
    let token_endpoint = args
        .token_endpoint
        .clone()
        .or_else(|| from_preset(|p| Some(p.token_endpoint.clone())));
    let device_endpoint = args
        .device_endpoint
        .clone()
        .or_else(|| from_preset(|p| p.device_endpoint.clone()));
    let authorization_endpoint = args
        .authorize_endpoint
        .clone()
        .or_else(|| from_preset(|p| p.authorization_endpoint.clone()));
    let scope = args
        .scope
        .clone()
        .or_else(|| from_preset(|p| Some(p.scope.to_string())));
    let (Some(token_endpoint), Some(scope)) = (token_endpoint, scope) else {
        return Err(Error::Usage(format!(
            "preset {} has no OAuth2 endpoints: give --token-endpoint, --scope and --device-endpoint or --authorize-endpoint (from your institution's identity provider)",
            args.preset
        )));
    };
    let Some(client_id) = args.client_id.clone() else {
        let register = provider
            .map(|p| format!(" (register one at {})", p.registration))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "--oauth needs --client-id: the OAuth client of your app registration{register}"
        )));
    };
    Ok(Some(OAuth {
        token_endpoint,
        device_endpoint,
        authorization_endpoint,
        client_id,
        scope,
        redirect_uri: None,
    }))
}

/// Refuses stores relayctl cannot write: a provider may hand out a new refresh token at any
/// refresh, which must be kept.
pub fn check_store(kind: StoreKind) -> Result<()> {
    match kind {
        StoreKind::Keyring | StoreKind::File => Ok(()),
        other => Err(Error::Usage(format!(
            "--oauth keeps the refresh token in a store relayctl writes (keyring or file), not {other:?}; use --secret-store file (root-only with --system)"
        ))),
    }
}

/// Signs in and stores what came of it; returns the line `setup` prints about the secret.
pub fn sign_in(
    args: &SetupArgs,
    name: &str,
    profile: &Profile,
    store: &dyn SecretStore,
    spool: Option<&std::path::Path>,
    transcript: Transcript,
) -> Result<String> {
    let Some(oauth) = &profile.oauth else {
        return Ok(String::new());
    };
    let provider = oauth_provider(args.preset, args.tenant.as_deref());
    let mut input = std::io::stdin().lock();
    let client_secret = client_secret(args, provider.as_ref(), &mut input)?;
    let client = Client {
        oauth,
        client_secret: client_secret.as_ref(),
        timeout: profile.timeout(),
        ca_file: profile.ca_file.as_deref(),
        transcript,
    };
    let params = provider
        .as_ref()
        .map(|p| p.authorization_params)
        .unwrap_or_default();
    let grant = flow::sign_in(&client, params, &mut input, &mut std::io::stderr())?;
    let Some(refresh_token) = grant.refresh_token.clone() else {
        return Err(OAuthError::SignIn(
            "the provider issued no refresh token (the scope needs offline_access for Microsoft; Google needs access_type=offline)".into(),
        )
        .into());
    };
    OAuthSecret {
        refresh_token,
        client_secret,
    }
    .write(store)?;
    let cached = match cache_grant(&Spool::default_path(spool), name, &grant) {
        Ok(()) => format!(", access token valid for {} minutes", grant.lifetime / 60),
        // Not fatal: the first delivery fetches a token with the refresh token.
        Err(e) => {
            crate::messages::warning(&e.to_string());
            String::new()
        }
    };
    Ok(format!(
        "{} (signed in; refresh token stored and read back{cached})",
        store.describe()
    ))
}

/// The client secret: from stdin with `--client-secret-stdin`, else asked for when the provider
/// requires one.
fn client_secret(
    args: &SetupArgs,
    provider: Option<&crate::config::Provider>,
    input: &mut dyn BufRead,
) -> Result<Option<SecretString>> {
    if args.client_secret_stdin {
        let mut line = zeroize::Zeroizing::new(String::new());
        input
            .read_line(&mut line)
            .map_err(|e| Error::from(SecretError::Input(e)))?;
        let secret = line.trim_end_matches(['\r', '\n']);
        if secret.is_empty() {
            return Err(Error::Usage(
                "--client-secret-stdin: the first line of stdin is empty".into(),
            ));
        }
        return Ok(Some(SecretString::from(secret.to_string())));
    }
    if !provider.is_some_and(|p| p.needs_client_secret) {
        return Ok(None);
    }
    match read_new_secret(false, "OAuth client secret: ") {
        Ok(secret) => Ok(Some(secret)),
        Err(SecretError::NoTerminal) => Err(Error::Usage(format!(
            "preset {} needs the OAuth client secret: pipe it with --client-secret-stdin",
            args.preset
        ))),
        Err(e) => Err(e.into()),
    }
}
