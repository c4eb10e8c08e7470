#!/usr/bin/env bash
# Bring up a real Postfix test relay on 127.0.0.1 for the relayctl integration
# tests.  Idempotent: run it as often as you like; every run rewrites the
# Postfix configuration, (re)starts or reloads Postfix and checks that every
# listener answers.
#
# Needs root and (Debian):
#   apt-get install -y postfix sasl2-bin libsasl2-modules openssl dovecot-core
#
# Listeners (all 127.0.0.1 only):
#   25    plain smarthost: no STARTTLS, no AUTH, relays for 127.0.0.0/8;
#         refuses rejected@example.org (550) and later@example.org (450)
#   587   submission: STARTTLS required, AUTH PLAIN/LOGIN after TLS only,
#         relays for authenticated clients only
#   465   submissions: implicit TLS, AUTH PLAIN/LOGIN, authenticated relay only
#   2526  plain, offers AUTH PLAIN/LOGIN *without* TLS (never use it for real),
#         no STARTTLS, relays for 127.0.0.0/8
#   2587  STARTTLS offered (may), no AUTH, no 8BITMIME, relays for 127.0.0.0/8
#   2465  implicit TLS, requires a client certificate signed by the test CA,
#         relays for any verified client certificate, no AUTH
#   2588  implicit TLS, AUTH XOAUTH2/OAUTHBEARER through Dovecot's auth service
#         (tests/relay/dovecot-up.sh), which checks each token by introspection
#         at the tests' authorization server; authenticated relay only
#   2589  implicit TLS, AUTH SCRAM-SHA-256/SCRAM-SHA-1/CRAM-MD5/PLAIN/LOGIN through
#         Dovecot's auth service (the SASL user and password); authenticated relay only
# Everything accepted is relayed to [127.0.0.1]:$RELAYCTL_TEST_CAPTURE_PORT
# (a capture SMTP server run by the tests; plain SMTP, no TLS, no AUTH), except
# mail from listener-route@relay.test, which goes to 127.0.0.1:2527, where the
# listener tests run relayctl's SMTP listener.
# Mail queued while it is down is delivered ~1 s after it comes up.
#
# Environment (all optional):
#   RELAYCTL_TEST_RELAY_DIR     generated material + log  (/var/tmp/relayctl-test-relay)
#   RELAYCTL_TEST_USER          SASL user                 (jdoe@relay.test)
#   RELAYCTL_TEST_PASS          SASL password             (Relay-Test-App-Pass-7431)
#   RELAYCTL_TEST_CAPTURE_PORT  capture server port       (2525)
#   RELAYCTL_TEST_RELAY_RESTART=1  force postfix stop+start even if unchanged
#   RELAYCTL_TEST_RELAY_PURGE=1    delete all queued mail before starting
#   RELAYCTL_TEST_RELAY_TIMEOUT    seconds to wait for the listeners (10)
#
# stdout: only KEY=VALUE lines (RELAY_DIR=, CA_FILE=, ...); progress -> stderr.
set -euo pipefail

DIR=${RELAYCTL_TEST_RELAY_DIR:-/var/tmp/relayctl-test-relay}
SASL_USER=${RELAYCTL_TEST_USER:-jdoe@relay.test}
SASL_PASS=${RELAYCTL_TEST_PASS:-Relay-Test-App-Pass-7431}
CAPTURE_PORT=${RELAYCTL_TEST_CAPTURE_PORT:-2525}
WAIT_SECS=${RELAYCTL_TEST_RELAY_TIMEOUT:-10}
PORTS=(25 465 587 2526 2587 2465 2588 2589)
RELAY_HOSTNAME=relay.test
LISTENER_ROUTE_SENDER=listener-route@relay.test
LISTENER_ROUTE_PORT=2527

PF_CONF=/etc/postfix
SASL_CONF_DIR=$PF_CONF/sasl
SASLDB=/etc/sasldb2

