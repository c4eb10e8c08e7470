//! Integration tests: the relayctl binary against a real Postfix relay on loopback (harness.rs),
//! the scripted SMTP server of testkit/ where a test must steer the relay, and real callers
//! (cron, mailx, PHP) in private namespaces (namespace.rs). tests/README.md says which file
//! covers which feature; tests that need root skip themselves, saying why, when run without it.

mod harness;
mod namespace;

mod admin_cli;
mod callers;
mod config_errors;
mod crashes;
mod dead_relay;
mod delivery;
mod doctor;
mod fault_campaign;
mod faults;
mod hostile;
mod listener;
mod listener_clients;
mod listener_hostile;
mod mechanisms;
mod metrics;
mod notices;
mod oauth;
mod oauth_server;
mod operations;
mod privsep;
mod proofs;
mod queue;
mod ratelimit;
mod reach;
mod round_trips;
mod routes;
mod secret_stores;
mod security_review;
mod send_limits;
mod sendmail;
mod setup_and_profiles;
mod tls_policy;
