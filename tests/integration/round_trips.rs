//! Round trips at a network distance: one submission through testkit's delay proxy (a relay
//! 10 ms away each way) in front of the real Postfix relay, counting the client's turns (times
//! it speaks after the server). Loopback hides round trips; these counts are what a real relay
//! 20-50 ms away turns into waiting, so a change that adds one fails here. The timings at a
//! distance are bench/'s (case 8), not a test's.

use std::net::SocketAddr;
use std::time::Duration;

use testkit::delay::DelayProxy;

use crate::harness::{Root, Sandbox, as_root, marker, submission_args, wait_for};

/// The most turns one `sendmail -t` may take on 587: EHLO, STARTTLS, the TLS handshake's
/// ClientHello, its Finished with the second EHLO, then AUTH PLAIN with its initial response,
/// MAIL, RCPT, `BDAT n LAST` with the message and QUIT in one flight (RFC 4954 lets a one-step
/// login lead a pipelined group; Postfix offers CHUNKING; the message is alone in the queue,
/// so the session ends with it), QUIT's reply not waited for. (Before BDAT, the pipelined QUIT
/// and the pipelined login: 9.)
const MAX_TURNS_STARTTLS: u64 = 5;
/// The same on 465 (implicit TLS): the handshake's two flights, EHLO after the greeting, the
/// login with the transaction and QUIT. (Before: 8.)
const MAX_TURNS_IMPLICIT: u64 = 4;

/// Sets up profile `p` for the relay port `port` through a proxy 10 ms away, sends one message
/// with `sendmail -t`, and returns the client's turns for it.
fn turns_for_one_message(port: u16, tls: &str, test: &str) -> u64 {
    let upstream: SocketAddr = ([127, 0, 0, 1], port).into();
    let proxy =
        DelayProxy::start("127.0.0.1:0", upstream, Duration::from_millis(10)).expect("proxy");
    let sb = Sandbox::new();
    let proxy_port = proxy.addr().port().to_string();
    let mut args = submission_args("p", &[]);
    for (option, value) in [("--port", proxy_port), ("--tls", tls.to_string())] {
        let at = args.iter().position(|a| a == option).expect(option) + 1;
        args[at] = value;
    }
    args.extend(
        [
            "--from",
            crate::harness::USER,
            "--password-stdin",
            "--secret-store",
            "file",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args, crate::harness::PASSWORD.as_bytes()).ok();
    let before = proxy.turns();
    let m = marker(test);
    let message = format!("To: ops@example.org\nSubject: {m}\n\nat a distance\n");
    sb.run(&["sendmail", "-t"], message.as_bytes()).ok();
    wait_for(&m);
    proxy.turns() - before
}

#[test]
fn one_message_on_587_takes_few_round_trips() {
    if !as_root(Root::Postfix) {
        return;
    }
    let turns = turns_for_one_message(587, "starttls", "turns587");
    assert!(
        turns <= MAX_TURNS_STARTTLS,
        "sendmail -t on 587 took {turns} turns, at most {MAX_TURNS_STARTTLS} expected"
    );
}

#[test]
fn one_message_on_465_takes_few_round_trips() {
    if !as_root(Root::Postfix) {
        return;
    }
    let turns = turns_for_one_message(465, "tls", "turns465");
    assert!(
        turns <= MAX_TURNS_IMPLICIT,
        "sendmail -t on 465 took {turns} turns, at most {MAX_TURNS_IMPLICIT} expected"
    );
}
