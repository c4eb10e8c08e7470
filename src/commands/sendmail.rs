//! `relayctl sendmail RECIPIENT...`: deliver a complete message read from stdin, with the
//! profile's address as envelope sender.

use crate::cli::SendmailArgs;
use crate::commands::{Context, read_stdin};
use crate::error::{Error, Result};
use crate::message::is_plausible_address;
use crate::relay::{Envelope, deliver};

pub fn execute(ctx: &Context, args: SendmailArgs) -> Result<()> {
    if let Some(bad) = args.recipients.iter().find(|r| !is_plausible_address(r)) {
        return Err(Error::Usage(format!(
            "recipient {bad:?} is not an email address (user@domain)"
        )));
    }
    let selected = ctx.select_profile()?;
    let envelope = Envelope {
        sender: Some(selected.sender(None)?),
        recipients: args.recipients,
    };
    let message = read_stdin(selected.profile.max_message_size().0)?;
    if message.is_empty() {
        return Err(Error::Message("no message on standard input".into()));
    }
    let reply = deliver(
        &selected.name,
        &selected.profile,
        &|| selected.read_secret(),
        &envelope,
        &message,
        &ctx.transcript,
    )?;
    ctx.transcript.note(&format!("accepted: {reply}"));
    Ok(())
}
