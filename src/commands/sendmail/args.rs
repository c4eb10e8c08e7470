//! The legacy `sendmail` command line.
//!
//! Cron, PHP, mailx and many other programs hand mail to `/usr/sbin/sendmail` with a
//! handful of traditional options (`-t`, `-i`, `-f sender`, `-oi`, `-bs`, ...). This module
//! turns such a command line into an [`Invocation`], with the same meaning as Postfix's
//! sendmail(1) unless documented otherwise.
//!
//! Options are parsed like POSIX `getopt`: flags may be clustered (`-ti`), an option that
//! takes a value takes the rest of its argument or else the next argument (`-froot`,
//! `-f root`, `-tf root`), and options end at the first argument that is not an option or
//! at `--`. Everything after that is a recipient.
//!
//! Options that only make sense for a full mail server (`-L`, `-O`, `-X`, `-h`, `-A`,
//! `-G`, `-U`, `-n`, most `-o` options and the `-q` arguments) are accepted and ignored, so
//! that existing callers keep working. Daemon and test modes (`-bd`, `-bD`, `-bh`, `-bH`,
//! `-bt`) are refused with an explanation.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::message::envelope::{Dsn, DsnError};
use crate::message::is_single_line;

/// What the invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// -bm (default): read a message from stdin and deliver it.
    Deliver,
    /// -bp, or invoked as `mailq`: list the queue.
    ListQueue,
    /// -bs: an SMTP dialogue on stdin/stdout.
    SmtpSession,
    /// -bi, or invoked as `newaliases`.
    Newaliases,
    /// -bv: verify recipients without sending.
    Verify,
    /// `-q`, `-q<interval>`, `-qR<site>`, `-qS<site>`, `-qI<id>` (and `-qR site` etc.): process
    /// the queue.
    QueueRun,
    /// `--help`, or `-h` with nothing after it (where it cannot be the hop count): the front
    /// end's help.
    Help,
}

impl Mode {
    /// Whether this mode hands over a message: the only modes a set-user-ID relayctl allows
    /// ([`crate::gate::allow`]). Listing the queue shows other users' mail, a queue run
    /// and `-bv` use the relay's login for the caller.
    pub fn submits(self) -> bool {
        match self {
            Mode::Deliver | Mode::SmtpSession => true,
            Mode::ListQueue | Mode::Newaliases | Mode::Verify | Mode::QueueRun | Mode::Help => {
                false
            }
        }
    }

    /// The option that selects the mode, for messages.
    pub fn option(self) -> &'static str {
        match self {
            Mode::Deliver => "-bm",
            Mode::ListQueue => "-bp",
            Mode::SmtpSession => "-bs",
            Mode::Newaliases => "-bi",
            Mode::Verify => "-bv",
            Mode::QueueRun => "-q",
            Mode::Help => "--help",
        }
    }
}

/// -B body type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `-B 8BITMIME`: the body may contain 8-bit data.
    EightBitMime,
    /// `-B 7BIT`: the body is plain 7-bit ASCII.
    SevenBit,
}

/// The envelope sender asked for with -f / -r.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// -f '<>' or -f '' : the null sender.
    Null,
    /// An address; surrounding angle brackets are removed (`-f '<a@b>'` -> "a@b").
    Address(String),
}

/// The options, for `relayctl sendmail --help` and `relayctl help sendmail`
/// (relayctl-sendmail(8) says more).
pub const OPTIONS_HELP: &str = "\
sendmail options (as Postfix's sendmail(1); relayctl-sendmail(8) has the details):
  -t                  Also take recipients from the To, Cc and Bcc headers (Bcc is never sent)
  -i, -oi             A line with a single dot does not end the message
  -f ADDR, -r ADDR    Envelope sender (kept only where the profile sets allow_from_override)
  -F NAME             Full name for a From header relayctl writes
  -N DSN              Delivery status notifications: never, or failure,delay,success
  -R full|hdrs        How much of the message a bounce returns
  -V ENVID            Envelope identifier for delivery status notifications
  -B 7BIT|8BITMIME    Body type
  -bm                 Deliver a message from standard input (the default)
  -bp                 List the queue (also: mailq)
  -bs                 Speak SMTP on standard input and output
  -bi                 Nothing to rebuild (also: newaliases): aliases are read from the config
  -bv                 Ask the relay about the recipients; send nothing
  -q                  Deliver every queued message now
  -v                  Show the SMTP dialogue on stderr
  -C FILE             Use this config file
  -h N, -L, -G, -U, -O, -X, -A, -o...   Accepted and ignored
  -h, --help          This help (-h with nothing after it)

The subject is a header of the message: to give one on the command line, use
`relayctl send --subject TEXT` or `mail -s TEXT`.";

/// A parsed sendmail command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// What to do: deliver a message (the default), list the queue, run an SMTP session, ...
    pub mode: Mode,
    /// Recipients given as arguments, in order, exactly as written (after `--` too).
    ///
    /// An argument holding several addresses separated by commas (`a@x,b@y`) gives one
    /// recipient per address, with surrounding spaces removed and empty items dropped.
    /// Commas inside double quotes or angle brackets do not separate addresses.
    pub recipients: Vec<String>,
    /// -t: also take recipients from the message headers.
    pub extract_recipients: bool,
    /// -i, -oi (or `-o i`): a line with a single dot does not end the input.
    pub ignore_dots: bool,
    /// -f or -r: the envelope sender; the last one given wins.
    pub sender: Option<Sender>,
    /// -F full name (`-oF...` is NOT this: it is a sendmail option that is ignored).
    pub full_name: Option<String>,
    /// Delivery status notifications: -N (when to notify), -R (how much a bounce returns),
    /// -V (the envelope id: 1 to 100 printable ASCII characters, spaces and tabs; it goes to
    /// the relay xtext-encoded).
    pub dsn: Dsn,
    /// -B: the body type of the message.
    pub body_type: Option<BodyType>,
    /// -v (may be given several times; any number means verbose).
    pub verbose: bool,
    /// -C file: use this config file.
    pub config: Option<PathBuf>,
}

