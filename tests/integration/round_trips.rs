//! Round trips at a network distance: submissions and queue flushes through testkit's forwarder
//! with a delay (a relay 10 ms away each way) in front of the real Postfix relay, counting the
//! client's turns (times it speaks after the server) and connections. Loopback hides round
//! trips; these counts are what a real relay 20-50 ms away turns into waiting, so a change that
//! adds one fails here. The timings at a distance are bench/'s (cases 8 to 10), not a test's.

use std::time::{Duration, Instant};

use testkit::forward::{self, Proxy};

use crate::harness::{Root, Sandbox, as_root, captured, marker, submission_args, wait_for};

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

/// A proxy 10 ms away (each way) in front of the relay's port `port`.
fn far(port: u16) -> Proxy {
    let options = forward::Options {
        delay: Duration::from_millis(10),
        ..forward::Options::default()
    };
    Proxy::start("127.0.0.1:0", ([127, 0, 0, 1], port), options).expect("proxy")
}

/// A sandbox whose profile `p` logs in to the relay behind `proxy` (`tls`: starttls or tls).
fn profile_through(proxy: &Proxy, tls: &str) -> Sandbox {
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
    sb
}

/// Sets up profile `p` for the relay port `port` through a proxy 10 ms away, sends one message
/// with `sendmail -t`, and returns the client's turns for it.
fn turns_for_one_message(port: u16, tls: &str, test: &str) -> u64 {
    let proxy = far(port);
    let sb = profile_through(&proxy, tls);
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

/// Queues `count` messages marked `{m}-{i}` for profile `p` of `sb`, with `settings` added to
/// the profile (delivery = "queue": nothing is sent yet).
fn queue_messages(sb: &Sandbox, settings: &str, m: &str, count: usize) {
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let config = config.replacen("[profiles.p]\n", &format!("[profiles.p]\n{settings}"), 1);
    std::fs::write(sb.user_config(), format!("delivery = \"queue\"\n{config}")).unwrap();
    for i in 0..count {
        let message = format!("To: ops@example.org\nSubject: {m}-{i}.\n\nqueued\n");
        sb.run(&["sendmail", "-t"], message.as_bytes()).ok();
    }
    assert_eq!(crate::harness::queue(sb, "list").len(), count);
}

/// How many times each of `count` messages marked `{m}-{i}` has reached the capture server.
fn tally(m: &str, count: usize) -> Vec<usize> {
    let texts: Vec<String> = captured().iter().map(|c| c.text()).collect();
    (0..count)
        .map(|i| {
            let subject = format!("Subject: {m}-{i}.");
            texts.iter().filter(|t| t.contains(&subject)).count()
        })
        .collect()
}

/// [`tally`] once every message has arrived (and a moment after, for late duplicates).
fn arrivals(m: &str, count: usize) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while tally(m, count).contains(&0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    tally(m, count)
}

/// Two `queue flush` at once, over up to `max_connections` (default 4) sessions each, of 200
/// messages to a relay 10 ms away: each message reaches the relay exactly once, and more than
/// one connection was used (that messages are streamed on each is the next test's).
#[test]
fn flushes_stream_over_several_connections_and_send_each_message_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let proxy = far(587);
    let sb = profile_through(&proxy, "starttls");
    let m = marker("flush4");
    let count = 200;
    queue_messages(&sb, "", &m, count);
    let opened = proxy.connections();
    let flushes: Vec<std::process::Child> = (0..2)
        .map(|_| {
            let mut flush = sb.command(&["queue", "flush"]);
            flush.stdout(std::process::Stdio::null());
            flush.spawn().expect("relayctl")
        })
        .collect();
    for mut flush in flushes {
        assert!(flush.wait().unwrap().success());
    }
    let times = arrivals(&m, count);
    let wrong: Vec<(usize, usize)> = times
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 1)
        .map(|(i, n)| (i, *n))
        .collect();
    assert!(
        wrong.is_empty(),
        "(message, times received) not once: {wrong:?}"
    );
    assert!(crate::harness::queue(&sb, "list").is_empty());
    let used = proxy.connections() - opened;
    assert!(
        (2..=8).contains(&used),
        "{used} connections for two flushes of {count} messages"
    );
}

