//! OAuth2 profiles end to end: `setup --oauth` against a local authorization server speaking
//! RFC 6749 / 7636 / 8628 (`oauth_server::TokenServer`), then delivery through the Postfix test
//! relay's OAuth2 listener (port 2588: Dovecot's auth service checks each token by RFC 7662
//! introspection at that server) and through a scripted SMTP server that validates every XOAUTH2
//! / OAUTHBEARER exchange and records it (`oauth_server::oauth_smtp`), for the dialogues a test
//! must see or steer. What the tests assert is what those servers received.

use std::io::{BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::doctor::{check, parse};
use crate::harness::{Root, Run, Sandbox, as_root, marker, queue, relay, wait_for};
use testkit::smtp::Server;

use crate::oauth_server::{SmtpOptions, SmtpTls, TokenOptions, TokenServer, oauth_smtp};

const USER: &str = "jdoe@mail.test";
const CLIENT: &str = "relayctl-test-client";
const SCOPE: &str = "https://mail.test/smtp offline_access";

/// A token server and an SMTP server trusting its tokens.
struct Provider {
    tokens: TokenServer,
    smtp: Server,
}

fn provider(token: TokenOptions, smtp: SmtpOptions) -> Provider {
    let tokens = TokenServer::start(token);
    let smtp = oauth_smtp(&tokens, smtp);
    Provider { tokens, smtp }
}

/// `setup institutional --oauth` for the provider's SMTP server with the device flow, the
/// secret in a file, followed by `extra`.
fn setup_args(p: &Provider, name: &str, extra: &[&str]) -> Vec<String> {
    setup_args_for(&p.tokens, p.smtp.port, name, extra)
}

/// The same for the implicit-TLS relay on `port` whose tokens come from `tokens`.
fn setup_args_for(tokens: &TokenServer, port: u16, name: &str, extra: &[&str]) -> Vec<String> {
    let ca = relay().ca_file.display().to_string();
    let port = port.to_string();
    let (token, device) = (tokens.url("/token"), tokens.url("/device"));
    // These tests count the relay's logins: setup's own check would add one.
    let base = [
        "setup",
        "institutional",
        "--no-verify",
        "--oauth",
        "--name",
        name,
        "--host",
        "localhost",
        "--port",
        &port,
        "--tls",
        "tls",
        "--user",
        USER,
        "--ca-file",
        &ca,
        "--secret-store",
        "file",
        "--client-id",
        CLIENT,
        "--token-endpoint",
        &token,
        "--device-endpoint",
        &device,
        "--scope",
        SCOPE,
    ];
    base.iter().chain(extra).map(|a| a.to_string()).collect()
}

fn setup_device(sb: &Sandbox, p: &Provider, name: &str, extra: &[&str]) -> Run {
    let args = setup_args(p, name, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args, b"")
}

/// Sends one message with `sendmail -t` through the default profile; returns the run.
fn send(sb: &Sandbox, subject: &str, extra: &[&str]) -> Run {
    let mut args = vec!["sendmail", "-t", "-i"];
    args.extend_from_slice(extra);
    let msg = format!("To: ops@example.org\nSubject: {subject}\n\nbody of {subject}\n");
    sb.run(&args, msg.as_bytes())
}

fn secret_lines(sb: &Sandbox, name: &str) -> Vec<String> {
    let path = sb.path(&format!("config/relayctl/secrets/{name}"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}", path.display());
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn token_cache(sb: &Sandbox, name: &str) -> Value {
    let text = std::fs::read_to_string(sb.path(&format!("spool/oauth/{name}.token"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every byte relayctl printed, its config and its log, for the secret greps.
fn assert_hidden(runs: &[&Run], secrets: &[String]) {
    for secret in secrets {
        let encoded = BASE64.encode(secret);
        for run in runs {
            for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
                assert!(
                    !text.contains(secret.as_str()) && !text.contains(&encoded),
                    "a secret leaked to {what}: {run:#?}"
                );
            }
        }
    }
}

#[test]
fn device_flow_setup_then_xoauth2_delivery_without_a_refresh() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(
        TokenOptions {
            slow_down_once: true,
            ..TokenOptions::default()
        },
        SmtpOptions {
            mechanisms: vec!["XOAUTH2"],
            ..SmtpOptions::default()
        },
    );
    let sb = Sandbox::new();
    let setup = setup_device(&sb, &p, "uni", &[]).ok();
    // The user is told where to go and which code to enter.
    assert!(
        setup.stderr.contains(&p.tokens.url("/activate"))
            && setup.stderr.contains("enter the code"),
        "{setup:#?}"
    );
    assert!(setup.stdout.contains("signed in"), "{setup:#?}");
    // RFC 8628 §3.5: after slow_down the interval grows by 5 seconds.
    let polls = p.tokens.device_polls();
    assert_eq!(polls.len(), 4, "slow_down, 2 x pending, granted: {polls:?}");
    assert!(polls[1] - polls[0] >= Duration::from_secs(6), "{polls:?}");
    assert!(polls[2] - polls[1] >= Duration::from_secs(6), "{polls:?}");

    // The refresh token is in the 0600 file, the config names only the store and endpoints.
    let refresh = p.tokens.last_refresh_token().unwrap();
    assert_eq!(secret_lines(&sb, "uni"), std::slice::from_ref(&refresh));
    let config = std::fs::read_to_string(sb.user_config()).unwrap();
    assert!(config.contains("[profiles.uni.oauth]"), "{config}");
    assert!(
        config.contains(&format!("client_id = \"{CLIENT}\"")),
        "{config}"
    );
    assert!(!config.contains(&refresh), "{config}");
    let show = sb.run(&["profile", "show", "uni"], b"").ok();
    assert!(
        show.stdout
            .contains(&format!("token endpoint:   {}", p.tokens.url("/token"))),
        "{show:#?}"
    );

    // The access token of the sign-in is cached: the first message needs no refresh.
    let sent = send(&sb, "first", &["-v"]).ok();
    assert_eq!(p.tokens.refresh_grants(), 0);
    let auths = p.smtp.auths();
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(auths[0].mechanism, "XOAUTH2");
    assert_eq!(auths[0].user, USER);
    assert!(auths[0].accepted);
    assert!(p.smtp.violations().is_empty(), "{:?}", p.smtp.violations());
    let messages = p.smtp.messages();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].text().contains("Subject: first\r\n"),
        "{}",
        messages[0].text()
    );
    assert!(
        sent.stderr.contains("AUTH XOAUTH2 (token not shown)"),
        "{sent:#?}"
    );
    // `relayctl metrics` says when the cached access token expires, never the token.
    let metrics = sb.run(&["metrics"], b"").ok();
    crate::metrics::promtool_check(&metrics.stdout);
    let expiry = crate::metrics::value(
        &metrics.stdout,
        "relayctl_oauth2_token_expiry_timestamp_seconds{profile=\"uni\"}",
    );
    assert_eq!(
        Some(expiry as u64),
        token_cache(&sb, "uni")["expires"].as_u64()
    );
    assert_hidden(
        &[&setup, &sent, &metrics],
        &[refresh, auths[0].secret.clone()],
    );
}

#[test]
fn paste_flow_with_client_secret_and_pkce_then_oauthbearer() {
    if !as_root(Root::Postfix) {
        return;
    }
    let client_secret = "GOCSPX-test-client-secret-5521";
    let p = provider(
        TokenOptions {
            client_secret: Some(client_secret.into()),
            ..TokenOptions::default()
        },
        SmtpOptions {
            tls: SmtpTls::Starttls,
            ..SmtpOptions::default()
        },
    );
    let sb = Sandbox::new();
    let ca = relay().ca_file.display().to_string();
    let port = p.smtp.port.to_string();
    let (token, authorize) = (p.tokens.url("/token"), p.tokens.url("/authorize"));
    // The Gmail preset with its endpoints pointed at the local server.
    let mut child: Child = sb
        .command(&[
            "setup",
            "gmail",
            "--no-verify",
            "--oauth",
            "--host",
            "localhost",
            "--port",
            &port,
            "--user",
            USER,
            "--ca-file",
            &ca,
            "--secret-store",
            "file",
            "--client-id",
            CLIENT,
            "--client-secret-stdin",
            "--token-endpoint",
            &token,
            "--authorize-endpoint",
            &authorize,
            "--scope",
            SCOPE,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{client_secret}").unwrap();
    // Read the instructions up to the prompt, and the URL in them.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut shown = String::new();
    let mut url = None;
    while !shown.ends_with("Address: ") {
        let mut byte = [0u8];
        if stderr.read(&mut byte).unwrap() == 0 {
            panic!("setup ended before its prompt: {shown}");
        }
        shown.push(byte[0] as char);
        if byte[0] == b'\n'
            && let Some(line) = shown.lines().last()
            && line.trim().starts_with("http")
        {
            url = Some(line.trim().to_string());
        }
    }
    let url = url::Url::parse(&url.expect("an authorization URL")).unwrap();
    let q = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(q("redirect_uri").as_deref(), Some("http://localhost"));
    assert_eq!(q("access_type").as_deref(), Some("offline"), "{url}");
    assert_eq!(q("client_id").as_deref(), Some(CLIENT));
    // The user signs in elsewhere; the browser lands on the redirect, which is pasted back.
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build(),
    );
    let answer = agent.get(url.as_str()).call().unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    writeln!(stdin, "{location}").unwrap();
    drop(stdin);
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{shown}{rest}{stdout}");
    // The code was exchanged with the PKCE verifier and the client secret.
    let exchange = p
        .tokens
        .requests()
        .into_iter()
        .find(|r| r.field("grant_type") == Some("authorization_code"))
        .unwrap();
    assert_eq!(exchange.field("client_secret"), Some(client_secret));
    assert_eq!(exchange.field("code_verifier").map(str::len), Some(43));
    let refresh = p.tokens.last_refresh_token().unwrap();
    assert_eq!(
        secret_lines(&sb, "gmail"),
        [refresh.clone(), client_secret.to_string()]
    );

    // Force a refresh (an emptied cache), which must send the client secret again.
    std::fs::write(sb.path("spool/oauth/gmail.token"), "").unwrap();
    let sent = send(&sb, "bearer", &["-v"]).ok();
    assert_eq!(p.tokens.refresh_grants(), 1);
    let refresh_request = p
        .tokens
        .requests()
        .into_iter()
        .find(|r| r.field("grant_type") == Some("refresh_token"))
        .unwrap();
    assert_eq!(refresh_request.field("client_secret"), Some(client_secret));
    let auths = p.smtp.auths();
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(auths[0].mechanism, "OAUTHBEARER", "preferred when offered");
    assert!(auths[0].accepted);
    assert!(p.smtp.violations().is_empty(), "{:?}", p.smtp.violations());
    assert_eq!(p.smtp.messages().len(), 1);
    let setup_run = Run {
        code: 0,
        stdout,
        stderr: format!("{shown}{rest}"),
    };
    assert_hidden(
        &[&setup_run, &sent],
        &[refresh, client_secret.to_string(), auths[0].secret.clone()],
    );
}

#[test]
fn stale_tokens_are_refreshed_early_and_a_refused_one_is_replaced_once() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(
        TokenOptions {
            rotate_refresh: true,
            ..TokenOptions::default()
        },
        SmtpOptions::default(),
    );
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let first_refresh = p.tokens.last_refresh_token().unwrap();

    // Four minutes left: inside the five-minute margin, so a new token is fetched first.
    let mut cache = token_cache(&sb, "uni");
    let now = crate::harness::unix_now();
    cache["obtained"] = (now - 3360).into();
    cache["expires"] = (now + 240).into();
    std::fs::write(sb.path("spool/oauth/uni.token"), cache.to_string()).unwrap();
    send(&sb, "early", &[]).ok();
    assert_eq!(p.tokens.refresh_grants(), 1);
    let cache = token_cache(&sb, "uni");
    let lifetime = cache["expires"].as_u64().unwrap() - cache["obtained"].as_u64().unwrap();
    assert_eq!(lifetime, 3600, "{cache}");
    // The endpoint rotated the refresh token: the new one replaced the old in the store.
    let rotated = p.tokens.last_refresh_token().unwrap();
    assert_ne!(rotated, first_refresh);
    assert_eq!(secret_lines(&sb, "uni"), [rotated]);

    // A fresh cached token is used as is.
    send(&sb, "cached", &[]).ok();
    assert_eq!(p.tokens.refresh_grants(), 1);

    // The provider's clock runs ahead: it no longer accepts the token relayctl thinks valid.
    // The relay's refusal (334 challenge, empty answer, 535) leads to one refresh and a retry.
    p.tokens.invalidate_access_tokens();
    let skewed = send(&sb, "skewed", &["-v"]).ok();
    assert_eq!(p.tokens.refresh_grants(), 2, "{skewed:#?}");
    let auths = p.smtp.auths();
    let outcomes: Vec<bool> = auths.iter().map(|a| a.accepted).collect();
    assert_eq!(outcomes, [true, true, false, true], "{auths:?}");
    assert!(p.smtp.violations().is_empty(), "{:?}", p.smtp.violations());
    assert_eq!(p.smtp.messages().len(), 3);
    assert!(skewed.stderr.contains("fetching a new one"), "{skewed:#?}");
}

#[test]
fn two_processes_share_one_refresh() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(
        TokenOptions {
            token_delay: Duration::from_millis(1500),
            ..TokenOptions::default()
        },
        SmtpOptions::default(),
    );
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    let grants_before = p.tokens.grants("refresh_token");
    let spawn = |subject: &str| {
        let mut child = sb
            .command(&["sendmail", "-t", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let msg = format!("To: ops@example.org\nSubject: {subject}\n\nx\n");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(msg.as_bytes())
            .unwrap();
        child
    };
    let (a, b) = (spawn("one"), spawn("two"));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    assert_eq!(p.tokens.grants("refresh_token") - grants_before, 1);
    assert_eq!(p.smtp.messages().len(), 2);
    let tokens: Vec<String> = p.smtp.auths().iter().map(|a| a.secret.clone()).collect();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[0], tokens[1], "both used the one new token");
}

#[test]
fn revoked_refresh_token_holds_mail_alerts_once_and_doctor_says_sign_in_again() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &["--from", "vm1@mail.test"]).ok();
    // Notices go to ops; the cached token is gone and the refresh token revoked.
    let config = sb.user_config();
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("notify = \"ops@mail.test\"\n{text}")).unwrap();
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    p.tokens.revoke_refresh_tokens();

    let mut runs = Vec::new();
    for i in 0..3 {
        let run = send(&sb, &format!("held {i}"), &[]);
        assert_eq!(run.code, 0, "queued is success for the caller: {run:#?}");
        runs.push(run);
    }
    for run in &runs {
        assert!(run.stderr.contains("sign in again"), "{run:#?}");
    }
    let queued = queue(&sb, "list");
    let to = |m: &Value, addr: &str| m["recipients"] == serde_json::json!([addr]);
    let held = queued
        .iter()
        .filter(|m| to(m, "ops@example.org") && m["state"] == "held")
        .count();
    assert_eq!(held, 3, "{queued:#?}");
    let alerts: Vec<&Value> = queued.iter().filter(|m| to(m, "ops@mail.test")).collect();
    assert_eq!(
        alerts.len(),
        1,
        "one alert, no per-message notices: {queued:#?}"
    );
    assert!(p.smtp.auths().is_empty(), "nothing was tried at the relay");

    let doctor = sb.run(&["doctor", "--json"], b"");
    assert_eq!(doctor.code, 1, "{doctor:#?}");
    let report = parse(&doctor);
    let check = check(&report, "oauth.token");
    assert_eq!(check["status"], "fail", "{check}");
    assert!(
        check["fix"]
            .as_str()
            .unwrap()
            .contains("relayctl setup institutional --oauth --name uni"),
        "{check}"
    );

    sb.run(
        &["profile", "set-secret", "uni", "--password-stdin"],
        b"x\n",
    )
    .code(64)
    .one_line_error("sign in again");

    // Signing in again releases the held mail; the next run sends everything, the alert too.
    let again = setup_device(&sb, &p, "uni", &["--from", "vm1@mail.test"]).ok();
    assert!(
        again.stdout.contains("4 held message(s) released"),
        "{again:#?}"
    );
    sb.run(&["queue", "run"], b"").ok();
    let messages = p.smtp.messages();
    assert_eq!(messages.len(), 4, "{messages:#?}");
    assert_eq!(
        messages
            .iter()
            .filter(|m| m.text().contains("(profile uni): sign-in needed"))
            .count(),
        1
    );
    assert!(queue(&sb, "list").is_empty());
}

