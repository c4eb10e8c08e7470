//! `relayctl send`: compose a message from options and stdin, and hand it to the queue.

use crate::cli::SendArgs;
use crate::commands::{Context, read_stdin};
use crate::error::Result;
use crate::message::compose::{Draft, compose, parse_mailbox};

pub fn execute(ctx: &Context, args: SendArgs) -> Result<()> {
    let config = ctx.location.load()?;
    let selected = ctx.select_from(&config)?;
    let from = parse_mailbox("--from", &selected.sender(args.from)?)?;
    let parse_all = |option: &str, list: &[String]| {
        list.iter()
            .map(|a| parse_mailbox(option, a))
            .collect::<Result<Vec<_>>>()
    };
    let draft = Draft {
        from,
        to: parse_all("--to", &args.to)?,
        cc: parse_all("--cc", &args.cc)?,
        bcc: parse_all("--bcc", &args.bcc)?,
        subject: args.subject,
        body: read_stdin(selected.profile.max_message_size().0)?,
        attachments: args.attach,
    };
    let (message, envelope) = compose(draft)?;
    ctx.submit(&config, &selected, &envelope, &message)
}
