//! Integration tests: the relayctl binary against a real Postfix relay on loopback.

mod harness;
mod namespace;

mod callers;
mod config_errors;
mod crashes;
mod delivery;
mod doctor;
mod fault_campaign;
mod faults;
mod hostile;
mod oauth;
mod oauth_server;
mod operations;
mod privsep;
mod queue;
mod ratelimit;
mod secret_stores;
mod security_review;
mod send_limits;
mod sendmail;
mod setup_and_profiles;
mod tls_policy;