/// A command line that cannot be accepted. Display is ONE line, suitable after "relayctl: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl Default for Invocation {
    /// The invocation of a plain `sendmail` without arguments: deliver a message read from
    /// standard input, with no recipients and no options.
    fn default() -> Self {
        Self::with_mode(Mode::Deliver)
    }
}

impl Invocation {
    /// The invocation of `mailq`.
    #[must_use]
    pub fn list_queue() -> Self {
        Self::with_mode(Mode::ListQueue)
    }

    /// The invocation of `newaliases`.
    #[must_use]
    pub fn newaliases() -> Self {
        Self::with_mode(Mode::Newaliases)
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            mode,
            recipients: Vec::new(),
            extract_recipients: false,
            ignore_dots: false,
            sender: None,
            full_name: None,
            dsn: Dsn::default(),
            body_type: None,
            verbose: false,
            config: None,
        }
    }
}

/// Parses the arguments that follow the program name (`argv[1..]`).
///
/// See the [module documentation](self) for the rules.
///
/// # Errors
///
/// A [`UsageError`] for an argument that is not valid UTF-8, an unknown option, an option
/// without its value, an invalid value (`-N`, `-R`, `-B`, `-V`, `-h`, `-A`, `-b`, `-o`), or a
/// mode relayctl does not support (`-bd`, `-bD`, `-bh`, `-bH`, `-bt`).
pub fn parse(args: &[OsString]) -> Result<Invocation, UsageError> {
    parse_onto(Invocation::default(), args)
}

/// Parses a command line for the program `name` (`argv[0]`) with the arguments `args`
/// (`argv[1..]`).
///
/// Invoked as `mailq` the mode starts as [`Mode::ListQueue`], as `newaliases` it starts as
/// [`Mode::Newaliases`]; the arguments are then parsed as usual (`mailq -v`). Any other name
/// is the same as [`parse`]. Only the file name counts: `/usr/bin/mailq` is `mailq`.
///
/// # Errors
///
/// The same as [`parse`].
pub fn for_program(name: &str, args: &[OsString]) -> Result<Invocation, UsageError> {
    let start = match Path::new(name).file_name().and_then(|n| n.to_str()) {
        Some("mailq") => Invocation::list_queue(),
        Some("newaliases") => Invocation::newaliases(),
        _ => Invocation::default(),
    };
    parse_onto(start, args)
}

/// How an option that takes a value applies it.
type ApplyValue = fn(&mut Invocation, &str) -> Result<(), UsageError>;

/// The options that take a value (other than `-o` and `-q`, which have their own rules).
const VALUE_OPTIONS: &[(char, ApplyValue)] = &[
    ('f', set_sender),
    ('r', set_sender),
    ('F', |inv, value| {
        inv.full_name = Some(value.to_owned());
        Ok(())
    }),
    ('N', |inv, value| {
        inv.dsn.notify = Some(parse_dsn('N', value)?);
        Ok(())
    }),
    ('R', |inv, value| {
        inv.dsn.ret = Some(parse_dsn('R', value)?);
        Ok(())
    }),
    ('V', |inv, value| {
        inv.dsn.envid = Some(parse_dsn('V', value)?);
        Ok(())
    }),
    ('B', |inv, value| {
        inv.body_type = Some(parse_body_type(value)?);
        Ok(())
    }),
    ('C', |inv, value| {
        inv.config = Some(PathBuf::from(value));
        Ok(())
    }),
    ('b', |inv, value| {
        inv.mode = parse_mode(value)?;
        Ok(())
    }),
    // Syslog tag, sendmail option=value, log file: accepted and ignored (-X is never opened).
    ('L', |_, _| Ok(())),
    ('O', |_, _| Ok(())),
    ('X', |_, _| Ok(())),
    ('h', check_hop_count),
    ('A', check_submit_cf),
];

/// The arguments, read from left to right.
struct Cursor<'a> {
    args: &'a [String],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.args.get(self.pos).map(String::as_str)
    }

    fn take(&mut self) -> Option<&'a str> {
        let arg = self.peek();
        if arg.is_some() {
            self.pos += 1;
        }
        arg
    }

    /// Takes the next argument as the value of `option` (such as `-f`).
    fn value(&mut self, option: &str) -> Result<&'a str, UsageError> {
        self.take()
            .ok_or_else(|| UsageError(format!("option {option} needs a value")))
    }

    fn remaining(&self) -> &'a [String] {
        self.args.get(self.pos..).unwrap_or_default()
    }
}

fn parse_onto(mut inv: Invocation, args: &[OsString]) -> Result<Invocation, UsageError> {
    let args = to_strings(args)?;
    let mut cursor = Cursor {
        args: &args,
        pos: 0,
    };
    while let Some(arg) = cursor.peek() {
        if arg == "--" {
            cursor.take();
            break;
        }
        let Some(cluster) = arg.strip_prefix('-') else {
            break;
        };
        if arg == "--help" {
            return Ok(Invocation::with_mode(Mode::Help));
        }
        if cluster.is_empty() || cluster.starts_with('-') {
            return Err(unknown(arg));
        }
        cursor.take();
        parse_cluster(&mut inv, cluster, &mut cursor)?;
    }
    for arg in cursor.remaining() {
        if !is_single_line(arg) {
            return Err(injection("recipient", arg));
        }
        push_recipients(&mut inv.recipients, arg);
    }
    Ok(inv)
}

