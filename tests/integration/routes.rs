//! `[routes]` (issue 16, part 2): a host serving several sites sends each site's mail through
//! that site's profile, chosen once at submission from the envelope sender (or the From when
//! relayctl sets the envelope), recorded with the queued message and shown by `queue show` and
//! the log; `relayctl route ADDRESS` says which profile and why; a route naming a missing profile
//! is a config error with file and line. Two profiles reach the real Postfix relay with different
//! EHLO names and senders, so what the relay received says which profile carried each message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::harness::{PASSWORD, Root, Sandbox, USER, as_root, marker, relay, wait_for};
use crate::listener::{Client, Served, queue_run, sandbox};

/// The routes the tests use: the shop's domain and its subdomains through `shop`, except the
/// billing address, which goes through the institution's `uni`.
const ROUTES: &str = "\n[routes]\n\"@shop.example\" = \"shop\"\n\"@.shop.example\" = \"shop\"\n\"billing@shop.example\" = \"uni\"\n";

/// Profile `uni` (the relay's submission port, logging in, the default) and profile `shop` (the
/// relay's port 25 without login, sender orders@shop.example), each with its own EHLO name, and
/// [`ROUTES`].
fn two_sites() -> Sandbox {
    relay();
    let sb = Sandbox::new();
    sb.setup_submission("uni", &["--ehlo-name", "uni.relay.test"])
        .ok();
    sb.setup_smarthost(&[
        "--name",
        "shop",
        "--host",
        "localhost",
        "--port",
        "25",
        "--tls",
        "none",
        "--from",
        "orders@shop.example",
        "--ehlo-name",
        "shop.relay.test",
    ])
    .ok();
    let mut config = std::fs::read_to_string(sb.user_config()).unwrap();
    config.push_str(ROUTES);
    std::fs::write(sb.user_config(), config).unwrap();
    sb
}

/// The EHLO name in the relay's own Received field: the profile that carried the message.
fn carried_by(text: &str) -> &'static str {
    if text.contains("from shop.relay.test (") {
        "shop"
    } else if text.contains("from uni.relay.test (") {
        "uni"
    } else {
        panic!("no known EHLO name in: {text}")
    }
}

#[test]
fn each_sites_mail_goes_out_through_its_route() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = two_sites();
    // sendmail -f: the envelope sender chooses.
    let shop = marker("route-shop");
    sb.run(
        &[
            "--wait",
            "sendmail",
            "-f",
            "orders@shop.example",
            "ops@example.org",
        ],
        format!("Subject: {shop}\n\nx\n").as_bytes(),
    )
    .ok();
    // An address route beats the domain's.
    let billing = marker("route-billing");
    sb.run(
        &[
            "--wait",
            "sendmail",
            "-f",
            "billing@shop.example",
            "ops@example.org",
        ],
        format!("Subject: {billing}\n\nx\n").as_bytes(),
    )
    .ok();
    // A subdomain, through the wildcard; `send --from` chooses like -f.
    let sub = marker("route-sub");
    sb.run(
        &[
            "--wait",
            "send",
            "--from",
            "Web shop <www@eu.shop.example>",
            "--to",
            "ops@example.org",
            "--subject",
            &sub,
        ],
        b"x\n",
    )
    .ok();
    // No route: the default profile.
    let other = marker("route-other");
    sb.run(
        &[
            "--wait",
            "sendmail",
            "-f",
            "cron@other.example",
            "ops@example.org",
        ],
        format!("Subject: {other}\n\nx\n").as_bytes(),
    )
    .ok();
    // --profile (and RELAYCTL_PROFILE) still win over the route.
    let forced = marker("route-forced");
    sb.run(
        &[
            "--wait",
            "--profile",
            "uni",
            "sendmail",
            "-f",
            "orders@shop.example",
            "ops@example.org",
        ],
        format!("Subject: {forced}\n\nx\n").as_bytes(),
    )
    .ok();

    let got = wait_for(&shop);
    assert_eq!(carried_by(&got.text()), "shop");
    assert!(
        got.mail_from.starts_with("<orders@shop.example>"),
        "{}",
        got.mail_from
    );
    // The sender policy is the chosen profile's: uni's sender, not the one asked for.
    let got = wait_for(&billing);
    assert_eq!(carried_by(&got.text()), "uni");
    assert!(
        got.mail_from.starts_with(&format!("<{USER}>")),
        "{}",
        got.mail_from
    );
    let got = wait_for(&sub);
    assert_eq!(carried_by(&got.text()), "shop");
    assert!(
        got.mail_from.starts_with("<www@eu.shop.example>"),
        "{}",
        got.mail_from
    );
    let got = wait_for(&other);
    assert_eq!(carried_by(&got.text()), "uni");
    let got = wait_for(&forced);
    assert_eq!(carried_by(&got.text()), "uni");
}

