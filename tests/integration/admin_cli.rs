//! The command line as an admin meets it (issue 20, parts 6 and 7): re-running `setup` keeps
//! what the admin wrote and says what changed, `profile show` prints every effective setting,
//! help and typos, queue administration over several messages, `profile remove` with queued
//! mail, `send` on a terminal, keyring errors in words, the single-sign-on warning once.
//! Each test checks the command, its exit code, what stderr says and what the queue or the
//! relay shows.

use serde_json::Value;

use crate::harness::{Root, Run, Sandbox, as_root, marker, queue, relay, unix_now, wait_for};

/// The real relay's smarthost port (no TLS, no login).
const CAMPUS: &str = "[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 5\n";
/// A relay that is down.
const DOWN: &str = "[profiles.down]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 1\ntls = \"none\"\nfrom = \"vm1@campus.example\"\ntimeout = 2\n";

/// A sandbox with the given config text.
fn with_config(text: &str) -> Sandbox {
    let sb = Sandbox::new();
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    sb
}

fn config(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.user_config()).unwrap()
}

/// `sendmail ops@example.org` with `subject`.
fn submit(sb: &Sandbox, profile: &str, subject: &str) -> Run {
    sb.run(
        &["--profile", profile, "sendmail", "ops@example.org"],
        format!("Subject: {subject}\n\nbody of {subject}\n").as_bytes(),
    )
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// relayctl `args` as a shell command line.
fn shell_line(args: &[&str]) -> String {
    std::iter::once(env!("CARGO_BIN_EXE_relayctl"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The shell command line `command` with a terminal as stdin, stdout and stderr (through
/// script(1)), `input` typed at it (script passes no end of input on: a command that reads to
/// the end takes its stdin from a file). Returns what the terminal showed, as stdout.
fn at_terminal(sb: &Sandbox, command: &str, input: &[u8]) -> Run {
    let mut child = sb
        .program("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).replace('\r', ""),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// Part 6: re-running setup keeps what the admin wrote.

#[test]
fn rerunning_setup_keeps_a_hand_added_rate_limit_and_says_what_changed() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let first = [
        "--name",
        "smarthost",
        "--host",
        "localhost",
        "--tls",
        "none",
        "--from",
        "vm1@campus.example",
    ];
    sb.setup_smarthost(&first).ok();
    // What the admin adds by hand after talking to the campus relay's admins.
    let text = config(&sb).replace(
        "max_message_size",
        "# 60/hour agreed with campus IT, ticket 4711\nrate_limit = \"60/h\" # do not raise\nmax_message_size",
    );
    std::fs::write(sb.user_config(), &text).unwrap();

    let mut again = first.to_vec();
    again.extend(["--timeout", "20"]);
    let run = sb.setup_smarthost(&again).ok();
    assert_eq!(
        run.stdout,
        format!(
            "profile `smarthost` updated in {}\ntimeout: unset -> 20\n",
            sb.user_config().display()
        ),
        "one line per changed key, nothing about the others"
    );
    assert_eq!(run.stderr, "");
    assert_eq!(
        config(&sb),
        format!("{text}timeout = 20\n"),
        "the admin's lines as they were, the new key added"
    );

    // The same command once more changes nothing and says so.
    let run = sb.setup_smarthost(&again).ok();
    assert!(run.stdout.ends_with("\nno setting changed\n"), "{run:#?}");

    // A changed port is one line; the limit still applies to delivery.
    let run = sb
        .setup_smarthost(&[
            "--name",
            "smarthost",
            "--port",
            "2587",
            "--tls",
            "starttls",
            "--ca-file",
            relay().ca_file.to_str().unwrap(),
        ])
        .ok();
    let changes: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(
        changes,
        [
            "port: 25 -> 2587",
            "tls: none -> starttls",
            &format!("ca_file: unset -> {}", relay().ca_file.display()),
        ],
        "{run:#?}"
    );
    let show = sb.run(&["profile", "show", "smarthost"], b"").ok();
    assert!(
        show.stdout.contains("rate limit:       60/hour\n"),
        "{}",
        show.stdout
    );
    let m = marker("kept-limit");
    sb.run(
        &["send", "--to", "ops@example.org", "--subject", &m],
        b"hello\n",
    )
    .ok();
    wait_for(&m);
}

#[test]
fn setup_flags_set_rate_limit_fallback_notify_and_from() {
    let sb = Sandbox::new();
    sb.setup_smarthost(&[
        "--name",
        "backup",
        "--host",
        "backup.campus.example",
        "--from",
        "vm1@campus.example",
    ])
    .ok();
    let run = sb
        .setup_smarthost(&[
            "--name",
            "main",
            "--host",
            "mx.campus.example",
            "--from",
            "vm1@campus.example",
            "--rate-limit",
            "30/minute",
            "--fallback",
            "backup",
            "--notify",
            "ops@campus.example",
            "--max-message-size",
            "10MB",
        ])
        .ok();
    assert!(
        run.stdout.starts_with("profile `main` saved in "),
        "{run:#?}"
    );
    let text = config(&sb);
    let main = &text[text.find("[profiles.main]").unwrap()..];
    for line in [
        "rate_limit = \"30/minute\"",
        "fallback = [\"backup\"]",
        "notify = \"ops@campus.example\"",
        "max_message_size = \"10MB\"",
        "from = \"vm1@campus.example\"",
    ] {
        assert!(main.contains(line), "{line} in {text}");
    }
    assert!(
        !text.starts_with("notify"),
        "main is not the default: its own notify, not the host's: {text}"
    );

    let run = sb
        .setup_smarthost(&[
            "--name",
            "main",
            "--rate-limit",
            "off",
            "--from",
            "alerts@campus.example",
        ])
        .ok();
    let changes: Vec<&str> = run.stdout.lines().skip(1).collect();
    assert_eq!(
        changes,
        [
            "from: vm1@campus.example -> alerts@campus.example",
            "rate_limit: 30/minute -> unset",
        ],
        "{run:#?}"
    );

    // Mistakes are refused before anything is written.
    let before = config(&sb);
    sb.setup_smarthost(&["--name", "main", "--fallback", "nope"])
        .code(64)
        .one_line_error("--fallback nope: not another configured profile");
    sb.setup_smarthost(&["--name", "main", "--fallback", "main"])
        .code(64)
        .one_line_error("not another configured profile");
    sb.setup_smarthost(&["--name", "main", "--notify", "root@vm1"])
        .code(64)
        .one_line_error("is not an email address");
    sb.setup_smarthost(&["--name", "main", "--rate-limit", "lots"])
        .code(64)
        .one_line_error("\"off\" for no limit");
    sb.setup_smarthost(&["--name", "main", "--root-alias"])
        .code(64)
        .one_line_error("--notify");
    assert_eq!(config(&sb), before);
}

#[test]
fn setup_notify_is_the_hosts_address_for_the_default_profile_and_root_alias_delivers_to_it() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    let run = sb
        .setup_smarthost(&[
            "--name",
            "campus",
            "--host",
            "localhost",
            "--tls",
            "none",
            "--from",
            "vm1@campus.example",
            "--notify",
            "ops-team@example.org",
            "--root-alias",
        ])
        .ok();
    assert!(
        run.stdout
            .contains("notify (every profile): unset -> ops-team@example.org\n")
            && run
                .stdout
                .contains("aliases.root: unset -> ops-team@example.org\n"),
        "{run:#?}"
    );
    let text = config(&sb);
    assert!(
        text.contains("\nnotify = \"ops-team@example.org\"\n"),
        "{text}"
    );
    assert!(
        text.contains("[aliases]\nroot = \"ops-team@example.org\"\n"),
        "{text}"
    );
    let show = sb.run(&["profile", "show", "campus"], b"").ok();
    assert!(
        show.stdout
            .contains("notify:           ops-team@example.org (the top-level notify)\n"),
        "{}",
        show.stdout
    );

    // Cron's mail to root now reaches the admin, through the real relay.
    let m = marker("to-root");
    sb.run(
        &["sendmail", "root"],
        format!("Subject: {m}\n\ncron output\n").as_bytes(),
    )
    .ok();
    let got = wait_for(&m);
    assert_eq!(got.rcpt_to, ["<ops-team@example.org>"]);
}

#[test]
fn interactive_setup_asks_for_a_notify_address_only_at_a_terminal() {
    let args = [
        "setup",
        "smarthost",
        "--no-verify",
        "--host",
        "mx.campus.example",
        "--from",
        "vm1@campus.example",
    ];
    // A script: no question, nothing waits for an answer.
    let sb = Sandbox::new();
    let run = sb.run(&args, b"ops@campus.example\n").ok();
    assert!(!run.stderr.contains("notices"), "{run:#?}");
    assert!(!config(&sb).contains("notify"), "{}", config(&sb));

    // A person at a terminal is asked, and asked again after a typo.
    let sb = Sandbox::new();
    let run = at_terminal(&sb, &shell_line(&args), b"root@vm1\nops@campus.example\n");
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(
        run.stdout
            .matches("Where should notices about held, delayed and failed mail go?")
            .count(),
        2,
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("\"root@vm1\" is not an email address"),
        "{run:#?}"
    );
    assert!(
        config(&sb).contains("notify = \"ops@campus.example\""),
        "{}",
        config(&sb)
    );
    // ... and not again once an address is set.
    let run = at_terminal(&sb, &shell_line(&args), b"\n");
    assert!(!run.stdout.contains("Where should notices"), "{run:#?}");
}

#[test]
fn profile_show_prints_every_effective_setting_and_marks_defaults() {
    let sb = with_config(
        "default_profile = \"main\"\nnotify = \"ops@campus.example\"\n\n[profiles.main]\npreset = \"smarthost\"\nhost = \"mx.campus.example\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\nfallback = [\"backup\"]\nrate_limit = \"60/hour\"\n\n[profiles.backup]\npreset = \"smarthost\"\nhost = \"backup.campus.example\"\nport = 25\ntls = \"none\"\nfrom = \"vm1@campus.example\"\nusers = [\"www-data\"]\nbrake = \"off\"\n",
    );
    let main = sb.run(&["profile", "show", "main"], b"").ok().stdout;
    for line in [
        "profile:          main (default)\n",
        "rate limit:       60/hour\n",
        "rate burst:       10 (default)\n",
        "brake:            600/hour (default)\n",
        "brake per caller: 150/hour for users of the maildrop, off for root (default)\n",
        "fallback:         backup\n",
        "fallback for:     none\n",
        "notify:           ops@campus.example (the top-level notify)\n",
        "delivery:         now (default)\n",
        "users, groups:    every local user (default)\n",
        "timeout:          30s (default)\n",
        "max message size: 100MB (default)\n",
        "from override:    no (default)\n",
    ] {
        assert!(main.contains(line), "{line:?} in\n{main}");
    }
    let backup = sb.run(&["profile", "show", "backup"], b"").ok().stdout;
    for line in [
        "rate limit:       off (default)\n",
        "brake:            off\n",
        "fallback for:     main\n",
        "users:            www-data\n",
        "groups:           none\n",
    ] {
        assert!(backup.contains(line), "{line:?} in\n{backup}");
    }
}

// Part 7: help and typos.

#[test]
fn sendmail_help_lists_the_sendmail_options() {
    let sb = Sandbox::new();
    let sendmail = sb.path("sendmail");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_relayctl"), &sendmail).unwrap();
    let by_name = |args: &[&str]| {
        let out = sb
            .program(sendmail.to_str().unwrap())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let outputs = [
        sb.run(&["sendmail", "--help"], b"").ok().stdout,
        sb.run(&["sendmail", "-h"], b"").ok().stdout,
        sb.run(&["help", "sendmail"], b"").ok().stdout,
        {
            let (code, text) = by_name(&["--help"]);
            assert_eq!(code, Some(0));
            text
        },
        {
            let (code, text) = by_name(&["-h"]);
            assert_eq!(code, Some(0));
            text
        },
    ];
    for text in &outputs {
        for option in [
            "-t ",
            "-i, -oi",
            "-f ADDR",
            "-bs ",
            "-bp ",
            "-bv ",
            "-N DSN",
            "relayctl send --subject TEXT",
        ] {
            assert!(text.contains(option), "{option:?} in\n{text}");
        }
    }
    assert!(
        !sb.path("spool/queue").exists(),
        "asking for help opens no spool"
    );
}

#[test]
fn typos_suggest_the_closest_and_point_to_the_right_help() {
    let sb = Sandbox::new();
    for (args, line) in [
        (
            &["sned", "--to", "a@example.org"][..],
            "relayctl: unrecognized subcommand 'sned'; did you mean 'send'? (see relayctl --help)\n",
        ),
        (
            &["send", "--to", "a@example.org", "--subjet", "x"],
            "relayctl: unexpected argument '--subjet' found; did you mean '--subject'? (see relayctl send --help)\n",
        ),
        (
            &["queue", "delte", "0190abcdef0123456789"],
            "relayctl: unrecognized subcommand 'delte'; did you mean 'delete'? (see relayctl queue --help)\n",
        ),
        (
            &["sendmail", "-k", "a@example.org"],
            "relayctl: unknown option -k (see relayctl sendmail --help)\n",
        ),
    ] {
        let run = sb.run(args, b"").code(64);
        assert_eq!(run.stderr, line, "{args:?}");
        assert_eq!(run.stdout, "");
    }
    let run = sb
        .run(
            &["sendmail", "-s", "disk full", "ops@example.org"],
            b"body\n",
        )
        .code(64)
        .one_line_error("use `relayctl send --subject TEXT` or `mail -s TEXT`");
    assert!(
        run.stderr.contains("-s is not a sendmail option"),
        "{run:#?}"
    );
    assert!(!sb.path("spool/queue").exists(), "nothing was queued");
}

// Part 7: queue administration.

#[test]
fn queue_commands_take_several_ids_and_say_what_they_did() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"down\"\n\n{DOWN}"));
    for n in 0..3 {
        submit(&sb, "down", &marker(&format!("several-{n}"))).ok();
    }
    let all = ids(&queue(&sb, "list"));
    assert_eq!(all.len(), 3);

    let run = sb.run(&["queue", "hold", &all[0], &all[1]], b"").ok();
    assert_eq!(run.stdout, "held 2 messages\n");
    let states: Vec<Value> = queue(&sb, "list")
        .iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(states, ["held", "held", "queued"]);

    // retry on a held message says it is held and how to release it, and leaves it.
    let run = sb.run(&["queue", "retry", &all[0]], b"").ok();
    assert_eq!(run.stdout, "retried 0 messages\n");
    assert!(
        run.stderr.contains(&format!("message {} is held (held by an administrator); release it with `relayctl queue release {}`", all[0], all[0])),
        "{run:#?}"
    );
    assert_eq!(queue(&sb, "list")[0]["attempts"], 1, "not tried");

    let run = sb.run(&["queue", "release", &all[0], &all[1]], b"").ok();
    assert_eq!(run.stdout, "released 2 messages\n");
    assert!(queue(&sb, "list").iter().all(|e| e["state"] == "queued"));

    // (The first submission found the relay down; the later ones were queued without an
    // attempt, so count from what the message has.)
    let before = queue(&sb, "list")[2]["attempts"].as_u64().unwrap();
    let run = sb.run(&["queue", "retry", &all[2]], b"").ok();
    assert_eq!(run.stdout, "retried 1 message: 1 waiting\n");
    assert_eq!(queue(&sb, "list")[2]["attempts"], before + 1);

    // An unknown ID is exit 66 (not 75: trying later will not help), and nothing is done.
    let unknown = "0190abcdef0123456789";
    let run = sb
        .run(&["queue", "delete", &all[0], unknown], b"")
        .code(66)
        .one_line_error(&format!(
            "no message {unknown} in the queue or the failed area"
        ));
    assert_eq!(run.stdout, "");
    assert_eq!(queue(&sb, "list").len(), 3);
    for command in ["hold", "release", "retry", "show"] {
        sb.run(&["queue", command, unknown], b"")
            .code(66)
            .one_line_error("no message");
    }

    let run = sb
        .run(&["queue", "delete", &all[0], &all[1], &all[2]], b"")
        .ok();
    assert_eq!(run.stdout, "deleted 3 messages\n");
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn queue_all_takes_profile_and_age_filters() {
    if !as_root(Root::Postfix) {
        return;
    }
    let down2 = DOWN.replace("[profiles.down]", "[profiles.down2]");
    let sb = with_config(&format!("default_profile = \"down\"\n\n{DOWN}\n{down2}"));
    for (profile, n) in [("down", 0), ("down", 1), ("down2", 2)] {
        submit(&sb, profile, &marker(&format!("filter-{n}"))).ok();
    }
    let list = queue(&sb, "list");
    let profiles: Vec<&str> = list
        .iter()
        .map(|e| e["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        profiles,
        ["down", "down", "down2"],
        "the JSON field `profile`"
    );
    let all = ids(&list);
    // The first was submitted two days ago.
    let state = sb.path(&format!("spool/queue/{}/state.json", all[0]));
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    json["created"] = (unix_now() - 2 * 86400).into();
    std::fs::write(&state, serde_json::to_vec(&json).unwrap()).unwrap();

    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(text.lines().next().unwrap().contains(" PROFILE "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&all[2]) && l.contains(" down2 ")),
        "{text}"
    );

    let run = sb
        .run(
            &[
                "--profile",
                "down",
                "queue",
                "hold",
                "--all",
                "--older-than",
                "1d",
            ],
            b"",
        )
        .ok();
    assert_eq!(run.stdout, "held 1 message\n");
    let states: Vec<Value> = queue(&sb, "list")
        .iter()
        .map(|e| e["state"].clone())
        .collect();
    assert_eq!(states, ["held", "queued", "queued"]);

    let run = sb
        .run(&["--profile", "down2", "queue", "delete", "--all"], b"")
        .ok();
    assert_eq!(run.stdout, "deleted 1 message\n");
    assert_eq!(ids(&queue(&sb, "list")), all[..2]);

    let run = sb.run(&["queue", "retry", "--all"], b"").ok();
    assert_eq!(
        run.stdout,
        "retried 1 message: 1 waiting; 1 message held, left alone (relayctl queue release --all)\n"
    );
    let run = sb.run(&["queue", "release", "--all"], b"").ok();
    assert_eq!(run.stdout, "released 1 message\n");
    sb.run(&["queue", "hold", "--older-than", "1d"], b"")
        .code(64)
        .one_line_error("--all");
}

#[test]
fn retry_puts_failed_mail_back_and_the_relay_gets_it() {
    if !as_root(Root::Postfix) {
        return;
    }
    // The relay was down for longer than max_age: the mail failed.
    let down = DOWN.replace("[profiles.down]", "[profiles.uni]");
    let sb = with_config(&format!("default_profile = \"uni\"\n\n{down}"));
    let m = marker("failed-then-retried");
    submit(&sb, "uni", &m).ok();
    let queued = ids(&queue(&sb, "list"));
    std::fs::write(
        sb.user_config(),
        format!("default_profile = \"uni\"\n[queue]\nmax_age = \"0s\"\n\n{down}"),
    )
    .unwrap();
    let run = sb.run(&["queue", "retry", &queued[0]], b"").ok();
    assert_eq!(run.stdout, "retried 1 message: 1 failed\n");
    let failed = ids(&queue(&sb, "failed"));
    assert_eq!(failed, queued);
    sb.run(&["queue", "hold", &failed[0]], b"")
        .code(64)
        .one_line_error("`relayctl queue retry");

    // The relay is back and the schedule normal again.
    std::fs::write(
        sb.user_config(),
        format!(
            "default_profile = \"uni\"\n\n{}",
            down.replace("port = 1\n", "port = 25\n")
        ),
    )
    .unwrap();
    let run = sb.run(&["queue", "retry", "--all", "--failed"], b"").ok();
    assert_eq!(run.stdout, "retried 1 message: 1 delivered\n");
    assert!(queue(&sb, "failed").is_empty() && queue(&sb, "list").is_empty());
    wait_for(&m);
}

#[test]
fn rate_limited_mail_shows_when_it_will_really_leave() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!(
        "default_profile = \"campus\"\n\n{CAMPUS}rate_limit = \"2/hour\"\n"
    ));
    let start = unix_now();
    for n in 0..4 {
        submit(&sb, "campus", &marker(&format!("leaves-{n}"))).ok();
    }
    let list = queue(&sb, "list");
    assert_eq!(list.len(), 2, "two left at once (the burst): {list:?}");
    let leaves: Vec<u64> = list
        .iter()
        .map(|e| e["leaves_at"].as_u64().unwrap())
        .collect();
    // One token every 30 minutes: the first waits for the next, the second for the one after.
    assert!(
        (start + 1790..=start + 1810).contains(&leaves[0])
            && (start + 3590..=start + 3610).contains(&leaves[1]),
        "{leaves:?} from {start}"
    );
    assert!(list.iter().all(|e| e["profile"] == "campus"));
    let text = sb.run(&["queue", "list"], b"").ok().stdout;
    assert!(
        text.contains("leaves at ") && text.contains("(rate_limit 2/hour of profile campus)"),
        "{text}"
    );
    let show = sb
        .run(&["queue", "show", list[1]["id"].as_str().unwrap()], b"")
        .ok()
        .stdout;
    assert!(show.contains("waiting:      leaves at "), "{show}");
}

#[test]
fn profile_remove_with_queued_mail_needs_move_to_or_force() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"campus\"\n\n{CAMPUS}\n{DOWN}"));
    let (m1, m2) = (marker("moved-1"), marker("moved-2"));
    submit(&sb, "down", &m1).ok();
    submit(&sb, "down", &m2).ok();
    let before = config(&sb);
    sb.run(&["profile", "remove", "down"], b"")
        .code(64)
        .one_line_error("profile `down` has 2 queued message(s); remove it with --move-to PROFILE");
    assert_eq!(config(&sb), before, "nothing removed");
    sb.run(&["profile", "remove", "down", "--move-to", "nope"], b"")
        .code(78)
        .one_line_error("no profile named `nope`");

    let run = sb
        .run(&["profile", "remove", "down", "--move-to", "campus"], b"")
        .ok();
    assert!(
        run.stdout
            .contains("2 queued message(s) now go through profile campus"),
        "{run:#?}"
    );
    assert!(!config(&sb).contains("[profiles.down]"));
    assert!(queue(&sb, "list").iter().all(|e| e["profile"] == "campus"));
    sb.run(&["queue", "run"], b"").ok();
    wait_for(&m1);
    wait_for(&m2);
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn profile_remove_force_holds_the_mail_until_it_is_moved() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"campus\"\n\n{CAMPUS}\n{DOWN}"));
    let m = marker("forced");
    submit(&sb, "down", &m).ok();
    let run = sb.run(&["profile", "remove", "down", "--force"], b"").ok();
    assert!(run.stdout.contains("1 queued message(s) held"), "{run:#?}");
    let list = queue(&sb, "list");
    assert_eq!(list[0]["state"], "held");
    assert!(
        list[0]["last_reply"]
            .as_str()
            .unwrap()
            .contains("its profile down was removed"),
        "{list:?}"
    );
    sb.run(&["queue", "run"], b"").ok();
    assert_eq!(queue(&sb, "list").len(), 1, "held, not dropped or tried");

    let id = list[0]["id"].as_str().unwrap();
    let run = sb.run(&["queue", "move", id, "--to", "campus"], b"").ok();
    assert_eq!(
        run.stdout,
        "moved 1 message to profile campus; 1 stay held by an administrator (relayctl queue release ID...)\n"
    );
    sb.run(&["queue", "move", id, "--to", "nope"], b"")
        .code(78)
        .one_line_error("no profile named `nope`");
    sb.run(&["queue", "release", id], b"").ok();
    sb.run(&["queue", "run"], b"").ok();
    wait_for(&m);
}