START_TS=$(date +%s%N)
log() { printf 'postfix-up: [+%sms] %s\n' "$((($(date +%s%N) - START_TS) / 1000000))" "$*" >&2; }
die() {
    printf 'postfix-up: ERROR: %s\n' "$*" >&2
    if [[ -s ${DIR}/postfix.log ]]; then
        printf 'postfix-up: --- last lines of %s ---\n' "$DIR/postfix.log" >&2
        tail -n 40 "$DIR/postfix.log" >&2 || true
    fi
    exit 1
}

# ---------------------------------------------------------------- sanity
[[ $(id -u) -eq 0 ]] || die "must run as root (try: sudo -E $0)"
case $DIR in
    /*) ;;
    *) die "RELAYCTL_TEST_RELAY_DIR must be an absolute path: $DIR" ;;
esac
[[ $DIR =~ ^[A-Za-z0-9_./+-]+$ ]] ||
    die "RELAYCTL_TEST_RELAY_DIR must not contain spaces/commas/special characters: $DIR"
[[ $CAPTURE_PORT =~ ^[0-9]+$ ]] || die "bad RELAYCTL_TEST_CAPTURE_PORT: $CAPTURE_PORT"
[[ $SASL_USER =~ ^[A-Za-z0-9._+-]+(@[A-Za-z0-9.-]+)?$ ]] || die "unsupported RELAYCTL_TEST_USER: $SASL_USER"
[[ $SASL_PASS != *$'\n'* && -n $SASL_PASS ]] || die "RELAYCTL_TEST_PASS must be non-empty, single line"

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
missing=()
for tool in postfix postconf postqueue postsuper saslpasswd2 openssl base64 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
((${#missing[@]} == 0)) ||
    die "missing tools: ${missing[*]} (apt-get install -y postfix sasl2-bin libsasl2-modules openssl)"
getent passwd postfix >/dev/null || die "no 'postfix' user: is the postfix package installed?"
getent group postfix >/dev/null || die "no 'postfix' group: is the postfix package installed?"
have_mech() { compgen -G "/usr/lib/*/sasl2/lib$1.so*" >/dev/null || compgen -G "/usr/lib/sasl2/lib$1.so*" >/dev/null; }
for mech in plain login sasldb; do
    have_mech "$mech" || die "Cyrus SASL plugin '$mech' not found (apt-get install -y libsasl2-modules sasl2-bin)"
done

umask 022
mkdir -p "$DIR"
chmod 755 "$DIR"

# Serialise concurrent runs (several test binaries may call this at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.lock"
    flock -w 120 9 || die "timed out waiting for $DIR/.lock"
fi