#[test]
fn doctor_checks_the_token_endpoint_scopes_and_login() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let doctor = sb.run(&["doctor", "--json", "-v"], b"");
    let report = parse(&doctor);
    let token = check(&report, "oauth.token");
    assert_eq!(token["status"], "pass", "{token}");
    let summary = token["summary"].as_str().unwrap();
    assert!(summary.contains("valid for 60 minutes"), "{summary}");
    assert!(summary.contains("https://mail.test/smtp"), "{summary}");
    assert_eq!(check(&report, "ehlo.auth")["status"], "pass");
    assert_eq!(check(&report, "auth.login")["status"], "pass", "{report:#}");
    let tokens: Vec<String> = p.smtp.auths().iter().map(|a| a.secret.clone()).collect();
    assert_hidden(
        &[&doctor],
        &[p.tokens.last_refresh_token().unwrap(), tokens[0].clone()],
    );

    // A provider that grants less than the profile asks for.
    let narrow = provider(
        TokenOptions {
            scope: "https://mail.test/read".into(),
            ..TokenOptions::default()
        },
        SmtpOptions::default(),
    );
    let sb = Sandbox::new();
    setup_device(&sb, &narrow, "uni", &[]).ok();
    let doctor = sb.run(&["doctor", "--json"], b"");
    let report = parse(&doctor);
    let token = check(&report, "oauth.token");
    assert_eq!(token["status"], "fail", "{token}");
    assert!(
        token["summary"]
            .as_str()
            .unwrap()
            .contains("missing: https://mail.test/smtp"),
        "{token}"
    );
}