/// A profile with a `rate_limit` keeps to one connection (`max_connections` defaults to 1),
/// and its messages are still streamed on it (the `-v` transcript shows the order).
#[test]
fn a_rate_limited_profile_flushes_on_one_connection() {
    if !as_root(Root::Postfix) {
        return;
    }
    let proxy = far(587);
    let sb = profile_through(&proxy, "starttls");
    let m = marker("flush1");
    let count = 80;
    queue_messages(
        &sb,
        "rate_limit = \"1000/hour\"\nrate_burst = 100\n",
        &m,
        count,
    );
    let opened = proxy.connections();
    let flush = sb.run(&["-v", "queue", "flush"], b"").ok();
    assert!(arrivals(&m, count).iter().all(|n| *n == 1));
    assert_eq!(proxy.connections() - opened, 1);
    // Streamed: most messages go out before the reply to the one before (10 ms away, no reply
    // can have come back in between). One at a time, every BDAT would follow a reply.
    let mut after_bdat = 0;
    let mut bdat_before = false;
    for line in flush.stderr.lines() {
        if line.starts_with("--> BDAT") {
            after_bdat += usize::from(bdat_before);
            bdat_before = true;
        } else if line.starts_with("<--") {
            bdat_before = false;
        }
    }
    assert!(
        after_bdat >= count / 2,
        "{after_bdat} of {count} messages went out before the reply to the one before"
    );
}

/// The further connections of a pass resume the first one's TLS session with the tickets it
/// got (kept in the process), so they skip the full handshake (Postfix hands out one ticket a
/// handshake, so of connections opened at once one resumes).
#[test]
fn further_connections_of_a_pass_resume_the_tls_session() {
    if !as_root(Root::Postfix) {
        return;
    }
    let proxy = far(587);
    let sb = profile_through(&proxy, "starttls");
    let m = marker("resume");
    let count = 100;
    queue_messages(&sb, "", &m, count);
    let flush = sb.run(&["-v", "queue", "flush"], b"").ok();
    let established: Vec<&str> = flush
        .stderr
        .lines()
        .filter(|l| l.contains("TLS established"))
        .collect();
    assert!(established.len() >= 2, "{established:?}");
    assert!(!established[0].contains("resumed"), "{established:?}");
    assert!(
        established[1..].iter().any(|l| l.contains("resumed")),
        "{established:?}"
    );
    assert!(arrivals(&m, count).iter().all(|n| *n == 1));
}

/// Peak RSS, in KiB, of `relayctl queue flush` in `sb` (GNU time's `%M`).
fn flush_peak_kib(sb: &Sandbox) -> u64 {
    let mut time = sb.program("/usr/bin/time");
    time.args([
        "-f",
        "peak %M",
        env!("CARGO_BIN_EXE_relayctl"),
        "queue",
        "flush",
    ]);
    let out = time.output().expect("/usr/bin/time (apt-get install time)");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak "))
        .and_then(|kib| kib.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak in {stderr}"))
}

/// A message too large for one flight is not read whole to be streamed: it goes from the
/// spool through DATA in pieces, and the flush's peak memory does not grow with it.
#[test]
fn a_large_queued_message_is_not_held_in_memory() {
    if !as_root(Root::Postfix) {
        return;
    }
    let proxy = far(587);
    let sb = profile_through(&proxy, "starttls");
    let m = marker("large");
    queue_messages(&sb, "", &m, 1);
    let small = flush_peak_kib(&sb);
    assert!(arrivals(&m, 1) == [1]);
    // 9 MB of text (the test relay takes 10 MB).
    let line = "x".repeat(99);
    let body: String = (0..90_000).map(|_| format!("{line}\n")).collect();
    let message = format!("To: ops@example.org\nSubject: {m}-1.\n\n{body}");
    sb.run(&["sendmail", "-t"], message.as_bytes()).ok();
    let large = flush_peak_kib(&sb);
    assert_eq!(arrivals(&m, 2), [1, 1]);
    assert!(
        large < small + 4 * 1024,
        "a 9 MB message took the flush from {small} KiB to {large} KiB"
    );
}

/// The spew brake holds across a pass's connections as across processes: with `brake =
/// "50/hour"`, a flush of 120 queued messages over several connections sends exactly 50 and
/// keeps the rest frozen in the queue.
#[test]
fn the_spew_brake_holds_across_connections() {
    if !as_root(Root::Postfix) {
        return;
    }
    let proxy = far(587);
    let sb = profile_through(&proxy, "starttls");
    let m = marker("brake");
    let count = 120;
    queue_messages(&sb, "brake = \"50/hour\"\n", &m, count);
    let opened = proxy.connections();
    sb.run(&["queue", "flush"], b"").ok();
    assert!(proxy.connections() - opened >= 2, "one connection only");
    std::thread::sleep(Duration::from_secs(3));
    let sent = tally(&m, count).iter().filter(|n| **n > 0).count();
    assert_eq!(sent, 50, "messages sent past a brake of 50/hour");
    let frozen = crate::harness::queue(&sb, "list")
        .iter()
        .filter(|e| !e["frozen_since"].is_null())
        .count();
    assert_eq!(frozen, count - 50);
}
