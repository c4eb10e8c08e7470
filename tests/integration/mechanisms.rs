//! Login mechanisms against real servers: SCRAM-SHA-256, SCRAM-SHA-1 and CRAM-MD5 at the Postfix
//! relay's port 2589 (Dovecot's auth service checks them), EXTERNAL as Postfix's
//! client-certificate relay (port 2465, no AUTH), the choice of the strongest mechanism and a
//! pinned one (`auth`) that is never traded down; and, with the scripted server where a test
//! must steer the relay, SCRAM-SHA-256-PLUS (`tls-exporter`), a forged server signature and
//! AUTH EXTERNAL on the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use testkit::smtp::{Auth, Script, Server, Tls};

use crate::harness::{
    PASSWORD, Root, Run, Sandbox, USER, as_root, marker, relay, tls_server_config, wait_for,
};

/// The Postfix listener whose logins Dovecot checks with the password mechanisms.
const MECHANISMS_PORT: u16 = 2589;

/// Writes profile `name` (implicit TLS to localhost:`port`, the test CA) with `extra` TOML
/// lines, and `password`, when given, in its file store.
fn profile(sb: &Sandbox, name: &str, port: u16, password: Option<&str>, extra: &str) {
    let ca = relay().ca_file.display().to_string();
    let login = match password {
        Some(_) => format!("user = \"{USER}\"\nsecret = \"file\"\n"),
        None => String::new(),
    };
    let config = format!(
        "[profiles.{name}]\npreset = \"institutional\"\nhost = \"localhost\"\nport = {port}\ntls = \"tls\"\nca_file = \"{ca}\"\nfrom = \"{USER}\"\nehlo_name = \"client.relay.test\"\n{login}{extra}\n"
    );
    let path = sb.user_config();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, config).unwrap();
    if let Some(password) = password {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let dir = sb.path("config/relayctl/secrets");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&dir)
            .unwrap();
        let file = dir.join(name);
        std::fs::write(&file, format!("{password}\n")).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// `-v --wait send` of a message with a fresh marker through `name`: the run and the marker.
fn send(sb: &Sandbox, name: &str) -> (Run, String) {
    let m = marker(&format!("mech-{name}"));
    let run = sb.run(
        &[
            "-v",
            "--profile",
            name,
            "--wait",
            "send",
            "--to",
            "ops@example.org",
            "--subject",
            &m,
        ],
        format!("{m}\n").as_bytes(),
    );
    (run, m)
}

/// Neither the password nor a PLAIN or LOGIN encoding of it was printed.
fn assert_no_password(run: &Run) {
    let plain = BASE64.encode(format!("\0{USER}\0{PASSWORD}"));
    let login = BASE64.encode(PASSWORD);
    for text in [&run.stdout, &run.stderr] {
        for secret in [PASSWORD, plain.as_str(), login.as_str()] {
            assert!(!text.contains(secret), "a secret leaked: {run:#?}");
        }
    }
}

/// `doctor --json` for `name`: the check with `id`.
fn doctor_check(sb: &Sandbox, name: &str, id: &str) -> Value {
    let run = sb.run(&["--profile", name, "doctor", "--json"], b"");
    assert_no_password(&run);
    let report: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}): {run:#?}"));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}: {report:#}"))
        .clone()
}

/// Each mechanism logs in at Dovecot (through Postfix) and the relay takes the message: unset,
/// the strongest on offer (SCRAM-SHA-256 before SCRAM-SHA-1, PLAIN, LOGIN, CRAM-MD5); pinned,
/// the one named. The transcript names the mechanism and never shows the password.
#[test]
fn each_mechanism_logs_in_at_dovecot_and_the_message_arrives() {
    if !as_root(Root::Postfix) {
        return;
    }
    for (auth, mechanism) in [
        (None, "SCRAM-SHA-256"),
        (Some("scram-sha-256"), "SCRAM-SHA-256"),
        (Some("scram-sha-1"), "SCRAM-SHA-1"),
        (Some("cram-md5"), "CRAM-MD5"),
        (Some("plain"), "PLAIN"),
    ] {
        let sb = Sandbox::new();
        let extra = auth.map(|a| format!("auth = \"{a}\"")).unwrap_or_default();
        profile(&sb, "dove", MECHANISMS_PORT, Some(PASSWORD), &extra);
        let (run, m) = send(&sb, "dove");
        let run = run.ok();
        let auth_line = format!("--> AUTH {mechanism}");
        assert!(
            run.stderr
                .lines()
                .any(|l| l == auth_line || l.starts_with(&format!("{auth_line} "))),
            "{auth:?}: {run:#?}"
        );
        assert!(
            run.stderr.contains("<-- 235 "),
            "{auth:?}: logged in: {run:#?}"
        );
        assert_no_password(&run);
        assert!(wait_for(&m).text().contains(&m));
    }
    // doctor names the mechanism it logged in with.
    let sb = Sandbox::new();
    profile(&sb, "dove", MECHANISMS_PORT, Some(PASSWORD), "");
    let login = doctor_check(&sb, "dove", "auth.login");
    assert_eq!(login["status"], "pass", "{login:#}");
    let summary = login["summary"].as_str().unwrap_or_default().to_string() + &login.to_string();
    assert!(summary.contains("with SCRAM-SHA-256"), "{login:#}");
    let offer = doctor_check(&sb, "dove", "ehlo.auth");
    assert!(
        offer.to_string().contains("logs in with SCRAM-SHA-256"),
        "{offer:#}"
    );
}

