//! The SMTP client's reply parser.
//!
//! `reply::parse_line` and `Connection::read_reply` are private, so the input is played as a
//! relay's side of the dialogue: a thread on 127.0.0.1 writes it and closes, and the client
//! connects (1 s timeout, `Silent` observer), sends EHLO, AUTH (password, then OAuth2 bearer),
//! MAIL/RCPT/DATA, RSET, NOOP and QUIT as far as the replies let it. Must never panic or hang. `Extensions::from_ehlo` (public, as is
//! `Reply`) is also fed the input's lines directly.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use relayctl::relay::smtp::{Connection, Extensions, Reply, Silent};
use relayctl::relay::sasl::{Bearer, Plain};

static LISTENER: LazyLock<TcpListener> =
    LazyLock::new(|| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"));

fn use_extensions(ext: &Extensions) {
    let _ = ext.server_name();
    let _ = ext.has("PIPELINING");
    let _ = ext.params("AUTH");
    let _ = ext.size_limit();
    let _ = ext.auth_mechanisms();
    let _ = ext.keywords();
    let _ = ext.lines();
}

fuzz_target!(|data: &[u8]| {
    // Direct: an EHLO reply made of the input's lines.
    let lines: Vec<String> = data
        .split(|&b| b == b'\n')
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    let reply = Reply { code: 250, lines };
    use_extensions(&Extensions::from_ehlo(&reply));
    let _ = reply.text();
    let _ = reply.enhanced_status();
    let _ = reply.to_string();

    // Through the client.
    // One listener for the whole run: binding one per input runs out of ephemeral ports.
    let listener = LISTENER.try_clone().expect("clone the listener");
    let port = listener.local_addr().expect("local address").port();
    let script = data.to_vec();
    let server = std::thread::spawn(move || {
        let Ok((mut sock, _)) = listener.accept() else {
            return;
        };
        let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = sock.write_all(&script);
        let _ = sock.shutdown(Shutdown::Write);
        // Read what the client sends until it closes, so that closing does not reset.
        let mut sink = [0u8; 4096];
        while matches!(sock.read(&mut sink), Ok(n) if n > 0) {}
    });
    let timeout = Duration::from_secs(1);
    if let Ok(mut conn) = Connection::connect("127.0.0.1", port, timeout, None, &Silent) {
        if let Ok(ext) = conn.ehlo("client.example.org", &Silent) {
            use_extensions(ext);
        }
        let _ = conn.authenticate(&mut Plain::new("user", "password"), &Silent);
        // OAuth2: the relay's 334 challenge carries base64 JSON the client decodes.
        let _ = conn.authenticate(&mut Bearer::xoauth2("user", "token"), &Silent);
        let recipients = vec![
            ("b@example.org".to_string(), Vec::new()),
            ("c@example.org".to_string(), Vec::new()),
        ];
        let mut message: &[u8] = b"Subject: x\r\n\r\nbody\r\n.dot\r\n";
        let _ = conn.transaction(
            Some("a@example.org"),
            &[],
            &recipients,
            &mut message,
            &Silent,
        );
        let _ = conn.rset(&Silent);
        let _ = conn.noop(&Silent);
        let _ = conn.quit(&Silent);
    }
    server.join().expect("the server thread does not panic");
});
