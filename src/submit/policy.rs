//! The sender policy a submission is prepared under (see `message::submission`): who the
//! message may say it is from. The one place that builds one from a profile.

use crate::config::Profile;
use crate::message::submission::{SenderPolicy, Senders};

/// A profile without a `from` address cannot submit: there is no sender to enforce.
#[derive(Debug, thiserror::Error)]
#[error("profile `{0}` has no `from` address; set one (relayctl setup ... --from ADDR)")]
pub struct NoFrom(pub String);

/// For a caller who may read the profile (root, or a user with a configuration of their own):
/// the profile's `allow_from_override` and `reply_to`, and `full_name` (`-F`) for a From that
/// relayctl writes.
pub fn trusted<'a>(
    name: &str,
    profile: &'a Profile,
    full_name: Option<&'a str>,
) -> Result<SenderPolicy<'a>, NoFrom> {
    Ok(SenderPolicy {
        profile_from: profile.from.as_deref().ok_or_else(|| NoFrom(name.into()))?,
        senders: if profile.allow_from_override {
            Senders::Any
        } else {
            Senders::Listed(&[])
        },
        reply_to: profile.reply_to.as_deref(),
        full_name,
    })
}

/// For a user who submits through the maildrop: whatever the profile allows root, the sender
/// is enforced (see `message::submission::prepare`).
pub fn enforced<'a>(name: &str, profile: &'a Profile) -> Result<SenderPolicy<'a>, NoFrom> {
    listed(name, profile, &[])
}

/// For a client of the SMTP listener: the profile's address and the `senders` its server user
/// may use (none for a client that did not log in); everything else enforced as for maildrop
/// users.
pub fn listed<'a>(
    name: &str,
    profile: &'a Profile,
    senders: &'a [String],
) -> Result<SenderPolicy<'a>, NoFrom> {
    Ok(SenderPolicy {
        senders: Senders::Listed(senders),
        full_name: None,
        ..trusted(name, profile, None)?
    })
}
