//! Preparing a message handed to `sendmail`: recipients from the command line and, with `-t`, the
//! headers; local recipients through the aliases; Bcc removed; a From the relay accepts; Date,
//! Message-ID and From added when missing. Header order and unknown headers are kept and the body
//! is never altered, except that a body whose lines exceed SMTP's 998-octet limit is sent
//! quoted-printable (a transport encoding that preserves its content).

use crate::aliases::{AliasError, Aliases};
use crate::message::addresses::{Mailbox, format_list, parse_list};
use crate::message::envelope::Envelope;
use crate::message::headers::{Field, Message, split};
use crate::message::{
    BARE_HOSTNAME_FIX, bare_hostname, is_plausible_address, message_id, rfc5322_now,
};

/// SMTP's limit on a line, without its CRLF (RFC 5321 4.5.3.1.6).
pub const MAX_LINE: usize = 998;

/// The most header fields a message may have: hostile input must not make relayctl work through
/// (or relays refuse) an endless header section.
pub const MAX_FIELDS: usize = 1000;

/// The most recipients one message may have, counted before and after alias expansion.
pub const MAX_RECIPIENTS: usize = 1000;

/// How the profile lets callers present themselves.
#[derive(Debug, Clone)]
pub struct SenderPolicy<'a> {
    /// The profile's address: the envelope sender, and the From when the caller's is unusable.
    pub profile_from: &'a str,
    /// Which senders callers may present besides the profile's address.
    pub senders: Senders<'a>,
    /// Reply-To added when relayctl replaces a caller's From and the message has none.
    pub reply_to: Option<&'a str>,
    /// `-F`: the full name used when relayctl writes the From.
    pub full_name: Option<&'a str>,
}

/// The senders (envelope and From) callers may use besides the profile's own address.
#[derive(Debug, Clone, Copy)]
pub enum Senders<'a> {
    /// Any (`allow_from_override`, for callers who may read the profile).
    Any,
    /// Only these addresses and `@domain`s (a listener user's); none: the profile's address
    /// only (the sender is enforced, as for maildrop users).
    Listed(&'a [String]),
}

impl Senders<'_> {
    /// Whether `address` may be presented as the sender, beside the profile's `profile_from`.
    pub fn allow(&self, address: &str, profile_from: &str) -> bool {
        match self {
            Senders::Any => true,
            Senders::Listed(list) => {
                address.eq_ignore_ascii_case(profile_from) || listed_sender(list, address)
            }
        }
    }
}

/// Whether `address` is one of `senders`: an address (case not minded) or `@domain`, which
/// stands for every address of that domain (not its subdomains).
pub fn listed_sender(senders: &[String], address: &str) -> bool {
    senders.iter().any(|s| match s.strip_prefix('@') {
        Some(domain) => address
            .rsplit_once('@')
            .is_some_and(|(local, d)| !local.is_empty() && d.eq_ignore_ascii_case(domain)),
        None => s.eq_ignore_ascii_case(address),
    })
}

/// What the caller asked for.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// Recipients given as arguments.
    pub recipients: &'a [String],
    /// `-t`: recipients from the headers too.
    pub extract_recipients: bool,
    /// `-f`/`-r`: `Some(None)` is the null sender `<>`.
    pub sender: Option<Option<&'a str>>,
}

/// Why a message cannot be submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    #[error("no recipients: give them as arguments, or use -t to take them from To/Cc/Bcc")]
    NoRecipients,
    #[error("recipient <{0}> is not an email address")]
    BadRecipient(String),
    #[error(transparent)]
    Alias(#[from] AliasError),
    /// More than [`MAX_FIELDS`] header fields.
    #[error("the message has {0} header fields; at most {MAX_FIELDS} are accepted")]
    TooManyFields(usize),
    /// More than [`MAX_RECIPIENTS`] recipients.
    #[error(
        "the message has {count} recipients or more; at most {MAX_RECIPIENTS} are accepted (send it in batches)"
    )]
    TooManyRecipients {
        count: usize,
        /// Too many were given as arguments (a usage error), not in the headers or by aliases.
        on_command_line: bool,
    },
    #[error("the message contains NUL bytes (line {0}); binary content must be MIME-encoded")]
    Nul(usize),
    #[error(
        "line {0} of the body is longer than 998 octets and the message is already MIME-encoded ({1}); encode that part as quoted-printable or base64"
    )]
    LongLine(usize, String),
    /// The envelope sender or the From is not an address.
    #[error("the {role} {address:?} is not an email address")]
    BadAddress { role: AddressRole, address: String },
    /// An address is at a bare host name (`root@vm123`) and the profile does not allow those.
    #[error(
        "the {role} <{address}> is at the bare host name {domain:?}, not an internet domain; {BARE_HOSTNAME_FIX}"
    )]
    BareHostname {
        role: AddressRole,
        address: String,
        domain: String,
    },
}

