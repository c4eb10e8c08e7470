//! The relay goes away for real: Postfix is stopped while mail is submitted, then started again.
//! A test binary of its own, because stopping Postfix would disturb the tests that run in
//! parallel in the main integration binary (test binaries run one after another).

#[allow(dead_code)]
#[path = "integration/harness.rs"]
mod harness;

use std::process::Command;
use std::time::{Duration, Instant};

use harness::{Root, Sandbox, as_root, captured, marker, wait_for};

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
        .is_ok()
}

#[test]
fn postfix_stopped_during_submission_then_one_run_delivers_each_message_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let config = sb.user_config();
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        "default_profile = \"campus\"\n\n[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n",
    )
    .unwrap();

    let stop = Command::new("postfix").arg("stop").output().unwrap();
    assert!(stop.status.success(), "{stop:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while port_open(25) {
        assert!(Instant::now() < deadline, "Postfix did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }

    let markers: Vec<String> = (0..5).map(|i| marker(&format!("down{i}"))).collect();
    for m in &markers {
        let run = sb.run(
            &["sendmail", "ops@example.org"],
            format!("Subject: {m}\n\nwaiting\n").as_bytes(),
        );
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    }
    let list = sb.run(&["queue", "list", "--json"], b"").ok();
    let entries: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 5, "{}", list.stdout);

    let up = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/relay/postfix-up.sh"
        ))
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    sb.run(&["queue", "run"], b"").ok();
    let list = sb.run(&["queue", "list"], b"").ok();
    // Not yet due: the first retry is a minute away. A flush sends them now.
    assert!(list.stdout.contains("-- 5 messages"), "{}", list.stdout);
    sb.run(&["queue", "flush"], b"").ok();
    for m in &markers {
        wait_for(m);
    }
    assert_eq!(
        sb.run(&["queue", "list"], b"").ok().stdout,
        "Mail queue is empty\n"
    );
    std::thread::sleep(Duration::from_secs(1));
    for m in &markers {
        let n = captured()
            .iter()
            .filter(|c| c.text().contains(m.as_str()))
            .count();
        assert_eq!(n, 1, "{m} delivered exactly once");
    }
}
