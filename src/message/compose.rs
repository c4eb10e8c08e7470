//! Composing a new MIME message for `relayctl send` (lettre's builder does the MIME work), and
//! what is known before composing it: the encoded size, computed from the attachments' file sizes
//! before any is read, and attachment types that relays' virus scanners commonly block.

use std::fs::File;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment as AttachmentPart, Body, Mailbox, MultiPart, SinglePart};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use crate::error::{Error, Result};
use crate::message::envelope::Envelope;
use crate::message::is_single_line;

/// What `send` was asked to send.
#[derive(Debug)]
pub struct Draft {
    pub from: Mailbox,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub bcc: Vec<Mailbox>,
    pub subject: String,
    pub body: Vec<u8>,
    pub attachments: Vec<Attachment>,
}

/// A file to attach, known by its name and size until the message is composed.
#[derive(Debug)]
pub struct Attachment {
    /// The file name the recipient sees.
    pub name: String,
    /// Its size in bytes before encoding.
    pub size: u64,
    /// How errors name it: the name, or for a zip what it holds.
    label: String,
    /// Where it was given (for errors).
    path: PathBuf,
    /// The content when it is held in memory (a zip, a pipe); else it is read from `path`.
    held: Option<Vec<u8>>,
}

/// File types that relays' virus scanners commonly reject: programs, scripts, shortcuts, disk
/// images (Gmail's list, plus Unix scripts and macOS apps).
#[rustfmt::skip]
const COMMONLY_BLOCKED: &[&str] = &[
    "ade", "adp", "apk", "app", "appx", "appxbundle", "bash", "bat", "cab", "chm", "cmd", "com",
    "cpl", "diagcab", "diagcfg", "diagpkg", "dll", "dmg", "ex", "ex_", "exe", "hta", "img", "ins",
    "iso", "isp", "jar", "jnlp", "js", "jse", "lib", "lnk", "mde", "mjs", "msc", "msi", "msix",
    "msixbundle", "msp", "mst", "nsh", "pif", "ps1", "psm1", "reg", "scr", "sct", "sh", "shb",
    "sys", "vb", "vbe", "vbs", "vhd", "vhdx", "vxd", "wsc", "wsf", "wsh", "xll",
];

impl Attachment {
    /// Describes the file at `path` without reading it. A pipe (`--attach <(command)`) is read
    /// at once, no further than `limit` bytes and one more. A file name with a line break is
    /// refused (it would go into a header).
    pub fn from_path(path: &Path, limit: u64) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::Usage(format!("--attach {}: not a file name", path.display())))?;
        if !is_single_line(&name) {
            return Err(Error::Usage(format!(
                "--attach {:?}: the file name contains a line break, which could add headers; rename the file",
                path.display().to_string()
            )));
        }
        let io = |e| Error::io("cannot read attachment", path, e);
        let metadata = std::fs::metadata(path).map_err(io)?;
        let (size, held) = if metadata.is_file() {
            (metadata.len(), None)
        } else {
            let mut bytes = Vec::new();
            File::open(path)
                .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
                .map_err(io)?;
            (bytes.len() as u64, Some(bytes))
        };
        Ok(Attachment {
            label: name.clone(),
            name,
            size,
            path: path.to_path_buf(),
            held,
        })
    }

    /// Whether the file type is one that relays' virus scanners commonly block.
    pub fn is_commonly_blocked(&self) -> bool {
        self.name.rsplit_once('.').is_some_and(|(_, ext)| {
            COMMONLY_BLOCKED
                .iter()
                .any(|blocked| blocked.eq_ignore_ascii_case(ext))
        })
    }

    fn content_type(&self) -> ContentType {
        let mime = mime_guess::from_path(&self.name).first_or_octet_stream();
        ContentType::parse(mime.essence_str()).unwrap_or_else(|_| {
            ContentType::parse("application/octet-stream").expect("a valid MIME type")
        })
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        Error::io("cannot read attachment", &self.path, e)
    }

    fn reader(&self) -> Result<Box<dyn Read + '_>> {
        match &self.held {
            Some(bytes) => Ok(Box::new(bytes.as_slice())),
            None => Ok(Box::new(
                File::open(&self.path).map_err(|e| self.io_error(e))?,
            )),
        }
    }

    fn bytes(&self) -> Result<Vec<u8>> {
        match &self.held {
            Some(bytes) => Ok(bytes.clone()),
            None => std::fs::read(&self.path).map_err(|e| self.io_error(e)),
        }
    }
}