#[test]
fn the_route_is_chosen_from_the_from_field_and_kept_with_the_queued_message() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = two_sites();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(sb.user_config(), format!("delivery = \"queue\"\n{config}")).unwrap();
    sb.env("RELAYCTL_LOG", "stderr");
    // No -f: relayctl sets the envelope, and the From chooses.
    let m = marker("route-queued");
    sb.run(
        &["sendmail", "-t"],
        format!("From: Shop <orders@shop.example>\nTo: ops@example.org\nSubject: {m}\n\nx\n")
            .as_bytes(),
    )
    .ok();
    let list = crate::harness::queue(&sb, "list");
    assert_eq!(list.len(), 1, "{list:#?}");
    let id = list[0]["id"].as_str().unwrap().to_string();
    let show = sb.run(&["queue", "show", &id], b"").ok();
    assert!(
        show.stdout
            .contains("profile:      shop (route \"@shop.example\")\n"),
        "{show:#?}"
    );
    // Changing the routes later does not move mail already queued: it was routed once.
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        config.replace(
            "\"@shop.example\" = \"shop\"",
            "\"@shop.example\" = \"uni\"",
        ),
    )
    .unwrap();
    let run = sb.run(&["-v", "queue", "run"], b"").ok();
    let line = run
        .stderr
        .lines()
        .find(|l| l.contains("status=sent"))
        .unwrap_or_else(|| panic!("no log line: {run:#?}"));
    assert!(
        line.contains("profile=\"shop\" route=\"@shop.example\" relay=\"localhost:25\""),
        "{line}"
    );
    let got = wait_for(&m);
    assert_eq!(carried_by(&got.text()), "shop");
}

#[test]
fn route_says_which_profile_and_why() {
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = two_sites();
    let config = sb.user_config().display().to_string();
    let line_of = |key: &str| {
        let text = std::fs::read_to_string(sb.user_config()).unwrap();
        text.lines().position(|l| l.starts_with(key)).unwrap() + 1
    };
    let cases = [
        (
            "orders@shop.example",
            format!(
                "orders@shop.example -> profile shop (localhost:25): route \"@shop.example\" ({config}:{})\n",
                line_of("\"@shop.example\"")
            ),
        ),
        (
            "Billing@Shop.Example",
            format!(
                "Billing@Shop.Example -> profile uni (localhost:587): route \"billing@shop.example\" ({config}:{})\n",
                line_of("\"billing@")
            ),
        ),
        (
            "www@eu.shop.example",
            format!(
                "www@eu.shop.example -> profile shop (localhost:25): route \"@.shop.example\" ({config}:{})\n",
                line_of("\"@.shop")
            ),
        ),
        (
            "cron@other.example",
            "cron@other.example -> profile uni (localhost:587): the default profile (no route matches)\n".to_string(),
        ),
    ];
    for (address, expected) in cases {
        let run = sb.run(&["route", address], b"").ok();
        assert_eq!(run.stdout, expected);
    }
    let run = sb
        .run(&["--profile", "uni", "route", "orders@shop.example"], b"")
        .ok();
    assert!(
        run.stdout
            .starts_with("orders@shop.example -> profile uni (localhost:587): --profile"),
        "{run:#?}"
    );
    sb.env("RELAYCTL_PROFILE", "uni");
    let run = sb.run(&["route", "orders@shop.example"], b"").ok();
    assert!(run.stdout.contains("-> profile uni "), "{run:#?}");
    sb.run(&["route", "not an address"], b"")
        .code(64)
        .one_line_error("is not an email address");
}