fn to_strings(args: &[OsString]) -> Result<Vec<String>, UsageError> {
    args.iter()
        .enumerate()
        .map(|(index, arg)| {
            arg.to_str().map(str::to_owned).ok_or_else(|| {
                UsageError(format!(
                    "argument {} is not valid UTF-8: {:?}",
                    index + 1,
                    arg.to_string_lossy()
                ))
            })
        })
        .collect()
}

/// Parses one option argument without its leading `-`: one or more option letters.
fn parse_cluster<'a>(
    inv: &mut Invocation,
    cluster: &'a str,
    cursor: &mut Cursor<'a>,
) -> Result<(), UsageError> {
    for (index, letter) in cluster.char_indices() {
        let rest = &cluster[index + letter.len_utf8()..];
        match letter {
            't' => inv.extract_recipients = true,
            'i' => inv.ignore_dots = true,
            'v' => inv.verbose = true,
            // Gateway submission, initial user submission, no aliasing: ignored.
            'G' | 'U' | 'n' => {}
            'q' => return queue_run(inv, rest, cursor),
            'o' => return sendmail_option(inv, rest, cursor),
            // `-h` alone is a request for help: as the hop count it would need a value.
            'h' if rest.is_empty() && cursor.peek().is_none() => {
                inv.mode = Mode::Help;
                return Ok(());
            }
            's' => {
                return Err(UsageError(
                    "-s is not a sendmail option: the subject is the message's own Subject: header; to give one on the command line use `relayctl send --subject TEXT` or `mail -s TEXT`".to_owned(),
                ));
            }
            _ => {
                let Some((_, apply)) = VALUE_OPTIONS.iter().find(|(l, _)| *l == letter) else {
                    return Err(unknown(&format!("-{letter}")));
                };
                let value = if rest.is_empty() {
                    cursor.value(&format!("-{letter}"))?
                } else {
                    rest
                };
                // The sender and full name end up in MAIL FROM and the From header.
                if matches!(letter, 'f' | 'r' | 'F') && !is_single_line(value) {
                    return Err(injection(&format!("-{letter}"), value));
                }
                return apply(inv, value);
            }
        }
    }
    Ok(())
}

/// An option relayctl does not know, with where to find the ones it does.
fn unknown(option: &str) -> UsageError {
    UsageError(format!(
        "unknown option {} (see relayctl sendmail --help)",
        option.escape_debug()
    ))
}

/// A value that would end a header field or SMTP command and start another.
fn injection(what: &str, value: &str) -> UsageError {
    UsageError(format!(
        "{what} {value:?} contains a line break or NUL, which could add headers or SMTP commands; refused"
    ))
}

/// `-q` with what follows it in its argument (`rest`).
fn queue_run(inv: &mut Invocation, rest: &str, cursor: &mut Cursor<'_>) -> Result<(), UsageError> {
    inv.mode = Mode::QueueRun;
    // `-qR site`, `-qS site`, `-qI id`: the site or id is the next argument. A bare `-q`
    // and an attached interval, site or id consume nothing more. The values are ignored.
    if matches!(rest, "R" | "S" | "I") {
        cursor.value(&format!("-q{rest}"))?;
    }
    Ok(())
}

/// `-o` with what follows it in its argument (`rest`): a sendmail single-character option.
fn sendmail_option(
    inv: &mut Invocation,
    rest: &str,
    cursor: &mut Cursor<'_>,
) -> Result<(), UsageError> {
    let spec = if rest.is_empty() {
        cursor.value("-o")?
    } else {
        rest
    };
    let mut chars = spec.chars();
    let Some(letter) = chars.next() else {
        return Err(UsageError("option -o needs an option letter".to_owned()));
    };
    let attached = chars.as_str();
    match letter {
        'i' => inv.ignore_dots = switch(letter, attached)?,
        'v' => inv.verbose = switch(letter, attached)?,
        'm' | 's' | 'n' | '7' | '8' => {
            switch(letter, attached)?;
        }
        _ if letter.is_ascii_alphabetic() => {
            if attached.is_empty() {
                cursor.value(&format!("-o{letter}"))?;
            }
        }
        _ => return Err(unknown(&format!("-o{spec}"))),
    }
    Ok(())
}

/// The value of a boolean `-o` option: nothing or `true` turns it on, `false` off.
fn switch(letter: char, value: &str) -> Result<bool, UsageError> {
    if value.is_empty() || value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(UsageError(format!(
            "invalid value {value:?} for -o{letter} (expected nothing, `true` or `false`)"
        )))
    }
}

fn set_sender(inv: &mut Invocation, value: &str) -> Result<(), UsageError> {
    let address = value
        .strip_prefix('<')
        .and_then(|inner| inner.strip_suffix('>'))
        .unwrap_or(value);
    inv.sender = Some(if address.is_empty() {
        Sender::Null
    } else {
        Sender::Address(address.to_owned())
    });
    Ok(())
}

/// A DSN option's value, checked as the envelope type checks it wherever it comes from.
fn parse_dsn<T: std::str::FromStr<Err = DsnError>>(
    option: char,
    value: &str,
) -> Result<T, UsageError> {
    value
        .parse()
        .map_err(|e| UsageError(format!("invalid -{option} value {value:?}: {e}")))
}

