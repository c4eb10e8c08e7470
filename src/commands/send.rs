//! `relayctl send`: compose a message from options and stdin, and hand it to the queue.

use std::io::IsTerminal;

use lettre::message::Mailbox;

use crate::aliases::Aliases;
use crate::cli::SendArgs;
use crate::commands::read_stdin;
use crate::error::{Error, Result};
use crate::message::compose::{
    Attachment, Draft, SizeLimit, ZIP_NAME, check_size, compose, parse_mailbox, zip,
};
use crate::message::submission::{AddressRole, SubmissionError};
use crate::message::{BARE_HOSTNAME_FIX, bare_hostname, is_single_line};
use crate::options::Options;
use crate::submit::{Handed, Intake, Ready};

/// Runs `relayctl send`. Everything that can be refused (line breaks, addresses, the encoded
/// size) is refused before the message is queued.
pub fn execute(options: &Options, args: SendArgs) -> Result<()> {
    refuse_line_breaks(&args)?;
    let mut intake = Intake::load(options)?;
    if let Some(given) = &args.from {
        intake.route(Some(parse_mailbox("--from", given)?.email.as_ref()))?;
    }
    let selected = &intake.selected;
    let allow_bare = selected.profile.allow_bare_hostnames;
    // The profile's own `from` was checked when the config was loaded.
    let given_from = args.from.is_some();
    let from = parse_mailbox("--from", &selected.sender(args.from)?)?;
    if given_from
        && !allow_bare
        && let Some(domain) = bare_hostname(from.email.as_ref())
    {
        return Err(Error::Usage(format!(
            "--from <{}> is at the bare host name {domain:?}, not an internet domain; {BARE_HOSTNAME_FIX}",
            from.email
        )));
    }
    let recipients = |option: &str, list: &[String]| -> Result<Vec<Mailbox>> {
        let mut out = Vec::new();
        for value in list {
            for mailbox in local_recipient(option, value, &intake.aliases)? {
                let address = mailbox.email.to_string();
                if let Some(domain) = bare_hostname(&address).filter(|_| !allow_bare) {
                    return Err(SubmissionError::BareHostname {
                        role: AddressRole::Recipient,
                        domain: domain.to_string(),
                        address,
                    }
                    .into());
                }
                out.push(mailbox);
            }
        }
        Ok(out)
    };
    let (to, cc, bcc) = (
        recipients("--to", &args.to)?,
        recipients("--cc", &args.cc)?,
        recipients("--bcc", &args.bcc)?,
    );
    let limit = SizeLimit {
        profile: &selected.name,
        bytes: selected.profile.max_message_size().0,
    };
    let mut attachments = args
        .attach
        .iter()
        .map(|path| Attachment::from_path(path, limit.bytes))
        .collect::<Result<Vec<_>>>()?;
    if args.zip {
        attachments = vec![zip(&attachments, &limit)?];
    } else {
        for a in attachments.iter().filter(|a| a.is_commonly_blocked()) {
            crate::messages::warning(&format!(
                "{} is a program or script type that relays' virus scanners often block; --zip sends it inside {ZIP_NAME} (some providers, Gmail among them, look inside archives too)",
                a.name
            ));
        }
    }
    let draft = Draft {
        from,
        to,
        cc,
        bcc,
        subject: args.subject,
        body: read_stdin(limit.bytes)?,
        attachments,
    };
    // From the attachments' sizes, before any is read (except by --zip, which must compress them
    // to know): a message the relay would refuse is never queued.
    let size = check_size(&draft, &limit)?;
    options.transcript.note(&format!(
        "message size {size} bytes (profile limit {})",
        limit.bytes
    ));
    let (message, envelope) = compose(&draft)?;
    let mut ready = Ready::whole(envelope, message, &options.scratch_dir())?;
    // On a terminal a person waits to hear what happened; scripts get silence, as from sendmail.
    let report = std::io::stdout().is_terminal();
    intake.report = report;
    let handed = intake.submit(&mut ready)?;
    if report && handed != Handed::Reported {
        println!("{handed}");
    }
    Ok(())
}

/// The mailboxes `value` (an option's address, `Name <address>`, or a local user such as
/// `root`) stands for: a local recipient goes through the aliases exactly as `sendmail root`
/// does (its display name kept when it stands for one address).
fn local_recipient(option: &str, value: &str, aliases: &Aliases) -> Result<Vec<Mailbox>> {
    let (name, address) = match parse_mailbox(option, value) {
        Ok(m) => (m.name, m.email.to_string()),
        Err(_) if aliases.local_part(value.trim()).is_some() => (None, value.trim().to_string()),
        Err(e) => return Err(e),
    };
    if aliases.local_part(&address).is_none() {
        return Ok(vec![parse_mailbox(option, value)?]);
    }
    let targets = aliases.resolve(&address)?;
    let keep_name = targets.len() == 1;
    targets
        .iter()
        .map(|t| {
            let mut mailbox = parse_mailbox(option, t)?;
            mailbox.name = name.clone().filter(|_| keep_name);
            Ok(mailbox)
        })
        .collect()
}

/// Refuses any value that would go into a header with a CR, LF or NUL in it: it would end the
/// field and start another (`--subject $'x\nBcc: victim@example.org'`).
fn refuse_line_breaks(args: &SendArgs) -> Result<()> {
    let mut values = vec![("--subject", &args.subject)];
    values.extend(args.from.iter().map(|v| ("--from", v)));
    for (option, list) in [("--to", &args.to), ("--cc", &args.cc), ("--bcc", &args.bcc)] {
        values.extend(list.iter().map(|v| (option, v)));
    }
    for (option, value) in values {
        if !is_single_line(value) {
            return Err(Error::Usage(format!(
                "{option} {value:?} contains a line break or NUL, which could add headers; refused"
            )));
        }
    }
    Ok(())
}