/// A wrong password with SCRAM is a refused login (exit 77), as with PLAIN.
#[test]
fn a_wrong_password_with_scram_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    profile(
        &sb,
        "wrong",
        MECHANISMS_PORT,
        Some("not-the-password"),
        "auth = \"scram-sha-256\"",
    );
    let (run, _) = send(&sb, "wrong");
    let run = run.code(77);
    assert!(run.stderr.contains("--> AUTH SCRAM-SHA-256 "), "{run:#?}");
    assert!(run.stderr.contains("refused the login"), "{run:#?}");
    assert!(!run.stderr.contains("not-the-password"), "{run:#?}");
}

/// A pinned mechanism the relay does not offer (465 offers PLAIN and LOGIN) is a configuration
/// error (78) naming the pin; no AUTH is sent, and the password is not even read.
#[test]
fn a_pinned_mechanism_is_never_traded_down() {
    if !as_root(Root::Postfix) {
        return;
    }
    let sb = Sandbox::new();
    profile(
        &sb,
        "pinned",
        465,
        Some(PASSWORD),
        "auth = \"scram-sha-256\"",
    );
    std::fs::remove_file(sb.path("config/relayctl/secrets/pinned")).unwrap();
    let (run, _) = send(&sb, "pinned");
    let run = run.code(78);
    assert!(
        run.stderr.contains("auth = \"scram-sha-256\""),
        "the error names the pin: {run:#?}"
    );
    assert!(!run.stderr.contains("--> AUTH"), "no AUTH sent: {run:#?}");
    let offer = doctor_check(&sb, "pinned", "ehlo.auth");
    assert_eq!(offer["status"], "fail", "{offer:#}");
}

/// `auth = "external"` at Postfix's client-certificate relay (2465: no AUTH, relay for any
/// certificate of the test CA): the certificate is the login, no secret (the user only names
/// the login in messages).
#[test]
fn external_is_the_client_certificate_at_postfix() {
    if !as_root(Root::Postfix) {
        return;
    }
    let r = relay();
    let sb = Sandbox::new();
    let extra = format!(
        "user = \"vm1\"\nauth = \"external\"\nclient_cert = \"{}\"\nclient_key = \"{}\"",
        r.client_cert.display(),
        r.client_key.display()
    );
    profile(&sb, "cert", 2465, None, &extra);
    let (run, m) = send(&sb, "cert");
    let run = run.ok();
    assert!(
        run.stderr
            .contains("the relay offers no AUTH: the TLS client certificate is the login"),
        "{run:#?}"
    );
    assert!(wait_for(&m).text().contains("using TLS"));
    let login = doctor_check(&sb, "cert", "auth.login");
    assert_eq!(login["status"], "pass", "{login:#}");
    assert!(
        login.to_string().contains("client certificate"),
        "{login:#}"
    );
    let store = doctor_check(&sb, "cert", "secret.store");
    assert_eq!(store["status"], "skip", "{store:#}");
    assert!(
        store.to_string().contains("TLS client certificate"),
        "{store:#}"
    );

    // Without the certificate the profile does not load.
    let sb = Sandbox::new();
    profile(&sb, "nocert", 2465, None, "auth = \"external\"");
    let (run, _) = send(&sb, "nocert");
    run.code(78).one_line_error("client_cert");
}

/// The scripted relay over implicit TLS with `auth`; it takes any mail after a login.
fn scripted(auth: Auth) -> Server {
    Server::start(Script {
        name: "scram.test".into(),
        tls: Tls::Implicit(tls_server_config()),
        auth: Some(auth),
        ..Script::default()
    })
}

/// SCRAM with the test password at the scripted relay, offering `mechanisms`.
fn scram_auth(mechanisms: &[&str]) -> Auth {
    Auth {
        scram_password: Some(PASSWORD.into()),
        ..Auth::new(mechanisms, |user, _| user == USER)
    }
}

