
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'relayctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'relayctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'relayctl' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Compose a message (body from stdin) and send it')
            [CompletionResult]::new('sendmail', 'sendmail', [CompletionResultType]::ParameterValue, 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)')
            [CompletionResult]::new('sendmail-link', 'sendmail-link', [CompletionResultType]::ParameterValue, 'Make relayctl the system''s sendmail, mailq and newaliases, or undo it')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Inspect and drive the queue of messages waiting for the relay')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything between this host and the relay; each line pass, warn or fail with a fix')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens')
            [CompletionResult]::new('route', 'route', [CompletionResultType]::ParameterValue, 'Show which profile a sender''s mail goes through, and why ([routes], --profile, default)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a real test message through the queue and report the relay''s reply and the queue id')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'List, inspect, remove profiles, choose the default, rotate a secret')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;setup' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Profile name [default: the preset''s name]')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Login name (for most providers, your email address)')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Sender address [default: the login name when it is an address]')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Relay host name or IP address [default: the preset''s]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Relay port [default: the preset''s, or the usual port of --tls]')
            [CompletionResult]::new('--tls', '--tls', [CompletionResultType]::ParameterName, 'Connection security [default: the preset''s]')
            [CompletionResult]::new('--tls-name', '--tls-name', [CompletionResultType]::ParameterName, 'Name to verify the relay''s certificate against (when --host is an IP address)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Extra CA certificate(s) to trust for this relay (PEM)')
            [CompletionResult]::new('--tls-fingerprint', '--tls-fingerprint', [CompletionResultType]::ParameterName, 'Pin the relay''s certificate or public key by its SHA-256 fingerprint (sha256:AB:CD:...; repeat for several); the CA and name are then not checked')
            [CompletionResult]::new('--tls-min-version', '--tls-min-version', [CompletionResultType]::ParameterName, 'Oldest TLS version accepted: 1.2 or 1.3 [default: 1.2]')
            [CompletionResult]::new('--source-address', '--source-address', [CompletionResultType]::ParameterName, 'Local address to connect to the relay from (a relay that allow-lists by IP)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Egress proxy to reach the relay through: socks5://[user@]host:port, socks5h://..., http://[user@]host:port')
            [CompletionResult]::new('--proxy-secret', '--proxy-secret', [CompletionResultType]::ParameterName, 'Where the proxy''s password lives (keyring, systemd, command:CMD, file[:PATH], env[:VAR])')
            [CompletionResult]::new('--client-cert', '--client-cert', [CompletionResultType]::ParameterName, 'TLS client certificate (PEM), for relays that accept one instead of a password')
            [CompletionResult]::new('--client-key', '--client-key', [CompletionResultType]::ParameterName, 'Private key of --client-cert (PEM)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Provider region: an AWS region for ses (default us-east-1); `eu` for mailgun and zoho')
            [CompletionResult]::new('--ehlo-name', '--ehlo-name', [CompletionResultType]::ParameterName, 'Name announced in EHLO [default: this host''s fully qualified name]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds allowed for connecting and for each reply of the relay [default: 30]')
            [CompletionResult]::new('--max-message-size', '--max-message-size', [CompletionResultType]::ParameterName, 'Largest message to hand to this relay, e.g. 25MB [default: the preset''s]')
            [CompletionResult]::new('--rate-limit', '--rate-limit', [CompletionResultType]::ParameterName, 'Most messages sent through this relay, e.g. 60/hour, 30/minute, 500/day, or `off` [default: the provider''s documented limit]')
            [CompletionResult]::new('--fallback', '--fallback', [CompletionResultType]::ParameterName, 'Profile to try when this relay fails temporarily (repeat for several, tried in order)')
            [CompletionResult]::new('--notify', '--notify', [CompletionResultType]::ParameterName, 'Where notices about held, delayed and failed mail go: the top-level `notify` when this is the default profile and has no `notify` of its own, else the profile''s')
            [CompletionResult]::new('--client-id', '--client-id', [CompletionResultType]::ParameterName, 'OAuth2 client ID of your app registration with the provider')
            [CompletionResult]::new('--tenant', '--tenant', [CompletionResultType]::ParameterName, 'Microsoft Entra tenant for outlook --oauth (a domain or tenant ID) [default: common]')
            [CompletionResult]::new('--token-endpoint', '--token-endpoint', [CompletionResultType]::ParameterName, 'OAuth2 token endpoint [default: the preset''s]')
            [CompletionResult]::new('--device-endpoint', '--device-endpoint', [CompletionResultType]::ParameterName, 'OAuth2 device authorization endpoint, to sign in with a code [default: the preset''s]')
            [CompletionResult]::new('--authorize-endpoint', '--authorize-endpoint', [CompletionResultType]::ParameterName, 'OAuth2 authorization endpoint, to sign in through a URL opened elsewhere [default: the preset''s]')
            [CompletionResult]::new('--scope', '--scope', [CompletionResultType]::ParameterName, 'OAuth2 scopes, space-separated [default: the preset''s]')
            [CompletionResult]::new('--secret-store', '--secret-store', [CompletionResultType]::ParameterName, 'Where to keep the secret [default: keyring when usable, else file]')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Command that prints the password (run without a shell; implies --secret-store command)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--trust-on-first-use', '--trust-on-first-use', [CompletionResultType]::ParameterName, 'Connect now, show the relay''s certificate, ask, and pin it (tls_fingerprint)')
            [CompletionResult]::new('--root-alias', '--root-alias', [CompletionResultType]::ParameterName, 'Also deliver mail for the local user root to the --notify address ([aliases] root)')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of stdin instead of prompting')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Save without connecting to the relay (image baking, CI, no network) [default: connect, log in and try the sender first, and save nothing if that fails]')
            [CompletionResult]::new('--oauth', '--oauth', [CompletionResultType]::ParameterName, 'Sign in with OAuth2 instead of a password (gmail, outlook; other presets with the endpoint options); the refresh token goes to the secret store')
            [CompletionResult]::new('--client-secret-stdin', '--client-secret-stdin', [CompletionResultType]::ParameterName, 'Read the OAuth2 client secret from the first line of stdin instead of prompting (Google requires one)')
            [CompletionResult]::new('--default', '--default', [CompletionResultType]::ParameterName, 'Make this the default profile (the first profile always is)')
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'Write the system-wide config (/etc/relayctl/config.toml) instead of the user''s')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;send' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Recipient(s)')
            [CompletionResult]::new('--cc', '--cc', [CompletionResultType]::ParameterName, 'Copy recipient(s)')
            [CompletionResult]::new('--bcc', '--bcc', [CompletionResultType]::ParameterName, 'Blind-copy recipient(s): in the envelope only, never in the headers')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Subject line')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'Subject line')
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'Sender [default: the profile''s from]')
            [CompletionResult]::new('--attach', '--attach', [CompletionResultType]::ParameterName, 'File(s) to attach (sent base64; the message must fit the profile''s max_message_size)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--zip', '--zip', [CompletionResultType]::ParameterName, 'Send the attachments compressed, as one attachments.zip')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;sendmail' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            break
        }
        'relayctl;sendmail-link' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove relayctl''s links and restore files moved aside by install --force')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what each path holds: relayctl, another program (and its package), or nothing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;sendmail-link;install' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Directory holding sbin/, bin/ and lib/')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Move another mail transport''s files aside (kept as *.relayctl-saved)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;sendmail-link;remove' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Directory holding sbin/, bin/ and lib/')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;sendmail-link;status' {
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Directory holding sbin/, bin/ and lib/')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;sendmail-link;help' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove relayctl''s links and restore files moved aside by install --force')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what each path holds: relayctl, another program (and its package), or nothing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;sendmail-link;help;install' {
            break
        }
        'relayctl;sendmail-link;help;remove' {
            break
        }
        'relayctl;sendmail-link;help;status' {
            break
        }
        'relayctl;sendmail-link;help;help' {
            break
        }
        'relayctl;queue' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List waiting and held messages (also: mailq, sendmail -bp)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one message''s envelope, recipients and attempts')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Try messages again now (held ones stay held; failed ones go back into the queue)')
            [CompletionResult]::new('hold', 'hold', [CompletionResultType]::ParameterValue, 'Keep messages from being delivered until released')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete messages from the queue or the failed area')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)')
            [CompletionResult]::new('failed', 'failed', [CompletionResultType]::ParameterValue, 'List messages that could not be delivered, with the reason')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run continuously: deliver new mail at once and retries when due')
            [CompletionResult]::new('attempt', 'attempt', [CompletionResultType]::ParameterValue, 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;queue;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;run' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;flush' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;retry' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every message; only those of one profile with the global --profile NAME')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'With --all: the messages of the failed area, put back into the queue and tried')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;hold' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every message; only those of one profile with the global --profile NAME')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;release' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every message; only those of one profile with the global --profile NAME')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;delete' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every message; only those of one profile with the global --profile NAME')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'With --all: the messages of the failed area instead of the queue''s')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;move' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'With --all: only messages submitted longer ago than AGE, e.g. 2h or 3d')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The profile to send them through')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every message; only those of one profile with the global --profile NAME')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;failed' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;daemon' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;attempt' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Say on stdout how it went (for `relayctl send` on a terminal)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;queue;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List waiting and held messages (also: mailq, sendmail -bp)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one message''s envelope, recipients and attempts')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Try messages again now (held ones stay held; failed ones go back into the queue)')
            [CompletionResult]::new('hold', 'hold', [CompletionResultType]::ParameterValue, 'Keep messages from being delivered until released')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete messages from the queue or the failed area')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)')
            [CompletionResult]::new('failed', 'failed', [CompletionResultType]::ParameterValue, 'List messages that could not be delivered, with the reason')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run continuously: deliver new mail at once and retries when due')
            [CompletionResult]::new('attempt', 'attempt', [CompletionResultType]::ParameterValue, 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;queue;help;list' {
            break
        }
        'relayctl;queue;help;show' {
            break
        }
        'relayctl;queue;help;run' {
            break
        }
        'relayctl;queue;help;flush' {
            break
        }
        'relayctl;queue;help;retry' {
            break
        }
        'relayctl;queue;help;hold' {
            break
        }
        'relayctl;queue;help;release' {
            break
        }
        'relayctl;queue;help;delete' {
            break
        }
        'relayctl;queue;help;move' {
            break
        }
        'relayctl;queue;help;failed' {
            break
        }
        'relayctl;queue;help;daemon' {
            break
        }
        'relayctl;queue;help;attempt' {
            break
        }
        'relayctl;queue;help;help' {
            break
        }
        'relayctl;doctor' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output (schema: docs/doctor-schema.json)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;metrics' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;route' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;test' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Recipient of the test message')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Listen on ADDR:PORT, or smtps://ADDR:PORT for implicit TLS; repeatable [default: [server] listen, else 127.0.0.1:25 and [::1]:25 as root, 127.0.0.1:2525 otherwise]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;server' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;server;user' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the users with their profile and senders (never their passwords)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a user; its app can no longer log in')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;server;user;add' {
            [CompletionResult]::new('--sender', '--sender', [CompletionResultType]::ParameterName, 'An address (alerts@example.org) or domain (@example.org) the user may send as; repeatable [default: only the profile''s own address]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the password from the first line of stdin instead of prompting')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;server;user;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Machine-readable output')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;server;user;remove' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;server;user;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the users with their profile and senders (never their passwords)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a user; its app can no longer log in')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;server;user;help;add' {
            break
        }
        'relayctl;server;user;help;list' {
            break
        }
        'relayctl;server;user;help;remove' {
            break
        }
        'relayctl;server;user;help;help' {
            break
        }
        'relayctl;server;help' {
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;server;help;user' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the users with their profile and senders (never their passwords)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a user; its app can no longer log in')
            break
        }
        'relayctl;server;help;user;add' {
            break
        }
        'relayctl;server;help;user;list' {
            break
        }
        'relayctl;server;help;user;remove' {
            break
        }
        'relayctl;server;help;help' {
            break
        }
        'relayctl;profile' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured profiles (the default is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile''s settings and where its secret lives (never the secret)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set-secret', 'set-secret', [CompletionResultType]::ParameterValue, 'Replace a profile''s secret (rotate a revoked or leaked app password)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;profile;list' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;profile;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;profile;remove' {
            [CompletionResult]::new('--move-to', '--move-to', [CompletionResultType]::ParameterName, 'Send its queued mail through this profile instead')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Remove it even though mail waits for it: that mail is held until moved to another profile (relayctl queue move ID... --to PROFILE) and released')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;profile;default' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;profile;set-secret' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Use this config file instead of /etc/relayctl/config.toml and the user''s file')
            [CompletionResult]::new('--spool', '--spool', [CompletionResultType]::ParameterName, 'Spool and state directory [default: /var/spool/relayctl for root, else $XDG_STATE_HOME/relayctl]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Relay profile to use [default: the configured default profile]')
            [CompletionResult]::new('--password-stdin', '--password-stdin', [CompletionResultType]::ParameterName, 'Read the new password from the first line of stdin instead of prompting')
            [CompletionResult]::new('--no-verify', '--no-verify', [CompletionResultType]::ParameterName, 'Replace the secret without logging in with it first')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Show the SMTP dialogue on stderr (passwords are never shown)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Deliver while waiting and exit with the relay''s verdict (75: try later); nothing is queued')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'relayctl;profile;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured profiles (the default is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile''s settings and where its secret lives (never the secret)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set-secret', 'set-secret', [CompletionResultType]::ParameterValue, 'Replace a profile''s secret (rotate a revoked or leaked app password)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;profile;help;list' {
            break
        }
        'relayctl;profile;help;show' {
            break
        }
        'relayctl;profile;help;remove' {
            break
        }
        'relayctl;profile;help;default' {
            break
        }
        'relayctl;profile;help;set-secret' {
            break
        }
        'relayctl;profile;help;help' {
            break
        }
        'relayctl;help' {
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create a relay profile from a preset and store its secret; on an existing profile, change only the settings given (comments and other keys stay) and print each change')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Compose a message (body from stdin) and send it')
            [CompletionResult]::new('sendmail', 'sendmail', [CompletionResultType]::ParameterValue, 'Deliver a message from stdin like sendmail(8) (also: the binary invoked as sendmail)')
            [CompletionResult]::new('sendmail-link', 'sendmail-link', [CompletionResultType]::ParameterValue, 'Make relayctl the system''s sendmail, mailq and newaliases, or undo it')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Inspect and drive the queue of messages waiting for the relay')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check everything between this host and the relay; each line pass, warn or fail with a fix')
            [CompletionResult]::new('metrics', 'metrics', [CompletionResultType]::ParameterValue, 'Print metrics for Prometheus (text exposition format): mail by profile and state, the oldest waiting, deliveries and failures, the spew brake, rate limits, OAuth2 tokens')
            [CompletionResult]::new('route', 'route', [CompletionResultType]::ParameterValue, 'Show which profile a sender''s mail goes through, and why ([routes], --profile, default)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Send a real test message through the queue and report the relay''s reply and the queue id')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Accept mail over SMTP from apps and containers that cannot run sendmail ([server] in relayctl.toml(5)); never an open relay')
            [CompletionResult]::new('server', 'server', [CompletionResultType]::ParameterValue, 'Manage what the SMTP listener serves: its users (apps that log in with AUTH)')
            [CompletionResult]::new('profile', 'profile', [CompletionResultType]::ParameterValue, 'List, inspect, remove profiles, choose the default, rotate a secret')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'relayctl;help;setup' {
            break
        }
        'relayctl;help;send' {
            break
        }
        'relayctl;help;sendmail' {
            break
        }
        'relayctl;help;sendmail-link' {
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Link PREFIX/sbin/sendmail, bin/mailq, bin/newaliases and lib/sendmail to relayctl')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove relayctl''s links and restore files moved aside by install --force')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what each path holds: relayctl, another program (and its package), or nothing')
            break
        }
        'relayctl;help;sendmail-link;install' {
            break
        }
        'relayctl;help;sendmail-link;remove' {
            break
        }
        'relayctl;help;sendmail-link;status' {
            break
        }
        'relayctl;help;queue' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List waiting and held messages (also: mailq, sendmail -bp)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one message''s envelope, recipients and attempts')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Deliver the messages that are due (one pass, for cron and timers; also: sendmail -q)')
            [CompletionResult]::new('flush', 'flush', [CompletionResultType]::ParameterValue, 'Deliver every waiting message now, whatever its schedule, and print one line per profile (delivered, deferred, held, failed)')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Try messages again now (held ones stay held; failed ones go back into the queue)')
            [CompletionResult]::new('hold', 'hold', [CompletionResultType]::ParameterValue, 'Keep messages from being delivered until released')
            [CompletionResult]::new('release', 'release', [CompletionResultType]::ParameterValue, 'Release held messages (admin holds, and mail held for a relay configuration fault); --all also lifts the spew brake of the frozen profiles it covers')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete messages from the queue or the failed area')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Send messages through another profile (a held message stays held unless it was held for its old profile''s configuration)')
            [CompletionResult]::new('failed', 'failed', [CompletionResultType]::ParameterValue, 'List messages that could not be delivered, with the reason')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run continuously: deliver new mail at once and retries when due')
            [CompletionResult]::new('attempt', 'attempt', [CompletionResultType]::ParameterValue, 'The first attempt at a message just submitted, in a process of its own (what `sendmail` starts, so that killing it cannot cut a delivery short)')
            break
        }
        'relayctl;help;queue;list' {
            break
        }
        'relayctl;help;queue;show' {
            break
        }
        'relayctl;help;queue;run' {
            break
        }
        'relayctl;help;queue;flush' {
            break
        }
        'relayctl;help;queue;retry' {
            break
        }
        'relayctl;help;queue;hold' {
            break
        }
        'relayctl;help;queue;release' {
            break
        }
        'relayctl;help;queue;delete' {
            break
        }
        'relayctl;help;queue;move' {
            break
        }
        'relayctl;help;queue;failed' {
            break
        }
        'relayctl;help;queue;daemon' {
            break
        }
        'relayctl;help;queue;attempt' {
            break
        }
        'relayctl;help;doctor' {
            break
        }
        'relayctl;help;metrics' {
            break
        }
        'relayctl;help;route' {
            break
        }
        'relayctl;help;test' {
            break
        }
        'relayctl;help;serve' {
            break
        }
        'relayctl;help;server' {
            [CompletionResult]::new('user', 'user', [CompletionResultType]::ParameterValue, 'Users of the SMTP listener: each logs in with AUTH, sends through one profile (the global --profile, else the default) and only as its own senders')
            break
        }
        'relayctl;help;server;user' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a user, or give an existing one a new password, profile and senders (the password is prompted for, or read from stdin, and stored as an Argon2id hash)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the users with their profile and senders (never their passwords)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a user; its app can no longer log in')
            break
        }
        'relayctl;help;server;user;add' {
            break
        }
        'relayctl;help;server;user;list' {
            break
        }
        'relayctl;help;server;user;remove' {
            break
        }
        'relayctl;help;profile' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the configured profiles (the default is marked with *)')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show a profile''s settings and where its secret lives (never the secret)')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove a profile and the secret relayctl stored for it (refused while mail waits for it, unless --move-to or --force says what becomes of that mail)')
            [CompletionResult]::new('default', 'default', [CompletionResultType]::ParameterValue, 'Make a profile the default')
            [CompletionResult]::new('set-secret', 'set-secret', [CompletionResultType]::ParameterValue, 'Replace a profile''s secret (rotate a revoked or leaked app password)')
            break
        }
        'relayctl;help;profile;list' {
            break
        }
        'relayctl;help;profile;show' {
            break
        }
        'relayctl;help;profile;remove' {
            break
        }
        'relayctl;help;profile;default' {
            break
        }
        'relayctl;help;profile;set-secret' {
            break
        }
        'relayctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