fn parse_body_type(value: &str) -> Result<BodyType, UsageError> {
    if value.eq_ignore_ascii_case("8BITMIME") {
        Ok(BodyType::EightBitMime)
    } else if value.eq_ignore_ascii_case("7BIT") {
        Ok(BodyType::SevenBit)
    } else {
        Err(UsageError(format!(
            "invalid -B value {value:?} (expected `8BITMIME` or `7BIT`)"
        )))
    }
}

fn parse_mode(value: &str) -> Result<Mode, UsageError> {
    let unsupported = |what: &str| {
        Err(UsageError(format!(
            "-b{value} ({what}) is not supported by relayctl"
        )))
    };
    match value {
        "m" => Ok(Mode::Deliver),
        "p" => Ok(Mode::ListQueue),
        "s" => Ok(Mode::SmtpSession),
        "i" => Ok(Mode::Newaliases),
        "v" => Ok(Mode::Verify),
        "d" | "D" => Err(UsageError(format!(
            "-b{value} (daemon mode) is not supported: relayctl does not accept mail from the network"
        ))),
        "h" => unsupported("host status"),
        "H" => unsupported("purging host status"),
        "t" => unsupported("address test mode"),
        _ => Err(UsageError(format!(
            "unknown mode -b{} (expected -bm, -bp, -bs, -bi or -bv)",
            value.escape_debug()
        ))),
    }
}

/// `-h hops`: a non-negative integer, otherwise ignored.
fn check_hop_count(_: &mut Invocation, value: &str) -> Result<(), UsageError> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(UsageError(format!(
            "invalid -h value {value:?} (expected a hop count, a non-negative integer)"
        )))
    }
}

/// `-Am` / `-Ac`: which sendmail configuration file to use; accepted and ignored.
fn check_submit_cf(_: &mut Invocation, value: &str) -> Result<(), UsageError> {
    if value == "m" || value == "c" {
        Ok(())
    } else {
        Err(UsageError(format!(
            "invalid -A value {value:?} (expected `m` or `c`)"
        )))
    }
}