/// Where an address that is refused came from; it decides the exit code (64, 65 or 67).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRole {
    /// The envelope sender, from `-f`/`-r` (or `MAIL FROM` in `-bs` mode).
    Sender,
    /// The message's From header.
    From,
    /// A recipient, from the command line, the headers (`-t`) or an alias.
    Recipient,
}

impl std::fmt::Display for AddressRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddressRole::Sender => "envelope sender (-f)",
            AddressRole::From => "From header",
            AddressRole::Recipient => "recipient",
        })
    }
}

/// A message ready for the relay.
#[derive(Debug)]
pub struct Submission {
    pub message: Vec<u8>,
    pub envelope: Envelope,
}

impl Submission {
    /// Refuses what relayctl could not fix: an envelope sender or From that is not an address,
    /// and (unless the profile allows them) a sender, From or recipient at a bare host name
    /// (`root@vm123`). Local ones were rewritten by [`prepare`] already.
    pub fn check_addresses(&self, allow_bare_hostnames: bool) -> Result<(), SubmissionError> {
        let check = |role: AddressRole, address: &str| {
            if role != AddressRole::Recipient && !is_plausible_address(address) {
                return Err(SubmissionError::BadAddress {
                    role,
                    address: address.to_string(),
                });
            }
            match bare_hostname(address) {
                Some(domain) if !allow_bare_hostnames => Err(SubmissionError::BareHostname {
                    role,
                    address: address.to_string(),
                    domain: domain.to_string(),
                }),
                _ => Ok(()),
            }
        };
        if let Some(sender) = &self.envelope.sender {
            check(AddressRole::Sender, sender)?;
        }
        for field in split(&self.message).all("From") {
            let list = parse_list(field.value_bytes());
            if list.is_empty() {
                return Err(SubmissionError::BadAddress {
                    role: AddressRole::From,
                    address: field.value().trim().to_string(),
                });
            }
            for mailbox in list {
                check(AddressRole::From, &mailbox.address)?;
            }
        }
        for recipient in &self.envelope.recipients {
            check(AddressRole::Recipient, recipient)?;
        }
        Ok(())
    }
}

/// Prepares `input` for delivery.
pub fn prepare(
    input: &[u8],
    request: &Request<'_>,
    policy: &SenderPolicy<'_>,
    aliases: &Aliases,
) -> Result<Submission, SubmissionError> {
    if let Some(pos) = input.iter().position(|&b| b == 0) {
        return Err(SubmissionError::Nul(line_number(input, pos)));
    }
    let mut message = split(input);
    if message.fields.len() > MAX_FIELDS {
        return Err(SubmissionError::TooManyFields(message.fields.len()));
    }

    let too_many = |count, on_command_line| SubmissionError::TooManyRecipients {
        count,
        on_command_line,
    };
    if request.recipients.len() > MAX_RECIPIENTS {
        return Err(too_many(request.recipients.len(), true));
    }
    let mut wanted: Vec<String> = request.recipients.to_vec();
    if request.extract_recipients {
        wanted.extend(header_recipients(&message));
    }
    if wanted.len() > MAX_RECIPIENTS {
        return Err(too_many(wanted.len(), false));
    }
    let mut recipients = Vec::new();
    for r in &wanted {
        for address in aliases.resolve(r)? {
            if !is_plausible_address(&address) {
                return Err(SubmissionError::BadRecipient(address));
            }
            if !recipients.contains(&address) {
                recipients.push(address);
            }
        }
        if recipients.len() > MAX_RECIPIENTS {
            return Err(too_many(recipients.len(), false));
        }
    }
    if recipients.is_empty() {
        return Err(SubmissionError::NoRecipients);
    }

    rewrite_local_recipients(&mut message, aliases)?;
    message.remove("Bcc");
    message.remove("Resent-Bcc");
    let sender = envelope_sender(request, policy, aliases);
    rewrite_from(&mut message, policy, aliases);
    add_missing(&mut message, policy, &sender);
    encode_long_lines(&mut message)?;

    Ok(Submission {
        message: message.to_bytes(),
        envelope: Envelope {
            sender,
            recipients,
            dsn: Default::default(),
        },
    })
}