#[test]
fn declined_sign_in_saves_nothing_and_bad_options_are_one_line_errors() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(
        TokenOptions {
            device_pending_polls: 100,
            ..TokenOptions::default()
        },
        SmtpOptions::default(),
    );
    p.tokens.deny_device();
    let sb = Sandbox::new();
    let declined = setup_device(&sb, &p, "uni", &[]).code(77);
    let last = declined.stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last, "relayctl: signing in did not finish: the sign-in was declined",
        "{declined:#?}"
    );
    assert!(!sb.user_config().exists());

    // Tokens never cross a network in clear; a store relayctl cannot write is refused.
    let args = setup_args(&p, "uni", &[]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let plain = "http://login.example.org/token";
    let at = args.iter().position(|a| *a == "--token-endpoint").unwrap();
    args[at + 1] = plain;
    sb.run(&args, b"").code(64).one_line_error("uses http");
    let env_store = setup_args(&p, "uni", &["--secret-store", "env"]);
    let mut env_store: Vec<&str> = env_store.iter().map(String::as_str).collect();
    let at = env_store.iter().position(|a| *a == "file").unwrap();
    env_store.drain(at - 1..=at);
    sb.run(&env_store, b"")
        .code(64)
        .one_line_error("--secret-store file");
    sb.run(&["setup", "outlook", "--oauth", "--user", USER], b"")
        .code(64)
        .one_line_error("--client-id");
    assert!(!sb.user_config().exists());
}

