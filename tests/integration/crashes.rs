//! The queue when relayctl dies or the disk fails it: a kill -9 campaign against submissions and
//! queue runs (through the real Postfix relay), a full spool file system and a read-only one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use testkit::smtp::{Script, Server};

use crate::faults::write_config;
use crate::harness::{Root, Run, Sandbox, arrives_soon, as_root, tee};

/// How many times the message holding `marker` was transmitted whole in `sent` (what each
/// client connection sent, as a tee keeps it): up to its final dot (DATA), or to the end of the
/// `BDAT n LAST` chunk that holds it (CHUNKING). The relay only says whether a message arrived,
/// not how often.
fn complete_transmissions(sent: &[Vec<u8>], marker: &str) -> usize {
    let needle = marker.as_bytes();
    let mut n = 0;
    for bytes in sent {
        let mut from = 0;
        while let Some(pos) = find(&bytes[from..], needle) {
            let at = from + pos + needle.len();
            if last_chunk_is_whole(bytes, from + pos) || find(&bytes[at..], b"\r\n.\r\n").is_some()
            {
                n += 1;
            }
            from = at;
        }
    }
    n
}

/// Whether the text at `pos` is in a `BDAT n LAST` chunk whose n octets all came.
fn last_chunk_is_whole(bytes: &[u8], pos: usize) -> bool {
    let Some(command) = bytes[..pos].windows(5).rposition(|w| w == b"BDAT ") else {
        return false;
    };
    let Some(end) = find(&bytes[command..], b"\r\n").map(|e| command + e) else {
        return false;
    };
    let line = String::from_utf8_lossy(&bytes[command..end]);
    let mut words = line.split_whitespace().skip(1);
    let size = words.next().and_then(|w| w.parse::<usize>().ok());
    match (size, words.next()) {
        (Some(size), Some(last)) if last.eq_ignore_ascii_case("LAST") => {
            bytes.len() >= end + 2 + size
        }
        _ => false,
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Names of the entries of a spool subdirectory.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The campaign's markers found in the messages of a spool area.
fn markers_in(area: &Path, out: &mut BTreeSet<String>) {
    for id in entries(area) {
        if id.starts_with('.') {
            continue;
        }
        if let Ok(bytes) = std::fs::read(area.join(&id).join("message")) {
            let text = String::from_utf8_lossy(&bytes);
            if let Some(pos) = text.find("kill9-") {
                out.insert(text[pos..pos + MARKER_LEN].to_string());
            }
        }
    }
}

const MARKER_LEN: usize = "kill9-0000000000-00000".len();

fn campaign_marker(i: usize) -> String {
    let m = format!("kill9-{:010}-{i:05}", std::process::id());
    assert_eq!(m.len(), MARKER_LEN);
    m
}

fn spawn(sb: &Sandbox, args: &[&str]) -> Child {
    sb.command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn relayctl")
}

/// Kills `child` with SIGKILL after `delay` unless it ended first. Returns its exit code when it
/// exited on its own, `None` when the signal ended it.
fn kill_after(mut child: Child, delay: Duration) -> Option<i32> {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // SIGKILL; a child that has just exited is a zombie, which the signal does not change.
    let _ = child.kill();
    child.wait().unwrap().code()
}

/// Submissions (delivery = now, through the real relay) and queue runs killed with SIGKILL at
/// random moments. Nothing may be lost: a submitter that exited 0 handed its message over, and
/// a message that reached the spool is delivered by later runs. Duplicates are allowed (a kill
/// between the relay's acceptance and the state update) and counted.
#[test]
fn kill_9_campaign_loses_nothing() {
    if !as_root(Root::Postfix) {
        return;
    }
    let iterations: usize = std::env::var("RELAYCTL_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    // Between relayctl and the relay, so that complete transmissions can be counted. When a
    // client is killed, the relay sees its connection end at the same point.
    let tee = tee(25);
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        format!(
            "default_profile = \"campus\"\ndelivery = \"now\"\n\n[profiles.campus]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n",
            tee.addr().port()
        ),
    )
    .unwrap();
    let spool = sb.path("spool");
    let started = Instant::now();

    let mut completed = BTreeSet::new(); // the submitter exited 0 on its own
    let mut killed_submitters = 0;
    let mut other_exits = Vec::new(); // a submitter that exited non-zero on its own
    let mut runners_started = 0;
    let mut runners_killed = 0;
    let mut in_spool = BTreeSet::new();
    let mut markers = Vec::new();
    for i in 0..iterations {
        let m = campaign_marker(i);
        markers.push(m.clone());
        // Every third iteration a queue runner races the submission.
        let runner = (i % 3 == 1).then(|| {
            runners_started += 1;
            let args: &[&str] = if i % 2 == 0 {
                &["queue", "flush"]
            } else {
                &["queue", "run"]
            };
            let child = spawn(&sb, args);
            let delay = Duration::from_millis(fastrand::u64(0..=40));
            std::thread::spawn(move || kill_after(child, delay))
        });
        let mut child = spawn(&sb, &["sendmail", "ops@example.org"]);
        let message =
            format!("Subject: {m}\nFrom: vm1@campus.example\n\ncrash campaign message {i}\n");
        // The pipe holds the whole message: this never blocks.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(message.as_bytes()).unwrap();
        drop(stdin);
        // A delivery through the local relay takes a few milliseconds: every other kill comes
        // within the first 10 ms so that more of them land inside the SMTP dialogue.
        let most = if i % 2 == 0 { 30 } else { 10 };
        let delay = Duration::from_millis(fastrand::u64(0..=most));
        match kill_after(child, delay) {
            Some(0) => {
                completed.insert(m.clone());
            }
            Some(code) => other_exits.push((m.clone(), code)),
            None => killed_submitters += 1,
        }
        if let Some(r) = runner
            && r.join().unwrap().is_none()
        {
            runners_killed += 1;
        }
        // Nothing runs now: the spool holds still while it is read.
        markers_in(&spool.join("queue"), &mut in_spool);
    }
    let campaign_time = started.elapsed();

    let mut passes = 0;
    while passes < 10
        && entries(&spool.join("queue"))
            .iter()
            .any(|e| !e.starts_with('.'))
    {
        sb.run(&["queue", "flush"], b"").ok();
        passes += 1;
    }
    let left_queued: Vec<String> = entries(&spool.join("queue"));
    let mut failed = BTreeSet::new();
    markers_in(&spool.join("failed"), &mut failed);

    let sent = tee.sent();
    let transmissions: BTreeMap<&String, usize> = markers
        .iter()
        .map(|m| (m, complete_transmissions(&sent, m)))
        .collect();
    let expected: BTreeSet<&String> = completed
        .iter()
        .chain(in_spool.iter().filter(|m| !failed.contains(*m)))
        .collect();
    // Arrivals. A message that never went through the tee up to its final dot cannot have
    // reached the relay, so only the others are waited for: each up to 3 s at a time, until
    // 30 s have passed overall.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut delivered = BTreeSet::new();
    for m in &markers {
        if transmissions[m] == 0 && !expected.contains(m) {
            continue;
        }
        loop {
            if arrives_soon(m) {
                delivered.insert(m.clone());
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
        }
    }
    let duplicated: Vec<(&&String, &usize)> =
        transmissions.iter().filter(|(_, n)| **n > 1).collect();
    let lost: Vec<&&String> = expected
        .iter()
        .filter(|m| !delivered.contains(**m))
        .collect();
    let tmp_left = entries(&spool.join("tmp"));
    let killed_enqueues = tmp_left.iter().filter(|e| !e.starts_with('.')).count();
    let killed_discards = tmp_left.iter().filter(|e| e.starts_with(".trash-")).count();
    let corrupt = entries(&spool.join("corrupt"));

    eprintln!(
        "kill -9 campaign: {iterations} submissions in {campaign_time:.1?} \
         (flush passes after: {passes}): completed (exit 0) {}, killed {killed_submitters}, \
         other exits {}, seen in spool {}, delivered {}, duplicated {}, lost {}; \
         runners started {runners_started}, killed {runners_killed}; \
         tmp/ leftovers: {killed_enqueues} killed enqueues, {killed_discards} killed removals, \
         {} other; failed {}, corrupt {}",
        completed.len(),
        other_exits.len(),
        in_spool.len(),
        delivered.len(),
        duplicated.len(),
        lost.len(),
        tmp_left.len() - killed_enqueues - killed_discards,
        failed.len(),
        corrupt.len(),
    );
    if !duplicated.is_empty() {
        eprintln!("duplicated (marker, times sent to the relay): {duplicated:?}");
    }
    if !tmp_left.is_empty() {
        eprintln!("tmp/ leftovers after the flushes: {tmp_left:?}");
    }

    assert!(lost.is_empty(), "lost messages: {lost:?}");
    // A duplicate needs the delivering process killed between the relay's acceptance and the
    // state update. A killed submitter's attempt runs on in a process of its own, so only the
    // killed queue runners can have caused one.
    assert!(
        duplicated.len() <= runners_killed,
        "more duplicates than killed runners: {duplicated:?}"
    );
    // What killed processes left in tmp/ goes with the next run once they are gone (the
    // attempts of killed submitters may still be finishing: give them a moment).
    let swept = Instant::now() + Duration::from_secs(10);
    loop {
        sb.run(&["queue", "run"], b"").ok();
        let left = entries(&spool.join("tmp"));
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < swept,
            "tmp/ leftovers never swept: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        other_exits.is_empty(),
        "submitters that failed on their own: {other_exits:?}"
    );
    assert!(
        left_queued.iter().all(|e| e.starts_with('.')),
        "still queued after {passes} flushes: {left_queued:?}"
    );
    assert!(failed.is_empty(), "nothing should fail: {failed:?}");
    assert!(
        corrupt.is_empty(),
        "a kill must not corrupt a state file: {corrupt:?}"
    );
    for m in &delivered {
        assert!(
            transmissions[m] >= 1,
            "{m} arrived without a complete transmission through the tee"
        );
    }
}

/// Runs `relayctl ARGS` with `stdin` in a private mount namespace where the sandbox's spool is
/// `mount` (a shell fragment using "$spool"), then lists what is left in the spool's tmp/ and
/// queue/ on stdout as `left: PATH` lines (the mount disappears with the namespace).
fn in_mounted_spool(sb: &Sandbox, mount: &str, args: &[&str], stdin: &[u8]) -> (Run, Vec<String>) {
    let spool = sb.path("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let script = format!(
        "set -eu\nspool=$1\nshift\n{mount}\nset +e\n\"$@\" >/dev/null\nrc=$?\n\
         for d in tmp queue; do [ -d \"$spool/$d\" ] && find \"$spool/$d\" -mindepth 1 | sed 's/^/left: /'; done\n\
         exit $rc\n"
    );
    let mut cmd: Command = sb.program("unshare");
    cmd.args([
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "sh",
    ])
    .arg(&spool)
    .arg(env!("CARGO_BIN_EXE_relayctl"))
    .args(args)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn unshare");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let left = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("left: "))
        .map(str::to_string)
        .collect();
    (
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
        left,
    )
}

const TINY_TMPFS: &str = "mount -t tmpfs -o size=64k,mode=0700 tmpfs \"$spool\"";

fn big_message() -> Vec<u8> {
    let mut m = b"Subject: too big for the spool\n\n".to_vec();
    for i in 0..4000 {
        m.extend_from_slice(
            format!("line {i:05} of a message larger than the spool's free space\n").as_bytes(),
        );
    }
    assert!(m.len() > 200 * 1024);
    m
}

/// A message larger than the spool's free space: exit 75 with one line naming the spool, no
/// partial file left, nothing sent.
#[test]
fn full_spool_file_system_is_a_temporary_failure() {
    if !as_root(Root::Mounts) {
        return;
    }
    let server = Server::start(Script::default());
    let sb = Sandbox::new();
    write_config(&sb, server.port, "none", 2);
    let spool = sb.path("spool").display().to_string();

    // The tiny spool works for a small message.
    let (run, left) = in_mounted_spool(
        &sb,
        TINY_TMPFS,
        &["sendmail", "a@example.org"],
        b"Subject: small\n\nfits\n",
    );
    let run = run.ok();
    assert!(left.is_empty(), "delivered and removed: {left:?} {run:#?}");
    assert_eq!(server.messages().len(), 1, "the small one went out");

    let (run, left) = in_mounted_spool(
        &sb,
        TINY_TMPFS,
        &["sendmail", "a@example.org"],
        &big_message(),
    );
    let run = run.code(75).one_line_error(&spool);
    assert!(run.stderr.contains("No space left on device"), "{run:#?}");
    assert!(left.is_empty(), "partial files left in the spool: {left:?}");
    assert_eq!(server.messages().len(), 1, "nothing more was sent");
    assert_eq!(server.connections(), 1, "no connection for the big one");
}

/// A read-only spool, set up or not: exit 75 with one line naming the spool.
#[test]
fn read_only_spool_is_a_temporary_failure() {
    if !as_root(Root::Mounts) {
        return;
    }
    let server = Server::start(Script::default());
    let sb = Sandbox::new();
    write_config(&sb, server.port, "none", 2);
    let spool = sb.path("spool");
    let ro = "mount --bind \"$spool\" \"$spool\"\nmount -o remount,bind,ro \"$spool\"";

    // An empty spool directory: its subdirectories cannot be created.
    let (run, left) = in_mounted_spool(
        &sb,
        ro,
        &["sendmail", "a@example.org"],
        b"Subject: ro1\n\nx\n",
    );
    let run = run.code(75).one_line_error(&spool.display().to_string());
    assert!(run.stderr.contains("Read-only file system"), "{run:#?}");
    assert!(left.is_empty(), "{left:?}");
    assert!(
        entries(&spool).is_empty(),
        "nothing written: {:?}",
        entries(&spool)
    );

    // A spool already set up: the message cannot be written.
    sb.run(&["queue", "list"], b"").ok();
    assert_eq!(entries(&spool), ["corrupt", "failed", "queue", "tmp"]);
    let (run, left) = in_mounted_spool(
        &sb,
        ro,
        &["sendmail", "a@example.org"],
        b"Subject: ro2\n\nx\n",
    );
    let run = run.code(75).one_line_error(&spool.display().to_string());
    assert!(run.stderr.contains("Read-only file system"), "{run:#?}");
    assert!(left.is_empty(), "{left:?}");
    assert!(entries(&spool.join("tmp")).is_empty());
    assert!(entries(&spool.join("queue")).is_empty());
    assert_eq!(server.connections(), 0, "nothing is sent without the spool");
}
