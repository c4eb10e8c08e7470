//! What the listener does with a client's mail: who may submit (a client in `[server] allow`,
//! or a server user who logged in), as whom (a server user's senders), through which profile,
//! and the hand-over of each message to the queue. The sender policy, the aliases, the size
//! limit and the spew brake apply as for `sendmail`; the message is read and prepared the same
//! way (`submit`).

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::auth::Credentials;
use super::users::{ServerUser, ServerUsers};
use super::{Backend, Reply, Transaction};
use crate::aliases::Aliases;
use crate::config::{LoadedConfig, Profile};
use crate::error::Error;
use crate::log::ListenerLine;
use crate::message::submission::{Request, SubmissionError};
use crate::printable::one_line;
use crate::submit::{self, Handover, Ready, SmtpClient};

/// A failed login costs the client this long, so that guessing passwords is slow.
const FAILED_LOGIN_DELAY: Duration = Duration::from_secs(1);

/// What every connection of a listener shares.
pub struct Shared {
    pub config: LoadedConfig,
    pub aliases: Aliases,
    pub handover: Handover,
    /// Where message bodies wait while they are read.
    pub scratch: PathBuf,
    pub users: UsersFile,
}

/// The server users, read again when their file changes.
pub struct UsersFile {
    path: PathBuf,
    cached: Mutex<(Option<SystemTime>, ServerUsers)>,
}

impl UsersFile {
    /// Reads the users at `path` (as the listener starts, so that a broken file stops it).
    pub fn open(path: PathBuf) -> Result<UsersFile, super::users::UsersError> {
        let users = ServerUsers::load(&path)?;
        let modified = modified(&path);
        Ok(UsersFile {
            path,
            cached: Mutex::new((modified, users)),
        })
    }

    /// The user `name` when `password` is theirs. A changed file is read again first; one
    /// that cannot be read any more leaves the users as they were (and is logged).
    fn verify(&self, name: &str, password: &[u8]) -> Option<ServerUser> {
        let users = {
            let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
            let now = modified(&self.path);
            if now != cached.0 {
                match ServerUsers::load(&self.path) {
                    Ok(fresh) => *cached = (now, fresh),
                    Err(e) => crate::messages::alert(&format!(
                        "the server users file changed but cannot be used; keeping the users read before: {e}"
                    )),
                }
            }
            cached.1.clone()
        };
        users.verify(name, password).cloned()
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// One connection's side of the listener.
pub struct ClientBackend<'s> {
    shared: &'s Shared,
    client: SmtpClient,
    /// The client's address is in `[server] allow`.
    allowed: bool,
    /// The server user it logged in as.
    user: Option<ServerUser>,
    /// Messages accepted and refused so far (for the connection's log line).
    pub accepted: u32,
    pub refused: u32,
}

impl<'s> ClientBackend<'s> {
    pub fn new(shared: &'s Shared, address: std::net::IpAddr) -> Self {
        let address = crate::config::canonical_ip(address);
        ClientBackend {
            shared,
            allowed: shared.config.server.allows(address),
            client: SmtpClient {
                address,
                user: None,
            },
            user: None,
            accepted: 0,
            refused: 0,
        }
    }

    pub fn client(&self) -> &SmtpClient {
        &self.client
    }

    /// Forgets the login (after STARTTLS, the client starts over).
    pub fn forget_login(&mut self) {
        self.client.user = None;
        self.user = None;
    }

    /// The profile this client's mail goes through, and the route that chose it: a server
    /// user's own (the admin bound the user to it, so no route changes it), else the `[routes]`
    /// entry for the envelope `sender`, else the listener's.
    fn profile(
        &self,
        sender: Option<&str>,
    ) -> Result<(&'s str, &'s Profile, Option<&'s str>), Reply> {
        let config: &'s crate::config::LoadedConfig = &self.shared.config;
        let route = match (&self.user, sender) {
            (None, Some(sender)) => config.routes.choose(sender),
            _ => None,
        };
        let found = match (&self.user, route) {
            (Some(user), _) => config.get(&user.profile).map(|(n, p, _)| (n, p)),
            (None, Some(route)) => config.get(&route.profile).map(|(n, p, _)| (n, p)),
            (None, None) => config.server_profile(),
        };
        let route = route.map(|r| r.key.as_str());
        found
            .map(|(name, profile)| (name, profile, route))
            .map_err(|e| {
                Reply::new(
                    451,
                    format!(
                        "4.3.5 relayctl cannot take mail now: {}",
                        one_line(&e.to_string())
                    ),
                )
            })
    }

    fn may_submit(&self) -> bool {
        self.allowed || self.user.is_some()
    }

