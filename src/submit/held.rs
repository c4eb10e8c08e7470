//! Mail the configuration cannot deliver yet: a configuration that does not load, a profile
//! that does not exist or has no `from`, a local recipient without an alias. The message itself
//! is fine, and cron's mail is exactly the mail nobody sends again, so it is accepted anyway
//! (exit 0, one line on stderr saying why it is held): kept in the queue as the caller gave it,
//! with what the caller asked for (an unprepared submission, see `queue::state::Unprepared`),
//! and prepared and queued by the first run that can load the configuration and resolve its
//! recipients (`queue run`, the daemon, `queue release`).

use std::io::BufReader;

use crate::aliases::Aliases;
use crate::config::{LoadedConfig, Profile};
use crate::error::{Error, Result};
use crate::message::envelope::{Dsn, Envelope};
use crate::message::submission::{Request, SubmissionError};
use crate::options::Options;
use crate::queue::state::{Hold, NEVER, RequestedSender, Status, Unprepared};
use crate::queue::{MessageState, QueueId, Spool, SpoolError};
use crate::transcript::Transcript;

use super::{Incoming, Ready, policy, read};

/// Whether `error` is the configuration's fault rather than the message's: then the message is
/// held instead of refused.
pub fn is_configuration_fault(error: &Error) -> bool {
    matches!(
        error,
        Error::Config(_) | Error::Alias(_) | Error::Submission(SubmissionError::Alias(_))
    )
}

/// What a caller asked for, kept with an unprepared submission.
pub struct Asked<'a> {
    /// `--profile`, when one was named.
    pub profile: Option<&'a str>,
    pub recipients: &'a [String],
    pub extract_recipients: bool,
    /// `-f`/`-r`: `Some(None)` is `<>`.
    pub sender: Option<Option<&'a str>>,
    pub full_name: Option<&'a str>,
    pub dsn: Dsn,
}

/// Keeps a message the configuration cannot deliver yet, because of `why`: in this user's queue
/// ([`accept`]), or for a user of the system maildrop, in the maildrop as it is, for the root
/// runner to prepare (and hold, if the system configuration cannot deliver it either).
pub fn hold(
    options: &Options,
    incoming: &mut Incoming,
    asked: &Asked<'_>,
    why: &Error,
) -> Result<()> {
    if !options.uses_maildrop() {
        return accept(options, incoming, asked, why).map(|_| ());
    }
    let Incoming { head, body } = incoming;
    let id = super::maildrop::drop::submit_unprepared(
        asked.profile.unwrap_or_default(),
        asked.recipients,
        asked.extract_recipients,
        &asked.dsn,
        &mut |w| {
            w.write_all(head)?;
            body.copy_to(w, false)
        },
    )?;
    crate::messages::alert(&format!(
        "message dropped as {id} for the system queue runner, which holds it while the configuration cannot deliver it: {}",
        crate::printable::one_line(&why.to_string())
    ));
    crate::queue::daemon::wake_at(std::path::Path::new(crate::queue::spool::SYSTEM_SPOOL));
    Ok(())
}

/// Accepts a message the configuration cannot deliver yet, because of `why`: kept in this
/// user's queue, held, with one alert line. Returns its queue id.
pub fn accept(
    options: &Options,
    incoming: &mut Incoming,
    asked: &Asked<'_>,
    why: &Error,
) -> Result<QueueId> {
    let spool = options.open_spool()?;
    let id = keep(&spool, incoming, asked, None, &why.to_string())?;
    crate::messages::alert(&format!(
        "message {id} accepted and held: {}",
        held_reason(&why.to_string())
    ));
    Ok(id)
}

/// `the configuration cannot deliver it yet: WHY; it is sent once that is fixed ...`
fn held_reason(why: &str) -> String {
    format!(
        "the configuration cannot deliver it yet: {}; it is sent once that is fixed (`relayctl doctor` says how)",
        crate::printable::one_line(why)
    )
}

/// Writes `incoming` into `spool` as it is, held, with what was `asked` and why (`uid`: the
/// maildrop user who submitted it). Returns its queue id.
pub fn keep(
    spool: &Spool,
    incoming: &mut Incoming,
    asked: &Asked<'_>,
    uid: Option<u32>,
    why: &str,
) -> std::result::Result<QueueId, SpoolError> {
    let envelope = Envelope {
        sender: asked.sender.flatten().map(str::to_string),
        recipients: asked.recipients.to_vec(),
        dsn: asked.dsn.clone(),
    };
    let reason = held_reason(why);
    let Incoming { head, body } = incoming;
    spool.enqueue_from(
        &mut |w| {
            w.write_all(head)?;
            body.copy_to(w, false)
        },
        |written| {
            let mut state = MessageState::new(
                asked.profile.unwrap_or_default(),
                &envelope,
                written.size,
                crate::queue::schedule::now(),
            );
            state.status = Status::Held;
            state.hold = Some(Hold::ConfigFault);
            state.next_attempt = NEVER;
            state.reason = Some(reason.clone());
            state.uid = uid;
            state.unprepared = Some(Unprepared {
                extract_recipients: asked.extract_recipients,
                sender: asked.sender.map(|s| match s {
                    None => RequestedSender::Null,
                    Some(a) => RequestedSender::Address(a.to_string()),
                }),
                full_name: asked.full_name.map(str::to_string),
            });
            state
        },
    )
}

/// What preparing the held submissions of a spool did.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Held submissions queued now: (held id, queued id).
    pub queued: Vec<(QueueId, QueueId)>,
    /// Held submissions the message of which cannot be sent at all, moved to the failed area.
    pub failed: Vec<QueueId>,
}

