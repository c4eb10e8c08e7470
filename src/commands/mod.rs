//! One module per subcommand, each with an `execute` function.

pub mod doctor;
pub mod profile;
pub mod queue;
pub mod send;
pub mod setup;
pub mod test;

use std::io::Read;
use std::path::PathBuf;

use crate::config::{ConfigLocation, Delivery, LoadedConfig, Profile};
use crate::error::{Error, Result};
use std::io::Write;

use crate::message::canonical::canonicalize;
use crate::message::envelope::Envelope;
use crate::queue::schedule::now;
use crate::queue::spool::SYSTEM_SPOOL;
use crate::queue::{MessageState, Outcome, QueueId, Runner, Spool, daemon};
use crate::relay::{self, ProfileCredentials};
use crate::submit::{Ready, maildrop};
use crate::transcript::Transcript;
use crate::users::LocalUser;

/// What every subcommand gets from the global options.
pub struct Context {
    pub location: ConfigLocation,
    /// `--profile` / `RELAYCTL_PROFILE`.
    pub profile: Option<String>,
    pub transcript: Transcript,
    /// `--spool` / `RELAYCTL_SPOOL`.
    pub spool: Option<PathBuf>,
    /// `--wait`: deliver synchronously, whatever `delivery` says.
    pub wait: bool,
}

/// The profile a delivery uses, with the file that defines it (secrets may live beside it).
pub struct Selected {
    pub name: String,
    pub profile: Profile,
    pub file: PathBuf,
    /// The spool whose `oauth/` directory caches the profile's access tokens.
    pub spool: PathBuf,
}

impl Context {
    /// Opens this user's spool.
    pub fn open_spool(&self) -> Result<Spool> {
        let path = Spool::default_path(self.spool.as_deref());
        let spool = Spool::open(&path)?;
        if path == std::path::Path::new(SYSTEM_SPOOL) && rustix::process::geteuid().is_root() {
            maildrop::prepare_dir(&path)?;
        }
        Ok(spool)
    }

    /// Where a body being submitted waits: the spool's `tmp/` (same file system as the queue),
    /// or the system's temporary directory for users who submit through the maildrop.
    pub fn scratch_dir(&self) -> std::path::PathBuf {
        if !self.uses_maildrop()
            && let Ok(spool) = self.open_spool()
        {
            return spool.root().join("tmp");
        }
        std::env::temp_dir()
    }

    /// Whether this submission goes through the system maildrop: an ordinary user without a
    /// configuration or spool of their own, who cannot read the system profile's secret.
    fn uses_maildrop(&self) -> bool {
        !rustix::process::geteuid().is_root() && self.spool.is_none() && self.location.system_only()
    }

    /// The delivery mode in effect: `--wait` wins over the configured one.
    fn mode(&self, config: &LoadedConfig) -> Delivery {
        if self.wait {
            Delivery::Wait
        } else {
            config.delivery
        }
    }

