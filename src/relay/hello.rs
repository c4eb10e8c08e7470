//! The name relayctl announces in EHLO. Relays reject a bare `localhost` and many campus relays
//! want a fully qualified name, so the default is this host's FQDN (what `hostname --fqdn`
//! prints), falling back to an address literal.

use crate::config::Profile;

/// The EHLO name for `profile`: its `ehlo_name`, else this host's fully qualified name, else
/// an address literal.
pub fn client_name(profile: &Profile) -> String {
    profile
        .ehlo_name
        .clone()
        .or_else(crate::host::fqdn)
        .unwrap_or_else(|| "[127.0.0.1]".into())
}
