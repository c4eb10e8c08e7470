#!/usr/bin/env bash
# Dovecot's authentication service alone, as the SASL back end of the Postfix test relay's
# OAuth2 listener (port 2588): it takes XOAUTH2 and OAUTHBEARER and checks each access token by
# token introspection (RFC 7662) at http://127.0.0.1:$RELAYCTL_TEST_OAUTH_PORT/introspect, where
# the integration tests run their authorization server. For the password-mechanism listener
# (port 2589) it takes SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN and LOGIN for the test user
# ($RELAYCTL_TEST_USER, $RELAYCTL_TEST_PASS), whose password it keeps in clear (the form every
# one of them can check). Each Postfix listener offers only its own ones
# (smtpd_sasl_mechanism_filter). Postfix reaches it on 127.0.0.1:2591.
# Restarted on every run; called by postfix-up.sh with the relay directory.
#
# Needs root and (Debian): apt-get install -y dovecot-core
set -euo pipefail

DIR=$1
OAUTH_PORT=${RELAYCTL_TEST_OAUTH_PORT:-2590}
SASL_USER=${RELAYCTL_TEST_USER:-jdoe@relay.test}
SASL_PASS=${RELAYCTL_TEST_PASS:-Relay-Test-App-Pass-7431}
AUTH_PORT=2591
D=$DIR/dovecot

command -v dovecot >/dev/null || {
    echo "dovecot-up: dovecot is missing (apt-get install -y dovecot-core)" >&2
    exit 1
}
mkdir -p "$D/run" "$D/state"
chmod 755 "$D" "$D/run"

cat >"$D/oauth2.conf.ext" <<CONF
introspection_url = http://127.0.0.1:$OAUTH_PORT/introspect
introspection_mode = post
username_attribute = username
active_attribute = active
active_value = true
CONF

# The password file: readable by Dovecot's auth process (its internal user) only.
umask 077
printf '%s:{PLAIN}%s::::::\n' "$SASL_USER" "$SASL_PASS" >"$D/users"
umask 022
chown dovecot:dovecot "$D/users"

cat >"$D/dovecot.conf" <<CONF
# Managed by relayctl tests/relay/dovecot-up.sh -- rewritten on every run.
protocols =
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
ssl = no
# Postfix offers AUTH only after TLS (smtpd_tls_auth_only); this side is loopback.
disable_plaintext_auth = no
auth_mechanisms = xoauth2 oauthbearer scram-sha-256 scram-sha-1 cram-md5 plain login
auth_failure_delay = 0
auth_verbose = yes
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $D/oauth2.conf.ext
}
passdb {
  driver = passwd-file
  mechanisms = scram-sha-256 scram-sha-1 cram-md5 plain login
  args = scheme=PLAIN username_format=%u $D/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $AUTH_PORT
  }
}
CONF

if [[ -s $D/run/master.pid ]]; then
    kill "$(cat "$D/run/master.pid")" 2>/dev/null || true
fi
for _ in $(seq 1 50); do
    [[ -z $(ss -ltnH "sport = :$AUTH_PORT" 2>/dev/null) ]] && break
    sleep 0.1
done
# Detached from our output (the caller reads it to its end), and from every other descriptor
# the caller holds (a lock taken around the test run must not live on in the daemon).
(
    for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}
        ((fd > 2)) && eval "exec $fd>&-"
    done
    exec dovecot -c "$D/dovecot.conf" </dev/null >/dev/null 2>&1
)
for _ in $(seq 1 50); do
    [[ -n $(ss -ltnH "sport = :$AUTH_PORT" 2>/dev/null) ]] && exit 0
    sleep 0.1
done
echo "dovecot-up: Dovecot does not listen on 127.0.0.1:$AUTH_PORT; see $D/dovecot.log" >&2
tail -n 20 "$D/dovecot.log" >&2 || true
exit 1
