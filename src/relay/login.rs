//! Logging in to the relay: the one sequence delivery ([`super::Session`]) and `doctor` both
//! run, with every decision taken from the [`Policy`]. Credentials only on an encrypted
//! connection; the mechanism chosen from the relay's offer; the secret read only then (so a
//! relay that cannot take the login never causes a secret to be read); a cached OAuth2 token the
//! relay refuses is replaced by a fresh one, once.

use secrecy::ExposeSecret;

use super::Credentials;
use super::policy::Policy;
use super::sasl::{Identity, Mechanism, Secret};
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

/// Logs in as `user` on `conn` as `policy` says, with `credentials` read only once the relay
/// is known to take a login this profile can give. Returns the relay's final reply.
pub fn log_in(
    conn: &mut Connection,
    policy: &Policy,
    user: &str,
    credentials: &dyn Credentials,
    observer: &dyn Observer,
) -> Result<Reply, LoginError> {
    if !policy.may_send_credentials(conn.is_encrypted()) {
        return Err(LoginError::NotEncrypted);
    }
    let offered = conn.extensions().auth_mechanisms();
    let Some(mechanism) = policy.mechanism(&offered) else {
        return Err(LoginError::NoMechanism(offered));
    };
    match mechanism.secret() {
        Secret::Password => {
            let password = credentials.password().map_err(LoginError::Secret)?;
            exchange(conn, mechanism, user, password.expose_secret(), observer)
                .map_err(LoginError::Smtp)
        }
        Secret::Token => {
            let token = credentials.access_token(None).map_err(LoginError::Token)?;
            let first = exchange(
                conn,
                mechanism,
                user,
                token.secret.expose_secret(),
                observer,
            );
            match first {
                Err(SmtpError::Reply { reply, .. })
                    if policy.retry_with_fresh_token(&reply, token.fresh) =>
                {
                    observer.note("the relay refused the cached access token; fetching a new one");
                    let token = credentials
                        .access_token(Some(&token.secret))
                        .map_err(LoginError::Token)?;
                    exchange(
                        conn,
                        mechanism,
                        user,
                        token.secret.expose_secret(),
                        observer,
                    )
                }
                other => other,
            }
            .map_err(LoginError::Smtp)
        }
    }
}

/// One AUTH exchange of `mechanism`.
fn exchange(
    conn: &mut Connection,
    mechanism: Mechanism,
    user: &str,
    secret: &str,
    observer: &dyn Observer,
) -> Result<Reply, SmtpError> {
    let (host, port) = conn.server();
    let host = host.to_string();
    let identity = Identity {
        user,
        secret,
        host: &host,
        port,
    };
    let mut exchange = mechanism.start(identity);
    conn.authenticate(exchange.as_mut(), observer)
}
