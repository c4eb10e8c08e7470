
use builtin;
use str;

set edit:completion:arg-completer[relayctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'relayctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'relayctl'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand setup 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change'
            cand send 'Compose a message (body from stdin) and send it'
            cand sendmail 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)'
            cand sendmail-link 'Make relayctl the system''s sendmail, mailq and newaliases, or undo it'
            cand queue 'Inspect and drive the queue of messages waiting for the relay'
            cand doctor 'Check everything between this host and the relay; each line pass, warn or fail with a fix'
            cand metrics 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens'
            cand route 'Show which profile a sender''s mail goes through, and why ([routes], --profile, default)'
            cand test 'Send a real test message through the queue and report the relay''s reply and the queue id'
            cand serve 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay'
            cand server 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)'
            cand profile 'List, inspect, remove profiles, choose the default, rotate a secret'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;setup'= {
            cand --name 'Profile name [default: the preset''s name]'
            cand --user 'Login name (for most providers, your email address)'
            cand --from 'Sender address [default: the login name when it is an address]'
            cand --host 'Relay host name or IP address [default: the preset''s]'
            cand --port 'Relay port [default: the preset''s, or the usual port of --tls]'
            cand --tls 'Connection security [default: the preset''s]'
            cand --tls-name 'Name to verify the relay''s certificate against (when --host is an IP address)'
            cand --ca-file 'Extra CA certificate(s) to trust for this relay (PEM)'
            cand --tls-fingerprint 'Pin the relay''s certificate or public key by its SHA-256 fingerprint (sha256:AB:CD:...; repeat for several); the CA and name are then not checked'
            cand --tls-min-version 'Oldest TLS version accepted: 1.2 or 1.3 [default: 1.2]'
            cand --source-address 'Local address to connect to the relay from (a relay that allow-lists by IP)'
            cand --proxy 'Egress proxy to reach the relay through: socks5://[user@]host:port, socks5h://..., http://[user@]host:port'
            cand --proxy-secret 'Where the proxy''s password lives (keyring, systemd, command:CMD, file[:PATH], env[:VAR])'
            cand --client-cert 'TLS client certificate (PEM), for relays that accept one instead of a password'
            cand --client-key 'Private key of --client-cert (PEM)'
            cand --region 'Provider region: an AWS region for ses (default us-east-1); `eu` for mailgun and zoho'
            cand --ehlo-name 'Name announced in EHLO [default: this host''s fully qualified name]'
            cand --timeout 'Seconds allowed for connecting and for each reply of the relay [default: 30]'
            cand --max-message-size 'Largest message to hand to this relay, e.g. 25MB [default: the preset''s]'
            cand --rate-limit 'Most messages sent through this relay, e.g. 60/hour, 30/minute, 500/day, or `off` [default: the provider''s documented limit]'
            cand --fallback 'Profile to try when this relay fails temporarily (repeat for several, tried in order)'
            cand --notify 'Where notices about held, delayed and failed mail go: the top-level `notify` when this is the default profile and has no `notify` of its own, else the profile''s'
            cand --client-id 'OAuth2 client ID of your app registration with the provider'
            cand --tenant 'Microsoft Entra tenant for outlook --oauth (a domain or tenant ID) [default: common]'
            cand --token-endpoint 'OAuth2 token endpoint [default: the preset''s]'
            cand --device-endpoint 'OAuth2 device authorization endpoint, to sign in with a code [default: the preset''s]'
            cand --authorize-endpoint 'OAuth2 authorization endpoint, to sign in through a URL opened elsewhere [default: the preset''s]'
            cand --scope 'OAuth2 scopes, space-separated [default: the preset''s]'
            cand --secret-store 'Where to keep the secret [default: keyring when usable, else file]'
            cand --password-command 'Command that prints the password (run without a shell; implies --secret-store command)'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --trust-on-first-use 'Connect now, show the relay''s certificate, ask, and pin it (tls_fingerprint)'
            cand --root-alias 'Also deliver mail for the local user root to the --notify address ([aliases] root)'
            cand --password-stdin 'Read the password from the first line of stdin instead of prompting'
            cand --no-verify 'Save without connecting to the relay (image baking, CI, no network) [default: connect, log in and try the sender first, and save nothing if that fails]'
            cand --oauth 'Sign in with OAuth2 instead of a password (gmail, outlook; other presets with the endpoint options); the refresh token goes to the secret store'
            cand --client-secret-stdin 'Read the OAuth2 client secret from the first line of stdin instead of prompting (Google requires one)'
            cand --default 'Make this the default profile (the first profile always is)'
            cand --system 'Write the system-wide config (/etc/relayctl/config.toml) instead of the user''s'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;send'= {
            cand --to 'Recipient(s)'
            cand --cc 'Copy recipient(s)'
            cand --bcc 'Blind-copy recipient(s): in the envelope only, never in the headers'
            cand -s 'Subject line'
            cand --subject 'Subject line'
            cand --from 'Sender [default: the profile''s from]'
            cand --attach 'File(s) to attach (sent base64; the message must fit the profile''s max_message_size)'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --zip 'Send the attachments compressed, as one attachments.zip'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;sendmail'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
        }
        &'relayctl;sendmail-link'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand install 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
            cand remove 'Remove relayctl''s links and restore files moved aside by install --force'
            cand status 'Show what each path holds: relayctl, another program (and its package), or nothing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;sendmail-link;install'= {
            cand --prefix 'Directory holding sbin/, bin/ and lib/'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --force 'Move another mail transport''s files aside (kept as *.relayctl-saved)'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;sendmail-link;remove'= {
            cand --prefix 'Directory holding sbin/, bin/ and lib/'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;sendmail-link;status'= {
            cand --prefix 'Directory holding sbin/, bin/ and lib/'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;sendmail-link;help'= {
            cand install 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
            cand remove 'Remove relayctl''s links and restore files moved aside by install --force'
            cand status 'Show what each path holds: relayctl, another program (and its package), or nothing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;sendmail-link;help;install'= {
        }
        &'relayctl;sendmail-link;help;remove'= {
        }
        &'relayctl;sendmail-link;help;status'= {
        }
        &'relayctl;sendmail-link;help;help'= {
        }
        &'relayctl;queue'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List waiting and held messages (also: mailq, sendmail -bp)'
            cand show 'Show one message''s envelope, recipients and attempts'
            cand run 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
            cand flush 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
            cand retry 'Try messages again now (held ones stay held; failed ones go back into the queue)'
            cand hold 'Keep messages from being delivered until released'
            cand release 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
            cand delete 'Delete messages from the queue or the failed area'
            cand move 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)'
            cand failed 'List messages that could not be delivered, with the reason'
            cand daemon 'Run continuously: deliver new mail at once and retries when due'
            cand attempt 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;queue;list'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --json 'Machine-readable output'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;show'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;run'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;flush'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;retry'= {
            cand --older-than 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --all 'Every message; only those of one profile with the global --profile NAME'
            cand --failed 'With --all: the messages of the failed area, put back into the queue and tried'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;hold'= {
            cand --older-than 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --all 'Every message; only those of one profile with the global --profile NAME'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;release'= {
            cand --older-than 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --all 'Every message; only those of one profile with the global --profile NAME'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;delete'= {
            cand --older-than 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --all 'Every message; only those of one profile with the global --profile NAME'
            cand --failed 'With --all: the messages of the failed area instead of the queue''s'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;move'= {
            cand --older-than 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d'
            cand --to 'The profile to send them through'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --all 'Every message; only those of one profile with the global --profile NAME'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;failed'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --json 'Machine-readable output'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;daemon'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;attempt'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --report 'Say on stdout how it went (for `relayctl send` on a terminal)'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;queue;help'= {
            cand list 'List waiting and held messages (also: mailq, sendmail -bp)'
            cand show 'Show one message''s envelope, recipients and attempts'
            cand run 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
            cand flush 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
            cand retry 'Try messages again now (held ones stay held; failed ones go back into the queue)'
            cand hold 'Keep messages from being delivered until released'
            cand release 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
            cand delete 'Delete messages from the queue or the failed area'
            cand move 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)'
            cand failed 'List messages that could not be delivered, with the reason'
            cand daemon 'Run continuously: deliver new mail at once and retries when due'
            cand attempt 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;queue;help;list'= {
        }
        &'relayctl;queue;help;show'= {
        }
        &'relayctl;queue;help;run'= {
        }
        &'relayctl;queue;help;flush'= {
        }
        &'relayctl;queue;help;retry'= {
        }
        &'relayctl;queue;help;hold'= {
        }
        &'relayctl;queue;help;release'= {
        }
        &'relayctl;queue;help;delete'= {
        }
        &'relayctl;queue;help;move'= {
        }
        &'relayctl;queue;help;failed'= {
        }
        &'relayctl;queue;help;daemon'= {
        }
        &'relayctl;queue;help;attempt'= {
        }
        &'relayctl;queue;help;help'= {
        }
        &'relayctl;doctor'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --json 'Machine-readable output (schema: docs/doctor-schema.json)'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;metrics'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;route'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;test'= {
            cand --to 'Recipient of the test message'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;serve'= {
            cand --listen 'Listen on ADDR:PORT, or smtps://ADDR:PORT for implicit TLS; repeatable [default: [server] listen, else 127.0.0.1:25 and [::1]:25 as root, 127.0.0.1:2525 otherwise]'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;server'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand user 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;server;user'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)'
            cand list 'List the users with their profile and senders (never their passwords)'
            cand remove 'Remove a user; its app can no longer log in'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;server;user;add'= {
            cand --sender 'An address (alerts@example.org) or domain (@example.org) the user may send as; repeatable [default: only the profile''s own address]'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --password-stdin 'Read the password from the first line of stdin instead of prompting'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;server;user;list'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --json 'Machine-readable output'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;server;user;remove'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;server;user;help'= {
            cand add 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)'
            cand list 'List the users with their profile and senders (never their passwords)'
            cand remove 'Remove a user; its app can no longer log in'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;server;user;help;add'= {
        }
        &'relayctl;server;user;help;list'= {
        }
        &'relayctl;server;user;help;remove'= {
        }
        &'relayctl;server;user;help;help'= {
        }
        &'relayctl;server;help'= {
            cand user 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;server;help;user'= {
            cand add 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)'
            cand list 'List the users with their profile and senders (never their passwords)'
            cand remove 'Remove a user; its app can no longer log in'
        }
        &'relayctl;server;help;user;add'= {
        }
        &'relayctl;server;help;user;list'= {
        }
        &'relayctl;server;help;user;remove'= {
        }
        &'relayctl;server;help;help'= {
        }
        &'relayctl;profile'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List the configured profiles (the default is marked with *)'
            cand show 'Show a profile''s settings and where its secret lives (never the secret)'
            cand remove 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
            cand default 'Make a profile the default'
            cand set-secret 'Replace a profile''s secret (rotate a revoked or leaked app password)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;profile;list'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;profile;show'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;profile;remove'= {
            cand --move-to 'Send its queued mail through this profile instead'
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --force 'Remove it even though mail waits for it: that mail is held until moved to another profile (relayctl queue move ID... --to PROFILE) and released'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;profile;default'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;profile;set-secret'= {
            cand --config 'Use this config file instead of /etc/relayctl/config.toml and the user''s file'
            cand --spool 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]'
            cand --profile 'Relay profile to use [default: the configured default profile]'
            cand --password-stdin 'Read the new password from the first line of stdin instead of prompting'
            cand --no-verify 'Replace the secret without logging in with it first'
            cand -v 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --verbose 'Show the SMTP dialogue on stderr (passwords are never shown)'
            cand --wait 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'relayctl;profile;help'= {
            cand list 'List the configured profiles (the default is marked with *)'
            cand show 'Show a profile''s settings and where its secret lives (never the secret)'
            cand remove 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
            cand default 'Make a profile the default'
            cand set-secret 'Replace a profile''s secret (rotate a revoked or leaked app password)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;profile;help;list'= {
        }
        &'relayctl;profile;help;show'= {
        }
        &'relayctl;profile;help;remove'= {
        }
        &'relayctl;profile;help;default'= {
        }
        &'relayctl;profile;help;set-secret'= {
        }
        &'relayctl;profile;help;help'= {
        }
        &'relayctl;help'= {
            cand setup 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change'
            cand send 'Compose a message (body from stdin) and send it'
            cand sendmail 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)'
            cand sendmail-link 'Make relayctl the system''s sendmail, mailq and newaliases, or undo it'
            cand queue 'Inspect and drive the queue of messages waiting for the relay'
            cand doctor 'Check everything between this host and the relay; each line pass, warn or fail with a fix'
            cand metrics 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens'
            cand route 'Show which profile a sender''s mail goes through, and why ([routes], --profile, default)'
            cand test 'Send a real test message through the queue and report the relay''s reply and the queue id'
            cand serve 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay'
            cand server 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)'
            cand profile 'List, inspect, remove profiles, choose the default, rotate a secret'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'relayctl;help;setup'= {
        }
        &'relayctl;help;send'= {
        }
        &'relayctl;help;sendmail'= {
        }
        &'relayctl;help;sendmail-link'= {
            cand install 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl'
            cand remove 'Remove relayctl''s links and restore files moved aside by install --force'
            cand status 'Show what each path holds: relayctl, another program (and its package), or nothing'
        }
        &'relayctl;help;sendmail-link;install'= {
        }
        &'relayctl;help;sendmail-link;remove'= {
        }
        &'relayctl;help;sendmail-link;status'= {
        }
        &'relayctl;help;queue'= {
            cand list 'List waiting and held messages (also: mailq, sendmail -bp)'
            cand show 'Show one message''s envelope, recipients and attempts'
            cand run 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)'
            cand flush 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)'
            cand retry 'Try messages again now (held ones stay held; failed ones go back into the queue)'
            cand hold 'Keep messages from being delivered until released'
            cand release 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers'
            cand delete 'Delete messages from the queue or the failed area'
            cand move 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)'
            cand failed 'List messages that could not be delivered, with the reason'
            cand daemon 'Run continuously: deliver new mail at once and retries when due'
            cand attempt 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)'
        }
        &'relayctl;help;queue;list'= {
        }
        &'relayctl;help;queue;show'= {
        }
        &'relayctl;help;queue;run'= {
        }
        &'relayctl;help;queue;flush'= {
        }
        &'relayctl;help;queue;retry'= {
        }
        &'relayctl;help;queue;hold'= {
        }
        &'relayctl;help;queue;release'= {
        }
        &'relayctl;help;queue;delete'= {
        }
        &'relayctl;help;queue;move'= {
        }
        &'relayctl;help;queue;failed'= {
        }
        &'relayctl;help;queue;daemon'= {
        }
        &'relayctl;help;queue;attempt'= {
        }
        &'relayctl;help;doctor'= {
        }
        &'relayctl;help;metrics'= {
        }
        &'relayctl;help;route'= {
        }
        &'relayctl;help;test'= {
        }
        &'relayctl;help;serve'= {
        }
        &'relayctl;help;server'= {
            cand user 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders'
        }
        &'relayctl;help;server;user'= {
            cand add 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)'
            cand list 'List the users with their profile and senders (never their passwords)'
            cand remove 'Remove a user; its app can no longer log in'
        }
        &'relayctl;help;server;user;add'= {
        }
        &'relayctl;help;server;user;list'= {
        }
        &'relayctl;help;server;user;remove'= {
        }
        &'relayctl;help;profile'= {
            cand list 'List the configured profiles (the default is marked with *)'
            cand show 'Show a profile''s settings and where its secret lives (never the secret)'
            cand remove 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)'
            cand default 'Make a profile the default'
            cand set-secret 'Replace a profile''s secret (rotate a revoked or leaked app password)'
        }
        &'relayctl;help;profile;list'= {
        }
        &'relayctl;help;profile;show'= {
        }
        &'relayctl;help;profile;remove'= {
        }
        &'relayctl;help;profile;default'= {
        }
        &'relayctl;help;profile;set-secret'= {
        }
        &'relayctl;help;help'= {
        }
    ]
    $completions[$command]
}
