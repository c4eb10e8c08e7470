//! Handing a prepared message to the queue the configured way: queued durably first and tried at
//! once (`delivery = "now"`), only queued (`queue`), delivered while the caller waits without
//! queueing (`wait`), or dropped into the system maildrop for the root runner when this user
//! may not read the profile's secret. Exit 0 means delivered or safely queued.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::maildrop;
use super::{Ready, SmtpClient, policy};
use crate::aliases::Aliases;
use crate::config::{Delivery, LoadedConfig};
use crate::error::{Error, Result};
use crate::message::envelope::Envelope;
use crate::message::submission::SenderPolicy;
use crate::options::{Options, Selected};
use crate::printable::one_line;
use crate::queue::spool::{Area, SYSTEM_SPOOL};
use crate::queue::{Outcome, QueueId, Runner, Spool, daemon};
use crate::users::LocalUser;

/// What a command that submits mail works with: the configuration, the profile it selected,
/// and the aliases in effect.
pub struct Intake<'o> {
    pub options: &'o Options,
    pub config: LoadedConfig,
    pub selected: Selected,
    pub aliases: Aliases,
    /// Whether the first attempt, when it runs in a process of its own, says how it went on
    /// stdout (`relayctl send` on a terminal); `sendmail` is silent.
    pub report: bool,
}

/// What became of a message handed over, for `relayctl send` to say on a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handed {
    /// A relay accepted it: its reply.
    Sent(String),
    /// It waits in the queue or the maildrop: its ID and why.
    Queued { id: String, reason: String },
    /// Its first attempt ran in a process of its own, which said how it went ([`Intake::report`]).
    Reported,
}

impl fmt::Display for Handed {
    /// `sent (250 2.0.0 Ok: queued as 4Xk2)`, `queued as 0190...: 451 4.3.0 try later`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Handed::Sent(reply) => write!(f, "sent ({})", one_line(reply)),
            Handed::Queued { id, reason } => write!(f, "queued as {id}: {}", one_line(reason)),
            Handed::Reported => Ok(()),
        }
    }
}

impl<'o> Intake<'o> {
    /// Loads the configuration, selects the profile and reads the aliases.
    pub fn load(options: &'o Options) -> Result<Self> {
        let config = options.location.load()?;
        let selected = options.select(&config)?;
        let aliases = Aliases::for_config(&config).map_err(Error::Alias)?;
        Ok(Intake {
            options,
            config,
            selected,
            aliases,
            report: false,
        })
    }

    /// Chooses the profile by the message's sender, once, at submission (see
    /// [`Options::select_for`]): `--profile` and `RELAYCTL_PROFILE` still win, and a sender no
    /// route matches keeps the default. The route goes into the queue with the message.
    pub fn route(&mut self, sender: Option<&str>) -> Result<()> {
        if !self.config.routes.is_empty() {
            self.selected = self.options.select_for(&self.config, sender)?;
            if let Some(route) = &self.selected.route {
                self.options.transcript.note(&format!(
                    "route {route:?} chose profile {}",
                    self.selected.name
                ));
            }
        }
        Ok(())
    }

    /// The sender policy for this caller (see [`policy::trusted`]); `full_name` is `-F`.
    pub fn policy<'a>(&'a self, full_name: Option<&'a str>) -> Result<SenderPolicy<'a>> {
        policy::trusted(&self.selected.name, &self.selected.profile, full_name).map_err(|e| {
            Error::Config(crate::config::ConfigError::InvalidProfile {
                name: e.0,
                reason: "it has no `from` address; set one (relayctl setup ... --from ADDR)".into(),
            })
        })
    }

    /// Hands `ready` to the relay the configured way, and says what became of it.
    pub fn submit(&self, ready: &mut Ready) -> Result<Handed> {
        let selected = &self.selected;
        if self.options.uses_maildrop() {
            let envelope = ready.envelope.clone();
            return self.drop_for_runner(&envelope, &mut |w| ready.write_to(w));
        }
        let mode = self.options.delivery(&self.config);
        if mode == Delivery::Wait {
            let mut message = Vec::new();
            ready.write_to(&mut message).map_err(Error::Stdin)?;
            return selected
                .deliver(&ready.envelope, &message, &self.options.transcript)
                .map(Handed::Sent);
        }
        let (spool, id) = self.enqueue(ready)?;
        if mode == Delivery::Queue {
            daemon::wake(&spool);
            return Ok(Handed::Queued {
                id: id.to_string(),
                reason: "delivery = \"queue\": the queue runner sends it".into(),
            });
        }
        first_attempt(self.options, &self.config, &spool, id, self.report)
    }

