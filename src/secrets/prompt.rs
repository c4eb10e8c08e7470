//! Getting a new password from the person or script running `setup`/`set-secret`.

use std::fs::OpenOptions;
use std::io::Read;

use secrecy::SecretString;
use zeroize::Zeroizing;

use super::{MAX_SECRET_BYTES, SecretError, first_line};

/// Reads a new password: the first line of standard input with `--password-stdin`, otherwise a
/// prompt on the terminal without echo.
pub fn read_new_secret(from_stdin: bool, prompt: &str) -> Result<SecretString, SecretError> {
    if from_stdin {
        let mut raw = Zeroizing::new(Vec::new());
        std::io::stdin()
            .lock()
            .take(MAX_SECRET_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(SecretError::Input)?;
        if raw.len() > MAX_SECRET_BYTES {
            return Err(SecretError::TooLong);
        }
        return first_line(&raw, &|| "standard input".to_string());
    }
    // The prompt is on the controlling terminal, so it works while stdin is piped.
    if !has_terminal() {
        return Err(SecretError::NoTerminal);
    }
    let password = Zeroizing::new(rpassword::prompt_password(prompt).map_err(SecretError::Input)?);
    first_line(password.as_bytes(), &|| "the prompt".to_string())
}

/// Whether someone can be asked: the process has a controlling terminal. cron, systemd units
/// and the programs that start `sendmail` in the background have none.
pub fn has_terminal() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_ok()
}