/// The size limit a message must fit, with the profile that sets it (for the refusal).
#[derive(Debug, Clone, Copy)]
pub struct SizeLimit<'a> {
    /// The profile's name.
    pub profile: &'a str,
    /// Its `max_message_size` in bytes.
    pub bytes: u64,
}

impl SizeLimit<'_> {
    /// Whether a message of `size` bytes (as transmitted) fits; counted as the queue counts it,
    /// with the CRLF that ends the data.
    pub fn fits(&self, size: u64) -> bool {
        size.saturating_add(2) <= self.bytes
    }

    fn refuse(&self, what: &str, total: &str, hint: &str) -> Error {
        Error::Message(format!(
            "{what} not fit profile {}'s limit of {} (the message would be {total} encoded){hint}",
            self.profile,
            human(self.bytes),
        ))
    }
}

/// The name of the archive `--zip` sends.
pub const ZIP_NAME: &str = "attachments.zip";

/// Compresses `attachments` into one [`ZIP_NAME`] in memory, keeping each file's name,
/// permissions and modification time (UTC). Stops, as too large, once the archive could no
/// longer fit `limit` after base64 encoding.
pub fn zip(attachments: &[Attachment], limit: &SizeLimit<'_>) -> Result<Attachment> {
    let cap = limit.bytes / 4 * 3;
    let names: Vec<&str> = attachments.iter().map(|a| a.name.as_str()).collect();
    let label = format!("{ZIP_NAME} of {}", names.join(", "));
    let zip_error =
        |e: zip::result::ZipError| Error::Message(format!("cannot build {ZIP_NAME}: {e}"));
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (i, attachment) in attachments.iter().enumerate() {
        if names[..i].contains(&attachment.name.as_str()) {
            return Err(Error::Usage(format!(
                "--zip: two attachments are named {}; an archive needs distinct names",
                attachment.name
            )));
        }
        let mut options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(attachment.size >= u64::from(u32::MAX));
        if attachment.held.is_none()
            && let Ok(metadata) = std::fs::metadata(&attachment.path)
        {
            use std::os::unix::fs::PermissionsExt;
            options = options.unix_permissions(metadata.permissions().mode() & 0o777);
            if let Ok(modified) = metadata.modified() {
                options = options.last_modified_time(zip_time(modified));
            }
        }
        writer
            .start_file(attachment.name.as_str(), options)
            .map_err(zip_error)?;
        let mut reader = attachment.reader()?;
        let mut chunk = vec![0; 1 << 16];
        loop {
            let n = reader
                .read(&mut chunk)
                .map_err(|e| attachment.io_error(e))?;
            if n == 0 {
                break;
            }
            writer
                .write_all(&chunk[..n])
                .map_err(|e| Error::Message(format!("cannot build {ZIP_NAME}: {e}")))?;
            let written = writer.get_ref().map_or(0, |c| c.get_ref().len() as u64);
            if written > cap {
                return Err(limit.refuse(
                    &format!("{label} (over {} compressed) does", human(written)),
                    &format!("more than {}", human(base64_len(written))),
                    "; share the files by link instead",
                ));
            }
        }
    }
    let bytes = writer.finish().map_err(zip_error)?.into_inner();
    Ok(Attachment {
        name: ZIP_NAME.to_string(),
        size: bytes.len() as u64,
        label,
        path: PathBuf::from(ZIP_NAME),
        held: Some(bytes),
    })
}

/// A modification time as a zip (DOS) timestamp, in UTC; 1980-01-01 when out of its range.
fn zip_time(time: SystemTime) -> zip::DateTime {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let Ok(utc) = i64::try_from(secs).map(time::OffsetDateTime::from_unix_timestamp) else {
        return zip::DateTime::default();
    };
    let Some((utc, Ok(year))) = utc.ok().map(|t| (t, u16::try_from(t.year()))) else {
        return zip::DateTime::default();
    };
    zip::DateTime::from_date_and_time(
        year,
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
    )
    .unwrap_or_default()
}

/// Parses a command-line address such as `ops@example.org` or `"Ops Team <ops@example.org>"`.
pub fn parse_mailbox(option: &str, text: &str) -> Result<Mailbox> {
    text.parse::<Mailbox>()
        .map_err(|e| Error::Usage(format!("{option} {text:?} is not an email address ({e})")))
}