    /// Writes `ready` into this user's queue (after the profile's size check).
    pub fn enqueue(&self, ready: &mut Ready) -> Result<(Spool, QueueId)> {
        let selected = &self.selected;
        crate::relay::check_size(&selected.name, &selected.profile, ready.size())?;
        ready.route = selected.route.clone();
        let spool = self.options.open_spool()?;
        let id = ready.enqueue(&spool, &selected.name, None)?;
        self.options.transcript.note(&format!("queued as {id}"));
        Ok((spool, id))
    }

    /// Drops a message into the system maildrop and wakes the root runner. A profile whose
    /// `users` and `groups` leave this user out is refused here already (the runner would).
    fn drop_for_runner(
        &self,
        envelope: &Envelope,
        write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<Handed> {
        let selected = &self.selected;
        let user = LocalUser::lookup(rustix::process::getuid().as_raw());
        if !selected.profile.admits(&user) {
            return Err(Error::Forbidden(format!(
                "{user} may not send through profile {} (its `users` and `groups` in {}); ask the administrator, or choose another profile with --profile",
                selected.name,
                selected.file.display()
            )));
        }
        let id = maildrop::drop::submit(
            Path::new(SYSTEM_SPOOL),
            (&selected.name, selected.route.as_deref()),
            envelope,
            None,
            write,
        )?;
        self.options
            .transcript
            .note(&format!("dropped as {id} for the system queue runner"));
        daemon::wake_at(Path::new(SYSTEM_SPOOL));
        Ok(Handed::Queued {
            id,
            reason: "handed to the system queue runner".into(),
        })
    }
}

/// Where the SMTP listener hands its messages: this user's queue, or the maildrop of a spool
/// whose queue (and secret) are root's, for root's runner to import.
pub enum Handover {
    Queue(Spool),
    /// The root of the spool whose maildrop takes the messages.
    Maildrop(PathBuf),
}

/// Where a message handed over went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Into the queue, with its id.
    Queued(QueueId),
    /// Into the system maildrop for the root runner, with the drop's name.
    Dropped(String),
}

impl std::fmt::Display for Receipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Receipt::Queued(id) => write!(f, "queued as {id}"),
            Receipt::Dropped(name) => write!(f, "dropped as {name} for the queue runner"),
        }
    }
}

impl Handover {
    /// Where a listener with these options hands messages. Started by root (it gives up root
    /// before it serves anyone), the maildrop of root's spool, prepared here; else this user's
    /// queue, or the system maildrop for a user who submits through it.
    pub fn for_options(options: &Options) -> Result<Handover> {
        if rustix::process::geteuid().is_root() {
            let root = Spool::default_path(options.spool.as_deref());
            Spool::open(&root)?;
            crate::queue::prepare_maildrop(&root)?;
            return Ok(Handover::Maildrop(root));
        }
        if options.uses_maildrop() {
            Ok(Handover::Maildrop(PathBuf::from(SYSTEM_SPOOL)))
        } else {
            Ok(Handover::Queue(options.open_spool()?))
        }
    }

    /// Writes `ready` durably (fsynced) for `profile` and wakes the queue runner, which
    /// delivers it; nothing is attempted here. `client` is recorded with it.
    pub fn hand_over(
        &self,
        profile: (&str, &crate::config::Profile),
        ready: &mut Ready,
        client: &SmtpClient,
    ) -> Result<Receipt> {
        let (name, settings) = profile;
        crate::relay::check_size(name, settings, ready.size())?;
        match self {
            Handover::Queue(spool) => {
                let id = ready.enqueue(spool, name, None)?;
                daemon::wake(spool);
                Ok(Receipt::Queued(id))
            }
            Handover::Maildrop(root) => {
                let envelope = ready.envelope.clone();
                let route = ready.route.clone();
                let id = maildrop::drop::submit(
                    root,
                    (name, route.as_deref()),
                    &envelope,
                    Some(client),
                    &mut |w| ready.write_to(w),
                )?;
                daemon::wake_at(root);
                Ok(Receipt::Dropped(id))
            }
        }
    }
}