/// Adds the recipients in one argument: addresses separated by commas that are not inside
/// double quotes or angle brackets, trimmed, empty ones dropped.
fn push_recipients(recipients: &mut Vec<String>, arg: &str) {
    let mut push = |item: &str| {
        let item = item.trim();
        if !item.is_empty() {
            recipients.push(item.to_owned());
        }
    };
    let (mut start, mut quoted, mut escaped, mut angle_depth) = (0, false, false, 0usize);
    for (index, c) in arg.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle_depth += 1,
            '>' if !quoted => angle_depth = angle_depth.saturating_sub(1),
            ',' if !quoted && angle_depth == 0 => {
                push(&arg[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    push(&arg[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::envelope::{EnvId, Notify, Ret};

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn rcpts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn addr(a: &str) -> Option<Sender> {
        Some(Sender::Address(a.to_owned()))
    }

    const fn on(failure: bool, delay: bool, success: bool) -> Option<Notify> {
        Some(Notify::On {
            failure,
            delay,
            success,
        })
    }

    fn envid(text: &str) -> Option<EnvId> {
        Some(text.parse().unwrap())
    }

    /// Turns the default invocation into the expected one.
    type Edit = fn(&mut Invocation);

    /// Command lines that parse, with the changes they make to the default invocation.
    const OK: &[(&[&str], Edit)] = &[
        // Nothing, recipients.
        (&[], |_| {}),
        (&["a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["a@b", "c@d"], |w| w.recipients = rcpts(&["a@b", "c@d"])),
        (&["a@x,b@y"], |w| w.recipients = rcpts(&["a@x", "b@y"])),
        (&[" a@x , ,b@y ", "c@z"], |w| {
            w.recipients = rcpts(&["a@x", "b@y", "c@z"])
        }),
        (&[","], |_| {}),
        (&[""], |_| {}),
        (&["\"Doe, J\" <j@x>, k@y"], |w| {
            w.recipients = rcpts(&["\"Doe, J\" <j@x>", "k@y"])
        }),
        (&["<@a,@b:u@c>"], |w| w.recipients = rcpts(&["<@a,@b:u@c>"])),
        (&["\"a\\\",b\"@x,c@y"], |w| {
            w.recipients = rcpts(&["\"a\\\",b\"@x", "c@y"])
        }),
        // Options end at the first non-option (POSIX).
        (&["a@b", "-t", "-f", "x"], |w| {
            w.recipients = rcpts(&["a@b", "-t", "-f", "x"])
        }),
        // `--`.
        (&["--", "-t"], |w| w.recipients = rcpts(&["-t"])),
        (&["--", "--", "-"], |w| w.recipients = rcpts(&["--", "-"])),
        (&["-t", "--"], |w| w.extract_recipients = true),
        (&["--", "a@x,b@y"], |w| {
            w.recipients = rcpts(&["a@x", "b@y"])
        }),
        // Flags.
        (&["-t"], |w| w.extract_recipients = true),
        (&["-i"], |w| w.ignore_dots = true),
        (&["-v"], |w| w.verbose = true),
        (&["-v", "-v"], |w| w.verbose = true),
        (&["-vv"], |w| w.verbose = true),
        (&["-G", "-U", "-n"], |_| {}),
        (&["-GUn", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        // Clusters.
        (&["-ti"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
        }),
        (&["-it"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
        }),
        (&["-tv"], |w| {
            w.extract_recipients = true;
            w.verbose = true;
        }),
        (&["-tivGUn"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
            w.verbose = true;
        }),
        // -f / -r.
        (&["-f", "root"], |w| w.sender = addr("root")),
        (&["-froot"], |w| w.sender = addr("root")),
        (&["-tf", "root"], |w| {
            w.extract_recipients = true;
            w.sender = addr("root");
        }),
        (&["-tfroot"], |w| {
            w.extract_recipients = true;
            w.sender = addr("root");
        }),
        (&["-ft"], |w| w.sender = addr("t")),
        (&["-f", "-t"], |w| w.sender = addr("-t")),
        (&["-r", "root"], |w| w.sender = addr("root")),
        (&["-rroot"], |w| w.sender = addr("root")),
        (&["-f", "<>"], |w| w.sender = Some(Sender::Null)),
        (&["-f<>"], |w| w.sender = Some(Sender::Null)),
        (&["-f", ""], |w| w.sender = Some(Sender::Null)),
        (&["-r", "<>"], |w| w.sender = Some(Sender::Null)),
        (&["-f", "<a@b>"], |w| w.sender = addr("a@b")),
        (&["-f<a@b>", "c@d"], |w| {
            w.sender = addr("a@b");
            w.recipients = rcpts(&["c@d"]);
        }),
        (&["-f", "<a@b"], |w| w.sender = addr("<a@b")),
        (&["-f", "a@b", "-r", "c@d"], |w| w.sender = addr("c@d")),
        (&["-r", "a@b", "-f", "<>"], |w| {
            w.sender = Some(Sender::Null)
        }),
        // -F.
        (&["-F", "Cron Daemon"], |w| {
            w.full_name = Some("Cron Daemon".into())
        }),
        (&["-FCronDaemon"], |w| {
            w.full_name = Some("CronDaemon".into())
        }),
        (&["-tF", "x@y"], |w| {
            w.extract_recipients = true;
            w.full_name = Some("x@y".into());
        }),
        // -N.
        (&["-N", "never"], |w| w.dsn.notify = Some(Notify::Never)),
        (&["-NNEVER"], |w| w.dsn.notify = Some(Notify::Never)),
        (&["-N", "failure"], |w| {
            w.dsn.notify = on(true, false, false)
        }),
        (&["-Nsuccess"], |w| w.dsn.notify = on(false, false, true)),
        (&["-N", "failure,delay"], |w| {
            w.dsn.notify = on(true, true, false)
        }),
        (&["-NFAILURE, Delay ,success"], |w| {
            w.dsn.notify = on(true, true, true)
        }),
        (&["-N", "delay,delay"], |w| {
            w.dsn.notify = on(false, true, false)
        }),
        (&["-N", "never,never"], |w| {
            w.dsn.notify = Some(Notify::Never)
        }),
        // -R.
        (&["-R", "full"], |w| w.dsn.ret = Some(Ret::Full)),
        (&["-RFULL"], |w| w.dsn.ret = Some(Ret::Full)),
        (&["-R", "HDRS"], |w| w.dsn.ret = Some(Ret::Headers)),
        (&["-Rhdrs"], |w| w.dsn.ret = Some(Ret::Headers)),
        // -V.
        (&["-V", "abc123"], |w| w.dsn.envid = envid("abc123")),
        (&["-Vabc123"], |w| w.dsn.envid = envid("abc123")),
        (&["-V", "!~<x@y>+="], |w| w.dsn.envid = envid("!~<x@y>+=")),
        (&["-V", "a b"], |w| w.dsn.envid = envid("a b")),
        // -B.
        (&["-B", "8BITMIME"], |w| {
            w.body_type = Some(BodyType::EightBitMime)
        }),
        (&["-B8bitmime"], |w| {
            w.body_type = Some(BodyType::EightBitMime)
        }),
        (&["-B", "7BIT"], |w| w.body_type = Some(BodyType::SevenBit)),
        (&["-B7bit"], |w| w.body_type = Some(BodyType::SevenBit)),
        // -C.
        (&["-C", "/etc/relayctl.toml"], |w| {
            w.config = Some("/etc/relayctl.toml".into())
        }),
        (&["-C/etc/relayctl.toml"], |w| {
            w.config = Some("/etc/relayctl.toml".into())
        }),
        // Accepted and ignored: -L, -O, -X, -h, -A.
        (&["-L", "tag", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-Ltag", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-O", "Timeout.connect=5s", "a@b"], |w| {
            w.recipients = rcpts(&["a@b"])
        }),
        (&["-OTimeout.connect=5s", "a@b"], |w| {
            w.recipients = rcpts(&["a@b"])
        }),
        (&["-X", "/tmp/log", "a@b"], |w| {
            w.recipients = rcpts(&["a@b"])
        }),
        (&["-X/tmp/log", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-h", "17", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        // Help: `--help` anywhere among the options, `-h` with nothing after it.
        (&["--help"], |w| w.mode = Mode::Help),
        (&["-t", "--help"], |w| w.mode = Mode::Help),
        (&["-h"], |w| w.mode = Mode::Help),
        (&["-th"], |w| {
            w.extract_recipients = true;
            w.mode = Mode::Help;
        }),
        (&["-h0", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-A", "m", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-Ac", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        // -b.
        (&["-bm"], |w| w.mode = Mode::Deliver),
        (&["-b", "m"], |w| w.mode = Mode::Deliver),
        (&["-bp"], |w| w.mode = Mode::ListQueue),
        (&["-b", "p"], |w| w.mode = Mode::ListQueue),
        (&["-bs"], |w| w.mode = Mode::SmtpSession),
        (&["-b", "s"], |w| w.mode = Mode::SmtpSession),
        (&["-bi"], |w| w.mode = Mode::Newaliases),
        (&["-b", "i"], |w| w.mode = Mode::Newaliases),
        (&["-bv", "a@b"], |w| {
            w.mode = Mode::Verify;
            w.recipients = rcpts(&["a@b"]);
        }),
        (&["-b", "v", "a@b"], |w| {
            w.mode = Mode::Verify;
            w.recipients = rcpts(&["a@b"]);
        }),
        (&["-bp", "-bm"], |w| w.mode = Mode::Deliver),
        (&["-tbv", "a@b"], |w| {
            w.extract_recipients = true;
            w.mode = Mode::Verify;
            w.recipients = rcpts(&["a@b"]);
        }),
        // -q.
        (&["-q"], |w| w.mode = Mode::QueueRun),
        (&["-q", "a@b"], |w| {
            w.mode = Mode::QueueRun;
            w.recipients = rcpts(&["a@b"]);
        }),
        (&["-q30m"], |w| w.mode = Mode::QueueRun),
        (&["-q1h", "a@b"], |w| {
            w.mode = Mode::QueueRun;
            w.recipients = rcpts(&["a@b"]);
        }),
        (&["-qR", "example.org"], |w| w.mode = Mode::QueueRun),
        (&["-qRexample.org"], |w| w.mode = Mode::QueueRun),
        (&["-qS", "example.org"], |w| w.mode = Mode::QueueRun),
        (&["-qSexample.org"], |w| w.mode = Mode::QueueRun),
        (&["-qI", "4F2A91C03B"], |w| w.mode = Mode::QueueRun),
        (&["-qI4F2A91C03B"], |w| w.mode = Mode::QueueRun),
        (&["-vq"], |w| {
            w.mode = Mode::QueueRun;
            w.verbose = true;
        }),
        (&["-vqR", "example.org"], |w| {
            w.mode = Mode::QueueRun;
            w.verbose = true;
        }),
        // -o boolean letters.
        (&["-oi"], |w| w.ignore_dots = true),
        (&["-o", "i"], |w| w.ignore_dots = true),
        (&["-oitrue"], |w| w.ignore_dots = true),
        (&["-oiTRUE"], |w| w.ignore_dots = true),
        (&["-i", "-oifalse"], |_| {}),
        (&["-o", "ifalse"], |_| {}),
        (&["-ov"], |w| w.verbose = true),
        (&["-v", "-ovfalse"], |_| {}),
        (&["-om", "-os", "-on", "-o7", "-o8"], |_| {}),
        (&["-o", "m", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-o8", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-io", "i"], |w| w.ignore_dots = true),
        // -o value letters: accepted and ignored.
        (&["-oem"], |_| {}),
        (&["-oee", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-odi"], |_| {}),
        (&["-odb"], |_| {}),
        (&["-oQ/var/spool/x"], |_| {}),
        (&["-oA/etc/aliases"], |_| {}),
        (&["-oFfoo"], |_| {}),
        (&["-oL9", "-oT5d", "-orfoo", "-oOx"], |_| {}),
        (&["-o", "Q", "/dir", "a@b"], |w| {
            w.recipients = rcpts(&["a@b"])
        }),
        (&["-o", "Q/dir", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-oQ", "/dir", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-oQ/dir", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-o", "e", "m", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-oe", "m", "a@b"], |w| w.recipients = rcpts(&["a@b"])),
        (&["-to", "d", "b", "a@b"], |w| {
            w.extract_recipients = true;
            w.recipients = rcpts(&["a@b"]);
        }),
        // The argument lists real callers use.
        (&["-FCronDaemon", "-i", "-B8BITMIME", "-oem", "root"], |w| {
            w.full_name = Some("CronDaemon".into());
            w.ignore_dots = true;
            w.body_type = Some(BodyType::EightBitMime);
            w.recipients = rcpts(&["root"]);
        }),
        (
            &[
                "-FCronDaemon",
                "-i",
                "-odi",
                "-oem",
                "-oi",
                "-t",
                "-f",
                "root",
            ],
            |w| {
                w.full_name = Some("CronDaemon".into());
                w.ignore_dots = true;
                w.extract_recipients = true;
                w.sender = addr("root");
            },
        ),
        (&["-t", "-i"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
        }),
        (&["-oi", "-t"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
        }),
        (&["-oi", "--", "user@example.org"], |w| {
            w.ignore_dots = true;
            w.recipients = rcpts(&["user@example.org"]);
        }),
        (&["-t", "-i", "-f", "www-data@example.org"], |w| {
            w.extract_recipients = true;
            w.ignore_dots = true;
            w.sender = addr("www-data@example.org");
        }),
        (
            &["-N", "failure,delay", "-R", "hdrs", "-V", "abc123", "a@b"],
            |w| {
                w.dsn.notify = on(true, true, false);
                w.dsn.ret = Some(Ret::Headers);
                w.dsn.envid = envid("abc123");
                w.recipients = rcpts(&["a@b"]);
            },
        ),
        (&["-f", "<>", "-oi", "bounce@example.org"], |w| {
            w.sender = Some(Sender::Null);
            w.ignore_dots = true;
            w.recipients = rcpts(&["bounce@example.org"]);
        }),
    ];

    /// Command lines that are refused, with text the message must contain.
    const ERR: &[(&[&str], &str)] = &[
        // Unknown options.
        (&["-k"], "unknown option -k"),
        (&["-tk", "a@b"], "unknown option -k"),
        (&["-M"], "unknown option -M"),
        (&["-d"], "unknown option -d"),
        (&["-I"], "unknown option -I"),
        (&["-é"], "unknown option -é"),
        (&["-"], "unknown option -"),
        (&["--version"], "unknown option --version"),
        (&["-t", "--x\ny"], "unknown option --x\\ny"),
        (&["-k"], "(see relayctl sendmail --help)"),
        (&["-o", "é"], "(see relayctl sendmail --help)"),
        (
            &["-s", "hi", "a@b"],
            "use `relayctl send --subject TEXT` or `mail -s TEXT`",
        ),
        (&["-ts", "hi"], "-s is not a sendmail option"),
        // Missing values.
        (&["-f"], "option -f needs a value"),
        (&["-tf"], "option -f needs a value"),
        (&["-r"], "option -r needs a value"),
        (&["-F"], "option -F needs a value"),
        (&["-N"], "option -N needs a value"),
        (&["-R"], "option -R needs a value"),
        (&["-V"], "option -V needs a value"),
        (&["-B"], "option -B needs a value"),
        (&["-C"], "option -C needs a value"),
        (&["-L"], "option -L needs a value"),
        (&["-O"], "option -O needs a value"),
        (&["-X"], "option -X needs a value"),
        (&["-b"], "option -b needs a value"),
        (&["-A"], "option -A needs a value"),
        (&["-qR"], "option -qR needs a value"),
        (&["-qS"], "option -qS needs a value"),
        (&["-qI"], "option -qI needs a value"),
        (&["-o"], "option -o needs a value"),
        (&["-io"], "option -o needs a value"),
        (&["-oQ"], "option -oQ needs a value"),
        (&["-o", "Q"], "option -oQ needs a value"),
        (&["-o", ""], "-o needs an option letter"),
        // Bad -o letters and values.
        (&["-o-"], "unknown option -o-"),
        (&["-o,x"], "unknown option -o,x"),
        (&["-o5"], "unknown option -o5"),
        (&["-o", "é"], "unknown option -oé"),
        (&["-oix"], "\"x\" for -oi"),
        (&["-oi=true"], "\"=true\" for -oi"),
        (&["-omx"], "\"x\" for -om"),
        // -N.
        (&["-N", "never,success"], "never,success"),
        (&["-N", "failure,,delay"], "empty item"),
        (&["-Nfailure,"], "failure,"),
        (&["-N", ""], "-N value \"\""),
        (&["-N", "bogus"], "\"bogus\""),
        (&["-N", "failure,sucess"], "\"sucess\""),
        (&["-N", "x\ny"], "\"x\\ny\""),
        // -R, -B, -V, -h, -A.
        (&["-R", "headers"], "invalid -R value \"headers\""),
        (&["-R", ""], "invalid -R value \"\""),
        (&["-B", "8bit"], "invalid -B value \"8bit\""),
        (&["-BBINARYMIME"], "invalid -B value \"BINARYMIME\""),
        (&["-V", ""], "invalid -V value \"\""),
        (&["-V", "é"], "invalid -V value \"é\""),
        (&["-V", "a\nb"], "invalid -V value \"a\\nb\""),
        (&["-h", "x"], "invalid -h value \"x\""),
        (&["-h", "-1"], "invalid -h value \"-1\""),
        (&["-h+3"], "invalid -h value \"+3\""),
        (&["-h", ""], "invalid -h value \"\""),
        (&["-A", "x"], "invalid -A value \"x\""),
        (&["-Amc"], "invalid -A value \"mc\""),
        // -b.
        (
            &["-bd"],
            "-bd (daemon mode) is not supported: relayctl does not accept mail from the network",
        ),
        (&["-b", "D"], "-bD (daemon mode) is not supported"),
        (&["-bh"], "-bh (host status) is not supported"),
        (&["-bH"], "-bH (purging host status) is not supported"),
        (&["-bt"], "-bt (address test mode) is not supported"),
        (&["-bx"], "unknown mode -bx"),
        (&["-bsx"], "unknown mode -bsx"),
        (&["-b", ""], "unknown mode -b "),
        (&["-b", "\n"], "unknown mode -b\\n"),
        // Line breaks that would add headers or SMTP commands.
        (
            &["-F", "Job\nBcc: victim@example.org", "a@b"],
            "-F \"Job\\nBcc: victim@example.org\" contains a line break",
        ),
        (&["-FJob\r\nBcc: v@x", "a@b"], "-F \"Job\\r\\nBcc"),
        (
            &["-f", "a@x>\r\nRCPT TO:<v@x", "a@b"],
            "-f \"a@x>\\r\\nRCPT",
        ),
        (
            &["-tr", "a@x\n", "a@b"],
            "-r \"a@x\\n\" contains a line break",
        ),
        (
            &["-f", "a\0b@x", "a@b"],
            "-f \"a\\0b@x\" contains a line break or NUL",
        ),
        (
            &["-i", "ops@x.example", "ops@x.example\r\nRCPT TO:<v@x>"],
            "recipient \"ops@x.example\\r\\nRCPT TO:<v@x>\" contains a line break",
        ),
        (&["--", "a@b\n"], "recipient \"a@b\\n\""),
    ];

    /// Program name, arguments, and the expected invocation's changes to the default one.
    const PROGRAMS: &[(&str, &[&str], Edit)] = &[
        ("mailq", &[], |w| w.mode = Mode::ListQueue),
        ("/usr/bin/mailq", &["-v"], |w| {
            w.mode = Mode::ListQueue;
            w.verbose = true;
        }),
        ("newaliases", &[], |w| w.mode = Mode::Newaliases),
        ("/usr/bin/newaliases", &[], |w| w.mode = Mode::Newaliases),
        ("sendmail", &["-t"], |w| w.extract_recipients = true),
        ("/usr/sbin/sendmail", &["a@b"], |w| {
            w.recipients = rcpts(&["a@b"])
        }),
        ("/usr/sbin/sendmail", &["-bp"], |w| w.mode = Mode::ListQueue),
        ("relayctl", &[], |_| {}),
        ("mailq.postfix", &[], |_| {}),
        ("/usr/bin/mailq/", &[], |w| w.mode = Mode::ListQueue),
        ("", &["a@b"], |w| w.recipients = rcpts(&["a@b"])),
    ];

    /// The options that take a value, with a valid value for each. The values look like
    /// addresses wherever the option allows it.
    const VALUED: &[(&str, &str)] = &[
        ("-f", "s@x"),
        ("-r", "s@x"),
        ("-F", "n@x"),
        ("-N", "never"),
        ("-R", "full"),
        ("-V", "e@x"),
        ("-B", "7BIT"),
        ("-C", "c@x"),
        ("-L", "l@x"),
        ("-h", "3"),
        ("-O", "o@x"),
        ("-X", "x@x"),
        ("-b", "m"),
        ("-A", "m"),
        ("-qR", "r@x"),
        ("-qS", "r@x"),
        ("-qI", "i@x"),
        ("-oQ", "q@x"),
        ("-oe", "m@x"),
        ("-od", "b@x"),
    ];

    fn expected(start: Invocation, edit: Edit) -> Invocation {
        let mut want = start;
        edit(&mut want);
        want
    }

    #[test]
    fn accepted_command_lines() {
        for (args, edit) in OK {
            let want = expected(Invocation::default(), *edit);
            assert_eq!(parse(&os(args)), Ok(want), "args: {args:?}");
        }
    }

    #[test]
    fn refused_command_lines() {
        for (args, needle) in ERR {
            let Err(err) = parse(&os(args)) else {
                panic!("args {args:?} should be refused");
            };
            let shown = err.to_string();
            assert_eq!(shown, err.0);
            assert!(
                !shown.contains('\n'),
                "args {args:?}: {shown:?} is not one line"
            );
            assert!(
                shown.contains(needle),
                "args {args:?}: {shown:?} lacks {needle:?}"
            );
        }
    }

    #[test]
    fn program_names() {
        for (name, args, edit) in PROGRAMS {
            let want = expected(Invocation::default(), *edit);
            assert_eq!(for_program(name, &os(args)), Ok(want), "{name} {args:?}");
        }
        let Err(err) = for_program("/usr/bin/newaliases", &os(&["-k"])) else {
            panic!("newaliases -k should be refused");
        };
        assert!(err.0.contains("-k"), "{err}");
    }

    #[test]
    fn named_constructors() {
        assert_eq!(Invocation::list_queue().mode, Mode::ListQueue);
        assert_eq!(Invocation::newaliases().mode, Mode::Newaliases);
        assert_eq!(Invocation::default().mode, Mode::Deliver);
        assert_eq!(parse(&[]), Ok(Invocation::default()));
    }

    /// An option's value never becomes a recipient, attached, separated or at the end of a
    /// cluster.
    #[test]
    fn option_values_are_never_recipients() {
        for (option, value) in VALUED {
            let attached = format!("{option}{value}");
            let clustered = format!("-t{}", &option[1..]);
            let mut spelled_out: Vec<String> = Vec::new();
            if let Some(letter) = option.strip_prefix("-o") {
                spelled_out = vec!["-o".into(), letter.into(), (*value).into()];
            }
            let mut lines: Vec<Vec<String>> = vec![
                vec![attached, "last@x".into()],
                vec![(*option).into(), (*value).into(), "last@x".into()],
                vec![clustered, (*value).into(), "last@x".into()],
            ];
            if !spelled_out.is_empty() {
                spelled_out.push("last@x".into());
                lines.push(spelled_out);
            }
            for line in lines {
                let args: Vec<OsString> = line.iter().map(OsString::from).collect();
                let got = parse(&args);
                let Ok(inv) = got else {
                    panic!("{line:?} was refused: {got:?}");
                };
                assert_eq!(inv.recipients, rcpts(&["last@x"]), "{line:?}");
            }
        }
    }

    #[test]
    fn envid_length_limits() {
        let longest = "x".repeat(100);
        let got = parse(&os(&["-V", &longest]));
        assert_eq!(got.map(|inv| inv.dsn.envid), Ok(envid(&longest)));
        let too_long = "x".repeat(101);
        let Err(err) = parse(&os(&["-V", &too_long])) else {
            panic!("a 101-character envid should be refused");
        };
        assert!(err.0.contains("invalid -V value"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_refused() {
        use std::os::unix::ffi::OsStringExt;

        for position in 0..3 {
            let mut args = os(&["-f", "root", "a@b"]);
            args[position] = OsString::from_vec(b"x\xffy\n".to_vec());
            let Err(err) = parse(&args) else {
                panic!("non-UTF-8 argument {position} should be refused");
            };
            assert!(!err.0.contains('\n'), "{err:?}");
            assert!(
                err.0.contains(&format!("argument {}", position + 1)),
                "{err}"
            );
            assert!(err.0.contains("x\u{fffd}y"), "{err}");
        }
    }
}
