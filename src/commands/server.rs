//! `relayctl server user add|list|remove`: the SMTP listener's users.

use secrecy::ExposeSecret;

use crate::cli::{ServerCommand, ServerUserCommand};
use crate::error::{Error, Result};
use crate::options::Options;
use crate::smtpd::users::ServerUsers;

pub fn execute(options: &Options, command: ServerCommand) -> Result<()> {
    let ServerCommand::User(command) = command;
    let config = options.location.load()?;
    let path = config.server_users_file();
    match command {
        ServerUserCommand::Add {
            name,
            senders,
            password_stdin,
        } => {
            let (profile, settings) = config.select(options.profile.as_deref())?;
            let mut users = ServerUsers::load(&path)?;
            let password = crate::secrets::read_new_secret(
                password_stdin,
                &format!("Password for server user {name}: "),
            )?;
            if password.expose_secret().is_empty() {
                return Err(Error::Usage("the password is empty".into()));
            }
            let existed = users.users.contains_key(&name);
            let shown = if senders.is_empty() {
                settings.from.clone().unwrap_or_default()
            } else {
                senders.join(", ")
            };
            users.set(&name, password.expose_secret().as_bytes(), profile, senders)?;
            // The listener's own user reads the file (its group), nobody else.
            let group = crate::users::gid_of(&config.server.user)
                .filter(|_| rustix::process::geteuid().is_root());
            users.save(&path, group)?;
            println!(
                "{} server user {name}: sends through profile {profile} as {shown} ({})",
                if existed { "updated" } else { "added" },
                path.display()
            );
            Ok(())
        }
        ServerUserCommand::List { json } => {
            let users = ServerUsers::load(&path)?;
            if json {
                let list: Vec<serde_json::Value> = users
                    .users
                    .iter()
                    .map(|(name, u)| {
                        serde_json::json!({"name": name, "profile": u.profile, "senders": u.senders})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(list));
                return Ok(());
            }
            for (name, user) in &users.users {
                let senders = if user.senders.is_empty() {
                    "(the profile's address)".to_string()
                } else {
                    user.senders.join(", ")
                };
                println!("{name}\tprofile {}\tsenders {senders}", user.profile);
            }
            Ok(())
        }
        ServerUserCommand::Remove { name } => {
            let mut users = ServerUsers::load(&path)?;
            users.remove(&name)?;
            let group = crate::users::gid_of(&config.server.user)
                .filter(|_| rustix::process::geteuid().is_root());
            users.save(&path, group)?;
            println!("removed server user {name}");
            Ok(())
        }
    }
}
