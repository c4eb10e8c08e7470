//! Who handed a message to the SMTP listener: the client's address and, when it logged in,
//! its server user. The listener records it in the maildrop ticket; the root runner believes it
//! only from the listener's own system user, and checks it again against the configuration
//! (`maildrop::read_drop`).

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// An SMTP client of the listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpClient {
    pub address: IpAddr,
    /// The server user it logged in as (`relayctl server user add`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

impl SmtpClient {
    /// Whom the spew brake counts the message against: the server user, else the address.
    pub fn caller(&self) -> String {
        match &self.user {
            Some(user) => format!("SMTP user {user}"),
            None => format!("SMTP client {}", self.address),
        }
    }

    /// The `X-Relayctl-Submitter` value: `SMTP client 10.0.0.5 (user grafana)`.
    pub fn describe(&self) -> String {
        match &self.user {
            Some(user) => format!("SMTP client {} (user {user})", self.address),
            None => format!("SMTP client {}", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_named_by_user_first() {
        let anonymous = SmtpClient {
            address: "::1".parse().unwrap(),
            user: None,
        };
        assert_eq!(anonymous.caller(), "SMTP client ::1");
        assert_eq!(anonymous.describe(), "SMTP client ::1");
        let grafana = SmtpClient {
            user: Some("grafana".into()),
            ..anonymous
        };
        assert_eq!(grafana.caller(), "SMTP user grafana");
        assert_eq!(grafana.describe(), "SMTP client ::1 (user grafana)");
    }
}
