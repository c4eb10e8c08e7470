//! How a profile's relay is reached: from its `source_address`, through its `proxy`, with the
//! proxy's password read from its store (only when the proxy URL names a user, and before the
//! connection, since the proxy asks first).

use super::smtp::{Proxy, Route};
use super::{Credentials, DeliveryError};
use crate::config::Profile;

/// The route to `profile`'s relay.
pub fn route(profile: &Profile, credentials: &dyn Credentials) -> Result<Route, DeliveryError> {
    let proxy = match &profile.proxy {
        None => None,
        Some(url) => Some(Proxy {
            url: url.clone(),
            password: match url.user {
                Some(_) => Some(credentials.proxy_password()?),
                None => None,
            },
        }),
    };
    Ok(Route {
        source: profile.source_address,
        proxy,
    })
}
