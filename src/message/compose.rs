//! Composing a new MIME message for `relayctl send` (lettre's builder does the MIME work).

use std::path::PathBuf;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};

use crate::error::{Error, Result};
use crate::relay::Envelope;

/// What `send` was asked to send.
#[derive(Debug)]
pub struct Draft {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub subject: String,
    pub body: Vec<u8>,
    pub attachments: Vec<PathBuf>,
}

/// Parses a command-line address such as `ops@example.org` or `"Ops Team <ops@example.org>"`.
pub fn parse_mailbox(option: &str, text: &str) -> Result<Mailbox> {
    text.parse::<Mailbox>()
        .map_err(|e| Error::Usage(format!("{option} {text:?} is not an email address ({e})")))
}

/// Builds the message and its envelope. Bcc recipients are in the envelope only.
pub fn compose(draft: Draft) -> Result<(Vec<u8>, Envelope)> {
    if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
        return Err(Error::Usage(
            "no recipient: give --to, --cc or --bcc".into(),
        ));
    }
    let mut text = String::from_utf8(draft.body).map_err(|_| {
        Error::Message("the message body is not UTF-8 text; send binary data with --attach".into())
    })?;
    // lettre ends the body part with its own line break; without this, `echo text | relayctl
    // send` would arrive with an extra empty line.
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    let envelope = Envelope {
        sender: Some(draft.from.email.to_string()),
        recipients: draft
            .to
            .iter()
            .chain(&draft.cc)
            .chain(&draft.bcc)
            .map(|m| m.email.to_string())
            .collect(),
        dsn: Default::default(),
    };
    let domain = draft.from.email.domain().to_string();
    let mut builder = Message::builder()
        .from(draft.from)
        .subject(draft.subject)
        .message_id(Some(super::message_id(&domain)));
    for m in draft.to {
        builder = builder.to(m);
    }
    for m in draft.cc {
        builder = builder.cc(m);
    }
    let text_part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(Body::new(text));
    let message = if draft.attachments.is_empty() {
        builder.singlepart(text_part)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text_part);
        for path in &draft.attachments {
            parts = parts.singlepart(attachment(path)?);
        }
        builder.multipart(parts)
    }
    .map_err(|e| Error::Message(format!("cannot build the message: {e}")))?;
    Ok((message.formatted(), envelope))
}

fn attachment(path: &PathBuf) -> Result<SinglePart> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read attachment", path, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into());
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = ContentType::parse(mime.essence_str())
        .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
    Ok(Attachment::new(name).body(bytes, content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(body: &[u8]) -> Draft {
        Draft {
            from: parse_mailbox("--from", "Alerts <alerts@example.org>").unwrap(),
            to: vec![parse_mailbox("--to", "ops@example.org").unwrap()],
            cc: vec![],
            bcc: vec![parse_mailbox("--bcc", "audit@example.org").unwrap()],
            subject: "vm1 alert".into(),
            body: body.to_vec(),
            attachments: vec![],
        }
    }

    #[test]
    fn bcc_is_in_the_envelope_but_not_the_headers() {
        let (bytes, env) = compose(draft(b"disk almost full\n")).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(env.recipients, ["ops@example.org", "audit@example.org"]);
        assert_eq!(env.sender.as_deref(), Some("alerts@example.org"));
        assert!(!text.to_ascii_lowercase().contains("audit@"), "{text}");
        assert!(text.contains("Subject: vm1 alert"));
        assert!(
            text.contains("Message-ID: <") && text.contains("@example.org>"),
            "{text}"
        );
        assert!(text.contains("Date: "));
    }

    #[test]
    fn binary_body_and_missing_recipients_are_refused() {
        assert!(matches!(
            compose(draft(b"\xff\xfe")),
            Err(Error::Message(_))
        ));
        let mut d = draft(b"x");
        d.to.clear();
        d.bcc.clear();
        assert!(matches!(compose(d), Err(Error::Usage(_))));
    }

    #[test]
    fn bad_address_names_the_option() {
        let err = parse_mailbox("--to", "not an address")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--to \"not an address\""), "{err}");
    }
}
