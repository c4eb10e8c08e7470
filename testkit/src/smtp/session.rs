//! One connection of the scripted server: the dialogue, as its [`Script`] says.

use std::io;
use std::net::TcpStream;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::sasl::{parse_oauthbearer, parse_plain, parse_xoauth2};
use super::scram::{self, parse_client_first};
use super::{
    Act, Acts, AuthAttempt, Command, MidData, Received, Script, Shared, Stream, Tls, Wire,
};

type ServerWire = Wire<rustls::ServerConnection>;

/// The largest BDAT chunk taken (the server holds it in memory).
const MAX_CHUNK: usize = 64 * 1024 * 1024;

/// An act with [`Act::Accept`] replaced by the stage's own answer.
enum Answer {
    Reply(String),
    Silence,
    Close,
}

impl Act {
    fn answer(&self, accept: impl FnOnce() -> String) -> Answer {
        match self {
            Act::Accept => Answer::Reply(accept()),
            Act::Reply(text) => Answer::Reply(text.clone()),
            Act::Silence => Answer::Silence,
            Act::Close => Answer::Close,
        }
    }
}

impl Answer {
    fn is(&self, class: char) -> bool {
        matches!(self, Answer::Reply(text) if text.starts_with(class))
    }

    fn text(&self) -> Option<String> {
        match self {
            Answer::Reply(text) => Some(text.clone()),
            _ => None,
        }
    }
}

/// How many times each stage came so far, to pick from its [`Acts`].
#[derive(Default)]
struct Counts {
    ehlo: usize,
    starttls: usize,
    mail: usize,
    /// Per position in a transaction.
    rcpt: Vec<usize>,
    data: usize,
    final_dot: usize,
}

fn take(acts: &Acts, count: &mut usize) -> Act {
    *count += 1;
    acts.nth(*count - 1).clone()
}

/// The state of one SMTP session.
struct Session<'a> {
    shared: &'a Shared,
    script: &'a Script,
    tls: bool,
    greeted: bool,
    esmtp: bool,
    authenticated: bool,
    /// The open transaction's MAIL FROM argument.
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    /// How many RCPTs the transaction had.
    rcpts: usize,
    /// The BDAT chunks so far.
    chunks: Vec<u8>,
    counts: Counts,
}

/// Serves one connection until the client quits or goes away, or the script ends it.
pub(super) fn serve(shared: &Shared, tcp: TcpStream, script: &Script) -> io::Result<()> {
    tcp.set_read_timeout(Some(script.timeout))?;
    tcp.set_write_timeout(Some(script.timeout))?;
    shared.log().connections += 1;
    let mut wire = match &script.tls {
        Tls::Implicit(config) => {
            let conn = rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
            Wire::new(Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
        }
        _ => Wire::new(Stream::Plain(tcp)),
    };
    let mut s = Session {
        shared,
        script,
        tls: matches!(script.tls, Tls::Implicit(_)),
        greeted: false,
        esmtp: false,
        authenticated: false,
        mail_from: None,
        rcpt_to: Vec::new(),
        rcpts: 0,
        chunks: Vec::new(),
        counts: Counts::default(),
    };
    let greeting = script
        .greeting
        .answer(|| format!("220 {} ESMTP", script.name));
    if !perform(&mut wire, greeting)? {
        return Ok(());
    }
    while let Some(line) = s.command(&mut wire)? {
        let (verb, arg) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let next = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if arg.trim().is_empty() => reply("501 5.5.4 Syntax: EHLO hostname"),
            "EHLO" => {
                let answer = take(&script.ehlo, &mut s.counts.ehlo).answer(|| s.capabilities());
                if answer.is('2') {
                    (s.greeted, s.esmtp) = (true, true);
                    s.end_transaction();
                }
                answer
            }
            "HELO" => {
                s.greeted = true;
                reply(&format!("250 {}", script.name))
            }
            "STARTTLS" => match s.starttls(wire)? {
                Some(upgraded) => {
                    wire = upgraded;
                    continue;
                }
                None => return Ok(()),
            },
            "AUTH" => {
                if let Some(refusal) = s.auth_refusal() {
                    refusal
                } else {
                    s.authenticated = s.auth(&mut wire, arg)?;
                    continue;
                }
            }
            "MAIL" => s.mail(&line, arg),
            "RCPT" => s.rcpt(&line, arg),
            "DATA" => match s.data(&mut wire)? {
                Some(answer) => answer,
                None => return Ok(()),
            },
            "BDAT" if script.chunking => match s.bdat(&mut wire, arg)? {
                Some(answer) => answer,
                None => return Ok(()),
            },
            "RSET" => {
                s.end_transaction();
                reply("250 2.0.0 OK")
            }
            "NOOP" => reply("250 2.0.0 OK"),
            "QUIT" => {
                wire.send("221 2.0.0 Bye")?;
                wire.close_notify();
                return Ok(());
            }
            _ => reply("502 5.5.2 Command not recognized"),
        };
        if !perform(&mut wire, next)? {
            return Ok(());
        }
    }
    Ok(())
}