/// A relay that offers SCRAM-SHA-256-PLUS gets it, bound to the TLS 1.3 connection with
/// `tls-exporter`; the scripted relay checks the binding against its own side of the channel.
#[test]
fn scram_plus_binds_the_login_to_the_tls_connection() {
    if !as_root(Root::Postfix) {
        return;
    }
    let server = scripted(scram_auth(&[
        "PLAIN",
        "SCRAM-SHA-256",
        "SCRAM-SHA-256-PLUS",
    ]));
    let sb = Sandbox::new();
    profile(&sb, "plus", server.port, Some(PASSWORD), "");
    let (run, m) = send(&sb, "plus");
    run.ok();
    assert_eq!(server.violations(), Vec::<String>::new());
    let auths = server.auths();
    assert_eq!(auths.len(), 1, "{auths:?}");
    assert_eq!(auths[0].mechanism, "SCRAM-SHA-256-PLUS");
    assert!(auths[0].accepted);
    assert!(server.messages().iter().any(|r| r.text().contains(&m)));

    // Without -PLUS on offer, the client announces that it could bind (y): a relay that does
    // offer -PLUS and sees y would know the offer was stripped.
    let server = scripted(scram_auth(&["SCRAM-SHA-1"]));
    profile(&sb, "plain-scram", server.port, Some(PASSWORD), "");
    send(&sb, "plain-scram").0.ok();
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(server.auths()[0].mechanism, "SCRAM-SHA-1");
}

/// Over TLS 1.2 (no `tls-exporter` without the extended master secret), -PLUS binds with
/// `tls-server-end-point`: the hash of the relay's certificate (SHA-256 for the test relay's
/// sha256WithRSA certificate), which the scripted relay checks.
#[test]
fn scram_plus_over_tls_1_2_binds_the_server_certificate() {
    if !as_root(Root::Postfix) {
        return;
    }
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let dir = relay().ca_file.parent().unwrap().to_path_buf();
    let leaf = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let end_point = ring::digest::digest(&ring::digest::SHA256, &leaf)
        .as_ref()
        .to_vec();
    let server = Server::start(Script {
        name: "scram12.test".into(),
        tls: Tls::Implicit(testkit::tls::server_config_tls12(
            &dir.join("server.pem"),
            &dir.join("server.key"),
        )),
        auth: Some(Auth {
            scram_end_point: Some(end_point),
            ..scram_auth(&["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"])
        }),
        ..Script::default()
    });
    let sb = Sandbox::new();
    profile(&sb, "plus12", server.port, Some(PASSWORD), "");
    let (run, m) = send(&sb, "plus12");
    let run = run.ok();
    assert!(run.stderr.contains("TLSv1_2"), "{run:#?}");
    assert_eq!(server.violations(), Vec::<String>::new());
    let auths = server.auths();
    assert_eq!(auths[0].mechanism, "SCRAM-SHA-256-PLUS");
    assert!(auths[0].accepted);
    assert!(server.messages().iter().any(|r| r.text().contains(&m)));
}

/// A relay that answers the proof with a wrong server signature does not know the password (or
/// is not the relay): the login is cancelled and nothing is sent, even though it would say 235.
#[test]
fn a_forged_server_signature_is_refused() {
    if !as_root(Root::Postfix) {
        return;
    }
    let server = scripted(Auth {
        forge_server_signature: true,
        ..scram_auth(&["SCRAM-SHA-256"])
    });
    let sb = Sandbox::new();
    profile(&sb, "forged", server.port, Some(PASSWORD), "");
    let (run, _) = send(&sb, "forged");
    let run = run.code(75);
    assert!(
        run.stderr.contains("SCRAM server signature is wrong"),
        "{run:#?}"
    );
    assert!(
        run.stderr.contains("--> *"),
        "the exchange is cancelled: {run:#?}"
    );
    assert!(server.messages().is_empty(), "nothing was sent");
    assert_eq!(server.count("MAIL"), 0);
    assert_no_password(&run);
}

/// Where the relay offers AUTH EXTERNAL, a certificate login sends it with an empty
/// authorization identity (`=`), and nothing else.
#[test]
fn auth_external_on_the_wire() {
    if !as_root(Root::Postfix) {
        return;
    }
    let server = scripted(Auth::new(&["PLAIN", "EXTERNAL"], |user, secret| {
        user.is_empty() && secret.is_empty()
    }));
    let r = relay();
    let sb = Sandbox::new();
    let extra = format!(
        "auth = \"external\"\nclient_cert = \"{}\"\nclient_key = \"{}\"",
        r.client_cert.display(),
        r.client_key.display()
    );
    profile(&sb, "ext", server.port, None, &extra);
    let (run, m) = send(&sb, "ext");
    let run = run.ok();
    assert!(run.stderr.contains("--> AUTH EXTERNAL ="), "{run:#?}");
    assert_eq!(server.violations(), Vec::<String>::new());
    assert_eq!(server.auths()[0].mechanism, "EXTERNAL");
    assert!(server.messages().iter().any(|r| r.text().contains(&m)));
}