/// The length of `n` bytes in base64 as lettre writes a body: 4 characters per 3 bytes (the last
/// group padded) in lines of 76 characters separated by CRLF.
fn base64_len(n: u64) -> u64 {
    let chars = n.div_ceil(3) * 4;
    chars + chars.saturating_sub(1) / 76 * 2
}

/// The size of the message [`compose`] will produce, as transmitted (CRLF line endings), from the
/// attachments' sizes: no attachment is read. Exact, since attachments are always sent base64:
/// the message composed with empty attachments, plus each attachment's base64 length.
fn encoded_size(draft: &Draft) -> Result<u64> {
    let skeleton = build(draft, |_| Ok(Vec::new()))?;
    let attachments: u64 = draft.attachments.iter().map(|a| base64_len(a.size)).sum();
    Ok(crate::message::canonical::canonicalize(&skeleton).len() as u64 + attachments)
}

/// Refuses a draft that will not fit `limit` once encoded, naming the attachments with their
/// sizes before and after encoding. Returns the encoded size.
pub fn check_size(draft: &Draft, limit: &SizeLimit<'_>) -> Result<u64> {
    let total = encoded_size(draft)?;
    if limit.fits(total) {
        return Ok(total);
    }
    let files: Vec<String> = draft
        .attachments
        .iter()
        .map(|a| {
            format!(
                "{} ({}, {} encoded)",
                a.label,
                human(a.size),
                human(base64_len(a.size))
            )
        })
        .collect();
    let what = match files.len() {
        0 => "the message does".to_string(),
        1 => format!("{} does", files[0]),
        _ => format!("{} do", files.join(", ")),
    };
    let zipped = draft.attachments.iter().any(|a| a.name == ZIP_NAME);
    let hint = if draft.attachments.is_empty() {
        ""
    } else if zipped {
        "; share the files by link instead"
    } else {
        "; try --zip if the files compress well, or share them by link"
    };
    Err(limit.refuse(&what, &human(total), hint))
}

/// A size for people, in binary units as [`crate::config::ByteSize`] reads them (`25 MB`,
/// `19.1 MB`, `700 bytes`). Rounded up, so that a size over a limit never shows as equal to it.
fn human(bytes: u64) -> String {
    const KB: u64 = 1 << 10;
    const MB: u64 = 1 << 20;
    let (unit, name) = match bytes {
        b if b >= MB => (MB, "MB"),
        b if b >= KB => (KB, "KB"),
        1 => return "1 byte".to_string(),
        b => return format!("{b} bytes"),
    };
    if bytes.is_multiple_of(unit) {
        return format!("{} {name}", bytes / unit);
    }
    let tenths = (u128::from(bytes) * 10).div_ceil(u128::from(unit));
    format!("{}.{} {name}", tenths / 10, tenths % 10)
}

/// Builds the message and its envelope. Bcc recipients are in the envelope only.
pub fn compose(draft: &Draft) -> Result<(Vec<u8>, Envelope)> {
    if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
        return Err(Error::Usage(
            "no recipient: give --to, --cc or --bcc".into(),
        ));
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
    Ok((build(draft, Attachment::bytes)?, envelope))
}