fn line_number(input: &[u8], pos: usize) -> usize {
    input[..pos].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Recipients named in the headers: those of the first (topmost) Resent- block when there is
/// one, else To, Cc and Bcc.
fn header_recipients(message: &Message) -> Vec<String> {
    // Blocks are prepended one above the other; a block ends where a field name repeats.
    let mut seen: Vec<String> = Vec::new();
    let first_resent_block: Vec<&Field> = message
        .fields
        .iter()
        .skip_while(|f| !is_resent(f))
        .take_while(|f| {
            let name = f.name.to_ascii_lowercase();
            let new_block = seen.contains(&name);
            seen.push(name);
            is_resent(f) && !new_block
        })
        .collect();
    let names: &[&str] = &["Resent-To", "Resent-Cc", "Resent-Bcc"];
    let resent: Vec<&Field> = first_resent_block
        .into_iter()
        .filter(|f| names.iter().any(|n| f.is(n)))
        .collect();
    let fields: Vec<&Field> = if resent.is_empty() {
        message
            .fields
            .iter()
            .filter(|f| f.is("To") || f.is("Cc") || f.is("Bcc"))
            .collect()
    } else {
        resent
    };
    fields
        .into_iter()
        .flat_map(|f| parse_list(f.value_bytes()))
        .map(|m| m.address)
        .collect()
}

/// Every field whose name begins `Resent-`, the bare `Resent-:` included: stripping under an
/// enforced sender must not depend on a reader's idea of which suffixes are real.
fn is_resent(f: &Field) -> bool {
    f.name.len() >= 7 && f.name[..7].eq_ignore_ascii_case("resent-")
}

/// Rewrites To/Cc entries that name local users to the addresses they stand for, so that relays
/// do not reject a message `To: root`.
fn rewrite_local_recipients(message: &mut Message, aliases: &Aliases) -> Result<(), AliasError> {
    for i in 0..message.fields.len() {
        let field = &message.fields[i];
        let is_recipient_field = ["To", "Cc", "Resent-To", "Resent-Cc"]
            .iter()
            .any(|n| field.is(n));
        if !is_recipient_field {
            continue;
        }
        let list = parse_list(field.value_bytes());
        if !list
            .iter()
            .any(|m| aliases.local_part(&m.address).is_some())
        {
            continue;
        }
        let mut rewritten = Vec::new();
        for m in list {
            if aliases.local_part(&m.address).is_none() {
                rewritten.push(m);
                continue;
            }
            let targets = aliases.resolve(&m.address)?;
            let keep_name = targets.len() == 1;
            rewritten.extend(
                targets
                    .iter()
                    .map(|t| Mailbox::new(m.name.clone().filter(|_| keep_name), t)),
            );
        }
        let name = field.name.clone();
        message.replace(i, Field::new(&name, &format_list(&rewritten)));
    }
    Ok(())
}

/// The caller's sender when the profile allows it, except a local one (`-f root`, as cron
/// passes), which no relay accepts: that becomes the profile's address, like a local From.
fn envelope_sender(
    request: &Request<'_>,
    policy: &SenderPolicy<'_>,
    aliases: &Aliases,
) -> Option<String> {
    match request.sender {
        Some(Some(requested))
            if policy.senders.allow(requested, policy.profile_from)
                && aliases.local_part(requested).is_none() =>
        {
            Some(requested.to_string())
        }
        Some(None) if matches!(policy.senders, Senders::Any) => None,
        _ => Some(policy.profile_from.to_string()),
    }
}

/// Originator fields other than From that a caller may not choose when the sender is enforced:
/// RFC 5322 section 3.6.2's Sender, every `Resent-*` field of section 3.6.6 (a resent block
/// claims who resent the message), and `Return-Path` (the envelope sender, written by the final
/// delivery). `Reply-To` (also section 3.6.2) stays: it says where replies go, not who wrote the
/// message, and contact forms depend on it.
const ENFORCED_AWAY: [&str; 2] = ["Sender", "Return-Path"];

/// Makes the From one the relay accepts and the profile allows.
///
/// When callers may choose their sender (`allow_from_override`), only a From the relay would
/// refuse is replaced: a local or domainless one (cron's `root`). Otherwise the sender is
/// enforced: the message leaves with exactly one From holding one mailbox, the profile's address
/// (the caller's display name kept), and without the fields of [`ENFORCED_AWAY`] or any
/// `Resent-*` field, so that no list (`From: ceo@x, me@x`), second From, Sender or resent block
/// presents anyone else as the author.
fn rewrite_from(message: &mut Message, policy: &SenderPolicy<'_>, aliases: &Aliases) {
    let any = matches!(policy.senders, Senders::Any);
    if !any {
        message
            .fields
            .retain(|f| !(ENFORCED_AWAY.iter().any(|n| f.is(n)) || is_resent(f)));
    }
    let Some(index) = message.fields.iter().position(|f| f.is("From")) else {
        return;
    };
    let list = parse_list(message.fields[index].value_bytes());
    let replace = match list.as_slice() {
        // cron's `root`: no relay takes it, whatever the policy.
        [only] if aliases.local_part(&only.address).is_some() => true,
        // A list or an empty From is the caller's to write; check_addresses judges it.
        _ if any => false,
        [only] => {
            !policy.senders.allow(&only.address, policy.profile_from)
                || message.all("From").count() > 1
        }
        _ => true,
    };
    if !replace {
        return;
    }
    let name = list
        .first()
        .and_then(|m| m.name.clone())
        .or(policy.full_name.map(str::to_string));
    message.remove("From");
    message.fields.insert(
        index,
        Field::new("From", &Mailbox::new(name, policy.profile_from).to_string()),
    );
    if let Some(reply_to) = policy.reply_to
        && !message.has("Reply-To")
    {
        message
            .fields
            .insert(index + 1, Field::new("Reply-To", reply_to));
    }
}

/// Adds From, Date and Message-ID when the caller did not write them.
fn add_missing(message: &mut Message, policy: &SenderPolicy<'_>, sender: &Option<String>) {
    if !message.has("From") {
        let name = policy.full_name.map(str::to_string);
        let from = Mailbox::new(name, policy.profile_from).to_string();
        message.fields.push(Field::new("From", &from));
    }
    if !message.has("Date") {
        message.fields.push(Field::new("Date", &rfc5322_now()));
    }
    if !message.has("Message-ID") {
        let from = sender.as_deref().unwrap_or(policy.profile_from);
        let domain = from.rsplit_once('@').map(|(_, d)| d).unwrap_or("localhost");
        message
            .fields
            .push(Field::new("Message-ID", &message_id(domain)));
    }
}

/// Sends a body with over-long lines quoted-printable, when the message is a single text part.
fn encode_long_lines(message: &mut Message) -> Result<(), SubmissionError> {
    let Some(line) = message
        .body
        .split(|&b| b == b'\n')
        .position(|l| l.strip_suffix(b"\r").unwrap_or(l).len() > MAX_LINE)
    else {
        return Ok(());
    };
    declare_quoted_printable(
        message,
        line + 1,
        std::str::from_utf8(&message.body).is_ok(),
    )?;
    let crlf_body = crate::message::canonical::canonicalize(&message.body);
    message.body = quoted_printable::encode(crlf_body);
    message.body.extend_from_slice(b"\r\n");
    Ok(())
}

/// Rewrites the headers of a single-part message whose body (line `line` first) exceeds SMTP's
/// line limit so that the body can go quoted-printable; a multipart or already encoded message
/// cannot be fixed that way and is refused.
pub fn declare_quoted_printable(
    message: &mut Message,
    line: usize,
    utf8: bool,
) -> Result<(), SubmissionError> {
    let content_type = message.all("Content-Type").next().map(Field::value);
    let encoding = message
        .all("Content-Transfer-Encoding")
        .next()
        .map(Field::value);
    let multipart = content_type
        .as_deref()
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/"));
    let encoded = encoding
        .as_deref()
        .is_some_and(|e| !matches!(e.to_ascii_lowercase().as_str(), "7bit" | "8bit"));
    if multipart || encoded {
        let what = content_type.or(encoding).unwrap_or_default();
        return Err(SubmissionError::LongLine(line, what));
    }
    message.remove("Content-Transfer-Encoding");
    if !message.has("MIME-Version") {
        message.fields.push(Field::new("MIME-Version", "1.0"));
    }
    if !message.has("Content-Type") {
        let charset = if utf8 { "utf-8" } else { "unknown-8bit" };
        message.fields.push(Field::new(
            "Content-Type",
            &format!("text/plain; charset={charset}"),
        ));
    }
    message
        .fields
        .push(Field::new("Content-Transfer-Encoding", "quoted-printable"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::aliases::AliasTarget;

    fn aliases() -> Aliases {
        let mut table = BTreeMap::new();
        table.insert(
            "root".to_string(),
            AliasTarget::One("ops@example.org".into()),
        );
        Aliases::new(&table, None, vec!["localhost".into()]).unwrap()
    }

    fn policy() -> SenderPolicy<'static> {
        SenderPolicy {
            profile_from: "alerts@example.org",
            senders: Senders::Listed(&[]),
            reply_to: None,
            full_name: None,
        }
    }

    fn run(input: &str, request: Request<'_>, policy: SenderPolicy<'_>) -> (String, Envelope) {
        let s = prepare(input.as_bytes(), &request, &policy, &aliases()).unwrap();
        (String::from_utf8(s.message).unwrap(), s.envelope)
    }

    #[test]
    fn extract_recipients_removes_bcc_including_folded_lines() {
        let input = "From: alerts@example.org\nTo: \"Ops, Team\" <ops@example.org>\nBcc: hidden@example.org,\n  other@example.org\nSubject: s\n\nbody\n";
        let req = Request {
            extract_recipients: true,
            ..Default::default()
        };
        let (text, env) = run(input, req, policy());
        assert_eq!(
            env.recipients,
            ["ops@example.org", "hidden@example.org", "other@example.org"]
        );
        assert!(
            !text.contains("Bcc") && !text.contains("hidden") && !text.contains("other@"),
            "{text}"
        );
        assert!(
            text.starts_with(
                "From: alerts@example.org\r\nTo: \"Ops, Team\" <ops@example.org>\r\nSubject: s\r\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("\r\n\r\nbody\n"),
            "the body is untouched: {text:?}"
        );
    }

    #[test]
    fn command_line_and_header_recipients_are_added_without_duplicates() {
        let cli = vec![
            "extra@example.org".to_string(),
            "ops@example.org".to_string(),
        ];
        let req = Request {
            recipients: &cli,
            extract_recipients: true,
            sender: None,
        };
        let (_, env) = run("To: ops@example.org\n\nx\n", req, policy());
        assert_eq!(env.recipients, ["extra@example.org", "ops@example.org"]);
    }

    /// Regressions found by fuzzing (fuzz/regressions/headers): neither a space before the colon
    /// nor a bare CR before the field lets a Bcc through to the recipients.
    #[test]
    fn hidden_bcc_fields_are_removed_and_used_by_t() {
        for input in [
            &b"To: a@example.org\nBcc : hidden@example.org\n\nx\n"[..],
            &b"To: a@example.org\nSubject: hi\rBcc: hidden@example.org\n\nx\n"[..],
        ] {
            let req = Request {
                extract_recipients: true,
                ..Default::default()
            };
            let s = prepare(input, &req, &policy(), &aliases()).unwrap();
            let wire =
                String::from_utf8(crate::message::canonical::canonicalize(&s.message)).unwrap();
            assert!(!wire.to_ascii_lowercase().contains("hidden@"), "{wire:?}");
            assert!(
                s.envelope
                    .recipients
                    .contains(&"hidden@example.org".to_string())
            );
        }
    }

    #[test]
    fn first_resent_block_wins() {
        let input = "Resent-From: a@example.org\nResent-To: new@example.org\nResent-Date: x\nResent-To: old@example.org\nTo: orig@example.org\n\nx\n";
        let req = Request {
            extract_recipients: true,
            ..Default::default()
        };
        let (_, env) = run(input, req, policy());
        assert_eq!(env.recipients, ["new@example.org"]);
    }

    #[test]
    fn cron_mail_to_root_is_aliased_and_its_from_rewritten() {
        let input = "From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@vm1> echo hi\n\nhi\n";
        let cli = vec!["root".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, env) = run(input, req, policy());
        assert_eq!(env.recipients, ["ops@example.org"]);
        assert_eq!(env.sender.as_deref(), Some("alerts@example.org"));
        assert!(
            text.starts_with(
                "From: \"Cron Daemon\" <alerts@example.org>\r\nTo: ops@example.org\r\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\r\nDate: ") && text.contains("\r\nMessage-ID: <"),
            "{text}"
        );
        assert!(text.contains("@example.org>\r\n"), "{text}");
    }

    #[test]
    fn sender_override_policy() {
        let input = "From: App <noreply@app.example>\nTo: a@example.org\n\nx\n";
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            sender: Some(Some("bounce@app.example")),
            ..Default::default()
        };
        let (text, env) = run(input, req.clone(), policy());
        assert_eq!(env.sender.as_deref(), Some("alerts@example.org"));
        assert!(
            text.starts_with("From: \"App\" <alerts@example.org>\r\n"),
            "{text}"
        );

        let open = SenderPolicy {
            senders: Senders::Any,
            ..policy()
        };
        let (text, env) = run(input, req, open);
        assert_eq!(env.sender.as_deref(), Some("bounce@app.example"));
        assert!(
            text.starts_with("From: App <noreply@app.example>\r\n"),
            "{text}"
        );

        let null = Request {
            recipients: &cli,
            sender: Some(None),
            ..Default::default()
        };
        let (_, env) = run(
            input,
            null,
            SenderPolicy {
                senders: Senders::Any,
                ..policy()
            },
        );
        assert_eq!(env.sender, None);
    }

    /// Review finding 2: with the sender enforced, no originator field of RFC 5322 sections
    /// 3.6.2 and 3.6.6 that the caller wrote presents anyone but the profile as the author.
    #[test]
    fn an_enforced_sender_leaves_one_from_and_no_other_originator() {
        let input = "From: \"CEO\" <ceo@corp.example>, me@corp.example\n\
                     From: second@corp.example\n\
                     Sender: ceo@corp.example\n\
                     Reply-To: replies@corp.example\n\
                     Resent-Date: Fri, 27 Nov 2026 12:00:00 +0000\n\
                     Resent-From: ceo@corp.example\n\
                     Resent-Sender: ceo@corp.example\n\
                     Resent-To: a@example.org\n\
                     Resent-Cc: a@example.org\n\
                     Resent-Bcc: a@example.org\n\
                     Resent-Message-ID: <r@corp.example>\n\
                     Return-Path: <ceo@corp.example>\n\
                     To: a@example.org\n\
                     Subject: s\n\nx\n";
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, env) = run(input, req, policy());
        assert_eq!(env.sender.as_deref(), Some("alerts@example.org"));
        let head = split(text.as_bytes());
        let froms: Vec<String> = head.all("From").map(Field::value).collect();
        assert_eq!(froms, ["\"CEO\" <alerts@example.org>"], "{text}");
        for gone in ["Sender", "Return-Path"] {
            assert!(!head.has(gone), "{gone} left: {text}");
        }
        assert!(!head.fields.iter().any(is_resent), "{text}");
        assert!(!text.contains("ceo@"), "{text}");
        // Where replies go is the caller's to say.
        assert!(
            text.contains("Reply-To: replies@corp.example\r\n"),
            "{text}"
        );

        // Each field alone is enforced the same way.
        for field in [
            "From: a@corp.example, b@corp.example",
            "From: alerts@example.org\nFrom: ceo@corp.example",
            "From: alerts@example.org\nSender: ceo@corp.example",
            "From: alerts@example.org\nResent-From: ceo@corp.example",
            "From: alerts@example.org\nResent-Sender: ceo@corp.example",
            "From: alerts@example.org\nreturn-path : <ceo@corp.example>",
            "From: alerts@example.org\nResent-: ceo@corp.example",
        ] {
            let cli = vec!["a@example.org".to_string()];
            let req = Request {
                recipients: &cli,
                ..Default::default()
            };
            let (text, _) = run(&format!("{field}\nSubject: s\n\nx\n"), req, policy());
            let head = split(text.as_bytes());
            assert_eq!(head.all("From").count(), 1, "{field}: {text}");
            assert!(!text.contains("corp.example"), "{field}: {text}");
        }
    }

    /// The caller's own From (the profile's address) is kept as written, and a caller allowed
    /// to choose their sender keeps lists, Sender and resent blocks.
    #[test]
    fn own_from_and_open_policy_are_left_alone() {
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, _) = run(
            "From: Alerts <ALERTS@example.org>\nSubject: s\n\nx\n",
            req.clone(),
            policy(),
        );
        assert!(
            text.starts_with("From: Alerts <ALERTS@example.org>\r\n"),
            "{text}"
        );
        let open = SenderPolicy {
            senders: Senders::Any,
            ..policy()
        };
        let input = "From: a@corp.example, b@corp.example\nSender: a@corp.example\nResent-From: c@corp.example\n\nx\n";
        let (text, _) = run(input, req, open);
        assert!(
            text.starts_with("From: a@corp.example, b@corp.example\r\nSender: a@corp.example\r\nResent-From: c@corp.example\r\n"),
            "{text}"
        );
    }

    /// Review finding 1: a display name decoded from an encoded word cannot add header fields
    /// when a local recipient is rewritten through the aliases.
    #[test]
    fn decoded_names_cannot_inject_fields() {
        use base64::Engine;
        let evil = "x\r\nX-Relayctl-Submitter: uid 0 (root)\r\nFrom: ceo@corp.example\r\nBcc: victim@example.org";
        let word = base64::engine::general_purpose::STANDARD.encode(evil);
        let input = format!("To: =?utf-8?b?{word}?= <root@localhost>\nSubject: s\n\nx\n");
        let cli = vec!["root".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, env) = run(&input, req, policy());
        assert_eq!(env.recipients, ["ops@example.org"]);
        let head = split(text.as_bytes());
        assert!(
            !head.has("X-Relayctl-Submitter") && !head.has("Bcc"),
            "{text}"
        );
        assert_eq!(head.all("From").count(), 1, "{text}");
        let to: Vec<String> = head.all("To").map(Field::value).collect();
        assert_eq!(to.len(), 1, "{text}");
        assert!(to[0].ends_with("<ops@example.org>"), "{text}");
    }

    #[test]
    fn reply_to_only_when_configured() {
        let input = "From: root\nTo: a@example.org\n\nx\n";
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, _) = run(input, req.clone(), policy());
        assert!(!text.contains("Reply-To"), "{text}");
        let (text, _) = run(
            input,
            req,
            SenderPolicy {
                reply_to: Some("ops@example.org"),
                ..policy()
            },
        );
        assert!(
            text.contains("From: alerts@example.org\r\nReply-To: ops@example.org\r\n"),
            "{text}"
        );
    }

    #[test]
    fn missing_headers_are_added_with_the_full_name() {
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, _) = run(
            "",
            req,
            SenderPolicy {
                full_name: Some("Backup Job"),
                ..policy()
            },
        );
        assert!(
            text.starts_with("From: \"Backup Job\" <alerts@example.org>\r\nDate: "),
            "{text}"
        );
        assert!(text.ends_with("\r\n\r\n"), "empty body: {text:?}");
    }

    #[test]
    fn nul_bytes_and_missing_recipients_are_refused() {
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let err = prepare(b"Subject: x\n\nab\n\0c", &req, &policy(), &aliases()).unwrap_err();
        assert!(matches!(err, SubmissionError::Nul(4)), "{err}");
        let err = prepare(
            b"Subject: x\n\nx",
            &Request::default(),
            &policy(),
            &aliases(),
        )
        .unwrap_err();
        assert!(matches!(err, SubmissionError::NoRecipients));
        let bad = vec!["www-data".to_string()];
        let req = Request {
            recipients: &bad,
            ..Default::default()
        };
        assert!(matches!(
            prepare(b"x", &req, &policy(), &aliases()),
            Err(SubmissionError::Alias(_))
        ));
    }

    #[test]
    fn header_fields_and_recipients_are_limited() {
        let fields = "X-A: b\n".repeat(MAX_FIELDS + 1);
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let err = prepare(fields.as_bytes(), &req, &policy(), &aliases()).unwrap_err();
        assert!(matches!(err, SubmissionError::TooManyFields(1001)), "{err}");

        let many: Vec<String> = (0..=MAX_RECIPIENTS)
            .map(|i| format!("r{i}@example.org"))
            .collect();
        let req = Request {
            recipients: &many,
            ..Default::default()
        };
        let err = prepare(b"Subject: x\n\nx\n", &req, &policy(), &aliases()).unwrap_err();
        assert!(
            matches!(
                err,
                SubmissionError::TooManyRecipients {
                    on_command_line: true,
                    ..
                }
            ),
            "{err}"
        );
        let to = format!("To: {}\n\nx\n", many.join(", "));
        let req = Request {
            extract_recipients: true,
            ..Default::default()
        };
        let err = prepare(to.as_bytes(), &req, &policy(), &aliases()).unwrap_err();
        assert!(
            matches!(
                err,
                SubmissionError::TooManyRecipients {
                    count: 1001,
                    on_command_line: false
                }
            ),
            "{err}"
        );
        let to = format!("To: {}\n\nx\n", many[..MAX_RECIPIENTS].join(", "));
        let s = prepare(to.as_bytes(), &req, &policy(), &aliases()).unwrap();
        assert_eq!(s.envelope.recipients.len(), MAX_RECIPIENTS);
    }

    #[test]
    fn over_long_lines_go_quoted_printable_and_decode_to_the_same_text() {
        let long = "x".repeat(1500);
        let body = format!("short\n{long}\nend\n");
        let cli = vec!["a@example.org".to_string()];
        let req = Request {
            recipients: &cli,
            ..Default::default()
        };
        let (text, _) = run(&format!("Subject: s\n\n{body}"), req.clone(), policy());
        assert!(
            text.contains("Content-Transfer-Encoding: quoted-printable\r\n"),
            "{text}"
        );
        assert!(text.lines().all(|l| l.len() <= 998));
        let encoded = text.split("\r\n\r\n").nth(1).unwrap();
        let decoded =
            quoted_printable::decode(encoded, quoted_printable::ParseMode::Strict).unwrap();
        assert_eq!(
            String::from_utf8(decoded).unwrap().replace("\r\n", "\n"),
            body
        );

        let multipart =
            format!("Content-Type: multipart/mixed; boundary=b\n\n--b\n\n{long}\n--b--\n");
        let err = prepare(multipart.as_bytes(), &req, &policy(), &aliases()).unwrap_err();
        assert!(matches!(err, SubmissionError::LongLine(3, _)), "{err}");
    }

    #[test]
    fn a_local_envelope_sender_becomes_the_profile_address() {
        let open = SenderPolicy {
            senders: Senders::Any,
            ..policy()
        };
        let cli = vec!["a@example.org".to_string()];
        for local in ["root", "root@localhost"] {
            let req = Request {
                recipients: &cli,
                sender: Some(Some(local)),
                ..Default::default()
            };
            let (_, env) = run("Subject: x\n\nx\n", req, open.clone());
            assert_eq!(env.sender.as_deref(), Some("alerts@example.org"), "{local}");
        }
    }

    #[test]
    fn bare_hostnames_and_non_addresses_are_refused_unless_allowed() {
        let open = SenderPolicy {
            senders: Senders::Any,
            ..policy()
        };
        let check = |from: &str, sender: &str, rcpt: &str, allow: bool| {
            let cli = vec![rcpt.to_string()];
            let req = Request {
                recipients: &cli,
                sender: Some(Some(sender)),
                ..Default::default()
            };
            let input = format!("From: {from}\nSubject: x\n\nx\n");
            prepare(input.as_bytes(), &req, &open, &aliases())
                .unwrap()
                .check_addresses(allow)
        };
        let (from, sender, rcpt) = (
            "App <app@app.example>",
            "bounce@app.example",
            "ops@example.org",
        );
        check(from, sender, rcpt, false).unwrap();
        // cron's `root` is rewritten by prepare, so it passes.
        check("root (Cron Daemon)", "root", "root", false).unwrap();

        let refused = [
            (from, "bounce@vm123", rcpt, AddressRole::Sender, "vm123"),
            (
                "app@vm123.localdomain",
                sender,
                rcpt,
                AddressRole::From,
                "vm123.localdomain",
            ),
            (
                from,
                sender,
                "ops@mailhost",
                AddressRole::Recipient,
                "mailhost",
            ),
        ];
        for (from, sender, rcpt, want, host) in refused {
            let err = check(from, sender, rcpt, false).unwrap_err();
            let SubmissionError::BareHostname { role, domain, .. } = &err else {
                panic!("{err:?}");
            };
            assert_eq!((*role, domain.as_str()), (want, host));
            let text = err.to_string();
            assert!(
                text.contains("allow_bare_hostnames = true") && !text.contains('\n'),
                "{text}"
            );
            check(from, sender, rcpt, true).unwrap();
        }

        let err = check(from, "a b@app.example", rcpt, true).unwrap_err();
        assert!(
            matches!(
                &err,
                SubmissionError::BadAddress {
                    role: AddressRole::Sender,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = check("undisclosed:;", sender, rcpt, true).unwrap_err();
        assert!(
            matches!(
                &err,
                SubmissionError::BadAddress {
                    role: AddressRole::From,
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