#[test]
fn an_unreachable_token_endpoint_keeps_mail_queued_for_retry() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let config = sb.user_config();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "http://127.0.0.1:{}/token",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&p.tokens.url("/token"), &dead);
    std::fs::write(&config, text).unwrap();
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    let run = send(&sb, "later", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    let queued = queue(&sb, "list");
    assert_eq!(queued.len(), 1, "{queued:#?}");
    assert_eq!(
        queued[0]["state"], "queued",
        "a temporary fault: {queued:#?}"
    );
    let reply = queued[0]["last_reply"].as_str().unwrap();
    assert!(
        reply.contains(&format!("OAuth2 endpoint {dead}")),
        "{reply}"
    );
    assert!(p.smtp.auths().is_empty());
}

#[test]
fn token_endpoints_get_the_relays_certificate_checks() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let sb = Sandbox::new();
    // Postfix's implicit-TLS port: a TLS server with the test CA's certificate, but no HTTP.
    let tls_endpoint = "https://localhost:465/oauth";
    let args = setup_args(&p, "uni", &[]);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let at = args.iter().position(|a| *a == "--device-endpoint").unwrap();
    args[at + 1] = tls_endpoint;
    // With the profile's CA file the handshake succeeds and the failure is the non-HTTP answer.
    let trusted = sb.run(&args, b"").code(75);
    assert!(
        trusted.stderr.contains(tls_endpoint) && !trusted.stderr.contains("certificate"),
        "{trusted:#?}"
    );
    // Without it the certificate is refused before anything is sent.
    let at = args.iter().position(|a| *a == "--ca-file").unwrap();
    args.drain(at..=at + 1);
    let untrusted = sb.run(&args, b"").code(75);
    assert!(
        untrusted.stderr.contains("UnknownIssuer") || untrusted.stderr.contains("certificate"),
        "{untrusted:#?}"
    );
    assert!(!sb.user_config().exists());
}