// Part 7: what `send`, keyring errors and setup warnings say.

#[test]
fn send_on_a_terminal_says_what_happened_and_is_silent_in_scripts() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = with_config(&format!("default_profile = \"campus\"\n\n{CAMPUS}\n{DOWN}"));
    let m = marker("tty-sent");
    let send = |args: &[&str]| {
        let line = format!("{} < /dev/null", shell_line(args));
        at_terminal(&sb, &line, b"")
    };
    let run = send(&["send", "--to", "ops@example.org", "--subject", &m]);
    assert_eq!(run.code, 0, "{run:#?}");
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("sent ("))
        .unwrap_or_else(|| panic!("{run:#?}"));
    assert!(line.starts_with("sent (250 "), "{line}");
    wait_for(&m);

    let run = send(&[
        "--profile",
        "down",
        "send",
        "--to",
        "ops@example.org",
        "--subject",
        "x",
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let id = queue(&sb, "list")[0]["id"].as_str().unwrap().to_string();
    assert!(
        run.stdout.contains(&format!("queued as {id}: ")) && run.stdout.contains("localhost:1"),
        "{run:#?}"
    );

    // In a script, nothing on stdout, as from sendmail.
    let m = marker("script-sent");
    let run = sb
        .run(
            &["send", "--to", "ops@example.org", "--subject", &m],
            b"x\n",
        )
        .ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    wait_for(&m);
}

#[test]
fn keyring_errors_say_no_secret_service_session_with_details_under_verbose() {
    let sb = Sandbox::new();
    let args = [
        "setup",
        "gmail",
        "--no-verify",
        "--user",
        "me@gmail.com",
        "--secret-store",
        "keyring",
        "--password-stdin",
    ];
    let run = sb
        .run(&args, b"app-pass\n")
        .code(78)
        .one_line_error("no Secret Service session (the OS keyring) is reachable here");
    assert!(
        !run.stderr.contains("zbus") && !run.stderr.contains("Platform failure"),
        "the keyring's own words only under -v: {run:#?}"
    );
    let mut verbose = vec!["-v"];
    verbose.extend(args);
    let run = sb.run(&verbose, b"app-pass\n").code(78);
    assert!(run.stderr.contains("relayctl: details: "), "{run:#?}");

    // Without --secret-store: the file store, and why, in words.
    let run = sb
        .run(&[&args[..5], &["--password-stdin"]].concat(), b"app-pass\n")
        .ok();
    assert!(
        run.stderr.contains("no Secret Service session") && !run.stderr.contains("zbus"),
        "{run:#?}"
    );
}

#[test]
fn the_single_sign_on_warning_is_given_once_per_profile() {
    let sb = Sandbox::new();
    let setup = |extra: &[&str], stdin: &[u8]| {
        let mut args = vec![
            "setup",
            "institutional",
            "--no-verify",
            "--name",
            "uni",
            "--host",
            "smtp.uni.example",
            "--user",
            "jdoe@uni.example",
            "--secret-store",
            "file",
        ];
        args.extend_from_slice(extra);
        sb.run(&args, stdin)
    };
    let run = setup(&["--password-stdin"], b"app-pass\n").ok();
    assert!(run.stderr.contains("single-sign-on"), "{run:#?}");
    // Re-run to change a setting: no warning, and no password asked for.
    let run = setup(&["--timeout", "20"], b"").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    assert!(run.stdout.contains("timeout: unset -> 20"), "{run:#?}");
    assert!(
        !run.stdout.contains("secret:"),
        "the secret stays as it was: {run:#?}"
    );
    // A new password for the same profile: still no warning.
    let run = setup(&["--password-stdin"], b"app-pass-2\n").ok();
    assert_eq!(run.stderr, "", "{run:#?}");
    assert!(run.stdout.contains("secret: file "), "{run:#?}");
    let secret = std::fs::read_to_string(sb.path("config/relayctl/secrets/uni")).unwrap();
    assert_eq!(secret.trim(), "app-pass-2");
}