/// The message, with each attachment's content from `content`.
fn build(draft: &Draft, content: impl Fn(&Attachment) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    let mut text = String::from_utf8(draft.body.clone()).map_err(|_| {
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
    let domain = draft.from.email.domain().to_string();
    let mut builder = Message::builder()
        .from(draft.from.clone())
        .subject(draft.subject.as_str())
        .message_id(Some(super::message_id(&domain)));
    for m in &draft.to {
        builder = builder.to(m.clone());
    }
    for m in &draft.cc {
        builder = builder.cc(m.clone());
    }
    let text_part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(Body::new(text));
    let message = if draft.attachments.is_empty() {
        builder.singlepart(text_part)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text_part);
        for attachment in &draft.attachments {
            // Always base64: the size is known from the file's, and no byte is altered (7bit
            // would have line endings rewritten on the way).
            let body =
                Body::new_with_encoding(content(attachment)?, ContentTransferEncoding::Base64)
                    .map_err(|_| Error::Message(format!("cannot encode {}", attachment.name)))?;
            parts = parts.singlepart(
                AttachmentPart::new(attachment.name.clone()).body(body, attachment.content_type()),
            );
        }
        builder.multipart(parts)
    }
    .map_err(|e| Error::Message(format!("cannot build the message: {e}")))?;
    Ok(message.formatted())
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
        let (bytes, env) = compose(&draft(b"disk almost full\n")).unwrap();
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
            compose(&draft(b"\xff\xfe")),
            Err(Error::Message(_))
        ));
        let mut d = draft(b"x");
        d.to.clear();
        d.bcc.clear();
        assert!(matches!(compose(&d), Err(Error::Usage(_))));
    }

    #[test]
    fn bad_address_names_the_option() {
        let err = parse_mailbox("--to", "not an address")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("--to \"not an address\""), "{err}");
    }

    /// Files in a temporary directory, attached in order.
    fn attach(dir: &Path, files: &[(&str, &[u8])]) -> Vec<Attachment> {
        files
            .iter()
            .map(|(name, bytes)| {
                let path = dir.join(name);
                std::fs::write(&path, bytes).unwrap();
                Attachment::from_path(&path, 1 << 30).unwrap()
            })
            .collect()
    }

    fn random(n: usize) -> Vec<u8> {
        std::iter::repeat_with(|| fastrand::u8(..))
            .take(n)
            .collect()
    }

    fn wire_len(d: &Draft) -> u64 {
        crate::message::canonical::canonicalize(&compose(d).unwrap().0).len() as u64
    }

    #[test]
    fn base64_lengths() {
        let expected = [
            (0, 0),
            (1, 4),
            (3, 4),
            (4, 8),
            (16, 24),
            (57, 76),
            (58, 82),
            (300, 410),
        ];
        for (n, len) in expected {
            assert_eq!(base64_len(n), len, "{n}");
        }
    }

    /// The estimate, from file sizes alone, against the message compose really produces: never
    /// lower, at most 1% higher (it is exact).
    #[test]
    fn encoded_size_matches_the_composed_message() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = "a line of a log file\n".repeat(3000).into_bytes();
        let sizes = [0, 1, 2, 3, 56, 57, 58, 1000, 65_537, (1 << 20) + 7];
        for (i, n) in sizes.into_iter().enumerate() {
            let mut d = draft("Grüße, see attached\n".as_bytes());
            let binary = random(n);
            let ascii = &text[..n.min(text.len())];
            d.attachments = attach(
                dir.path(),
                &[
                    (&format!("data{i}.bin"), &binary),
                    (&format!("log{i}.txt"), ascii),
                ],
            );
            let (estimate, real) = (encoded_size(&d).unwrap(), wire_len(&d));
            assert!(
                estimate >= real && estimate <= real + real / 100,
                "{n} bytes: estimate {estimate}, composed {real}"
            );
        }
        let plain = draft(b"no attachment\n");
        assert_eq!(encoded_size(&plain).unwrap(), wire_len(&plain));
    }

    #[test]
    fn attachments_arrive_byte_for_byte_in_base64() {
        use base64::Engine;
        let dir = tempfile::tempdir().unwrap();
        let mut d = draft(b"x\n");
        d.attachments = attach(dir.path(), &[("deploy.sh", b"#!/bin/sh\necho hi\n")]);
        let text = String::from_utf8(compose(&d).unwrap().0).unwrap();
        let part = text.split("filename=\"deploy.sh\"").nth(1).unwrap();
        assert!(
            part.contains("Content-Transfer-Encoding: base64\r\n"),
            "{text}"
        );
        let encoded = part.split("\r\n\r\n").nth(1).unwrap().split("\r\n").next();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.unwrap())
            .unwrap();
        assert_eq!(decoded, b"#!/bin/sh\necho hi\n");
    }

    #[test]
    fn too_large_names_the_files_and_both_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let limit = SizeLimit {
            profile: "small",
            bytes: 64 << 10,
        };
        let mut d = draft(b"x\n");
        d.attachments = attach(dir.path(), &[("report.tar", &random(50 << 10))]);
        let err = check_size(&d, &limit).unwrap_err();
        assert!(matches!(err, Error::Message(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "report.tar (50 KB, 68.5 KB encoded) does not fit profile small's limit of 64 KB (the message would be 6"
            ),
            "{text}"
        );
        assert!(text.contains("try --zip"), "{text}");
        d.attachments = attach(dir.path(), &[("a.bin", &random(47 << 10)), ("b.bin", &[1])]);
        let text = check_size(&d, &limit).unwrap_err().to_string();
        assert!(
            text.starts_with(
                "a.bin (47 KB, 64.4 KB encoded), b.bin (1 byte, 4 bytes encoded) do not fit"
            ),
            "{text}"
        );
        d.attachments = attach(dir.path(), &[("a.bin", &random(30 << 10))]);
        let fits = check_size(&d, &limit).unwrap();
        assert_eq!(fits, wire_len(&d));
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human(25 << 20), "25 MB");
        assert_eq!(human((19 << 20) + 1), "19.1 MB");
        assert_eq!(human(1536), "1.5 KB");
        assert_eq!(human(700), "700 bytes");
    }

    #[test]
    fn commonly_blocked_types() {
        let dir = tempfile::tempdir().unwrap();
        let files = attach(
            dir.path(),
            &[
                ("setup.EXE", b""),
                ("deploy.sh", b""),
                ("run.ps1", b""),
                ("report.pdf", b""),
                ("README", b""),
                ("logs.zip", b""),
            ],
        );
        let blocked: Vec<bool> = files.iter().map(Attachment::is_commonly_blocked).collect();
        assert_eq!(blocked, [true, true, true, false, false, false]);
    }

    #[test]
    fn attachment_names_with_line_breaks_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x\nBcc: victim@example.org");
        std::fs::write(&path, b"x").unwrap();
        let err = Attachment::from_path(&path, 1 << 30).unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err:?}");
        assert!(err.to_string().starts_with("--attach "), "{err}");
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn zip_round_trip_keeps_names_bytes_and_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let binary = random(100_000);
        let files = attach(
            dir.path(),
            &[
                ("deploy.sh", b"#!/bin/sh\necho hi\n"),
                ("data.bin", &binary),
            ],
        );
        std::fs::set_permissions(
            dir.path().join("deploy.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        let limit = SizeLimit {
            profile: "p",
            bytes: 1 << 20,
        };
        let zipped = zip(&files, &limit).unwrap();
        assert_eq!(zipped.name, ZIP_NAME);
        let bytes = zipped.bytes().unwrap();
        assert_eq!(zipped.size, bytes.len() as u64);
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut script = archive.by_name("deploy.sh").unwrap();
        assert_eq!(script.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert!(script.last_modified().is_some_and(|t| t.year() >= 2024));
        let mut content = Vec::new();
        script.read_to_end(&mut content).unwrap();
        assert_eq!(content, b"#!/bin/sh\necho hi\n");
        drop(script);
        let mut content = Vec::new();
        archive
            .by_name("data.bin")
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(content, binary);
    }

    #[test]
    fn zip_refuses_duplicate_names_and_archives_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let mut files = attach(dir.path(), &[("a.log", b"one")]);
        files.extend(attach(&sub, &[("a.log", b"two")]));
        let limit = SizeLimit {
            profile: "p",
            bytes: 1 << 20,
        };
        assert!(matches!(zip(&files, &limit), Err(Error::Usage(_))));
        let big = attach(dir.path(), &[("noise.bin", &random(2 << 20))]);
        let text = zip(&big, &limit).unwrap_err().to_string();
        assert!(
            text.starts_with("attachments.zip of noise.bin (over "),
            "{text}"
        );
        assert!(
            text.contains("does not fit profile p's limit of 1 MB"),
            "{text}"
        );
    }

    #[test]
    fn zip_timestamps() {
        let at = |secs| zip_time(UNIX_EPOCH + std::time::Duration::from_secs(secs));
        let t = at(1_795_784_290);
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 11, 27, 12, 58, 10)
        );
        let t = at(951_868_798);
        assert_eq!(
            (t.year(), t.month(), t.day(), t.second()),
            (2000, 2, 29, 58)
        );
        assert_eq!(at(0), zip::DateTime::default());
    }

    /// `--attach <(command)`: a pipe is read at once, no further than the limit needs.
    #[test]
    fn pipes_are_read_up_to_just_over_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut pipe = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
                // The reader stops early; the rest of the write fails with EPIPE.
                let _ = pipe.write_all(&[b'x'; 5000]);
            })
        };
        let a = Attachment::from_path(&fifo, 1000).unwrap();
        writer.join().unwrap();
        assert_eq!((a.name.as_str(), a.size), ("report.csv", 1001));
        assert_eq!(a.bytes().unwrap(), [b'x'; 1001]);
    }
}
