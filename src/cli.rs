//! The command line. Doc comments here are the `--help` text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{
    ByteSize, Fingerprint, Preset, ProxyUrl, RateLimitSetting, Span, TlsMode, TlsVersion,
};
use crate::queue::QueueId;
use crate::secrets::SecretRef;

/// Outgoing mail for servers and cloud instances: relay profiles with safely stored secrets,
/// a drop-in sendmail, and delivery that tells you what is wrong.
#[derive(Debug, Parser)]
#[command(
    name = "relayctl",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Use this config file instead of /etc/relayctl/config.toml and the user's file
    #[arg(long, global = true, env = "RELAYCTL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Relay profile to use [default: the configured default profile]
    #[arg(long, global = true, env = "RELAYCTL_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]
    #[arg(long, global = true, env = "RELAYCTL_SPOOL", value_name = "DIR")]
    pub spool: Option<PathBuf>,

    /// Show the SMTP dialogue on stderr (passwords are never shown)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Deliver while waiting and exit with the relay's verdict (75: try later); nothing is queued
    #[arg(long, global = true)]
    pub wait: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a relay profile from a preset and store its secret; on an existing profile, change
    /// only the settings given (comments and other keys stay) and print each change
    Setup(Box<SetupArgs>),
    /// List, inspect, remove profiles, choose the default, rotate a secret
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Compose a message (body from stdin) and send it
    Send(SendArgs),
    /// Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)
    #[command(
        disable_help_flag = true,
        disable_version_flag = true,
        after_help = crate::commands::sendmail::args::OPTIONS_HELP
    )]
    Sendmail {
        /// sendmail options (below) and recipients, e.g. `-t -i` or `-f root ops@example.org`
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        args: Vec<OsString>,
    },
    /// Make relayctl the system's sendmail, mailq and newaliases, or undo it
    #[command(subcommand)]
    SendmailLink(LinkCommand),
    /// Inspect and drive the queue of messages waiting for the relay
    #[command(subcommand)]
    Queue(QueueCommand),
    /// Check everything between this host and the relay; each line pass, warn or fail with a fix
    Doctor {
        /// Machine-readable output (schema: docs/doctor-schema.json)
        #[arg(long)]
        json: bool,
    },
    /// Print metrics for Prometheus (text exposition format): mail by profile and state, the
    /// oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens
    Metrics,
    /// Show which profile a sender's mail goes through, and why ([routes], --profile, default)
    Route {
        /// Sender address (the envelope sender, or the From when relayctl sets the envelope)
        #[arg(value_name = "ADDRESS")]
        address: String,
    },
    /// Send a real test message through the queue and report the relay's reply and the queue id
    Test {
        /// Recipient of the test message
        #[arg(long, value_name = "ADDR")]
        to: String,
    },
    /// Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in
    /// relayctl.toml(5)); never an open relay
    Serve(ServeArgs),
    /// Manage what the SMTP listener serves: its users (apps that log in with AUTH)
    #[command(subcommand)]
    Server(ServerCommand),
    /// Man pages and shell completions for packaging; profile names for completion scripts
    #[command(subcommand, hide = true)]
    Generate(GenerateCommand),
}

/// `relayctl serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen on ADDR:PORT, or smtps://ADDR:PORT for implicit TLS; repeatable [default:
    /// [server] listen, else 127.0.0.1:25 and [::1]:25 as root, 127.0.0.1:2525 otherwise]
    #[arg(long, value_name = "ADDR")]
    pub listen: Vec<crate::config::Listen>,
}

#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Users of the SMTP listener: each logs in with AUTH, sends through one profile (the
    /// global --profile, else the default) and only as its own senders
    #[command(subcommand)]
    User(ServerUserCommand),
}