#[test]
fn a_route_to_a_missing_profile_is_a_config_error_with_its_line() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = two_sites();
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    let broken = config.replace(
        "\"billing@shop.example\" = \"uni\"",
        "\"billing@shop.example\" = \"gmail-billing\"",
    );
    std::fs::write(sb.user_config(), &broken).unwrap();
    let line = broken
        .lines()
        .position(|l| l.contains("gmail-billing"))
        .unwrap()
        + 1;
    let path = sb.user_config().display().to_string();
    for args in [
        vec!["route", "orders@shop.example"],
        vec!["profile", "list"],
        vec!["send", "--to", "ops@example.org", "--subject", "x"],
    ] {
        sb.run(&args, b"x\n").code(78).one_line_error(&format!(
            "{path}:{line}: route \"billing@shop.example\" names profile `gmail-billing`, which is not configured (profiles: shop, uni)"
        ));
    }
    // A key that is no address, domain or wildcard, with its line too.
    let bad = config.replace(
        "\"@.shop.example\" = \"shop\"",
        "\"shop.example\" = \"shop\"",
    );
    std::fs::write(sb.user_config(), &bad).unwrap();
    let line = bad
        .lines()
        .position(|l| l.starts_with("\"shop.example\""))
        .unwrap()
        + 1;
    sb.run(&["route", "orders@shop.example"], b"")
        .code(78)
        .one_line_error(&format!(
            "{path}:{line}: route \"shop.example\" is not an address"
        ));
}

/// The SMTP listener routes clients that do not log in by MAIL FROM; a server user stays bound
/// to its profile whatever sender it names.
#[test]
fn the_listener_routes_clients_that_do_not_log_in_and_keeps_server_users_on_their_profile() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = sandbox("");
    let etc = sb.path("etc/relayctl/config.toml");
    let mut config = std::fs::read_to_string(&etc).unwrap();
    config.push_str(
        "\n[profiles.shop]\npreset = \"smarthost\"\nhost = \"127.0.0.1\"\nport = 25\ntls = \"none\"\nfrom = \"orders@shop.example\"\nehlo_name = \"shop.relay.test\"\n\n[routes]\n\"@shop.example\" = \"shop\"\n",
    );
    std::fs::write(&etc, config).unwrap();
    sb.run(
        &[
            "server",
            "user",
            "add",
            "webshop",
            "--sender",
            "@shop.example",
            "--password-stdin",
        ],
        PASSWORD.as_bytes(),
    )
    .ok();
    let served = Served::start(&sb, &[]);
    let send = |client: &mut Client, from: &str, m: &str| {
        assert!(
            client
                .command(&format!("MAIL FROM:<{from}>"))
                .starts_with("250")
        );
        assert!(
            client
                .command("RCPT TO:<ops@example.org>")
                .starts_with("250")
        );
        assert!(client.command("DATA").starts_with("354"));
        let reply = client.command(&format!("Subject: {m}\r\n\r\nx\r\n."));
        assert!(reply.starts_with("250"), "{reply}");
    };
    let routed = marker("listener-routed");
    let plain = marker("listener-default");
    let bound = marker("listener-bound");
    let (mut client, _) = Client::connect(served.port);
    client.command("EHLO app.test");
    send(&mut client, "orders@shop.example", &routed);
    send(&mut client, "grafana@apps.example", &plain);
    client.command("QUIT");
    // AUTH PLAIN of webshop: the server user's profile is the listener's `p`.
    let (mut client, _) = Client::connect(served.port);
    client.command("EHLO app.test");
    let token = BASE64.encode(format!("\0webshop\0{PASSWORD}"));
    let reply = client.command(&format!("AUTH PLAIN {token}"));
    assert!(reply.starts_with("235"), "{reply}");
    send(&mut client, "orders@shop.example", &bound);
    client.command("QUIT");
    queue_run(&sb);

    let got = wait_for(&routed);
    assert!(
        got.text().contains("from shop.relay.test ("),
        "{}",
        got.text()
    );
    assert!(
        got.mail_from.starts_with("<orders@shop.example>"),
        "{}",
        got.mail_from
    );
    let got = wait_for(&plain);
    assert!(!got.text().contains("shop.relay.test"), "{}", got.text());
    assert!(
        got.mail_from.starts_with("<relay@example.org>"),
        "{}",
        got.mail_from
    );
    let got = wait_for(&bound);
    assert!(!got.text().contains("shop.relay.test"), "{}", got.text());
    assert!(
        got.mail_from.starts_with("<orders@shop.example>"),
        "{}",
        got.mail_from
    );
    assert_eq!(served.stop().code(), Some(0));
}

