//! Logging in to the relay: the one sequence delivery ([`super::Session`]) and `doctor` both
//! run, with every decision taken from the [`Policy`]. Credentials only on an encrypted
//! connection; the mechanism chosen from the relay's offer (the strongest, or the pinned one and
//! no other); the secret read only then (so a relay that cannot take the login never causes a
//! secret to be read); a cached OAuth2 token the relay refuses is replaced by a fresh one, once.

use secrecy::ExposeSecret;

use super::Credentials;
use super::policy::Policy;
use super::sasl::{ChannelBinding, Identity, Mechanism, Secret};
use super::smtp::{Connection, Observer, Reply, SmtpError};
use crate::oauth::OAuthError;
use crate::secrets::SecretError;

/// Why the login did not happen or did not succeed.
#[derive(Debug)]
pub enum LoginError {
    /// The connection is not encrypted: nothing was read or sent.
    NotEncrypted,
    /// The relay offers no mechanism the profile can use; what it offers (perhaps nothing).
    NoMechanism(Vec<String>),
    /// The password could not be read.
    Secret(SecretError),
    /// No access token could be had.
    Token(OAuthError),
    /// The exchange failed: the relay refused the login ([`SmtpError::Reply`]), or the
    /// connection failed.
    Smtp(SmtpError),
}

/// When a login that completes in one step goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// At once, its reply awaited (`doctor`, `setup`: the login is what is being checked).
    Now,
    /// In the same flight as the first mail transaction (delivery): a round trip less per
    /// connection. A refusal comes with that transaction's replies.
    WithFirstTransaction,
}

/// A login that succeeded.
#[derive(Debug)]
pub struct LoggedIn {
    /// The mechanism it took.
    pub mechanism: Mechanism,
    /// The relay's final reply; `None` when the TLS client certificate was the login and no
    /// AUTH was sent ([`Policy::certificate_is_the_login`]), or when the login goes with the
    /// first transaction ([`Timing::WithFirstTransaction`]).
    pub reply: Option<Reply>,
}

/// Logs in as `user` on `conn` as `policy` says, with `credentials` read only once the relay
/// is known to take a login this profile can give; `timing` says whether a one-step login may
/// wait for the first transaction.
pub fn log_in(
    conn: &mut Connection,
    policy: &Policy,
    (user, timing): (&str, Timing),
    credentials: &dyn Credentials,
    observer: &dyn Observer,
) -> Result<LoggedIn, LoginError> {
    if !policy.may_send_credentials(conn.is_encrypted()) {
        return Err(LoginError::NotEncrypted);
    }
    let offered = conn.extensions().auth_mechanisms();
    let binding = conn.channel_binding();
    let Some(mechanism) = policy.mechanism(&offered, binding.is_some()) else {
        if policy.certificate_is_the_login(&offered) {
            observer.note("the relay offers no AUTH: the TLS client certificate is the login");
            return Ok(LoggedIn {
                mechanism: Mechanism::External,
                reply: None,
            });
        }
        return Err(LoginError::NoMechanism(offered));
    };
    // Announced without `-PLUS` only to a relay that offers no `-PLUS` at all: one that does
    // would take the announcement for a stripped offer and refuse the login (RFC 5802 section 6).
    let binding = binding
        .filter(|_| mechanism.binds_channel() || !offered.iter().any(|m| m.ends_with("-PLUS")));
    let run = |conn: &mut Connection, secret: &str| {
        let identity = (user, secret, binding.as_ref());
        exchange(conn, mechanism, identity, timing, observer)
    };
    let reply = match mechanism.secret() {
        Secret::Certificate => run(conn, "").map_err(LoginError::Smtp),
        Secret::Password => {
            let password = credentials.password().map_err(LoginError::Secret)?;
            run(conn, password.expose_secret()).map_err(LoginError::Smtp)
        }
        Secret::Token => {
            let token = credentials.access_token(None).map_err(LoginError::Token)?;
            let first = run(conn, token.secret.expose_secret());
            match first {
                Err(SmtpError::Reply { reply, .. })
                    if policy.retry_with_fresh_token(&reply, token.fresh) =>
                {
                    observer.note("the relay refused the cached access token; fetching a new one");
                    let token = credentials
                        .access_token(Some(&token.secret))
                        .map_err(LoginError::Token)?;
                    run(conn, token.secret.expose_secret())
                }
                other => other,
            }
            .map_err(LoginError::Smtp)
        }
    }?;
    Ok(LoggedIn { mechanism, reply })
}

/// One AUTH exchange of `mechanism` as (user, secret, channel binding); `None` when it was left
/// to go with the first transaction.
fn exchange(
    conn: &mut Connection,
    mechanism: Mechanism,
    (user, secret, channel_binding): (&str, &str, Option<&ChannelBinding>),
    timing: Timing,
    observer: &dyn Observer,
) -> Result<Option<Reply>, SmtpError> {
    let (host, port) = conn.server();
    let host = host.to_string();
    let identity = Identity {
        user,
        secret,
        host: &host,
        port,
        channel_binding,
    };
    let mut exchange = mechanism.start(identity);
    if timing == Timing::WithFirstTransaction
        && conn.authenticate_with_next_transaction(exchange.as_mut())
    {
        observer.note(&format!(
            "AUTH {} goes with the first message (RFC 4954: a one-step login may be pipelined)",
            mechanism.name()
        ));
        return Ok(None);
    }
    conn.authenticate(exchange.as_mut(), observer).map(Some)
}