#[derive(Debug, Subcommand)]
pub enum ServerUserCommand {
    /// Add a user, or give an existing one a new password, profile and senders (the password
    /// is prompted for, or read from stdin, and stored as an Argon2id hash)
    Add {
        /// User name the app logs in with
        name: String,
        /// An address (alerts@example.org) or domain (@example.org) the user may send as;
        /// repeatable [default: only the profile's own address]
        #[arg(long = "sender", value_name = "ADDR")]
        senders: Vec<String>,
        /// Read the password from the first line of stdin instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users with their profile and senders (never their passwords)
    List {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Remove a user; its app can no longer log in
    Remove {
        /// User name
        name: String,
    },
}

/// `relayctl generate` (hidden): files for packaging, and profile names for completion scripts.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write relayctl.1, relayctl.toml.5 and relayctl-sendmail.8 into DIR
    Man {
        /// Output directory (created if missing)
        dir: PathBuf,
    },
    /// Write bash, zsh, fish, elvish and PowerShell completion scripts into DIR
    Completions {
        /// Output directory (created if missing)
        dir: PathBuf,
    },
    /// Print the configured profile names, one per line (silent when there are none)
    ProfileNames,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// List waiting and held messages (also: mailq, sendmail -bp)
    List {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Show one message's envelope, recipients and attempts
    Show {
        /// Message ID
        id: QueueId,
    },
    /// Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)
    Run,
    /// Deliver every waiting message now, whatever its schedule, and print one line per profile
    /// (delivered, deferred, held, failed)
    Flush,
    /// Try messages again now (held ones stay held; failed ones go back into the queue)
    Retry {
        #[command(flatten)]
        targets: Targets,
        /// With --all: the messages of the failed area, put back into the queue and tried
        #[arg(long, requires = "all")]
        failed: bool,
    },
    /// Keep messages from being delivered until released
    Hold {
        #[command(flatten)]
        targets: Targets,
    },
    /// Release held messages (admin holds, and mail held for a relay configuration fault);
    /// --all also lifts the spew brake of the frozen profiles it covers
    Release {
        #[command(flatten)]
        targets: Targets,
    },
    /// Delete messages from the queue or the failed area
    Delete {
        #[command(flatten)]
        targets: Targets,
        /// With --all: the messages of the failed area instead of the queue's
        #[arg(long, requires = "all")]
        failed: bool,
    },
    /// Send messages through another profile (a held message stays held unless it was held for
    /// its old profile's configuration)
    Move {
        #[command(flatten)]
        targets: Targets,
        /// The profile to send them through
        #[arg(long, value_name = "PROFILE")]
        to: String,
    },
    /// List messages that could not be delivered, with the reason
    Failed {
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Run continuously: deliver new mail at once and retries when due
    Daemon,
    /// The first attempt at a message just submitted, in a process of its own (what `sendmail`
    /// starts, so that killing it cannot cut a delivery short)
    #[command(hide = true)]
    Attempt {
        /// Message ID
        id: QueueId,
        /// Say on stdout how it went (for `relayctl send` on a terminal)
        #[arg(long)]
        report: bool,
    },
}

/// The messages a queue command acts on: IDs, or `--all` narrowed by filters.
#[derive(Debug, Args)]
pub struct Targets {
    /// Message ID(s)
    #[arg(
        value_name = "ID",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub ids: Vec<QueueId>,
    /// Every message; only those of one profile with the global --profile NAME
    #[arg(long)]
    pub all: bool,
    /// With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d
    #[arg(long, value_name = "AGE", requires = "all")]
    pub older_than: Option<Span>,
}

#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl
    Install {
        /// Directory holding sbin/, bin/ and lib/
        #[arg(long, default_value = "/usr", value_name = "DIR")]
        prefix: PathBuf,
        /// Move another mail transport's files aside (kept as *.relayctl-saved)
        #[arg(long)]
        force: bool,
    },
    /// Remove relayctl's links and restore files moved aside by install --force
    Remove {
        /// Directory holding sbin/, bin/ and lib/
        #[arg(long, default_value = "/usr", value_name = "DIR")]
        prefix: PathBuf,
    },
    /// Show what each path holds: relayctl, another program (and its package), or nothing
    Status {
        /// Directory holding sbin/, bin/ and lib/
        #[arg(long, default_value = "/usr", value_name = "DIR")]
        prefix: PathBuf,
    },
}

/// Where a profile's secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The OS keyring (desktops and laptops; not available to cron or on headless servers)
    Keyring,
    /// $CREDENTIALS_DIRECTORY/<profile>, from LoadCredential=/LoadCredentialEncrypted= in a unit
    Systemd,
    /// The first line printed by --password-command (e.g. a cloud secret manager)
    Command,
    /// A 0600 file beside the config file (the usual choice on servers)
    File,
    /// RELAYCTL_PASSWORD_<PROFILE> or RELAYCTL_PASSWORD (last resort)
    Env,
}

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Provider preset
    #[arg(value_enum)]
    pub preset: Preset,

