//! One module per subcommand, each with an `execute` function.

pub mod profile;
pub mod send;
pub mod setup;

use std::io::Read;
use std::path::PathBuf;

use crate::config::{ConfigLocation, LoadedConfig, Profile};
use crate::error::{Error, Result};
use crate::relay::{self, Envelope, Transcript};
use crate::secrets::{SecretError, SecretString, store_for};

/// What every subcommand gets from the global options.
pub struct Context {
    pub location: ConfigLocation,
    /// `--profile` / `RELAYCTL_PROFILE`.
    pub profile: Option<String>,
    pub transcript: Transcript,
}

/// The profile a delivery uses, with the file that defines it (secrets may live beside it).
pub struct Selected {
    pub name: String,
    pub profile: Profile,
    pub file: PathBuf,
}

impl Context {
    /// Loads the configuration and picks the profile to send with.
    pub fn select_profile(&self) -> Result<Selected> {
        self.select_from(&self.location.load()?)
    }

    /// Picks the profile to send with from a loaded configuration.
    pub fn select_from(&self, config: &LoadedConfig) -> Result<Selected> {
        let (name, _) = config.select(self.profile.as_deref())?;
        let (name, profile, file) = config.get(name)?;
        Ok(Selected {
            name: name.to_string(),
            profile: profile.clone(),
            file: file.to_path_buf(),
        })
    }
}

impl Selected {
    /// Reads the profile's secret; called by the relay session only when it logs in.
    pub fn read_secret(&self) -> std::result::Result<SecretString, SecretError> {
        match &self.profile.secret {
            Some(reference) => store_for(reference, &self.name, &self.file).read(),
            None => Err(SecretError::NotFound {
                store: format!("profile `{}`", self.name),
                hint: "the profile has a user but no `secret`; run `relayctl profile set-secret`"
                    .into(),
            }),
        }
    }

    /// Delivers one message through this profile (the secret is read only if the relay needs a
    /// login) and notes the relay's reply in the transcript.
    pub fn deliver(
        &self,
        envelope: &Envelope,
        message: &[u8],
        transcript: &Transcript,
    ) -> Result<()> {
        let reply = relay::deliver(
            &self.name,
            &self.profile,
            &|| self.read_secret(),
            envelope,
            message,
            transcript,
        )?;
        transcript.note(&format!("accepted: {reply}"));
        Ok(())
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

/// Reads all of stdin, refusing more than `limit` bytes so that a runaway producer cannot exhaust
/// memory.
pub fn read_stdin(limit: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(Error::Stdin)?;
    if buf.len() as u64 > limit {
        return Err(Error::Message(format!(
            "the message is larger than the profile's limit of {} bytes (max_message_size)",
            limit
        )));
    }
    Ok(buf)
}