    fn log(
        &self,
        event: &'static str,
        reply: &Reply,
        receipt: Option<String>,
        counts: Vec<(&'static str, u128)>,
    ) {
        ListenerLine {
            event,
            client: self.client.address,
            user: self.client.user.clone(),
            receipt,
            code: Some(reply.code),
            accepted: reply.code < 400,
            counts,
            text: reply.text.clone(),
        }
        .emit();
    }

    fn refuse_message(&mut self, reply: Reply) -> Reply {
        self.refused += 1;
        self.log("message", &reply, None, Vec::new());
        reply
    }
}

impl<'s> Backend for ClientBackend<'s> {
    type Pending = (Ready, &'s str, &'s Profile);

    fn login(&mut self, credentials: &Credentials) -> Result<(), Reply> {
        let found = self
            .shared
            .users
            .verify(&credentials.user, &credentials.password);
        let Some(user) = found else {
            std::thread::sleep(FAILED_LOGIN_DELAY);
            let refusal = Reply::new(535, "5.7.8 Error: authentication failed");
            ListenerLine {
                event: "login",
                client: self.client.address,
                user: Some(credentials.user.clone()),
                receipt: None,
                code: Some(535),
                accepted: false,
                counts: Vec::new(),
                text: refusal.text.clone(),
            }
            .emit();
            return Err(refusal);
        };
        self.client.user = Some(credentials.user.clone());
        self.user = Some(user);
        Ok(())
    }

    fn sender(&mut self, sender: Option<&str>) -> Result<(), Reply> {
        if !self.may_submit() {
            return Err(Reply::new(530, "5.7.0 Authentication required"));
        }
        let (_, profile, _) = self.profile(sender)?;
        if let (Some(user), Some(sender)) = (&self.user, sender) {
            let from = profile.from.as_deref().unwrap_or_default();
            if !user.may_send_as(sender, from) {
                return Err(Reply::new(
                    553,
                    format!(
                        "5.7.1 <{sender}>: sender address not allowed for user {}",
                        self.client.user.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn access(&self) -> Result<(), Reply> {
        if !self.may_submit() {
            return Err(Reply::new(554, "5.7.1 Relay access denied"));
        }
        Ok(())
    }

    fn recipient(&mut self, address: &str) -> Result<(), Reply> {
        self.shared
            .aliases
            .resolve(address)
            .map(|_| ())
            .map_err(|e| Reply::status("550 5.1.1", &format!("<{address}>: {e}")))
    }

    fn receive(
        &mut self,
        transaction: &Transaction,
        data: &mut dyn BufRead,
    ) -> Result<Self::Pending, Reply> {
        let prepared = self.prepare(transaction, data);
        prepared.map_err(|r| self.refuse_message(r))
    }

    fn commit(&mut self, (mut ready, name, settings): Self::Pending) -> Reply {
        let counts = vec![
            ("recipients", ready.envelope.recipients.len() as u128),
            ("size", u128::from(ready.size())),
        ];
        match self
            .shared
            .handover
            .hand_over((name, settings), &mut ready, &self.client)
        {
            Ok(receipt) => {
                self.accepted += 1;
                let done = Reply::new(250, format!("2.0.0 Ok: {receipt}"));
                self.log("message", &done, Some(receipt.to_string()), counts);
                done
            }
            Err(e) => {
                let code = match &e {
                    Error::Spool(_) => "452 4.3.1",
                    Error::Delivery(_) => "552 5.3.4",
                    _ => "451 4.3.0",
                };
                let refusal = Reply::status(code, &e.to_string());
                self.refuse_message(refusal)
            }
        }
    }

    fn discard(&mut self, _: Self::Pending, reply: &Reply) {
        self.refuse_message(reply.clone());
    }
}

impl<'s> ClientBackend<'s> {
    /// Reads the message under the profile's size limit and prepares it under the client's
    /// sender policy, stamped with the client.
    fn prepare(
        &self,
        transaction: &Transaction,
        data: &mut dyn BufRead,
    ) -> Result<(Ready, &'s str, &'s Profile), Reply> {
        let sender = transaction.sender.as_ref().and_then(|s| s.as_deref());
        let (name, profile, route) = self.profile(sender)?;
        let limit = profile.max_message_size().0;
        let incoming = submit::read(data, true, limit, &self.shared.scratch)
            .map_err(|e| Reply::for_read(&e))?;
        let senders: &[String] = self.user.as_ref().map_or(&[], |u| &u.senders);
        let policy = submit::policy::listed(name, profile, senders)
            .map_err(|e| Reply::status("451 4.3.5", &e.to_string()))?;
        let request = Request {
            recipients: &transaction.recipients,
            extract_recipients: false,
            sender: transaction.sender.as_ref().map(|s| s.as_deref()),
        };
        let mut ready = Ready::prepare(
            incoming,
            &request,
            &policy,
            &self.shared.aliases,
            profile.allow_bare_hostnames,
            transaction.dsn.clone(),
        )
        .map_err(|u| match u.error {
            SubmissionError::Alias(e) => Reply::status("451 4.3.5", &e.to_string()),
            error => Reply::status("554 5.6.0", &error.to_string()),
        })?;
        ready.stamp_client(&self.client);
        ready.route = route.map(str::to_string);
        Ok((ready, name, profile))
    }
}
