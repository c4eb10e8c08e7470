//! `relayctl serve`: the SMTP listener, for programs that can only speak SMTP.
//!
//! Started by root, it binds its sockets (or takes them from socket activation), reads the
//! TLS key and the configuration, then becomes `[server] user` for good before it serves
//! anyone: the process that parses SMTP never runs as root and cannot read a relay secret. Its
//! messages go through the maildrop to root's queue runner, which checks again who they come
//! from. Started by another user, it serves that user's own configuration and queue.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::aliases::Aliases;
use crate::cli::ServeArgs;
use crate::config::DEFAULT_MAX_MESSAGE_SIZE;
use crate::error::{Error, Result};
use crate::options::Options;
use crate::smtpd::backend::{Shared, UsersFile};
use crate::smtpd::error::ServeError;
use crate::smtpd::listener::{self, Listener};
use crate::smtpd::tls;
use crate::submit::Handover;

pub fn execute(options: &Options, args: ServeArgs) -> Result<()> {
    let root = rustix::process::geteuid().is_root();
    let config = options.location.load()?;
    let mut settings = config.server.clone();
    let listen = if args.listen.is_empty() {
        settings.listen_or_default(root)
    } else {
        args.listen
    };
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(tls::server_config(cert, key).map_err(ServeError::from)?),
        (None, None) => None,
        _ => {
            return Err(Error::Usage(
                "[server] tls_cert and tls_key go together: set both, or neither".into(),
            ));
        }
    };
    if let Some(l) = listen.iter().find(|l| l.implicit_tls)
        && tls.is_none()
    {
        return Err(ServeError::NoCertificate(*l).into());
    }
    let users = UsersFile::open(config.server_users_file())?;
    let handover = Handover::for_options(options)?;
    let scratch = match &handover {
        Handover::Queue(spool) => spool.root().join("tmp"),
        Handover::Maildrop(_) => std::env::temp_dir(),
    };
    let aliases = Aliases::for_config(&config).map_err(Error::Alias)?;
    let size_limit = settings
        .max_message_size
        .or_else(|| {
            config
                .server_profile()
                .ok()
                .map(|(_, p)| p.max_message_size())
        })
        .unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
        .0;
    let sockets = listener::sockets(&listen)?;
    settings.max_connections = listener::connections_possible(settings.max_connections);
    if root {
        become_server_user(&settings.user)?;
    }
    // Only a listener that keeps its own queue can read it; one that hands mail to the
    // maildrop as the server user leaves the metrics to `queue daemon`.
    if let Some(addr) = config.metrics_listen {
        match &handover {
            Handover::Queue(spool) => {
                let root = spool.root().to_path_buf();
                crate::metrics::http::spawn(addr, root, options.location.clone())
                    .unwrap_or_else(|e| crate::messages::alert(&e.to_string()));
            }
            Handover::Maildrop(_) => options.transcript.note(
                "metrics_listen: the listener cannot read the queue as its own user; `relayctl queue daemon` serves the metrics",
            ),
        }
    }
    let stopping = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stopping))
            .map_err(|e| Error::io("cannot handle signals in", "relayctl serve", e))?;
    }
    let addresses: Vec<String> = sockets.iter().map(|s| s.listen.to_string()).collect();
    crate::messages::alert(&format!("listening on {}", addresses.join(", ")));
    Listener {
        shared: Arc::new(Shared {
            config,
            aliases,
            handover,
            scratch,
            users,
        }),
        settings,
        tls,
        hostname: crate::host::fqdn().unwrap_or_else(|| "localhost".into()),
        size_limit,
        stopping,
    }
    .run(sockets)
    .map_err(|e| Error::io("cannot accept connections on", addresses.join(", "), e))
}

/// Gives up root for `user` (its uid and primary group), for good.
fn become_server_user(user: &str) -> Result<(), ServeError> {
    if user == "root" {
        return Err(ServeError::RootUser);
    }
    let missing = || ServeError::NoUser(user.to_string());
    let uid = crate::users::uid_of(user).ok_or_else(missing)?;
    let gid = crate::users::gid_of(user).ok_or_else(missing)?;
    if uid == 0 {
        return Err(ServeError::RootUser);
    }
    crate::privilege::drop_to(uid, gid).map_err(|source| ServeError::Privileges {
        user: user.to_string(),
        source,
    })
}
