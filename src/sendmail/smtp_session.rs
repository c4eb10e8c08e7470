//! `sendmail -bs`: an SMTP dialogue on stdin/stdout, as Symfony Mailer and PHPMailer use it.
//! Each message is prepared like any sendmail submission and delivered before the reply to the
//! final dot, so the reply carries the relay's verdict.

use std::io::{BufRead, Read, Write};

use super::args::Invocation;
use super::{Setup, read_message};
use crate::commands::Context;
use crate::error::{Error, Result};
use crate::message::submission::{MAX_RECIPIENTS, Request};
use crate::printable::one_line;
use crate::relay::Fault;

/// The longest command line accepted (RFC 5321 allows 512 octets; parameters make it longer).
const MAX_COMMAND: usize = 4096;

pub fn run(ctx: &Context, inv: &Invocation) -> Result<()> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    session(ctx, inv, &mut stdin.lock(), &mut stdout.lock())
}

fn session(
    ctx: &Context,
    inv: &Invocation,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let reply = |out: &mut dyn Write, text: &str| -> Result<()> {
        out.write_all(text.as_bytes())
            .and_then(|_| out.write_all(b"\r\n"))
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("cannot write to", "standard output", e))
    };
    let setup = match Setup::load(ctx) {
        Ok(s) => s,
        Err(e) => {
            reply(
                out,
                &format!("421 4.3.0 relayctl: {}", one_line(&e.to_string())),
            )?;
            return Err(e);
        }
    };
    let host = crate::relay::system_fqdn().unwrap_or_else(|| "localhost".into());
    let limit = setup.selected.profile.max_message_size().0;
    reply(out, &format!("220 {host} ESMTP relayctl"))?;

    let mut sender: Option<Option<String>> = None;
    let mut recipients: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = Read::take(&mut *input, MAX_COMMAND as u64)
            .read_until(b'\n', &mut line)
            .map_err(Error::Stdin)?;
        if n == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_string();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply(
                out,
                &format!(
                    "250-{host}\r\n250-8BITMIME\r\n250-SIZE {limit}\r\n250 ENHANCEDSTATUSCODES"
                ),
            )?,
            "HELO" => reply(out, &format!("250 {host}"))?,
            "MAIL" => match path_of(&command, "FROM:") {
                _ if sender.is_some() => reply(out, "503 5.5.1 Error: nested MAIL command")?,
                Some(path) => {
                    sender = Some((!path.is_empty()).then_some(path));
                    reply(out, "250 2.1.0 Ok")?;
                }
                None => reply(out, "501 5.5.4 Syntax: MAIL FROM:<address>")?,
            },
            "RCPT" => match path_of(&command, "TO:") {
                _ if sender.is_none() => reply(out, "503 5.5.1 Error: need MAIL command")?,
                _ if recipients.len() >= MAX_RECIPIENTS => {
                    reply(out, "452 4.5.3 Error: too many recipients")?
                }
                Some(path) if !path.is_empty() => match setup.aliases.resolve(&path) {
                    Ok(list) => {
                        recipients.extend(list);
                        reply(out, "250 2.1.5 Ok")?;
                    }
                    Err(e) => reply(
                        out,
                        &format!("550 5.1.1 <{path}>: {}", one_line(&e.to_string())),
                    )?,
                },
                _ => reply(out, "501 5.5.4 Syntax: RCPT TO:<address>")?,
            },
            "DATA" if recipients.is_empty() => reply(out, "503 5.5.1 Error: need RCPT command")?,
            "DATA" => {
                reply(out, "354 End data with <CR><LF>.<CR><LF>")?;
                let text = match read_data(input, limit) {
                    Ok(text) => text,
                    Err(e) => {
                        reply(out, &format!("552 5.3.4 {}", one_line(&e.to_string())))?;
                        sender = None;
                        recipients.clear();
                        continue;
                    }
                };
                let request = Request {
                    recipients: &recipients,
                    extract_recipients: false,
                    sender: sender.as_ref().map(|s| s.as_deref()),
                };
                let verdict = setup.submit(ctx, &text, &request, inv);
                reply(out, &data_reply(verdict))?;
                sender = None;
                recipients.clear();
            }
            "RSET" => {
                sender = None;
                recipients.clear();
                reply(out, "250 2.0.0 Ok")?;
            }
            "NOOP" => reply(out, "250 2.0.0 Ok")?,
            "VRFY" => reply(out, "252 2.0.0 Cannot VRFY user; try RCPT")?,
            "QUIT" => {
                reply(out, "221 2.0.0 Bye")?;
                return Ok(());
            }
            _ => reply(out, "502 5.5.2 Error: command not recognized")?,
        }
    }
}

/// The address in `MAIL FROM:<a>` / `RCPT TO:<a>` (parameters after it are ignored).
fn path_of(command: &str, prefix: &str) -> Option<String> {
    let rest = command.get(5..)?.trim_start();
    if !rest.to_ascii_uppercase().starts_with(prefix) {
        return None;
    }
    let rest = rest[prefix.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => inner.split_once('>')?.0,
        None => rest.split_whitespace().next().unwrap_or(""),
    };
    Some(path.to_string())
}

/// The message after DATA, up to the line with a single dot, with dot-stuffing removed.
fn read_data(input: &mut dyn BufRead, limit: u64) -> Result<Vec<u8>> {
    let raw = read_message(input, limit, false)?;
    let mut text = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|&b| b == b'\n') {
        text.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    Ok(text)
}

/// The reply to the final dot: the relay's verdict in SMTP terms.
fn data_reply(verdict: Result<()>) -> String {
    match verdict {
        Ok(()) => "250 2.0.0 Ok: delivered".into(),
        Err(e) => {
            let code = match &e {
                Error::Delivery(d) if d.fault() == Fault::Transient => "451 4.3.0",
                Error::Delivery(d) if d.fault() == Fault::Config => "451 4.3.5",
                Error::Message(_) | Error::Submission(_) => "554 5.6.0",
                _ => "554 5.0.0",
            };
            format!("{code} {}", one_line(&e.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            path_of("MAIL FROM:<a@b.example> SIZE=10", "FROM:").as_deref(),
            Some("a@b.example")
        );
        assert_eq!(path_of("mail from: <>", "FROM:").as_deref(), Some(""));
        assert_eq!(path_of("RCPT TO:root", "TO:").as_deref(), Some("root"));
        assert_eq!(path_of("RCPT FROM:<x>", "TO:"), None);
    }

    #[test]
    fn data_is_unstuffed() {
        let mut input = &b"Subject: s\r\n\r\n..leading\r\n.\r\nQUIT\r\n"[..];
        assert_eq!(
            read_data(&mut input, 1000).unwrap(),
            b"Subject: s\r\n\r\n.leading\r\n"
        );
        assert_eq!(input, b"QUIT\r\n");
    }
}
