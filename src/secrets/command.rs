//! A secret printed by a command, such as a cloud secret manager's CLI. The command is split like
//! a shell would split words but run without a shell; write `sh -c '...'` to ask for one. It
//! runs with the environment of every child ([`crate::child`]) plus the profile's `secret_env`.

use std::io::Read;
use std::process::Stdio;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{MAX_SECRET_BYTES, SecretError, SecretStore, whole_text};

pub struct CommandStore {
    command: String,
    /// Variables of relayctl's environment handed to the command (`secret_env`).
    pass: Vec<String>,
}

impl CommandStore {
    pub fn new(command: &str, pass: &[String]) -> Self {
        CommandStore {
            command: command.to_string(),
            pass: pass.to_vec(),
        }
    }

    fn error(&self, problem: impl Into<String>) -> SecretError {
        SecretError::Command {
            program: self.program(),
            problem: problem.into(),
        }
    }

    fn program(&self) -> String {
        shlex::split(&self.command)
            .and_then(|w| w.into_iter().next())
            .unwrap_or_default()
    }
}

impl SecretStore for CommandStore {
    fn describe(&self) -> String {
        format!("command `{}`", self.command)
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        let words = shlex::split(&self.command)
            .filter(|w| !w.is_empty())
            .ok_or_else(|| self.error("cannot be split into words (check its quotes)"))?;
        let mut cmd = crate::child::command(&words[0], &self.pass);
        cmd.args(&words[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd
            .spawn()
            .map_err(|e| self.error(format!("cannot be started: {e}")))?;
        let mut out = Zeroizing::new(Vec::new());
        let read = child
            .stdout
            .take()
            .map(|s| s.take(MAX_SECRET_BYTES as u64 + 1).read_to_end(&mut out));
        let status = child
            .wait()
            .map_err(|e| self.error(format!("failed: {e}")))?;
        if !status.success() {
            return Err(self.error(format!("exited with {status}")));
        }
        if let Some(Err(e)) = read {
            return Err(self.error(format!("output cannot be read: {e}")));
        }
        if out.len() > MAX_SECRET_BYTES {
            return Err(SecretError::TooLong);
        }
        whole_text(&out, &|| self.describe())
    }

    fn write(&self, _secret: &SecretString) -> Result<(), SecretError> {
        Err(SecretError::ReadOnlyStore {
            store: self.describe(),
            how: "the command is the source of the secret; change it where the command reads it"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn first_line_of_stdout_without_a_shell() {
        let s = CommandStore::new("printf 'line one\\nline two\\n'", &[])
            .read()
            .unwrap();
        assert_eq!(s.expose_secret(), "line one");
        // `$HOME` stays literal: no shell expands it.
        let s = CommandStore::new("echo '$HOME'", &[]).read().unwrap();
        assert_eq!(s.expose_secret(), "$HOME");
    }

    #[test]
    fn failing_and_missing_commands_are_errors() {
        assert!(
            CommandStore::new("false", &[])
                .read()
                .unwrap_err()
                .to_string()
                .contains("exited")
        );
        let err = CommandStore::new("/nonexistent/tool get", &[])
            .read()
            .unwrap_err();
        assert!(err.to_string().contains("cannot be started"), "{err}");
    }
}