    /// Profile name [default: the preset's name]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Login name (for most providers, your email address)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Sender address [default: the login name when it is an address]
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,

    /// Relay host name or IP address [default: the preset's]
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Relay port [default: the preset's, or the usual port of --tls]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Connection security [default: the preset's]
    #[arg(long, value_enum, value_name = "MODE")]
    pub tls: Option<TlsMode>,

    /// Name to verify the relay's certificate against (when --host is an IP address)
    #[arg(long, value_name = "NAME")]
    pub tls_name: Option<String>,

    /// Extra CA certificate(s) to trust for this relay (PEM)
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Pin the relay's certificate or public key by its SHA-256 fingerprint (sha256:AB:CD:...;
    /// repeat for several); the CA and name are then not checked
    #[arg(long, value_name = "FINGERPRINT")]
    pub tls_fingerprint: Vec<Fingerprint>,

    /// Connect now, show the relay's certificate, ask, and pin it (tls_fingerprint)
    #[arg(long, conflicts_with = "tls_fingerprint")]
    pub trust_on_first_use: bool,

    /// Oldest TLS version accepted: 1.2 or 1.3 [default: 1.2]
    #[arg(long, value_name = "VERSION")]
    pub tls_min_version: Option<TlsVersion>,

    /// Local address to connect to the relay from (a relay that allow-lists by IP)
    #[arg(long, value_name = "IP")]
    pub source_address: Option<std::net::IpAddr>,

    /// Egress proxy to reach the relay through: socks5://[user@]host:port, socks5h://...,
    /// http://[user@]host:port
    #[arg(long, value_name = "URL")]
    pub proxy: Option<ProxyUrl>,

    /// Where the proxy's password lives (keyring, systemd, command:CMD, file[:PATH], env[:VAR])
    #[arg(long, value_name = "STORE")]
    pub proxy_secret: Option<SecretRef>,

    /// TLS client certificate (PEM), for relays that accept one instead of a password
    #[arg(long, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,

    /// Private key of --client-cert (PEM)
    #[arg(long, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,

    /// Provider region: an AWS region for ses (default us-east-1); `eu` for mailgun and zoho
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// Name announced in EHLO [default: this host's fully qualified name]
    #[arg(long, value_name = "NAME")]
    pub ehlo_name: Option<String>,

    /// Seconds allowed for connecting and for each reply of the relay [default: 30]
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,

    /// Largest message to hand to this relay, e.g. 25MB [default: the preset's]
    #[arg(long, value_name = "SIZE")]
    pub max_message_size: Option<ByteSize>,

    /// Most messages sent through this relay, e.g. 60/hour, 30/minute, 500/day, or `off`
    /// [default: the provider's documented limit]
    #[arg(long, value_name = "RATE")]
    pub rate_limit: Option<RateLimitSetting>,

    /// Profile to try when this relay fails temporarily (repeat for several, tried in order)
    #[arg(long, value_name = "PROFILE")]
    pub fallback: Vec<String>,

    /// Where notices about held, delayed and failed mail go: the top-level `notify` when this is
    /// the default profile and has no `notify` of its own, else the profile's
    #[arg(long, value_name = "ADDR")]
    pub notify: Option<String>,

    /// Also deliver mail for the local user root to the --notify address ([aliases] root)
    #[arg(long, requires = "notify")]
    pub root_alias: bool,

    /// Read the password from the first line of stdin instead of prompting
    #[arg(long)]
    pub password_stdin: bool,

    /// Save without connecting to the relay (image baking, CI, no network) [default: connect,
    /// log in and try the sender first, and save nothing if that fails]
    #[arg(long)]
    pub no_verify: bool,

    /// Sign in with OAuth2 instead of a password (gmail, outlook; other presets with the
    /// endpoint options); the refresh token goes to the secret store
    #[arg(long, conflicts_with_all = ["password_stdin", "password_command"])]
    pub oauth: bool,