fn reply(text: &str) -> Answer {
    Answer::Reply(text.to_string())
}

/// Carries out `answer`; false when the connection is over.
fn perform(wire: &mut ServerWire, answer: Answer) -> io::Result<bool> {
    match answer {
        Answer::Reply(text) => {
            wire.send(&text)?;
            Ok(true)
        }
        Answer::Silence => {
            while wire.read_text_line()?.is_some() {}
            Ok(false)
        }
        Answer::Close => {
            wire.shutdown();
            Ok(false)
        }
    }
}

/// What follows the first colon (`MAIL FROM:<a@b> SIZE=1` gives `<a@b> SIZE=1`).
fn after_colon(line: &str) -> String {
    line.split_once(':')
        .map_or("", |(_, rest)| rest)
        .trim()
        .to_string()
}

impl Session<'_> {
    fn violation(&self, what: String) {
        self.shared.log().violations.push(what);
    }

    /// The next line without its line ending; `None` at the end of the stream.
    fn line(&self, wire: &mut ServerWire) -> io::Result<Option<String>> {
        let Some(raw) = wire.read_line()? else {
            return Ok(None);
        };
        let line = match raw.strip_suffix(b"\r\n") {
            Some(line) => line,
            None => {
                self.violation("a line ends in a bare LF".into());
                &raw[..raw.len() - 1]
            }
        };
        Ok(Some(String::from_utf8_lossy(line).into_owned()))
    }

    /// The next command, recorded.
    fn command(&self, wire: &mut ServerWire) -> io::Result<Option<String>> {
        let Some(line) = self.line(wire)? else {
            return Ok(None);
        };
        let shown = match line.split_once(' ') {
            Some((verb, arg)) if verb.eq_ignore_ascii_case("AUTH") => match arg.split_once(' ') {
                Some((mechanism, _)) => {
                    format!("AUTH {} <payload>", mechanism.to_ascii_uppercase())
                }
                None => format!("AUTH {}", arg.to_ascii_uppercase()),
            },
            _ => line.clone(),
        };
        self.shared.log().commands.push(Command {
            line: shown,
            read: wire.reads(),
            pipelined: wire.buffered(),
        });
        Ok(Some(line))
    }

    /// Whether AUTH can be offered and taken now.
    fn auth_open(&self) -> bool {
        self.script.auth.is_some() && (self.tls || matches!(self.script.tls, Tls::None))
    }

    /// The EHLO reply with the script's extensions.
    fn capabilities(&self) -> String {
        let script = self.script;
        let mut lines = vec![script.name.clone()];
        let offers_starttls = matches!(script.tls, Tls::Starttls(_) | Tls::BrokenStarttls);
        let flags = [
            (script.eightbitmime, "8BITMIME"),
            (offers_starttls && !self.tls, "STARTTLS"),
        ];
        lines.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, k)| k.to_string()),
        );
        if let Some(auth) = script.auth.as_ref().filter(|_| self.auth_open()) {
            lines.push(format!("AUTH {}", auth.mechanisms.join(" ")));
        }
        let flags = [
            (script.dsn, "DSN"),
            (script.pipelining, "PIPELINING"),
            (script.chunking, "CHUNKING"),
            (script.smtputf8, "SMTPUTF8"),
        ];
        lines.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, k)| k.to_string()),
        );
        lines.extend(script.size.map(|n| format!("SIZE {n}")));
        if script.enhanced_status_codes {
            lines.push("ENHANCEDSTATUSCODES".into());
        }
        let last = lines.len() - 1;
        let numbered: Vec<String> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
            .collect();
        numbered.join("\r\n")
    }

    fn end_transaction(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.rcpts = 0;
        self.chunks.clear();
    }

    /// STARTTLS: the connection after it, `None` when it is over.
    fn starttls(&mut self, mut wire: ServerWire) -> io::Result<Option<ServerWire>> {
        let script = self.script;
        let act = take(&script.starttls, &mut self.counts.starttls);
        let answer = match (&act, &script.tls) {
            (Act::Accept, _) if self.tls => reply("503 5.5.1 TLS already active"),
            (Act::Accept, Tls::Starttls(config)) => {
                wire.send("220 2.0.0 Ready to start TLS")?;
                let conn =
                    rustls::ServerConnection::new(config.clone()).map_err(io::Error::other)?;
                let (upgraded, early) = wire.start_tls(conn)?;
                if early {
                    self.violation("commands pipelined after STARTTLS (RFC 3207)".into());
                }
                self.tls = true;
                (self.greeted, self.esmtp, self.authenticated) = (false, false, false);
                self.end_transaction();
                return Ok(Some(upgraded));
            }
            (Act::Accept, Tls::BrokenStarttls) => {
                wire.send("220 2.0.0 Ready to start TLS")?;
                wire.send("this is not a TLS handshake at all")?;
                wire.shutdown();
                return Ok(None);
            }
            (act, _) => act.answer(|| "502 5.5.1 STARTTLS not offered".into()),
        };
        Ok(perform(&mut wire, answer)?.then_some(wire))
    }

    /// Why AUTH is refused before any exchange, if it is.
    fn auth_refusal(&self) -> Option<Answer> {
        let refusal = if self.script.auth.is_none() {
            "503 5.5.1 Authentication not enabled"
        } else if !self.esmtp {
            "503 5.5.1 Send EHLO first"
        } else if !self.auth_open() {
            "530 5.7.0 Must issue a STARTTLS command first"
        } else if self.authenticated {
            "503 5.5.1 Already authenticated"
        } else if self.mail_from.is_some() {
            "503 5.5.1 AUTH not permitted during a mail transaction"
        } else {
            return None;
        };
        Some(reply(refusal))
    }

    /// A response to a challenge, or the initial response; `None` if the client went away.
    fn response(
        &self,
        wire: &mut ServerWire,
        initial: Option<&str>,
        challenge: &str,
    ) -> io::Result<Option<String>> {
        if let Some(initial) = initial {
            return Ok(Some(initial.to_string()));
        }
        wire.send(challenge)?;
        self.line(wire)
    }

    /// One AUTH exchange (`arg`: the mechanism and the optional initial response), answered
    /// to the end; whether the login succeeded.
    fn auth(&self, wire: &mut ServerWire, arg: &str) -> io::Result<bool> {
        let Some(auth) = &self.script.auth else {
            return Ok(false);
        };
        let (mechanism, initial) = match arg.split_once(' ') {
            Some((mechanism, initial)) => (mechanism.to_ascii_uppercase(), Some(initial)),
            None => (arg.to_ascii_uppercase(), None),
        };
        if !auth
            .mechanisms
            .iter()
            .any(|m| m.eq_ignore_ascii_case(&mechanism))
        {
            self.violation(format!("AUTH {mechanism}, which the server does not offer"));
            wire.send("504 5.5.4 Unrecognized authentication type")?;
            return Ok(false);
        }
        let decode = |response: &str| match response {
            "=" => Ok(Vec::new()),
            _ => STANDARD
                .decode(response)
                .map_err(|_| "the response is not base64".to_string()),
        };
        if mechanism.starts_with("SCRAM-SHA-") {
            return self.scram(wire, auth, &mechanism, initial);
        }
        let mut responses = Vec::new();
        let challenges: &[&str] = match mechanism.as_str() {
            "LOGIN" => &["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"],
            "PLAIN" | "XOAUTH2" | "OAUTHBEARER" | "EXTERNAL" => &["334 "],
            _ => {
                self.violation(format!(
                    "AUTH {mechanism}, which the test server cannot take"
                ));
                wire.send("504 5.5.4 Unrecognized authentication type")?;
                return Ok(false);
            }
        };
        for (i, challenge) in challenges.iter().enumerate() {
            let given = if i == 0 { initial } else { None };
            let Some(response) = self.response(wire, given, challenge)? else {
                return Ok(false);
            };
            if response == "*" {
                wire.send("501 5.7.0 Authentication aborted")?;
                return Ok(false);
            }
            responses.push(decode(&response));
        }
        let parsed = match (mechanism.as_str(), responses.as_slice()) {
            (_, [.., Err(why)]) | (_, [Err(why), ..]) => Err(why.clone()),
            ("LOGIN", [Ok(user), Ok(password)]) => Ok((
                String::from_utf8_lossy(user).into_owned(),
                String::from_utf8_lossy(password).into_owned(),
            )),
            ("PLAIN", [Ok(raw)]) => parse_plain(raw),
            ("XOAUTH2", [Ok(raw)]) => parse_xoauth2(raw),
            ("EXTERNAL", [Ok(raw)]) if raw.is_empty() => Ok((String::new(), String::new())),
            ("EXTERNAL", [Ok(_)]) => Err("an authorization identity was sent".into()),
            (_, [Ok(raw)]) => parse_oauthbearer(raw),
            _ => Err("unexpected responses".into()),
        };
        let (user, secret) = match parsed {
            Ok(login) => login,
            Err(why) => {
                self.violation(format!("AUTH {mechanism}: {why}"));
                wire.send("501 5.5.2 malformed")?;
                return Ok(false);
            }
        };
        if auth.extra_challenge {
            wire.send("334 ")?;
            match self.line(wire)? {
                Some(answer) if answer == "*" => {
                    wire.send("501 5.7.0 Authentication aborted")?;
                }
                Some(_) => self.violation(format!(
                    "AUTH {mechanism}: an unexpected challenge was answered, not cancelled"
                )),
                None => {}
            }
            return Ok(false);
        }
        let accepted = (auth.check)(&user, &secret);
        self.shared.log().auths.push(AuthAttempt {
            mechanism: mechanism.clone(),
            user,
            secret,
            accepted,
        });
        if accepted {
            wire.send(&auth.accepted)?;
            return Ok(true);
        }
        if matches!(mechanism.as_str(), "XOAUTH2" | "OAUTHBEARER") {
            // RFC 7628 §3.2.2: the error comes as a challenge, which the client must answer
            // with a dummy response (XOAUTH2: an empty line; OAUTHBEARER: %x01, §3.2.3).
            wire.send(&format!("334 {}", STANDARD.encode(&auth.oauth_error)))?;
            let expected = if mechanism == "XOAUTH2" { "" } else { "AQ==" };
            match self.line(wire)? {
                Some(answer) if answer == expected => {}
                Some(answer) => {
                    let shown = if answer.len() <= 8 {
                        format!("{answer:?}")
                    } else {
                        format!("a {}-byte line", answer.len())
                    };
                    self.violation(format!(
                        "AUTH {mechanism}: error challenge answered with {shown}, not {expected:?}"
                    ));
                }
                None => {
                    self.violation(format!(
                        "AUTH {mechanism}: connection closed instead of answering the error challenge"
                    ));
                    return Ok(false);
                }
            }
        }
        wire.send(&auth.refused)?;
        Ok(false)
    }

    /// One SCRAM exchange (`mechanism`: SCRAM-SHA-1 or SCRAM-SHA-256, perhaps -PLUS), answered
    /// to the end; whether the login succeeded. A client that announces a channel binding
    /// (`y`) to a server that offers -PLUS is refused, as RFC 5802 section 6 says.
    fn scram(
        &self,
        wire: &mut ServerWire,
        auth: &super::Auth,
        mechanism: &str,
        initial: Option<&str>,
    ) -> io::Result<bool> {
        let Some(password) = &auth.scram_password else {
            self.violation(format!(
                "AUTH {mechanism}, which the test server cannot take"
            ));
            wire.send("504 5.5.4 Unrecognized authentication type")?;
            return Ok(false);
        };
        let malformed = |wire: &mut ServerWire, why: String| {
            self.violation(format!("AUTH {mechanism}: {why}"));
            wire.send("501 5.5.2 malformed").map(|()| false)
        };
        let Some(response) = self.response(wire, initial, "334 ")? else {
            return Ok(false);
        };
        if response == "*" {
            wire.send("501 5.7.0 Authentication aborted")?;
            return Ok(false);
        }
        let first = match STANDARD
            .decode(&response)
            .map_err(|_| "the response is not base64".to_string())
            .and_then(|raw| parse_client_first(&raw))
        {
            Ok(first) => first,
            Err(why) => return malformed(wire, why),
        };
        let plus = mechanism.ends_with("-PLUS");
        let end_point = auth.scram_end_point.is_some();
        match (first.binding.as_deref(), plus) {
            (Some("tls-exporter"), true) | (None, false) => {}
            (Some("tls-server-end-point"), true) if end_point => {}
            (Some(kind), true) => {
                return malformed(
                    wire,
                    format!("channel binding {kind}, which the server lacks"),
                );
            }
            (_, _) => {
                return malformed(
                    wire,
                    format!("GS2 header {} with {mechanism}", first.gs2_header),
                );
            }
        }
        let offers_plus = auth.mechanisms.iter().any(|m| m.ends_with("-PLUS"));
        let downgraded = first.gs2_header == "y,," && offers_plus;
        let exchange = scram::Exchange::new(
            mechanism.starts_with("SCRAM-SHA-256"),
            first,
            auth.scram_iterations,
        );
        wire.send(&format!("334 {}", STANDARD.encode(exchange.server_first())))?;
        let Some(response) = self.line(wire)? else {
            return Ok(false);
        };
        if response == "*" {
            wire.send("501 5.7.0 Authentication aborted")?;
            return Ok(false);
        }
        let binding = match exchange.binding() {
            Some("tls-server-end-point") => auth.scram_end_point.clone(),
            _ => wire.tls_exporter(),
        };
        let server_final = match STANDARD
            .decode(&response)
            .map_err(|_| "the response is not base64".to_string())
            .and_then(|raw| exchange.finish(&raw, password, binding.as_deref()))
        {
            Ok(server_final) => server_final,
            Err(why) => return malformed(wire, why),
        };
        let user = exchange.user().to_string();
        let record = |accepted| {
            self.shared.log().auths.push(AuthAttempt {
                mechanism: mechanism.to_string(),
                user: user.clone(),
                secret: password.clone(),
                accepted,
            });
        };
        let Some(server_final) =
            server_final.filter(|_| !downgraded && (auth.check)(&user, password))
        else {
            record(false);
            wire.send(&auth.refused)?;
            return Ok(false);
        };
        if auth.skip_server_final {
            record(true);
            wire.send(&auth.accepted)?;
            return Ok(true);
        }
        let server_final = if auth.forge_server_signature {
            "v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_string()
        } else {
            server_final
        };
        wire.send(&format!("334 {}", STANDARD.encode(server_final)))?;
        match self.line(wire)? {
            Some(answer) if answer.is_empty() => {
                record(true);
                wire.send(&auth.accepted)?;
                Ok(true)
            }
            Some(answer) if answer == "*" => {
                record(false);
                wire.send("501 5.7.0 Authentication aborted")?;
                Ok(false)
            }
            Some(_) => {
                record(false);
                malformed(
                    wire,
                    "the server-final message was answered with data".into(),
                )
            }
            None => Ok(false),
        }
    }

    fn mail(&mut self, line: &str, arg: &str) -> Answer {
        let script = self.script;
        let act = take(&script.mail, &mut self.counts.mail);
        let act = script
            .mail_when
            .iter()
            .find(|(text, _)| line.contains(text.as_str()))
            .map_or(act, |(_, act)| act.clone());
        if act == Act::Accept {
            let refusal = if !self.greeted {
                "503 5.5.1 Send EHLO first"
            } else if script.auth.is_some() && !self.authenticated {
                "530 5.7.0 Authentication required"
            } else if self.mail_from.is_some() {
                "503 5.5.1 Nested MAIL command"
            } else if !arg.to_ascii_uppercase().starts_with("FROM:") {
                "501 5.5.4 Syntax: MAIL FROM:<address>"
            } else {
                ""
            };
            if !refusal.is_empty() {
                return reply(refusal);
            }
        }
        let answer = act.answer(|| "250 2.1.0 OK".into());
        self.end_transaction();
        if answer.is('2') {
            self.mail_from = Some(after_colon(line));
        }
        answer
    }

    fn rcpt(&mut self, line: &str, arg: &str) -> Answer {
        let position = self.rcpts;
        self.rcpts += 1;
        let act = match self.script.rcpt.get(position) {
            Some(acts) => {
                if self.counts.rcpt.len() <= position {
                    self.counts.rcpt.resize(position + 1, 0);
                }
                take(acts, &mut self.counts.rcpt[position])
            }
            None => Act::Accept,
        };
        if act == Act::Accept {
            if self.mail_from.is_none() {
                return reply("503 5.5.1 Need MAIL command");
            }
            if !arg.to_ascii_uppercase().starts_with("TO:") {
                return reply("501 5.5.4 Syntax: RCPT TO:<address>");
            }
        }
        let answer = act.answer(|| "250 2.1.5 OK".into());
        if answer.is('2') {
            self.rcpt_to.push(after_colon(line));
        }
        answer
    }

    /// DATA and the message: the answer to its end, `None` when the connection is over.
    fn data(&mut self, wire: &mut ServerWire) -> io::Result<Option<Answer>> {
        let act = take(&self.script.data, &mut self.counts.data);
        if act == Act::Accept && self.rcpt_to.is_empty() {
            return Ok(Some(reply("503 5.5.1 Need RCPT command")));
        }
        let answer = act.answer(|| "354 End data with <CR><LF>.<CR><LF>".into());
        if !answer.is('3') {
            return Ok(Some(answer));
        }
        if !perform(wire, answer)? {
            return Ok(None);
        }
        let reads = wire.reads();
        let (mut raw, mut data, mut stalled_until) = (Vec::new(), Vec::new(), None);
        loop {
            let Some(line) = wire.read_text_line()? else {
                return Ok(None);
            };
            raw.extend_from_slice(&line);
            match &self.script.mid_data {
                Some(MidData::Close) => {
                    wire.shutdown();
                    return Ok(None);
                }
                Some(MidData::Stall { after, pause })
                    if stalled_until.is_none() && raw.len() >= *after =>
                {
                    std::thread::sleep(*pause);
                    stalled_until = Some(Instant::now());
                }
                _ => {}
            }
            if !line.ends_with(b"\r\n") {
                self.violation("a message line ends in a bare LF".into());
            }
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
        }
        let reads = wire.reads() - reads;
        Ok(Some(self.received(data, raw, reads, stalled_until)))
    }

    /// BDAT SIZE [LAST] (RFC 3030) and its chunk: the answer, `None` when the connection is
    /// over.
    fn bdat(&mut self, wire: &mut ServerWire, arg: &str) -> io::Result<Option<Answer>> {
        let mut words = arg.split_whitespace();
        let (Some(Ok(size)), last) = (words.next().map(str::parse::<usize>), words.next()) else {
            return Ok(Some(reply("501 5.5.4 Syntax: BDAT size [LAST]")));
        };
        if size > MAX_CHUNK {
            return Ok(Some(reply("552 5.3.4 Chunk too big for this test server")));
        }
        let last = match last {
            None => false,
            Some(word) if word.eq_ignore_ascii_case("LAST") => true,
            Some(_) => return Ok(Some(reply("501 5.5.4 Syntax: BDAT size [LAST]"))),
        };
        let reads = wire.reads();
        let chunk = match wire.read_exact(size) {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        };
        if self.rcpt_to.is_empty() {
            return Ok(Some(reply("503 5.5.1 Need RCPT command")));
        }
        self.chunks.extend_from_slice(&chunk);
        if !last {
            return Ok(Some(reply(&format!("250 2.0.0 {size} octets received"))));
        }
        let data = std::mem::take(&mut self.chunks);
        let reads = wire.reads() - reads;
        Ok(Some(self.received(data.clone(), data, reads, None)))
    }

    /// Records a message and ends its transaction; the answer to its end.
    fn received(
        &mut self,
        data: Vec<u8>,
        raw: Vec<u8>,
        reads: usize,
        stalled_until: Option<Instant>,
    ) -> Answer {
        let answer = take(&self.script.final_dot, &mut self.counts.final_dot)
            .answer(|| "250 2.0.0 OK queued".into());
        let message = Received {
            mail_from: self.mail_from.clone().unwrap_or_default(),
            rcpt_to: self.rcpt_to.clone(),
            data,
            raw,
            reads,
            stalled_until,
            reply: answer.text(),
        };
        self.shared.log().messages.push(message);
        self.shared.arrived.notify_all();
        self.end_transaction();
        answer
    }
}