/// The first attempt at a just-queued message (`delivery = "now"`).
///
/// It runs in a process of its own (`relayctl queue attempt ID`, in its own process group) that
/// this one waits for: a caller that kills `sendmail` (a timeout, a request limit, kill -9)
/// cannot cut the SMTP transaction short between the relay's acceptance and its record in the
/// queue, the one moment when a message could be sent twice. With raised privileges, or when the
/// program cannot be started again, the attempt runs in this process.
fn first_attempt(
    options: &Options,
    config: &LoadedConfig,
    spool: &Spool,
    id: QueueId,
    report: bool,
) -> Result<Handed> {
    if !crate::privilege::raised()
        && let Some(status) = hand_off(options, spool, &id, report)
    {
        return match status.code() {
            Some(0) => Ok(Handed::Reported),
            // Killed: the message stays safely queued, and no one said so.
            None => Ok(Handed::Queued {
                id: id.to_string(),
                reason: "the first attempt was cut short; the queue runner sends it".into(),
            }),
            Some(code) => Err(Error::Attempt { id, code }),
        };
    }
    attempt(options, config, spool, id)
}

/// Runs `relayctl queue attempt ID` for a message in `spool` with these options and waits for
/// it; `None` when it cannot be started. Its exit status is the attempt's (a kill by a signal
/// leaves the message safely queued); it reports on the same stderr.
fn hand_off(
    options: &Options,
    spool: &Spool,
    id: &QueueId,
    report: bool,
) -> Option<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().ok()?;
    let mut cmd = std::process::Command::new(exe);
    // The binary may be reached as `sendmail`, which would select the sendmail front end.
    cmd.arg0("relayctl");
    if let Some(file) = options.location.explicit() {
        cmd.arg("--config").arg(file);
    }
    if options.transcript.is_enabled() {
        cmd.arg("-v");
    }
    cmd.arg("--spool")
        .arg(spool.root())
        .args(["queue", "attempt", id.as_str()])
        .args(report.then_some("--report"))
        .stdin(std::process::Stdio::null())
        .process_group(0);
    cmd.status().ok()
}

/// The first attempt at a just-queued message, in this process (`queue attempt`): delivered,
/// held or left for a later attempt is success, and says so; a message given up on is the
/// error that says why. Its caller waits: a relay known to be down is not tried, the others
/// have `submit_timeout` to connect and greet, and a delivery takes the profile's overdue
/// messages along ([`Runner::catch_up`]).
pub fn attempt(
    options: &Options,
    config: &LoadedConfig,
    spool: &Spool,
    id: QueueId,
) -> Result<Handed> {
    let transcript = &options.transcript;
    let queued = |reason: String| Handed::Queued {
        id: id.to_string(),
        reason,
    };
    let runner = Runner::for_submission(spool, config, transcript);
    // Alone in the queue, the message is the last the session carries: QUIT goes with it.
    let alone = spool.ids(Area::Queue).is_ok_and(|ids| ids.len() == 1);
    let runner = if alone { runner.only_message() } else { runner };
    match attempt_with(runner, spool, &id, true)? {
        Outcome::Delivered => Ok(Handed::Sent(
            crate::log::recent(&id)
                .into_iter()
                .rev()
                .find(|r| r.accepted)
                .map_or_else(|| "accepted".into(), |r| r.text),
        )),
        Outcome::Busy => Ok(queued("another relayctl process is delivering it".into())),
        Outcome::Held(reason) => Ok(queued(format!("held: {reason}"))),
        Outcome::Deferred(reason) => {
            transcript.note(&format!("{id} stays queued for a later attempt: {reason}"));
            daemon::wake(spool);
            Ok(queued(reason))
        }
        Outcome::Failed { reason, fault } => Err(Error::Undeliverable { id, reason, fault }),
    }
}

/// One attempt at message `id` now, with the notices it causes sent in the same pass; `Busy`
/// when another process is working on it.
pub fn attempt_now(
    config: &LoadedConfig,
    spool: &Spool,
    id: &QueueId,
    transcript: &crate::transcript::Transcript,
) -> Result<Outcome> {
    attempt_with(Runner::new(spool, config, transcript), spool, id, false)
}

/// One attempt at message `id` by `runner`, then (with `catch_up`, after a delivery) the
/// overdue messages of its profile, then the notices.
fn attempt_with(
    mut runner: Runner<'_>,
    spool: &Spool,
    id: &QueueId,
    catch_up: bool,
) -> Result<Outcome> {
    let Some(locked) = spool.lock(id)? else {
        return Ok(Outcome::Busy);
    };
    let profile = locked.state.profile.clone();
    let outcome = runner.attempt(locked);
    let caught_up = match &outcome {
        Ok(Outcome::Delivered) if catch_up => runner.catch_up(&profile).map(drop),
        _ => Ok(()),
    };
    let notices = runner.send_notices(&mut Default::default());
    runner.close();
    caught_up?;
    notices?;
    Ok(outcome?)
}