    /// OAuth2 client ID of your app registration with the provider
    #[arg(long, value_name = "ID", requires = "oauth")]
    pub client_id: Option<String>,

    /// Read the OAuth2 client secret from the first line of stdin instead of prompting (Google
    /// requires one)
    #[arg(long, requires = "oauth")]
    pub client_secret_stdin: bool,

    /// Microsoft Entra tenant for outlook --oauth (a domain or tenant ID) [default: common]
    #[arg(long, value_name = "TENANT", requires = "oauth")]
    pub tenant: Option<String>,

    /// OAuth2 token endpoint [default: the preset's]
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub token_endpoint: Option<String>,

    /// OAuth2 device authorization endpoint, to sign in with a code [default: the preset's]
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub device_endpoint: Option<String>,

    /// OAuth2 authorization endpoint, to sign in through a URL opened elsewhere [default: the
    /// preset's]
    #[arg(long, value_name = "URL", requires = "oauth")]
    pub authorize_endpoint: Option<String>,

    /// OAuth2 scopes, space-separated [default: the preset's]
    #[arg(long, value_name = "SCOPES", requires = "oauth")]
    pub scope: Option<String>,

    /// Where to keep the secret [default: keyring when usable, else file]
    #[arg(long, value_enum, value_name = "STORE")]
    pub secret_store: Option<StoreKind>,

    /// Command that prints the password (run without a shell; implies --secret-store command)
    #[arg(long, value_name = "CMD")]
    pub password_command: Option<String>,

    /// Make this the default profile (the first profile always is)
    #[arg(long)]
    pub default: bool,

    /// Write the system-wide config (/etc/relayctl/config.toml) instead of the user's
    #[arg(long)]
    pub system: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the configured profiles (the default is marked with *)
    List,
    /// Show a profile's settings and where its secret lives (never the secret)
    Show {
        /// Profile name
        name: String,
    },
    /// Remove a profile and the secret relayctl stored for it (refused while mail waits for it,
    /// unless --move-to or --force says what becomes of that mail)
    Remove {
        /// Profile name
        name: String,
        /// Send its queued mail through this profile instead
        #[arg(long, value_name = "PROFILE", conflicts_with = "force")]
        move_to: Option<String>,
        /// Remove it even though mail waits for it: that mail is held until moved to another
        /// profile (relayctl queue move ID... --to PROFILE) and released
        #[arg(long)]
        force: bool,
    },
    /// Make a profile the default
    Default {
        /// Profile name
        name: String,
    },
    /// Replace a profile's secret (rotate a revoked or leaked app password)
    SetSecret {
        /// Profile name
        name: String,
        /// Read the new password from the first line of stdin instead of prompting
        #[arg(long)]
        password_stdin: bool,
        /// Replace the secret without logging in with it first
        #[arg(long)]
        no_verify: bool,
    },
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Recipient(s)
    #[arg(long, value_name = "ADDR", num_args = 1.., required_unless_present_any = ["cc", "bcc"])]
    pub to: Vec<String>,

    /// Copy recipient(s)
    #[arg(long, value_name = "ADDR", num_args = 1..)]
    pub cc: Vec<String>,

    /// Blind-copy recipient(s): in the envelope only, never in the headers
    #[arg(long, value_name = "ADDR", num_args = 1..)]
    pub bcc: Vec<String>,

    /// Subject line
    #[arg(long, short = 's', value_name = "TEXT")]
    pub subject: String,

    /// Sender [default: the profile's from]
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,

    /// File(s) to attach (sent base64; the message must fit the profile's max_message_size)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub attach: Vec<PathBuf>,

    /// Send the attachments compressed, as one attachments.zip
    #[arg(long, requires = "attach")]
    pub zip: bool,
}

/// The help of `relayctl sendmail`, with the sendmail options: what `sendmail --help` and
/// `sendmail -h` print.
pub fn sendmail_help() -> String {
    let mut cli = <Cli as clap::CommandFactory>::command();
    cli.build();
    cli.find_subcommand_mut("sendmail")
        .map(|c| c.render_long_help().to_string())
        .unwrap_or_default()
}
