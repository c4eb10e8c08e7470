//! What a failure of the SMTP client means for delivery, when it is not a mistake in the
//! profile's setup (those are the relay policy's: `Policy::setup_fault`).

use super::DeliveryError;
use super::certificate::Refusal;
use super::smtp::{RouteFailure, SmtpError};

/// Translates a client failure that is not a mistake in the profile's setup: refused or dropped
/// connections, timeouts and a resolver that does not answer are temporary, an expired
/// certificate says who must renew it, a relay refusing the session says so.
pub(super) fn translate(server: &str, e: SmtpError) -> DeliveryError {
    let server = server.to_string();
    match e {
        SmtpError::Network {
            stage: "connect",
            source,
        } => DeliveryError::Connect {
            server,
            reason: source.to_string(),
        },
        // Only when the relay policy did not judge it (see `Policy::setup_fault`).
        e @ SmtpError::NoSuchHost { .. } => DeliveryError::Connect {
            server,
            reason: e.to_string(),
        },
        SmtpError::Network { stage, source } => DeliveryError::Network {
            server,
            stage,
            reason: source.to_string(),
        },
        SmtpError::Timeout { stage } => DeliveryError::Network {
            server,
            stage,
            reason: "timed out waiting for the relay".into(),
        },
        SmtpError::Tls {
            reason,
            certificate,
            error,
            ..
        } => DeliveryError::Tls {
            server,
            reason: match (certificate, error.as_ref().and_then(Refusal::of)) {
                (true, Some(Refusal::Expired)) => format!(
                    "{reason} (the relay's certificate has expired: its administrator must renew it)"
                ),
                (true, Some(Refusal::NotYetValid)) => format!(
                    "{reason} (the relay's certificate is not valid yet: check this host's clock)"
                ),
                (true, _) => format!(
                    "{reason} (a certificate was refused: `relayctl doctor` says which, and what to do)"
                ),
                (false, _) => reason,
            },
        },
        SmtpError::Reply { stage, reply } => DeliveryError::Refused {
            server,
            stage,
            reply: reply.text(),
            permanent: reply.is_permanent(),
        },
        SmtpError::Route { detail, failure } => match failure {
            RouteFailure::Transient => DeliveryError::Connect {
                server,
                reason: detail,
            },
            RouteFailure::Setup => DeliveryError::Setup(format!("{server}: {detail}")),
            RouteFailure::Login => DeliveryError::ProxyLogin(format!("{server}: {detail}")),
        },
        SmtpError::Protocol { stage, detail } | SmtpError::Client { stage, detail } => {
            DeliveryError::Network {
                server,
                stage,
                reason: detail,
            }
        }
    }
}
