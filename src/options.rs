//! The global options every command gets (`--config`, `--profile`, `-v`, `--spool`, `--wait`,
//! and their environment variables), and what follows from them alone: this user's spool,
//! whether they submit through the system maildrop, and the profile a configuration selects.

use std::path::{Path, PathBuf};

use crate::config::{ConfigLocation, Delivery, LoadedConfig, Profile};
use crate::error::{Error, Result};
use crate::message::envelope::Envelope;
use crate::queue::spool::SYSTEM_SPOOL;
use crate::queue::{Spool, prepare_maildrop};
use crate::relay::{self, ProfileCredentials};
use crate::transcript::Transcript;

/// What every command gets from the global options.
pub struct Options {
    pub location: ConfigLocation,
    /// `--profile` / `RELAYCTL_PROFILE`.
    pub profile: Option<String>,
    pub transcript: Transcript,
    /// `--spool` / `RELAYCTL_SPOOL`.
    pub spool: Option<PathBuf>,
    /// `--wait`: deliver synchronously, whatever `delivery` says.
    pub wait: bool,
}

impl Options {
    /// Opens this user's spool (root's is the system spool, with its maildrop).
    pub fn open_spool(&self) -> Result<Spool> {
        let path = Spool::default_path(self.spool.as_deref());
        let spool = Spool::open(&path)?;
        if path == Path::new(SYSTEM_SPOOL) && rustix::process::geteuid().is_root() {
            prepare_maildrop(&path)?;
        }
        Ok(spool)
    }

    /// Where a body being submitted waits: the spool's `tmp/` (same file system as the queue),
    /// or the system's temporary directory for users who submit through the maildrop.
    pub fn scratch_dir(&self) -> PathBuf {
        if !self.uses_maildrop()
            && let Ok(spool) = self.open_spool()
        {
            return spool.root().join("tmp");
        }
        std::env::temp_dir()
    }

    /// Whether this user submits through the system maildrop: an ordinary user without a
    /// configuration or spool of their own, who cannot read the system profile's secret.
    pub fn uses_maildrop(&self) -> bool {
        !rustix::process::geteuid().is_root() && self.spool.is_none() && self.location.system_only()
    }

    /// The delivery mode in effect: `--wait` wins over the configured one.
    pub fn delivery(&self, config: &LoadedConfig) -> Delivery {
        if self.wait {
            Delivery::Wait
        } else {
            config.delivery
        }
    }

    /// The profile to send with: `--profile`, else the configuration's default, else the only
    /// one.
    pub fn select(&self, config: &LoadedConfig) -> Result<Selected> {
        self.select_for(config, None)
    }

    /// The profile to send `sender`'s mail with: `--profile` (or `RELAYCTL_PROFILE`), else the
    /// most specific of `[routes]` for the sender, else as [`Options::select`].
    pub fn select_for(&self, config: &LoadedConfig, sender: Option<&str>) -> Result<Selected> {
        let route = match (&self.profile, sender) {
            (None, Some(sender)) => config.routes.choose(sender),
            _ => None,
        };
        let requested = route
            .map(|r| r.profile.as_str())
            .or(self.profile.as_deref());
        let (name, _) = config.select(requested)?;
        let (name, profile, file) = config.get(name)?;
        Ok(Selected {
            name: name.to_string(),
            profile: profile.clone(),
            file: file.to_path_buf(),
            spool: Spool::default_path(self.spool.as_deref()),
            route: route.map(|r| r.key.clone()),
        })
    }
}

/// The profile a delivery uses, with the file that defines it (secrets may live beside it).
pub struct Selected {
    pub name: String,
    pub profile: Profile,
    pub file: PathBuf,
    /// The spool whose `oauth/` directory caches the profile's access tokens.
    pub spool: PathBuf,
    /// The `[routes]` key that chose the profile, when one did.
    pub route: Option<String>,
}

impl Selected {
    /// The profile's password or access tokens, read by the relay session only when it logs in.
    pub fn credentials(&self, transcript: Transcript) -> ProfileCredentials<'_> {
        ProfileCredentials::new(
            &self.name,
            &self.profile,
            &self.file,
            &self.spool,
            transcript,
        )
    }

    /// `host:port` of the profile's relay.
    pub fn relay(&self) -> String {
        format!("{}:{}", self.profile.host, self.profile.port)
    }

    /// Delivers one message through this profile without the queue (`--wait`, `delivery =
    /// "wait"`): the secret is read only if the relay needs a login, and the relay's reply is
    /// noted in the transcript and the log, and returned.
    pub fn deliver(
        &self,
        envelope: &Envelope,
        message: &[u8],
        transcript: &Transcript,
    ) -> Result<String> {
        let attempt = crate::log::Attempt::start(
            None,
            &self.name,
            self.relay(),
            envelope.recipients.len(),
            message,
            message.len() as u64,
            transcript.is_enabled(),
        )
        .routed(self.route.as_deref());
        let result = relay::deliver(
            &self.name,
            &self.profile,
            &self.credentials(*transcript),
            envelope,
            message,
            transcript,
        );
        match &result {
            Ok(reply) => attempt.delivered(reply),
            Err(e) => attempt.failed(&e.to_string()),
        }
        let reply = result?;
        transcript.note(&format!("accepted: {reply}"));
        Ok(reply)
    }

    /// The sender: the one given, else the profile's `from`.
    pub fn sender(&self, given: Option<String>) -> Result<String> {
        given.or_else(|| self.profile.from.clone()).ok_or_else(|| {
            Error::Usage(format!(
                "no sender: give --from or set `from` in profile `{}`",
                self.name
            ))
        })
    }
}