TMP=$(mktemp -d /tmp/relayctl-postfix-up.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# ---------------------------------------------------------------- certificates
same_key() { # cert key
    [[ "$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null)" == "$(openssl pkey -in "$2" -pubout 2>/dev/null)" ]]
}

ca_ok() {
    [[ -s $DIR/ca.pem && -s $DIR/ca.key ]] &&
        openssl x509 -in "$DIR/ca.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
        same_key "$DIR/ca.pem" "$DIR/ca.key"
}

leaf_ok() { # name purpose
    local n=$1 purpose=$2
    [[ -s $DIR/$n.pem && -s $DIR/$n.key ]] &&
        openssl x509 -in "$DIR/$n.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
        same_key "$DIR/$n.pem" "$DIR/$n.key" &&
        openssl verify -CAfile "$DIR/ca.pem" -purpose "$purpose" "$DIR/$n.pem" >/dev/null 2>&1
}

serial() { printf '0x7%s' "$(openssl rand -hex 15)"; }

cat >"$TMP/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
O = relayctl tests
CN = placeholder
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
[v3_client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
EOF

regen_leaves=0
if ! ca_ok; then
    log "creating test CA in $DIR"
    openssl req -x509 -new -config "$TMP/openssl.cnf" -extensions v3_ca \
        -subj "/O=relayctl tests/CN=relayctl test CA" \
        -newkey rsa:2048 -nodes -sha256 -days 3650 -set_serial "$(serial)" \
        -keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>"$TMP/openssl.err" ||
        die "CA generation failed: $(cat "$TMP/openssl.err")"
    mv -f "$TMP/ca.key" "$DIR/ca.key"
    mv -f "$TMP/ca.pem" "$DIR/ca.pem"
    regen_leaves=1
fi

issue_leaf() { # name cn extensions-section
    local n=$1 cn=$2 ext=$3
    log "issuing $n certificate (CN=$cn)"
    openssl req -new -config "$TMP/openssl.cnf" -subj "/O=relayctl tests/CN=$cn" \
        -newkey rsa:2048 -nodes -keyout "$TMP/$n.key" -out "$TMP/$n.csr" 2>"$TMP/openssl.err" ||
        die "$n key/CSR generation failed: $(cat "$TMP/openssl.err")"
    openssl x509 -req -in "$TMP/$n.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
        -set_serial "$(serial)" -days 1825 -sha256 \
        -extfile "$TMP/openssl.cnf" -extensions "$ext" -out "$TMP/$n.pem" 2>"$TMP/openssl.err" ||
        die "$n certificate signing failed: $(cat "$TMP/openssl.err")"
    mv -f "$TMP/$n.key" "$DIR/$n.key"
    mv -f "$TMP/$n.pem" "$DIR/$n.pem"
}

if ((regen_leaves)) || ! leaf_ok server sslserver; then
    issue_leaf server localhost v3_server
fi
if ((regen_leaves)) || ! leaf_ok client sslclient; then
    issue_leaf client relayctl-test-client v3_client
fi
leaf_ok server sslserver || die "server certificate does not verify against ca.pem"
leaf_ok client sslclient || die "client certificate does not verify against ca.pem"

chown root:root "$DIR/ca.key" && chmod 600 "$DIR/ca.key"
chown root:postfix "$DIR/server.key" && chmod 640 "$DIR/server.key"
chmod 644 "$DIR/client.key" # test-only key; tests may run unprivileged
chmod 644 "$DIR/ca.pem" "$DIR/server.pem" "$DIR/client.pem"
touch "$DIR/postfix.log"
chmod 644 "$DIR/postfix.log"

# ---------------------------------------------------------------- SASL
if [[ $SASL_USER == *@* ]]; then
    SASL_LOCAL=${SASL_USER%@*}
    SASL_REALM=${SASL_USER##*@}
else
    # A bare name is canonicalised by Cyrus with the server FQDN
    # ($myhostname), so store it in that realm.
    SASL_LOCAL=$SASL_USER
    SASL_REALM=$RELAY_HOSTNAME
fi

changed=0
install_file() { # dest mode owner:group  (content on stdin)
    local dest=$1 mode=$2 owner=$3 tmp
    tmp=$(mktemp "$TMP/file.XXXXXX")
    cat >"$tmp"
    if [[ ! -f $dest ]] || ! cmp -s "$tmp" "$dest"; then
        install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$tmp" "$dest"
        changed=1
        log "wrote $dest"
    else
        chmod "$mode" "$dest"
        chown "$owner" "$dest"
    fi
}

mkdir -p "$SASL_CONF_DIR"
install_file "$SASL_CONF_DIR/smtpd.conf" 644 root:root <<EOF
# Managed by relayctl tests/relay/postfix-up.sh
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $SASLDB
EOF

printf '%s' "$SASL_PASS" | saslpasswd2 -f "$SASLDB" -p -c -u "$SASL_REALM" "$SASL_LOCAL" ||
    die "saslpasswd2 failed"
chown root:postfix "$SASLDB"
chmod 640 "$SASLDB"

# ---------------------------------------------------------------- Postfix config
mkdir -p "$DIR/orig"
for f in main.cf master.cf; do
    if [[ -f $PF_CONF/$f && ! -e $DIR/orig/$f ]] && ! grep -q 'relayctl tests/relay/postfix-up.sh' "$PF_CONF/$f"; then
        cp -p "$PF_CONF/$f" "$DIR/orig/$f"
    fi
done

install_file "$PF_CONF/main.cf" 644 root:root <<EOF
# Managed by relayctl tests/relay/postfix-up.sh -- rewritten on every run.
# Original Debian files (if any) were saved to $DIR/orig/.
compatibility_level = 3.6
biff = no
readme_directory = no

myhostname = $RELAY_HOSTNAME
mydomain = $RELAY_HOSTNAME
myorigin = $RELAY_HOSTNAME
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8

# Nothing is delivered locally: every accepted message goes to the capture
# server, even root@localhost.
mydestination =
local_recipient_maps =
relay_domains =
alias_maps =
alias_database =
smtpd_reject_unlisted_recipient = no
relayhost = [127.0.0.1]:$CAPTURE_PORT
default_transport = smtp
relay_transport = smtp
# Postfix's own SMTP client as a client of relayctl's SMTP listener: mail from this one sender
# goes to the listener the tests start on 127.0.0.1:$LISTENER_ROUTE_PORT. The listener sends it
# on with its profile's sender, which takes the usual way to the capture server (no loop).
sender_dependent_default_transport_maps = inline:{ { $LISTENER_ROUTE_SENDER = smtp:[127.0.0.1]:$LISTENER_ROUTE_PORT } }
smtputf8_enable = yes
message_size_limit = 10240000
mailbox_size_limit = 0
recipient_delimiter = +
# Be transparent for message headers: do not add missing Date:, Message-ID:,
# From:, To: headers and do not qualify addresses in headers (Postfix would
# otherwise do so for clients on 127.0.0.1, hiding bugs in relayctl).
# Envelope addresses without a domain are still qualified with @relay.test (myorigin).
local_header_rewrite_clients =
remote_header_rewrite_domain =
always_add_missing_headers = no

# Logging (no syslog on this machine).
maillog_file = $DIR/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $DIR

# Retry fast: the capture server usually starts after the mail was queued.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
transport_retry_time = 1s
smtp_connect_timeout = 5s
smtp_connection_cache_on_demand = no
smtp_connection_cache_destinations =
default_destination_rate_delay = 0s
default_destination_concurrency_failed_cohort_limit = 10
default_transport_rate_delay = 0s
delay_warning_time = 0h
in_flow_delay = 0s

# Outgoing (to the capture server): no TLS, no AUTH.
smtp_tls_security_level = none
smtp_tls_session_cache_database =
smtp_sasl_auth_enable = no

# Incoming defaults; master.cf overrides per listener.
smtpd_tls_cert_file = $DIR/server.pem
smtpd_tls_key_file = $DIR/server.key
smtpd_tls_security_level = none
smtpd_tls_auth_only = no
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database =
smtpd_sasl_auth_enable = no
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $SASL_CONF_DIR
smtpd_sasl_local_domain =
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_error_sleep_time = 0s
smtpd_soft_error_limit = 50
smtpd_hard_error_limit = 100
disable_vrfy_command = yes
EOF

master_cf=$(cat <<'EOF'
# Managed by relayctl tests/relay/postfix-up.sh -- rewritten on every run.
# No chroot anywhere (smtpd must read /etc/sasldb2 and the test certificates).
# ==========================================================================
# service type  private unpriv  chroot  wakeup  maxproc command + args
# ==========================================================================
# 25: plain smarthost, no STARTTLS, no AUTH, relay for mynetworks.
# Two recipients are refused, for per-recipient failure tests.
25        inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/smtp-25
  -o smtpd_tls_security_level=none
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
  -o { smtpd_recipient_restrictions = check_recipient_access inline:{ { rejected@example.org = 550 5.1.1 <rejected@example.org>: no such user }, { later@example.org = 450 4.2.0 <later@example.org>: try again later } }, permit_mynetworks, reject }
# 587: submission, STARTTLS required, AUTH only after TLS, auth-only relay.
587       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission-587
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
# 465: submissions, implicit TLS, auth-only relay.
465       inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/submissions-465
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
# 2526: plaintext with AUTH offered and no STARTTLS (negative tests only).
2526      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/plainauth-2526
  -o smtpd_tls_security_level=none
  -o smtpd_tls_auth_only=no
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,reject
# 2587: opportunistic STARTTLS, no AUTH, relay for mynetworks.
2587      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/starttls-2587
  -o smtpd_discard_ehlo_keywords=8bitmime
  -o smtpd_tls_security_level=may
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_mynetworks,reject
# 2465: implicit TLS, client certificate required instead of a password.
2465      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/ccert-2465
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_req_ccert=yes
  -o smtpd_tls_CAfile=__DIR__/ca.pem
  -o smtpd_sasl_auth_enable=no
  -o smtpd_relay_restrictions=permit_tls_all_clientcerts,reject
  -o smtpd_recipient_restrictions=permit_tls_all_clientcerts,reject
# 2588: implicit TLS, OAuth2 bearer tokens checked by Dovecot, auth-only relay.
2588      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/oauth-2588
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=inet:127.0.0.1:2591
  -o smtpd_sasl_mechanism_filter=xoauth2,oauthbearer
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
# 2589: implicit TLS, password mechanisms that keep the password off the wire (and PLAIN,
# LOGIN) checked by Dovecot, auth-only relay.
2589      inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/mechs-2589
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=inet:127.0.0.1:2591
  -o smtpd_sasl_mechanism_filter=scram-sha-256,scram-sha-1,cram-md5,plain,login
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
  -o syslog_name=postfix/$service_name
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
)
install_file "$PF_CONF/master.cf" 644 root:root <<<"${master_cf//__DIR__/$DIR}"
# Postfix refuses to read a main.cf/master.cf modified within the last
# second or two and sleeps until it is old enough (~2 s per change); the files
# are complete at this point, so backdate them to avoid that.
if ((changed)); then
    touch -d "@$(($(date +%s) - 10))" "$PF_CONF/main.cf" "$PF_CONF/master.cf"
fi

# Every service must run without chroot (postconf -F '*/*/chroot = n' would
# also do it, but it reformats master.cf, defeating the change detection).
if postconf -F '*/*/chroot' | awk '$NF != "n" { bad = 1 } END { exit !bad }'; then
    die "master.cf has a chrooted service: $(postconf -F '*/*/chroot' | grep -v ' = n$')"
fi

# Configuration warnings (unknown parameters etc.) go to stderr.
pc_warn=$(postconf -n 2>&1 >/dev/null || true)
[[ -z $pc_warn ]] || log "postconf warnings: $pc_warn"
postfix check 2>&1 | sed 's/^/postfix-up: postfix check: /' >&2 || die "postfix check failed"

# ---------------------------------------------------------------- start / reload
# The OAuth2 listener's SASL back end first, so that it answers once Postfix does.
RELAYCTL_TEST_USER=$SASL_USER RELAYCTL_TEST_PASS=$SASL_PASS "$(dirname "$0")/dovecot-up.sh" "$DIR" 9>&- || die "Dovecot's auth service did not start"

pf_running() { postfix status >/dev/null 2>&1; }

port_open() { # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
# Is something listening on the port?  Prefer ss(8): probing with a real
# connection makes smtpd log "lost connection after CONNECT" / SSL_accept noise.
if command -v ss >/dev/null 2>&1 && ss -ltnH >/dev/null 2>&1; then
    port_listening() { [[ -n $(ss -ltnH "sport = :$1" 2>/dev/null) ]]; }
else
    port_listening() { port_open "$1"; }
fi

fingerprint() {
    cat "$PF_CONF/main.cf" "$PF_CONF/master.cf" "$SASL_CONF_DIR/smtpd.conf" \
        "$DIR/server.pem" "$DIR/server.key" | sha256sum | cut -d' ' -f1
}
want_fp=$(fingerprint)
master_pid() { sed -n '1{s/[^0-9]//g;p}' /var/spool/postfix/pid/master.pid 2>/dev/null || true; }

if [[ ${RELAYCTL_TEST_RELAY_PURGE:-0} == 1 ]]; then
    log "purging the mail queue"
    postsuper -d ALL >/dev/null 2>&1 || true
fi

restart=1
if pf_running; then
    if [[ ${RELAYCTL_TEST_RELAY_RESTART:-0} != 1 && -f $DIR/.running && "$(cat "$DIR/.running")" == "$want_fp $(master_pid)" ]]; then
        restart=0
    fi
fi

if ((restart)); then
    if pf_running; then
        log "stopping Postfix (configuration changed or restart forced)"
        postfix stop >/dev/null 2>&1 || true
        for _ in $(seq 1 100); do
            pf_running || break
            sleep 0.1
        done
        pf_running && die "Postfix did not stop"
    fi
    # Wait until the old listeners are really gone.
    for _ in $(seq 1 50); do
        busy=()
        for p in "${PORTS[@]}"; do port_listening "$p" && busy+=("$p"); done
        ((${#busy[@]} == 0)) && break
        sleep 0.1
    done
    if ((${#busy[@]} > 0)); then
        holders=$(ss -ltnpH 2>/dev/null | grep -E "127\.0\.0\.1:($(IFS='|'; echo "${busy[*]}")) |\*:($(IFS='|'; echo "${busy[*]}")) " || true)
        die "port(s) ${busy[*]} still in use by another program with Postfix stopped: ${holders:-?}"
    fi
    log "starting Postfix"
    postfix start >"$TMP/start.log" 2>&1 || die "postfix start failed: $(cat "$TMP/start.log")"
else
    log "configuration unchanged, reloading Postfix"
    postfix reload >"$TMP/start.log" 2>&1 || die "postfix reload failed: $(cat "$TMP/start.log")"
fi
rm -f "$DIR/.running"

# ---------------------------------------------------------------- health check
smtp_read() { # read one (possibly multi-line) reply from fd 3 into REPLY_CODE/REPLY_TEXT
    local line
    REPLY_TEXT=""
    REPLY_CODE=""
    while IFS= read -r -t 5 line <&3; do
        line=${line%$'\r'}
        REPLY_TEXT+="$line"$'\n'
        if [[ $line =~ ^([0-9]{3})( |$) ]]; then
            REPLY_CODE=${BASH_REMATCH[1]}
            return 0
        fi
    done
    return 1
}

smtp_cmd() { printf '%s\r\n' "$1" >&3; smtp_read; }

# Check one plaintext listener: greeting, EHLO keywords, optional AUTH.
check_plain() { # port expect_starttls(0/1) expect_auth(0/1) try_auth(0/1)
    local port=$1 want_tls=$2 want_auth=$3 try_auth=$4 has_tls=0 has_auth=0 rc=0
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    if smtp_read && [[ $REPLY_CODE == 220 ]] && smtp_cmd "EHLO postfix-up.invalid" && [[ $REPLY_CODE == 250 ]]; then
        grep -qi '^250[- ]STARTTLS' <<<"$REPLY_TEXT" && has_tls=1
        grep -qi '^250[- ]AUTH' <<<"$REPLY_TEXT" && has_auth=1
        if ((has_tls != want_tls || has_auth != want_auth)); then
            log "port $port: unexpected EHLO keywords: $(tr '\n' ' ' <<<"$REPLY_TEXT")"
            rc=2
        elif ((try_auth)); then
            local b64
            b64=$(printf '\0%s\0%s' "$SASL_USER" "$SASL_PASS" | base64 -w0)
            if ! smtp_cmd "AUTH PLAIN $b64" || [[ $REPLY_CODE != 235 ]]; then
                log "port $port: AUTH PLAIN as $SASL_USER failed: $REPLY_TEXT"
                rc=3
            fi
        fi
        printf 'QUIT\r\n' >&3 || true
    else
        rc=1
    fi
    exec 3>&- 3<&-
    return $rc
}

check_tls465() {
    printf 'QUIT\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:465 -servername localhost \
        -CAfile "$DIR/ca.pem" -verify_return_error -verify_hostname localhost -quiet 2>/dev/null |
        grep -q '^220 '
}

check_oauth2588() {
    printf 'EHLO postfix-up.invalid\r\nQUIT\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:2588 \
        -servername localhost -CAfile "$DIR/ca.pem" -verify_return_error -quiet 2>/dev/null |
        grep -q '^250[- ]AUTH.*XOAUTH2'
}

check_mechs2589() {
    printf 'EHLO postfix-up.invalid\r\nQUIT\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:2589 \
        -servername localhost -CAfile "$DIR/ca.pem" -verify_return_error -quiet 2>/dev/null |
        grep -q '^250[- ]AUTH.*SCRAM-SHA-256'
}

check_ccert2465() {
    printf 'QUIT\r\n' | timeout 10 openssl s_client -connect 127.0.0.1:2465 -servername localhost \
        -CAfile "$DIR/ca.pem" -cert "$DIR/client.pem" -key "$DIR/client.key" \
        -verify_return_error -quiet 2>/dev/null | grep -q '^220 '
}

deadline=$((SECONDS + WAIT_SECS))
pending=("${PORTS[@]}")
while :; do
    still=()
    for p in "${pending[@]}"; do port_listening "$p" || still+=("$p"); done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]} == 0)) && break
    ((SECONDS >= deadline)) && die "Postfix is not accepting connections on port(s) ${pending[*]} after ${WAIT_SECS}s"
    sleep 0.1
done

fail=0
check_plain 25 0 0 0 || { log "port 25 health check failed"; fail=1; }
check_plain 587 1 0 0 || { log "port 587 health check failed"; fail=1; }
check_plain 2526 0 1 1 || { log "port 2526 health check (incl. AUTH PLAIN) failed"; fail=1; }
check_plain 2587 1 0 0 || { log "port 2587 health check failed"; fail=1; }
check_tls465 || { log "port 465 implicit-TLS health check failed"; fail=1; }
check_ccert2465 || { log "port 2465 client-certificate health check failed"; fail=1; }
check_oauth2588 || { log "port 2588 health check (AUTH XOAUTH2 through Dovecot) failed"; fail=1; }
check_mechs2589 || { log "port 2589 health check (AUTH SCRAM-SHA-256 through Dovecot) failed"; fail=1; }
((fail == 0)) || die "Postfix listeners are up but not behaving as configured"

printf '%s %s\n' "$want_fp" "$(master_pid)" >"$DIR/.running"

# Deliver whatever is queued (e.g. mail accepted while the capture server was down).
postqueue -f >/dev/null 2>&1 || log "postqueue -f failed (ignored)"

log "Postfix test relay ready (ports ${PORTS[*]} -> capture [127.0.0.1]:$CAPTURE_PORT)"

echo "RELAY_DIR=$DIR"
echo "CA_FILE=$DIR/ca.pem"
echo "SERVER_CERT=$DIR/server.pem"
echo "CLIENT_CERT=$DIR/client.pem"
echo "CLIENT_KEY=$DIR/client.key"
echo "LOG_FILE=$DIR/postfix.log"
echo "CAPTURE_PORT=$CAPTURE_PORT"