/// A provider whose relay refuses every token: it takes only another account's.
fn refusing_provider() -> Provider {
    provider(
        TokenOptions::default(),
        SmtpOptions {
            user: "someone-else@mail.test".into(),
            ..SmtpOptions::default()
        },
    )
}

/// Without `--no-verify`, setup logs in with the token the sign-in gave: accepted, it says
/// `login ok`; refused (a fresh token too), exit 77 with the OAuth2 fix, and neither the
/// profile, the refresh token nor the cached access token is kept.
#[test]
fn oauth_setup_logs_in_with_its_token_and_keeps_nothing_when_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let verifying = |p: &Provider| -> Vec<String> {
        setup_args(p, "uni", &[])
            .into_iter()
            .filter(|a| a != "--no-verify")
            .collect()
    };
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let sb = Sandbox::new();
    let args = verifying(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = sb.run(&args, b"").ok();
    assert!(run.stdout.contains("login ok: logged in as "), "{run:#?}");
    let outcomes: Vec<bool> = p.smtp.auths().iter().map(|a| a.accepted).collect();
    assert_eq!(outcomes, [true]);

    let p = refusing_provider();
    let sb = Sandbox::new();
    let args = verifying(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // The sign-in's instructions, then the one error line.
    let run = sb.run(&args, b"").code(77);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(
        error.starts_with("relayctl: auth.login: the relay refused the login")
            && error.contains("fresh OAuth2 token")
            && error.ends_with("nothing was saved"),
        "{run:#?}"
    );
    assert!(!sb.user_config().exists());
    assert!(!sb.path("config/relayctl/secrets/uni").exists());
    assert!(!sb.path("spool/oauth/uni.token").exists());
}

#[test]
fn a_relay_refusing_every_token_holds_mail_after_one_refresh() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = refusing_provider();
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let run = send(&sb, "refused", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    // The cached token was refused, so one new one was tried; refused too, that is the end.
    assert_eq!(p.tokens.refresh_grants(), 1);
    let outcomes: Vec<bool> = p.smtp.auths().iter().map(|a| a.accepted).collect();
    assert_eq!(outcomes, [false, false]);
    assert!(p.smtp.violations().is_empty(), "{:?}", p.smtp.violations());
    let queued = queue(&sb, "list");
    assert_eq!(queued[0]["state"], "held", "{queued:#?}");
    let reply = queued[0]["last_reply"].as_str().unwrap();
    assert!(
        reply.contains("535")
            && reply.contains("status 401")
            && reply.contains("fresh OAuth2 token"),
        "{reply}"
    );
}

/// Doctor's login follows delivery's token rule: a cached token the relay refuses is replaced
/// by a fresh one once, and a fresh one refused is the end, with the same fix as the message
/// delivery holds.
#[test]
fn doctor_and_delivery_retry_a_refused_token_once_and_agree() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = refusing_provider();
    let sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let doctor = sb.run(&["doctor", "--json", "-v"], b"");
    let report = parse(&doctor);
    assert_eq!(
        check(&report, "oauth.token")["status"],
        "pass",
        "{report:#}"
    );
    let login = check(&report, "auth.login");
    assert_eq!(login["status"], "fail", "{login}");
    // oauth.token fetched a token; the login used it (from the cache), was refused, and
    // tried one more, fresh from the endpoint.
    assert_eq!(p.tokens.refresh_grants(), 2, "{doctor:#?}");
    let outcomes: Vec<bool> = p.smtp.auths().iter().map(|a| a.accepted).collect();
    assert_eq!(outcomes, [false, false]);
    assert!(doctor.stderr.contains("fetching a new one"), "{doctor:#?}");
    let fix = login["fix"].as_str().unwrap();
    assert!(fix.contains("fresh OAuth2 token"), "{login}");
    assert!(login["reply"].as_str().unwrap().contains("535"), "{login}");

    let run = send(&sb, "refused", &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(p.tokens.refresh_grants(), 3);
    let outcomes: Vec<bool> = p.smtp.auths().iter().map(|a| a.accepted).collect();
    assert_eq!(outcomes, [false, false, false, false]);
    assert!(p.smtp.violations().is_empty(), "{:?}", p.smtp.violations());
    let queued = queue(&sb, "list");
    assert_eq!(queued[0]["state"], "held", "{queued:#?}");
    let reason = queued[0]["last_reply"].as_str().unwrap();
    assert!(reason.ends_with(fix), "{reason}\n{fix}");
    assert_hidden(
        &[&doctor, &run],
        &p.smtp
            .auths()
            .iter()
            .map(|a| a.secret.clone())
            .collect::<Vec<_>>(),
    );
}

/// Where the Postfix relay's Dovecot introspects tokens (tests/relay/dovecot-up.sh).
const INTROSPECTION_PORT: u16 = 2590;
/// The Postfix relay's OAuth2 listener.
const POSTFIX_OAUTH_PORT: u16 = 2588;

#[test]
fn postfix_and_dovecot_accept_the_token_and_the_message_arrives_unchanged() {
    if !as_root(Root::Postfix) {
        return;
    }
    let tokens = TokenServer::start_on(INTROSPECTION_PORT, TokenOptions::default());
    let sb = Sandbox::new();
    let args = setup_args_for(&tokens, POSTFIX_OAUTH_PORT, "uni", &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    sb.run(&args, b"").ok();

    let m = marker("oauth-postfix");
    let msg = format!(
        "To: ops@example.org\nSubject: {m}\n\nfirst line\n.starts with a dot\n\u{e9}t\u{e9}\n"
    );
    sb.run(&["sendmail", "-t", "-i"], msg.as_bytes()).ok();
    let got = wait_for(&m);
    assert_eq!(got.rcpt_to, ["<ops@example.org>"]);
    assert_eq!(
        got.body(),
        "first line\r\n.starts with a dot\r\n\u{e9}t\u{e9}\r\n".as_bytes()
    );
    // Dovecot asked the authorization server about the token relayctl presented.
    let introspected = || -> Vec<String> {
        tokens
            .requests()
            .iter()
            .filter(|r| r.path == "/introspect")
            .filter_map(|r| r.field("token").map(str::to_string))
            .collect()
    };
    let first = introspected();
    assert_eq!(first.len(), 1, "{:#?}", tokens.requests());
    assert!(tokens.is_valid_access_token(&first[0]));

    // The provider's clock runs ahead: Dovecot learns the cached token is inactive, Postfix
    // refuses it (535), relayctl fetches a new one and the message goes through.
    tokens.invalidate_access_tokens();
    let m = marker("oauth-postfix-skew");
    let msg = format!("To: ops@example.org\nSubject: {m}\n\nagain\n");
    let run = sb.run(&["sendmail", "-t", "-i", "-v"], msg.as_bytes()).ok();
    assert_eq!(wait_for(&m).body(), b"again\r\n");
    assert_eq!(tokens.refresh_grants(), 1, "{run:#?}");
    assert!(run.stderr.contains("535"), "{run:#?}");
    // The cached token (the same as before) was found inactive, then the new one active.
    let checked = introspected();
    assert_eq!(checked.len(), 3, "{:#?}", tokens.requests());
    assert_eq!(checked[1], first[0]);
    assert_ne!(checked[2], first[0]);
    assert!(tokens.is_valid_access_token(&checked[2]));
}

/// A proxy that must not be used: it records the first line of each connection and closes it.
struct TrapProxy {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TrapProxy {
    fn start() -> TrapProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        crate::oauth_server::serve_each(listener, move |stream| {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut line = String::new();
            let _ = std::io::BufRead::read_line(&mut BufReader::new(stream), &mut line);
            record.lock().unwrap().push(line.trim_end().to_string());
        });
        TrapProxy { port, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Issue 14, item 9: a refresh at a loopback token endpoint never goes through the proxy of the
/// environment, which would see the refresh token; other endpoints use it (and `-v` says so,
/// without the proxy's password) unless NO_PROXY exempts them. The new test fails without the
/// fix (the refresh went to the proxy).
#[test]
fn token_requests_bypass_the_proxy_for_loopback_and_no_proxy_hosts() {
    if !as_root(Root::Postfix) {
        return;
    }
    let p = provider(TokenOptions::default(), SmtpOptions::default());
    let mut sb = Sandbox::new();
    setup_device(&sb, &p, "uni", &[]).ok();
    let proxy = TrapProxy::start();
    let proxy_url = format!("http://agent:Proxy-Pass-9183@127.0.0.1:{}", proxy.port);
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        sb.env(var, &proxy_url);
    }
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    let sent = send(&sb, "direct", &["-v"]).ok();
    assert_eq!(proxy.seen(), Vec::<String>::new(), "{sent:#?}");
    assert_eq!(p.tokens.refresh_grants(), 1, "{sent:#?}");
    assert_eq!(p.smtp.messages().len(), 1, "{sent:#?}");
    assert!(!sent.stderr.contains("proxy"), "{sent:#?}");

    // An endpoint elsewhere goes through the proxy, and -v says so.
    let remote = "https://login.example.invalid/token";
    let config = sb.user_config();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&p.tokens.url("/token"), remote);
    std::fs::write(&config, text).unwrap();
    std::fs::write(sb.path("spool/oauth/uni.token"), "").unwrap();
    let proxied = send(&sb, "proxied", &["-v"]).ok();
    assert_eq!(
        proxy.seen(),
        ["CONNECT login.example.invalid:443 HTTP/1.1"],
        "{proxied:#?}"
    );
    assert!(
        proxied.stderr.contains(&format!(
            "{remote} is reached through the HTTP proxy 127.0.0.1:{}",
            proxy.port
        )),
        "{proxied:#?}"
    );
    assert!(!proxied.stderr.contains("Proxy-Pass-9183"), "{proxied:#?}");

    // NO_PROXY exempts it (and its parent domain's other hosts).
    sb.env("NO_PROXY", "localhost, .example.invalid");
    let exempt = send(&sb, "exempt", &["-v"]).ok();
    assert_eq!(proxy.seen().len(), 1, "{exempt:#?}");
    assert!(!exempt.stderr.contains("proxy"), "{exempt:#?}");
}