/// Prepares and queues every held submission of `spool` that `config` can now deliver, with the
/// aliases of `config`. One that still cannot be delivered stays held with the reason brought up
/// to date; one whose message turns out unsendable (NUL bytes, ...) goes to the failed area.
pub fn prepare_all(
    spool: &Spool,
    config: &LoadedConfig,
    transcript: &Transcript,
) -> std::result::Result<Prepared, SpoolError> {
    let mut done = Prepared::default();
    let aliases = Aliases::for_config(config);
    for id in spool.list(crate::queue::Area::Queue)?.ids {
        // Most messages are ready ones: they are read without taking their lock.
        match spool.state(crate::queue::Area::Queue, &id) {
            Ok(state) if state.unprepared.is_some() => {}
            Ok(_) | Err(SpoolError::NotFound(_)) => continue,
            Err(e @ SpoolError::Corrupt { .. }) => {
                crate::messages::alert(&e.to_string());
                continue;
            }
            Err(e) => return Err(e),
        }
        let Ok(Some(mut locked)) = spool.lock(&id) else {
            continue;
        };
        let Some(asked) = locked.state.unprepared.clone() else {
            continue;
        };
        if locked.state.hold == Some(Hold::Administrator) {
            continue;
        }
        let outcome = match &aliases {
            Ok(aliases) => prepare_one(spool, config, aliases, &locked, &asked),
            Err(e) => Err(Fault::Configuration(e.to_string())),
        };
        match outcome {
            Ok(queued) => {
                transcript.note(&format!("held message {id} queued as {queued}"));
                locked.finish()?;
                done.queued.push((id, queued));
            }
            Err(Fault::Configuration(reason)) => {
                let reason = held_reason(&reason);
                if locked.state.reason.as_deref() != Some(reason.as_str()) {
                    locked.state.reason = Some(reason);
                    locked.save()?;
                }
            }
            Err(Fault::Message(reason)) => {
                locked.fail(&reason)?;
                done.failed.push(id);
            }
        }
    }
    Ok(done)
}

/// Why a held submission could not be queued.
enum Fault {
    /// Still the configuration's: it stays held.
    Configuration(String),
    /// The message's own: it cannot be sent.
    Message(String),
}

fn prepare_one(
    spool: &Spool,
    config: &LoadedConfig,
    aliases: &Aliases,
    locked: &crate::queue::spool::Locked<'_>,
    asked: &Unprepared,
) -> std::result::Result<QueueId, Fault> {
    let configuration = |e: &dyn std::fmt::Display| Fault::Configuration(e.to_string());
    let state = &locked.state;
    // The profile asked for at submission, else the one its sender's route names (the
    // submission is completed now), else the default.
    let asked_profile = Some(state.profile.as_str()).filter(|p| !p.is_empty());
    let limit = match asked_profile {
        Some(name) => config.get(name).map(|(_, p, _)| p.max_message_size().0),
        None => config
            .select(None)
            .map(|(_, p)| config.routed_size_limit(p)),
    }
    .map_err(|e| configuration(&e))?;
    let mut input = BufReader::new(
        locked
            .open_message()
            .map_err(|e| Fault::Message(e.to_string()))?,
    );
    let incoming =
        read(&mut input, true, limit, &spool.root().join("tmp")).map_err(|e| match e {
            super::ReadError::Scratch { .. } | super::ReadError::Input(_) => configuration(&e),
            _ => Fault::Message(e.to_string()),
        })?;
    let recipients: Vec<String> = state.recipients.iter().map(|r| r.address.clone()).collect();
    let request = Request {
        recipients: &recipients,
        extract_recipients: asked.extract_recipients,
        sender: asked.sender.as_ref().map(|s| match s {
            RequestedSender::Null => None,
            RequestedSender::Address(a) => Some(a.as_str()),
        }),
    };
    let route = match asked_profile {
        Some(_) => None,
        None => super::routing_sender(request.sender, &incoming.head)
            .and_then(|sender| config.routes.choose(&sender)),
    };
    let name = match (asked_profile, route) {
        (Some(name), _) => name,
        (None, Some(route)) => route.profile.as_str(),
        (None, None) => config.select(None).map_err(|e| configuration(&e))?.0,
    };
    let (name, profile, _) = config.get(name).map_err(|e| configuration(&e))?;
    let through_maildrop = state.uid.is_some_and(|uid| uid != 0);
    let policy =
        sender_policy(name, profile, through_maildrop, asked).map_err(|e| configuration(&e))?;
    let mut ready = Ready::prepare(
        incoming,
        &request,
        &policy,
        aliases,
        profile.allow_bare_hostnames,
        state.dsn.clone(),
    )
    .map_err(|u| match u.error {
        SubmissionError::Alias(e) => Fault::Configuration(e.to_string()),
        e => Fault::Message(e.to_string()),
    })?;
    if through_maildrop && let Some(uid) = state.uid {
        ready.stamp_submitter(&crate::users::describe_uid(uid));
    }
    crate::relay::check_size(name, profile, ready.size())
        .map_err(|e| Fault::Message(e.to_string()))?;
    ready.route = route.map(|r| r.key.clone());
    ready
        .enqueue(spool, name, state.uid)
        .map_err(|e| configuration(&e))
}

/// The policy a held submission is prepared under: a maildrop user's is enforced, as when the
/// maildrop import prepares it.
fn sender_policy<'a>(
    name: &str,
    profile: &'a Profile,
    through_maildrop: bool,
    asked: &'a Unprepared,
) -> std::result::Result<crate::message::submission::SenderPolicy<'a>, policy::NoFrom> {
    if through_maildrop {
        policy::enforced(name, profile)
    } else {
        policy::trusted(name, profile, asked.full_name.as_deref())
    }
}
