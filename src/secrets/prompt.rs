//! Getting a new password from the person or script running `setup`/`set-secret`.

use std::io::{IsTerminal, Read};

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
    if !std::io::stderr().is_terminal() && !std::io::stdin().is_terminal() {
        return Err(SecretError::NoTerminal);
    }
    let password = Zeroizing::new(rpassword::prompt_password(prompt).map_err(
        |e| match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::Unsupported => {
                SecretError::NoTerminal
            }
            _ => SecretError::Input(e),
        },
    )?);
    first_line(password.as_bytes(), &|| "the prompt".to_string())
}
