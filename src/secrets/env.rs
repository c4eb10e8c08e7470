//! A secret in an environment variable: the last resort, for containers and CI.

use secrecy::SecretString;

use super::{SecretError, SecretStore, whole_text};

/// `RELAYCTL_PASSWORD_<PROFILE>`, then `RELAYCTL_PASSWORD`, or one named variable.
pub struct EnvStore {
    candidates: Vec<String>,
}

/// The variable for one profile: `uni-mail` reads `RELAYCTL_PASSWORD_UNI_MAIL`.
pub fn profile_variable(profile: &str) -> String {
    let suffix: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("RELAYCTL_PASSWORD_{suffix}")
}

impl EnvStore {
    pub fn new(profile: &str, var: Option<String>) -> Self {
        let candidates = match var {
            Some(v) => vec![v],
            None => vec![profile_variable(profile), "RELAYCTL_PASSWORD".to_string()],
        };
        EnvStore { candidates }
    }
}

impl SecretStore for EnvStore {
    fn describe(&self) -> String {
        format!("environment variable {}", self.candidates.join(" or "))
    }

    fn read_text(&self) -> Result<SecretString, SecretError> {
        for var in &self.candidates {
            if let Some(value) = std::env::var_os(var) {
                let bytes = zeroize::Zeroizing::new(value.into_encoded_bytes());
                return whole_text(&bytes, &|| format!("environment variable {var}"));
            }
        }
        Err(SecretError::NotFound {
            store: self.describe(),
            hint: format!(
                "set {} in the environment of the programs that send mail",
                self.candidates[0]
            ),
        })
    }

    fn write(&self, _secret: &SecretString) -> Result<(), SecretError> {
        Err(SecretError::ReadOnlyStore {
            store: self.describe(),
            how: format!(
                "set {} in the environment of the programs that send mail",
                self.candidates[0]
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_become_variable_names() {
        assert_eq!(profile_variable("uni-mail"), "RELAYCTL_PASSWORD_UNI_MAIL");
    }
}
