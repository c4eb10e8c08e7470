# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_relayctl_global_optspecs
    string join \n config= spool= v/verbose wait profile= h/help V/version
end

function __fish_relayctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_relayctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_relayctl_using_subcommand
    set -l cmd (__fish_relayctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c relayctl -n "__fish_relayctl_needs_command" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_needs_command" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_needs_command" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_needs_command" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_needs_command" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_needs_command" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_needs_command" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "setup" -d 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "send" -d 'Compose a message (body from stdin) and send it'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "sendmail" -d 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "sendmail-link" -d 'Make relayctl the system\'s sendmail, mailq and newaliases, or undo it'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "queue" -d 'Inspect and drive the queue of messages waiting for the relay'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "doctor" -d 'Check everything between this host and the relay; each line pass, warn or fail with a fix'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "metrics" -d 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "route" -d 'Show which profile a sender\'s mail goes through, and why ([routes], --profile, default)'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "test" -d 'Send a real test message through the queue and report the relay\'s reply and the queue id'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "serve" -d 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "server" -d 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "profile" -d 'List, inspect, remove profiles, choose the default, rotate a secret'
complete -c relayctl -n "__fish_relayctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l name -d 'Profile name [default: the preset\'s name]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l user -d 'Login name (for most providers, your email address)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l from -d 'Sender address [default: the login name when it is an address]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l host -d 'Relay host name or IP address [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l port -d 'Relay port [default: the preset\'s, or the usual port of --tls]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l tls -d 'Connection security [default: the preset\'s]' -r -f -a "starttls\t'Plain connection upgraded with STARTTLS; refused when the relay does not offer it (587)'
tls\t'Implicit TLS from the first byte (465)'
opportunistic\t'Use STARTTLS when offered, plain otherwise (never with a password)'
none\t'No encryption (a trusted network relay on port 25; never with a password)'"
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l tls-name -d 'Name to verify the relay\'s certificate against (when --host is an IP address)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l ca-file -d 'Extra CA certificate(s) to trust for this relay (PEM)' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l tls-fingerprint -d 'Pin the relay\'s certificate or public key by its SHA-256 fingerprint (sha256:AB:CD:...; repeat for several); the CA and name are then not checked' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l tls-min-version -d 'Oldest TLS version accepted: 1.2 or 1.3 [default: 1.2]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l source-address -d 'Local address to connect to the relay from (a relay that allow-lists by IP)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l proxy -d 'Egress proxy to reach the relay through: socks5://[user@]host:port, socks5h://..., http://[user@]host:port' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l proxy-secret -d 'Where the proxy\'s password lives (keyring, systemd, command:CMD, file[:PATH], env[:VAR])' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l client-cert -d 'TLS client certificate (PEM), for relays that accept one instead of a password' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l client-key -d 'Private key of --client-cert (PEM)' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l region -d 'Provider region: an AWS region for ses (default us-east-1); `eu` for mailgun and zoho' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l ehlo-name -d 'Name announced in EHLO [default: this host\'s fully qualified name]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l timeout -d 'Seconds allowed for connecting and for each reply of the relay [default: 30]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l max-message-size -d 'Largest message to hand to this relay, e.g. 25MB [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l rate-limit -d 'Most messages sent through this relay, e.g. 60/hour, 30/minute, 500/day, or `off` [default: the provider\'s documented limit]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l fallback -d 'Profile to try when this relay fails temporarily (repeat for several, tried in order)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l notify -d 'Where notices about held, delayed and failed mail go: the top-level `notify` when this is the default profile and has no `notify` of its own, else the profile\'s' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l client-id -d 'OAuth2 client ID of your app registration with the provider' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l tenant -d 'Microsoft Entra tenant for outlook --oauth (a domain or tenant ID) [default: common]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l token-endpoint -d 'OAuth2 token endpoint [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l device-endpoint -d 'OAuth2 device authorization endpoint, to sign in with a code [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l authorize-endpoint -d 'OAuth2 authorization endpoint, to sign in through a URL opened elsewhere [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l scope -d 'OAuth2 scopes, space-separated [default: the preset\'s]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l secret-store -d 'Where to keep the secret [default: keyring when usable, else file]' -r -f -a "keyring\t'The OS keyring (desktops and laptops; not available to cron or on headless servers)'
systemd\t'$CREDENTIALS_DIRECTORY/<profile>, from LoadCredential=/LoadCredentialEncrypted= in a unit'
command\t'The first line printed by --password-command (e.g. a cloud secret manager)'
file\t'A 0600 file beside the config file (the usual choice on servers)'
env\t'RELAYCTL_PASSWORD_<PROFILE> or RELAYCTL_PASSWORD (last resort)'"
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l password-command -d 'Command that prints the password (run without a shell; implies --secret-store command)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l trust-on-first-use -d 'Connect now, show the relay\'s certificate, ask, and pin it (tls_fingerprint)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l root-alias -d 'Also deliver mail for the local user root to the --notify address ([aliases] root)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l password-stdin -d 'Read the password from the first line of stdin instead of prompting'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l no-verify -d 'Save without connecting to the relay (image baking, CI, no network) [default: connect, log in and try the sender first, and save nothing if that fails]'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l oauth -d 'Sign in with OAuth2 instead of a password (gmail, outlook; other presets with the endpoint options); the refresh token goes to the secret store'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l client-secret-stdin -d 'Read the OAuth2 client secret from the first line of stdin instead of prompting (Google requires one)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l default -d 'Make this the default profile (the first profile always is)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l system -d 'Write the system-wide config (/etc/relayctl/config.toml) instead of the user\'s'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c relayctl -n "__fish_relayctl_using_subcommand setup" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l to -d 'Recipient(s)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l cc -d 'Copy recipient(s)' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l bcc -d 'Blind-copy recipient(s): in the envelope only, never in the headers' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -s s -l subject -d 'Subject line' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l from -d 'Sender [default: the profile\'s from]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l attach -d 'File(s) to attach (sent base64; the message must fit the profile\'s max_message_size)' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l zip -d 'Send the attachments compressed, as one attachments.zip'
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand send" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -f -a "install" -d 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -f -a "remove" -d 'Remove relayctl\'s links and restore files moved aside by install --force'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -f -a "status" -d 'Show what each path holds: relayctl, another program (and its package), or nothing'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and not __fish_seen_subcommand_from install remove status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l prefix -d 'Directory holding sbin/, bin/ and lib/' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l force -d 'Move another mail transport\'s files aside (kept as *.relayctl-saved)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -l prefix -d 'Directory holding sbin/, bin/ and lib/' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -l prefix -d 'Directory holding sbin/, bin/ and lib/' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from help" -f -a "install" -d 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove relayctl\'s links and restore files moved aside by install --force'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show what each path holds: relayctl, another program (and its package), or nothing'
complete -c relayctl -n "__fish_relayctl_using_subcommand sendmail-link; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "list" -d 'List waiting and held messages (also: mailq, sendmail -bp)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "show" -d 'Show one message\'s envelope, recipients and attempts'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "run" -d 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "flush" -d 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "retry" -d 'Try messages again now (held ones stay held; failed ones go back into the queue)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "hold" -d 'Keep messages from being delivered until released'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "release" -d 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "delete" -d 'Delete messages from the queue or the failed area'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "move" -d 'Send messages through another profile (a held message stays held unless it was held for its old profile\'s configuration)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "failed" -d 'List messages that could not be delivered, with the reason'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "daemon" -d 'Run continuously: deliver new mail at once and retries when due'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "attempt" -d 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and not __fish_seen_subcommand_from list show run flush retry hold release delete move failed daemon attempt help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -l json -d 'Machine-readable output'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from flush" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l older-than -d 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l all -d 'Every message; only those of one profile with the global --profile NAME'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l failed -d 'With --all: the messages of the failed area, put back into the queue and tried'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from retry" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l older-than -d 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l all -d 'Every message; only those of one profile with the global --profile NAME'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from hold" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l older-than -d 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l all -d 'Every message; only those of one profile with the global --profile NAME'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from release" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l older-than -d 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l all -d 'Every message; only those of one profile with the global --profile NAME'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l failed -d 'With --all: the messages of the failed area instead of the queue\'s'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l older-than -d 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l to -d 'The profile to send them through' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l all -d 'Every message; only those of one profile with the global --profile NAME'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from move" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -l json -d 'Machine-readable output'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from failed" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from daemon" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -l report -d 'Say on stdout how it went (for `relayctl send` on a terminal)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from attempt" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'List waiting and held messages (also: mailq, sendmail -bp)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one message\'s envelope, recipients and attempts'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "run" -d 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "flush" -d 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Try messages again now (held ones stay held; failed ones go back into the queue)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "hold" -d 'Keep messages from being delivered until released'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "release" -d 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete messages from the queue or the failed area'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "move" -d 'Send messages through another profile (a held message stays held unless it was held for its old profile\'s configuration)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "failed" -d 'List messages that could not be delivered, with the reason'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "daemon" -d 'Run continuously: deliver new mail at once and retries when due'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "attempt" -d 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
complete -c relayctl -n "__fish_relayctl_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -l json -d 'Machine-readable output (schema: docs/doctor-schema.json)'
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand metrics" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand route" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -l to -d 'Recipient of the test message' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand test" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -l listen -d 'Listen on ADDR:PORT, or smtps://ADDR:PORT for implicit TLS; repeatable [default: [server] listen, else 127.0.0.1:25 and [::1]:25 as root, 127.0.0.1:2525 otherwise]' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand serve" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -f -a "user" -d 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and not __fish_seen_subcommand_from user help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -f -a "add" -d 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -f -a "list" -d 'List the users with their profile and senders (never their passwords)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -f -a "remove" -d 'Remove a user; its app can no longer log in'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from user" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "user" -d 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
complete -c relayctl -n "__fish_relayctl_using_subcommand server; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "list" -d 'List the configured profiles (the default is marked with *)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "show" -d 'Show a profile\'s settings and where its secret lives (never the secret)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "remove" -d 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "default" -d 'Make a profile the default'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "set-secret" -d 'Replace a profile\'s secret (rotate a revoked or leaked app password)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and not __fish_seen_subcommand_from list show remove default set-secret help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l move-to -d 'Send its queued mail through this profile instead' -r
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l force -d 'Remove it even though mail waits for it: that mail is held until moved to another profile (relayctl queue move ID... --to PROFILE) and released'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from default" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l config -d 'Use this config file instead of /etc/relayctl/config.toml and the user\'s file' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l spool -d 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]' -r -F
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l profile -d 'Relay profile to use [default: the configured default profile]' -r -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l password-stdin -d 'Read the new password from the first line of stdin instead of prompting'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l no-verify -d 'Replace the secret without logging in with it first'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -s v -l verbose -d 'Show the SMTP dialogue on stderr (passwords are never shown)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -l wait -d 'Deliver while waiting and exit with the relay\'s verdict (75: try later); nothing is queued'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -s h -l help -d 'Print help'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from set-secret" -s V -l version -d 'Print version'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the configured profiles (the default is marked with *)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show a profile\'s settings and where its secret lives (never the secret)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "default" -d 'Make a profile the default'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "set-secret" -d 'Replace a profile\'s secret (rotate a revoked or leaked app password)'
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "setup" -d 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "send" -d 'Compose a message (body from stdin) and send it'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "sendmail" -d 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "sendmail-link" -d 'Make relayctl the system\'s sendmail, mailq and newaliases, or undo it'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "queue" -d 'Inspect and drive the queue of messages waiting for the relay'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "doctor" -d 'Check everything between this host and the relay; each line pass, warn or fail with a fix'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "metrics" -d 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "route" -d 'Show which profile a sender\'s mail goes through, and why ([routes], --profile, default)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "test" -d 'Send a real test message through the queue and report the relay\'s reply and the queue id'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "serve" -d 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "server" -d 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "profile" -d 'List, inspect, remove profiles, choose the default, rotate a secret'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and not __fish_seen_subcommand_from setup send sendmail sendmail-link queue doctor metrics route test serve server profile help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from sendmail-link" -f -a "install" -d 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from sendmail-link" -f -a "remove" -d 'Remove relayctl\'s links and restore files moved aside by install --force'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from sendmail-link" -f -a "status" -d 'Show what each path holds: relayctl, another program (and its package), or nothing'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'List waiting and held messages (also: mailq, sendmail -bp)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "show" -d 'Show one message\'s envelope, recipients and attempts'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "run" -d 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "flush" -d 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "retry" -d 'Try messages again now (held ones stay held; failed ones go back into the queue)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "hold" -d 'Keep messages from being delivered until released'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "release" -d 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "delete" -d 'Delete messages from the queue or the failed area'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "move" -d 'Send messages through another profile (a held message stays held unless it was held for its old profile\'s configuration)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "failed" -d 'List messages that could not be delivered, with the reason'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "daemon" -d 'Run continuously: deliver new mail at once and retries when due'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "attempt" -d 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from server" -f -a "user" -d 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "list" -d 'List the configured profiles (the default is marked with *)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "show" -d 'Show a profile\'s settings and where its secret lives (never the secret)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "remove" -d 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "default" -d 'Make a profile the default'
complete -c relayctl -n "__fish_relayctl_using_subcommand help; and __fish_seen_subcommand_from profile" -f -a "set-secret" -d 'Replace a profile\'s secret (rotate a revoked or leaked app password)'

# relayctl: profile names from the configuration at run time.
function __fish_relayctl_after_profile_option
    set -l tokens (commandline -opc)
    test "$tokens[-1]" = --profile
end
complete -c relayctl -n __fish_relayctl_after_profile_option -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show remove default set-secret" -f -a "(relayctl generate profile-names 2>/dev/null)"