    /// Hands a composed message (`send`) to the relay the configured way: queued durably first
    /// and tried at once (`now`), only queued (`queue`), or delivered synchronously without
    /// queueing (`wait`). Exit 0 means delivered or safely queued.
    pub fn submit(
        &self,
        config: &LoadedConfig,
        selected: &Selected,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<()> {
        let mode = self.mode(config);
        if self.uses_maildrop() {
            return self.drop_for_runner(selected, envelope, &mut |w| w.write_all(message));
        }
        if mode == Delivery::Wait {
            return selected.deliver(envelope, message, &self.transcript);
        }
        let wire = canonicalize(message);
        relay::check_size(&selected.name, &selected.profile, wire.len() as u64)?;
        let spool = self.open_spool()?;
        let state = MessageState::new(&selected.name, envelope, wire.len() as u64, now());
        let id = spool.enqueue(&wire, &state)?;
        self.deliver_queued(config, &spool, id, mode)
    }

    /// Like [`Context::submit`] for a message read from a caller and prepared (`sendmail`,
    /// `-bs`): its body goes into the queue without ever being held whole.
    pub fn submit_ready(
        &self,
        config: &LoadedConfig,
        selected: &Selected,
        ready: &mut Ready,
    ) -> Result<()> {
        let mode = self.mode(config);
        if self.uses_maildrop() {
            let envelope = ready.envelope.clone();
            return self.drop_for_runner(selected, &envelope, &mut |w| ready.write_to(w));
        }
        if mode == Delivery::Wait {
            let mut message = Vec::new();
            ready.write_to(&mut message).map_err(Error::Stdin)?;
            return selected.deliver(&ready.envelope, &message, &self.transcript);
        }
        relay::check_size(&selected.name, &selected.profile, ready.size())?;
        let spool = self.open_spool()?;
        let id = ready.enqueue(&spool, &selected.name, None)?;
        self.deliver_queued(config, &spool, id, mode)
    }

    /// Drops a message into the system maildrop and wakes the root runner. A profile whose
    /// `users` and `groups` leave this user out is refused here already (the runner would).
    fn drop_for_runner(
        &self,
        selected: &Selected,
        envelope: &Envelope,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let user = LocalUser::lookup(rustix::process::getuid().as_raw());
        if !selected.profile.admits(&user) {
            return Err(Error::Forbidden(format!(
                "{user} may not send through profile {} (its `users` and `groups` in {}); ask the administrator, or choose another profile with --profile",
                selected.name,
                selected.file.display()
            )));
        }
        let id = maildrop::submit(&selected.name, envelope, write)?;
        self.transcript
            .note(&format!("dropped as {id} for the system queue runner"));
        daemon::wake_at(std::path::Path::new(SYSTEM_SPOOL));
        Ok(())
    }

    /// Tries a just-queued message at once (`now`), or leaves it to the runner (`queue`).
    ///
    /// The attempt runs in a process of its own (`relayctl queue attempt ID`, in its own
    /// process group) that this one waits for: a caller that kills `sendmail` (a timeout, a
    /// request limit, kill -9) cannot cut the SMTP transaction short between the relay's
    /// acceptance and its record in the queue, the one moment when a message could be sent
    /// twice. With raised privileges, or when the program cannot be started again, the attempt
    /// runs in this process.
    fn deliver_queued(
        &self,
        config: &LoadedConfig,
        spool: &Spool,
        id: QueueId,
        mode: Delivery,
    ) -> Result<()> {
        self.transcript.note(&format!("queued as {id}"));
        if mode == Delivery::Queue {
            daemon::wake(spool);
            return Ok(());
        }
        if !crate::privilege::raised()
            && let Some(status) = self.hand_off(spool, &id)
        {
            return match status.code() {
                Some(0) | None => Ok(()),
                Some(code) => Err(Error::Attempt { id, code }),
            };
        }
        self.attempt(config, spool, id)
    }

    /// Runs `relayctl queue attempt ID` for a message in `spool` with this context's options
    /// and waits for it; `None` when it cannot be started. Its exit status is the attempt's
    /// (a kill by a signal leaves the message safely queued); it reports on the same stderr.
    fn hand_off(&self, spool: &Spool, id: &QueueId) -> Option<std::process::ExitStatus> {
        use std::os::unix::process::CommandExt;
        let exe = std::env::current_exe().ok()?;
        let mut cmd = std::process::Command::new(exe);
        // The binary may be reached as `sendmail`, which would select the sendmail front end.
        cmd.arg0("relayctl");
        if let Some(file) = self.location.explicit() {
            cmd.arg("--config").arg(file);
        }
        if self.transcript.is_enabled() {
            cmd.arg("-v");
        }
        cmd.arg("--spool")
            .arg(spool.root())
            .args(["queue", "attempt", id.as_str()])
            .stdin(std::process::Stdio::null())
            .process_group(0);
        cmd.status().ok()
    }

    /// The first attempt at a just-queued message, in this process (`queue attempt`).
    pub fn attempt(&self, config: &LoadedConfig, spool: &Spool, id: QueueId) -> Result<()> {
        let Some(locked) = spool.lock(&id)? else {
            // A runner took it already.
            return Ok(());
        };
        let mut runner = Runner::new(spool, config, &self.transcript);
        let outcome = runner.attempt(locked);
        let notices = runner.send_notices(&mut Default::default());
        runner.close();
        notices?;
        match outcome? {
            Outcome::Delivered | Outcome::Busy | Outcome::Held(_) => Ok(()),
            Outcome::Deferred(reason) => {
                self.transcript
                    .note(&format!("{id} stays queued for a later attempt: {reason}"));
                daemon::wake(spool);
                Ok(())
            }
            Outcome::Failed { reason, fault } => Err(Error::Undeliverable { id, reason, fault }),
        }
    }

    /// Picks the profile to send with from a loaded configuration.
    pub fn select_from(&self, config: &LoadedConfig) -> Result<Selected> {
        let (name, _) = config.select(self.profile.as_deref())?;
        let (name, profile, file) = config.get(name)?;
        Ok(Selected {
            name: name.to_string(),
            profile: profile.clone(),
            file: file.to_path_buf(),
            spool: Spool::default_path(self.spool.as_deref()),
        })
    }
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

    /// Delivers one message through this profile (the secret is read only if the relay needs a
    /// login) and notes the relay's reply in the transcript.
    pub fn deliver(
        &self,
        envelope: &Envelope,
        message: &[u8],
        transcript: &Transcript,
    ) -> Result<()> {
        let attempt = crate::log::Attempt::start(
            None,
            &self.name,
            format!("{}:{}", self.profile.host, self.profile.port),
            envelope.recipients.len(),
            message,
            message.len() as u64,
            transcript.is_enabled(),
        );
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

/// Reads all of stdin (the text `send` composes a message around), refusing more than `limit`
/// bytes so that a runaway producer cannot exhaust memory.
pub fn read_stdin(limit: u64) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(Error::Stdin)?;
    if buf.len() as u64 > limit {
        return Err(crate::submit::ReadError::TooLarge(limit).into());
    }
    Ok(buf)
}