/// A message held because the configuration did not load (here: a route to a profile that does
/// not exist) completes its submission when it is released: its sender routes it then.
#[test]
fn a_held_submission_is_routed_when_it_is_released() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = two_sites();
    let good = std::fs::read_to_string(sb.user_config()).unwrap();
    std::fs::write(
        sb.user_config(),
        good.replace(
            "\"@shop.example\" = \"shop\"",
            "\"@shop.example\" = \"shopp\"",
        ),
    )
    .unwrap();
    let m = marker("route-held");
    let run = sb
        .run(
            &["sendmail", "-f", "orders@shop.example", "ops@example.org"],
            format!("Subject: {m}\n\nx\n").as_bytes(),
        )
        .ok();
    assert!(run.stderr.contains("held"), "{run:#?}");
    std::fs::write(sb.user_config(), good).unwrap();
    sb.run(&["queue", "run"], b"").ok();
    let got = wait_for(&m);
    assert_eq!(carried_by(&got.text()), "shop");
    assert!(
        got.mail_from.starts_with("<orders@shop.example>"),
        "{}",
        got.mail_from
    );
}

/// The maildrop: the root runner records the route a user's drop names only while the
/// configuration has that route for that profile; a drop cannot claim one it does not have.
#[test]
fn the_runner_keeps_a_drops_route_only_as_configured() {
    use crate::security_review::{drop_as_hostile, ticket};
    if !as_root(Root::Postfix) {
        return;
    }
    let mut sb = two_sites();
    sb.env("RELAYCTL_LOG", "stderr");
    let routed = |profile: &str| {
        let t = ticket(profile, &["ops@example.org"], "{}");
        format!("{},\"route\":\"@shop.example\"}}", &t[..t.len() - 1])
    };
    let m = marker("route-drop");
    drop_as_hostile(
        &sb,
        "routed",
        &routed("shop"),
        format!("Subject: {m}-shop\n\nx\n").as_bytes(),
    );
    drop_as_hostile(
        &sb,
        "claimed",
        &routed("uni"),
        format!("Subject: {m}-uni\n\nx\n").as_bytes(),
    );
    let run = sb.run(&["-v", "queue", "run"], b"").ok();
    let sent: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("status=sent"))
        .collect();
    assert_eq!(sent.len(), 2, "{run:#?}");
    let line = |profile: &str| {
        sent.iter()
            .find(|l| l.contains(&format!("profile=\"{profile}\"")))
            .unwrap_or_else(|| panic!("no line for {profile}: {run:#?}"))
            .to_string()
    };
    assert!(line("shop").contains("route=\"@shop.example\""), "{run:#?}");
    assert!(!line("uni").contains("route="), "{run:#?}");
    assert_eq!(carried_by(&wait_for(&format!("{m}-shop")).text()), "shop");
    assert_eq!(carried_by(&wait_for(&format!("{m}-uni")).text()), "uni");
}
