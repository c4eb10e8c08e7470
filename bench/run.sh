#!/usr/bin/env bash
# Benchmarks relayctl against msmtp (Debian's package) on loopback, in one run, and writes the
# figures with the machine they were measured on (bench/RESULTS.md by default).
#
#   bench/run.sh              full run (release build, >= 30 runs per latency case, 1,000-message
#                             flush, 100 MB message); writes bench/RESULTS.md
#   bench/run.sh --smoke      a few iterations and small counts (CI: keeps the script working;
#                             asserts no timing); writes its report to a temporary directory
#   options: --out FILE (report), --bin PATH (relayctl binary), --runs N, --count N (bulk),
#            --big-mb N (large message), --rounds N (bulk, large message and listener
#            repetitions), --smtp-count N (listener messages per round), --idle N (idle
#            connections), --far-count N (case 9's flush; 1,000, smoke 20), --daemon-count N
#            (case 10's submissions; 20, smoke 3)
#
# Cases (see bench/NOTES.md for method and the history of fixes):
#   1. cron path: `sendmail -t` with one ~1 KB message, whole process, plain SMTP to a Postfix
#      smtp-sink on loopback; and STARTTLS + AUTH against the Postfix test relay on 587
#   2. enqueue only (delivery = "queue"), fsyncs included
#   3. bulk flush: N queued messages delivered by one `relayctl queue run`, vs msmtp sending the
#      same N in a loop, vs Postfix's smtp-source over one connection (the sink's ceiling)
#   4. one large (100 MB) message: wall time and peak RSS (/usr/bin/time -v)
#   5. the same message as a user's drop file, imported and delivered by `queue run` (peak RSS)
#   6. a relay that accepts TCP and never answers: `sendmail -t` the first time (fresh spool)
#      and while the relay is known down, and `queue flush`'s summary
#   7. the SMTP listener: Postfix's smtp-source (20 sessions, 1,000-byte messages) into
#      `relayctl serve` (into the maildrop, synced before 250) and, in the same run, into a
#      throwaway Postfix instance of its own (another port and queue, mail held, so it only
#      queues); messages accepted per second, and the listener's peak RSS with 1,000 idle
#      connections (root only: the listener gives root up for relayctl-smtpd, created as the
#      packages do when missing)
#   8. at a distance: case 1b through testkit's delay proxy (bench builds it) at 0 and 10 ms
#      each way, relayctl and msmtp: medians and the client's turns
#   9. flush at a distance: N messages queued for the STARTTLS + AUTH profile, `queue flush`
#      through the proxy at 10 ms each way (and 0 ms), vs a throwaway Postfix null client
#      (default concurrency) relaying the same N through its own proxy: msg/s, connections, turns
#  10. daemon mode at a distance: `queue daemon` delivering through the proxy at 10 ms each way,
#      K `sendmail -t` submissions 1.5 s apart: time from `sendmail` returning to the proxy
#      forwarding the relay's reply to the message (its event log), against the round trips
#      needed; the daemon's CPU time per delivery
#   plus startup checks: no network, resolver or keyring access for --version and a config load,
#   and the secret read only once a connection needs it (strace).
#
# Needs Debian/Ubuntu. Missing tools (msmtp, hyperfine, postfix for smtp-sink/smtp-source, time,
# strace, python3) are installed with apt-get when run as root. The STARTTLS case needs the
# Postfix test relay (tests/relay/postfix-up.sh, root); while it runs, a sink is started on the
# relay's capture port 2525, and the cases that use it (1b, 8, 9, 10) are skipped when that port
# is taken (the integration tests are running). Nothing outside a temporary directory is written
# except the report, and Postfix's queue is emptied (postsuper -d ALL) after those cases.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SMOKE=0
OUT=
BIN=
RUNS=
COUNT=
BIG_MB=
ROUNDS=
SMTP_COUNT=
IDLE=
FAR_COUNT=
DAEMON_COUNT=
while (($#)); do
    case $1 in
        --smoke) SMOKE=1 ;;
        --out) OUT=$2; shift ;;
        --bin) BIN=$2; shift ;;
        --runs) RUNS=$2; shift ;;
        --count) COUNT=$2; shift ;;
        --big-mb) BIG_MB=$2; shift ;;
        --rounds) ROUNDS=$2; shift ;;
        --smtp-count) SMTP_COUNT=$2; shift ;;
        --idle) IDLE=$2; shift ;;
        --far-count) FAR_COUNT=$2; shift ;;
        --daemon-count) DAEMON_COUNT=$2; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown option $1" >&2; exit 64 ;;
    esac
    shift
done
if ((SMOKE)); then
    : "${RUNS:=3}" "${COUNT:=20}" "${BIG_MB:=5}" "${ROUNDS:=2}" "${SMTP_COUNT:=40}" "${IDLE:=20}"
    : "${FAR_COUNT:=20}" "${DAEMON_COUNT:=3}"
    BULK_RUNS=2
    DEAD_RUNS=2
else
    : "${RUNS:=40}" "${COUNT:=1000}" "${BIG_MB:=100}" "${ROUNDS:=3}" "${SMTP_COUNT:=10000}" "${IDLE:=1000}"
    : "${FAR_COUNT:=1000}" "${DAEMON_COUNT:=20}"
    BULK_RUNS=10
    DEAD_RUNS=5
fi
# The msmtp loop of the bulk case takes ~50 ms a message: fewer repetitions of it.
MSMTP_BULK_RUNS=$((ROUNDS < 3 ? ROUNDS : 3))

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ tools
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
need=()
for pair in msmtp:msmtp hyperfine:hyperfine smtp-sink:postfix smtp-source:postfix \
    /usr/bin/time:time strace:strace python3:python3; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
if ((${#need[@]})); then
    [[ $(id -u) -eq 0 ]] || die "missing ${need[*]}; run as root to install them, or: apt-get install ${need[*]}"
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    }
fi

# Milliseconds each way in cases 8 to 10 (a relay 20 ms away by round trip).
FAR_DELAY=${BENCH_FAR_DELAY:-10}
if ((SMOKE)); then PROFILE_FLAG=(); BUILD_DIR=debug; else PROFILE_FLAG=(--release); BUILD_DIR=release; fi
if [[ -z $BIN ]]; then
    if ((SMOKE)); then
        cargo build --locked --quiet
        BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/relayctl
    else
        cargo build --release --locked --quiet
        BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/relayctl
    fi
fi
[[ -x $BIN ]] || die "no relayctl binary at $BIN"
BIN=$(realpath "$BIN")

# ------------------------------------------------------------------ scratch and sink
W=$(mktemp -d /var/tmp/relayctl-bench.XXXXXX)
# Other work on the machine shows in the figures (fsync latency most): the report says how busy it was.
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
chmod 700 "$W"
PIDS=()
POSTFIX_USED=0
PF= # the throwaway Postfix instance of case 7
PN= # the throwaway Postfix null client of case 9
LW= # the listener's spool of case 7 (its user can reach it, unlike $W)
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    ((POSTFIX_USED)) && postsuper -d ALL >/dev/null 2>&1 || true
    if [[ -n $PF ]]; then postfix -c "$PF/etc" stop >/dev/null 2>&1 || true; fi
    if [[ -n $PN ]]; then postfix -c "$PN/etc" stop >/dev/null 2>&1 || true; fi
    rm -rf "$W" ${PF:+"$PF"} ${PN:+"$PN"} ${LW:+"$LW"}
}
trap cleanup EXIT

listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u postfix)
start_sink() { # port
    smtp-sink "${sink_user[@]}" "127.0.0.1:$1" 1000 &
    PIDS+=($!)
    for _ in $(seq 50); do listening "$1" && return 0; sleep 0.1; done
    die "smtp-sink did not come up on 127.0.0.1:$1"
}
PORT=${BENCH_SINK_PORT:-2999}
while listening "$PORT"; do PORT=$((PORT + 1)); done
start_sink "$PORT"
log "smtp-sink on 127.0.0.1:$PORT, scratch $W, relayctl $BIN"

# ------------------------------------------------------------------ configuration and messages
FROM=bench@example.org
TO=ops@example.org
RELAY_PASS=${RELAYCTL_TEST_PASS:-Relay-Test-App-Pass-7431}
RELAY_USER=${RELAYCTL_TEST_USER:-jdoe@relay.test}
RELAY_DIR=${RELAYCTL_TEST_RELAY_DIR:-/var/tmp/relayctl-test-relay}
umask 077
printf '%s' "$RELAY_PASS" >"$W/secret"
profiles() { # delivery
    cat <<EOF
default_profile = "bench"
delivery = "$1"

[profiles.bench]
preset = "smarthost"
host = "127.0.0.1"
port = $PORT
tls = "none"
from = "$FROM"
max_message_size = "512MB"
# Counted as by default, but never engaged by the bulk case.
brake = "1000000/hour"

[profiles.tls]
preset = "institutional"
host = "127.0.0.1"
port = 587
tls = "starttls"
user = "$RELAY_USER"
from = "$RELAY_USER"
secret = "file:$W/secret"
ca_file = "$RELAY_DIR/ca.pem"
# As the bench profile's: case 9 queues 1,000 messages for this profile.
brake = "1000000/hour"
EOF
}
profiles now >"$W/now.toml"
profiles queue >"$W/queue.toml"
cat >"$W/msmtprc" <<EOF
# msmtp as relayctl is configured: the same sink, plain SMTP, no login.
account default
host 127.0.0.1
port $PORT
tls off
auth off
from $FROM

# STARTTLS + AUTH against the Postfix test relay.
account tls
host 127.0.0.1
port 587
tls on
tls_starttls on
tls_trust_file $RELAY_DIR/ca.pem
auth plain
user $RELAY_USER
password $RELAY_PASS
from $RELAY_USER
EOF

# The cron job's mail: ~1 KB.
{
    printf 'From: root (Cron Daemon)\nTo: %s\nSubject: Cron <root@vm1> /usr/local/bin/backup\n' "$TO"
    printf 'Content-Type: text/plain; charset=UTF-8\n\n'
    for i in $(seq -w 1 13); do
        printf 'backup: line %s of the job output, padded to about sixty bytes ....\n' "$i"
    done
} >"$W/small.eml"
SMALL_BYTES=$(stat -c %s "$W/small.eml")

# One large message: a base64 attachment, BIG_MB * 10^6 bytes.
python3 - "$W/big.eml" "$((BIG_MB * 1000000))" "$FROM" "$TO" <<'EOF'
import base64, os, sys
path, target, sender, to = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
head = (f"From: Backup <{sender}>\nTo: {to}\nSubject: nightly dump\nMIME-Version: 1.0\n"
        "Content-Type: application/octet-stream; name=dump.bin\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Disposition: attachment; filename=dump.bin\n\n").encode()
block = base64.encodebytes(os.urandom(57 * 4096))  # 76-character lines
with open(path, "wb") as f:
    f.write(head)
    left = target - len(head)
    while left >= len(block):
        f.write(block)
        left -= len(block)
    tail = block[:left]
    f.write(tail[:-1] + b"\n" if tail else b"")
EOF
BIG_BYTES=$(stat -c %s "$W/big.eml")

rc() { # relayctl with the scratch spool: rc CONFIG SPOOL ARGS...
    local config=$1 spool=$2
    shift 2
    RELAYCTL_SPOOL=$spool "$BIN" --config "$config" "$@"
}
queued() { find "$1/queue" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# Sanity: both tools deliver to the sink.
rc "$W/now.toml" "$W/spool" sendmail -t <"$W/small.eml" || die "relayctl cannot deliver to the sink"
msmtp -C "$W/msmtprc" -t <"$W/small.eml" || die "msmtp cannot deliver to the sink"
(($(queued "$W/spool") == 0)) || die "relayctl left the message queued"

# hyperfine JSON -> "median_ms mean_ms stddev_ms min_ms max_ms runs" of command INDEX.
stats() { # FILE INDEX
    python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
ms = lambda s: s * 1000
print(f'{ms(r["median"]):.2f} {ms(r["mean"]):.2f} {ms(r["stddev"] or 0):.2f} '
      f'{ms(r["min"]):.2f} {ms(r["max"]):.2f} {len(r["times"])}')
EOF
}
calc() { python3 -c "print(format($1, '$2'))"; }
HF=(hyperfine -N --style basic)

# ------------------------------------------------------------------ 1. cron path, plain
log "case 1: cron path (plain), $RUNS runs each"
SH="sh -c"
"${HF[@]}" --warmup 3 --runs "$RUNS" --export-json "$W/cron.json" \
    -n relayctl "$SH 'RELAYCTL_SPOOL=$W/spool exec $BIN --config $W/now.toml sendmail -t < $W/small.eml'" \
    -n msmtp "$SH 'exec msmtp -C $W/msmtprc -t < $W/small.eml'" \
    -n "sh baseline" "$SH 'exec true < $W/small.eml'" >&2
read -r CRON_RC CRON_RC_MEAN CRON_RC_SD CRON_RC_MIN CRON_RC_MAX CRON_N <<<"$(stats "$W/cron.json" 0)"
read -r CRON_MS CRON_MS_MEAN CRON_MS_SD CRON_MS_MIN CRON_MS_MAX _ <<<"$(stats "$W/cron.json" 1)"
read -r CRON_SH _ <<<"$(stats "$W/cron.json" 2)"
(($(queued "$W/spool") == 0)) || die "relayctl left messages queued in the cron case"

# ------------------------------------------------------------------ 1b. cron path, STARTTLS + AUTH
TLS_NOTE=
SECRET_ORDER="not measured (STARTTLS case skipped)"
if [[ ! -r $RELAY_DIR/ca.pem ]] || ! listening 587; then
    if [[ $(id -u) -eq 0 && -x tests/relay/postfix-up.sh ]]; then
        log "starting the Postfix test relay (tests/relay/postfix-up.sh)"
        tests/relay/postfix-up.sh >/dev/null || true
    fi
fi
if [[ ! -r $RELAY_DIR/ca.pem ]] || ! listening 587; then
    TLS_NOTE="skipped: the Postfix test relay is not running on 127.0.0.1:587 (tests/relay/postfix-up.sh, as root)"
elif listening 2525; then
    TLS_NOTE="skipped: port 2525 (the relay's capture port) is in use, probably by the integration tests; the relay would hand them the benchmark's mail"
elif [[ $(id -u) -ne 0 ]]; then
    TLS_NOTE="skipped: needs root (Postfix's queue is emptied afterwards with postsuper)"
fi
if [[ -z $TLS_NOTE ]]; then
    log "case 1b: cron path (STARTTLS + AUTH via Postfix on 587), $RUNS runs each"
    POSTFIX_USED=1
    start_sink 2525
    SINK_2525=${PIDS[-1]}
    rc "$W/now.toml" "$W/spool" --profile tls sendmail -t <"$W/small.eml" || die "relayctl cannot deliver through Postfix 587"
    msmtp -C "$W/msmtprc" -a tls -t <"$W/small.eml" || die "msmtp cannot deliver through Postfix 587"
    "${HF[@]}" --warmup 3 --runs "$RUNS" --export-json "$W/tls.json" \
        -n relayctl "$SH 'RELAYCTL_SPOOL=$W/spool exec $BIN --config $W/now.toml --profile tls sendmail -t < $W/small.eml'" \
        -n msmtp "$SH 'exec msmtp -C $W/msmtprc -a tls -t < $W/small.eml'" >&2
    read -r TLS_RC TLS_RC_MEAN TLS_RC_SD TLS_RC_MIN TLS_RC_MAX TLS_N <<<"$(stats "$W/tls.json" 0)"
    read -r TLS_MS TLS_MS_MEAN TLS_MS_SD TLS_MS_MIN TLS_MS_MAX _ <<<"$(stats "$W/tls.json" 1)"
    # The secret must be opened after the connection is up and TLS negotiated: count what the
    # relay sent (greeting, EHLO, STARTTLS reply, TLS handshake records) before the open.
    strace -f -qq -e trace=connect,openat,recvfrom,read -o "$W/trace.tls" \
        env RELAYCTL_SPOOL="$W/spool" "$BIN" --config "$W/now.toml" --profile tls sendmail -t <"$W/small.eml" >/dev/null 2>&1 || true
    SECRET_ORDER=$(python3 - "$W/trace.tls" "$W/secret" <<'PY'
import re, sys
fd, reads = None, 0
for line in open(sys.argv[1]):
    m = re.search(r"connect\((\d+), .*htons\(587\)", line)
    if m:
        fd = m.group(1)
    elif fd and re.search(rf"(recvfrom|read)\({fd},", line):
        reads += 1
    elif f'"{sys.argv[2]}"' in line and "openat" in line:
        print(f"opened after the connection to 587 and {reads} reads from it" if fd
              else "**opened before connecting**")
        break
else:
    print("**never opened**")
PY
    )
    # 8. At a distance: the same through testkit's delay proxy (no netem here), which adds
    # DELAY ms each way and counts the client's turns; 0 ms measures the proxy's own cost.
    log "case 8: cron path (STARTTLS + AUTH) through the delay proxy, 0 and $FAR_DELAY ms each way"
    cargo build --quiet --locked "${PROFILE_FLAG[@]}" -p testkit --bin delay-proxy
    PROXY=${CARGO_TARGET_DIR:-$ROOT/target}/$BUILD_DIR/delay-proxy
    # A proxy of its own in front of 587: start_proxy NAME DELAY [--events]; sets PROXY_PORT.
    # It prints its totals to $W/proxy.NAME, and with --events logs to $W/events.NAME.
    start_proxy() {
        local name=$1 delay=$2 events=()
        [[ ${3:-} == --events ]] && events=(--events "$W/events.$name")
        "$PROXY" "${events[@]}" 127.0.0.1:0 127.0.0.1:587 "$delay" >"$W/proxy.$name" &
        PIDS+=($!)
        for _ in $(seq 50); do grep -q '^listening' "$W/proxy.$name" 2>/dev/null && break; sleep 0.1; done
        PROXY_PORT=$(sed -n 's/^listening on 127.0.0.1://p' "$W/proxy.$name")
        [[ -n $PROXY_PORT ]] || die "the delay proxy did not start"
    }
    sed '/^account tls$/,$!d' "$W/msmtprc" >"$W/tls.account"
    for d in 0 "$FAR_DELAY"; do
        lab=FAR
        [[ $d == 0 ]] && lab=0
        start_proxy "$d" "$d"
        p=$PROXY_PORT
        sed "s/^port = 587\$/port = $p/" "$W/now.toml" >"$W/far$d.toml"
        sed "s/^account tls\$/account far$d/; s/^port 587\$/port $p/" "$W/tls.account" >>"$W/msmtprc"
        # Turns of one submission each: the proxy prints its totals after every connection.
        for tool in relayctl msmtp; do
            before=$(tail -1 "$W/proxy.$d" | sed -n 's/.*turns=\([0-9]*\).*/\1/p')
            if [[ $tool == relayctl ]]; then
                rc "$W/far$d.toml" "$W/spool" --profile tls sendmail -t <"$W/small.eml" || die "relayctl cannot deliver through the proxy"
            else
                msmtp -C "$W/msmtprc" -a "far$d" -t <"$W/small.eml" || die "msmtp cannot deliver through the proxy"
            fi
            for _ in $(seq 100); do
                after=$(tail -1 "$W/proxy.$d" | sed -n 's/.*turns=\([0-9]*\).*/\1/p')
                [[ -n $after && $after != "${before:-}" ]] && break
                sleep 0.05
            done
            printf -v "TURNS_${tool}_$lab" '%s' "$((after - ${before:-0}))"
        done
        "${HF[@]}" --warmup 2 --runs "$RUNS" --export-json "$W/far$d.json" \
            -n relayctl "$SH 'RELAYCTL_SPOOL=$W/spool exec $BIN --config $W/far$d.toml --profile tls sendmail -t < $W/small.eml'" \
            -n msmtp "$SH 'exec msmtp -C $W/msmtprc -a far$d -t < $W/small.eml'" >&2
        read -r med _ _ min max n <<<"$(stats "$W/far$d.json" 0)"
        printf -v "FAR_RC_$lab" '%s' "$med"; printf -v "FAR_RC_RANGE_$lab" '%s' "$min … $max"; FAR_N=$n
        read -r med _ _ min max _ <<<"$(stats "$W/far$d.json" 1)"
        printf -v "FAR_MS_$lab" '%s' "$med"; printf -v "FAR_MS_RANGE_$lab" '%s' "$min … $max"
    done

    # Cases 9 and 10 count, in the relay's log, what it hands to the sink on 2525: what cases 1b
    # and 8 sent must be out of the way first.
    relay_drained() { # SECONDS: waits that long at most for the relay's queue to be empty
        local i
        for ((i = 0; i < $1 * 10; i++)); do
            postqueue -p 2>/dev/null | grep -q '^Mail queue is empty' && return 0
            sleep 0.1
        done
        return 1
    }
    RELAY_LOG=$RELAY_DIR/postfix.log
    log_mark() { stat -c %s "$RELAY_LOG" 2>/dev/null || echo 0; }
    sent_since() { # MARK: messages the relay passed to the sink since MARK (a size of its log)
        tail -c +$(($1 + 1)) "$RELAY_LOG" 2>/dev/null |
            grep -c 'relay=127\.0\.0\.1\[127\.0\.0\.1\]:2525, .*status=sent' || true
    }
    arrived() { # MARK N WHAT: dies unless exactly N messages reached the sink since MARK
        local n=0 i
        for ((i = 0; i < 1200; i++)); do
            n=$(sent_since "$1")
            ((n >= $2)) && relay_drained 1 && break
            sleep 0.1
        done
        sleep 0.5 # the relay's log is written by postlogd, a moment later
        n=$(sent_since "$1")
        ((n == $2)) || die "$3: the relay passed $n messages to the sink, expected $2"
    }
    conns() { # NAME -> "opened closed turns" from the proxy's event log
        awk '$3 == "open" {o++} $3 == "closed" {c++; t += $4} END {print o + 0, c + 0, t + 0}' "$W/events.$1"
    }
    settled() { # NAME SECONDS: waits that long at most for every connection through the proxy to end
        local o c t i
        for ((i = 0; i < $2 * 20; i++)); do
            read -r o c t <<<"$(conns "$1")"
            ((o == c)) && return 0
            sleep 0.05
        done
        return 1
    }
    relay_drained 30 || die "the relay's queue did not drain after case 8"
    sleep 0.5

    # 9. Flush at a distance: FAR_COUNT queued messages, one `queue flush` through the proxy; and
    # Postfix as a null client relaying the same through a proxy of its own.
    log "case 9: flush of $FAR_COUNT messages at $FAR_DELAY and 0 ms each way; Postfix as a null client"
    for _ in $(seq "$FAR_COUNT"); do
        rc "$W/queue.toml" "$W/ftemplate" --profile tls sendmail -t <"$W/small.eml"
    done
    (($(queued "$W/ftemplate") == FAR_COUNT)) ||
        die "case 9: the template holds $(queued "$W/ftemplate") messages, not $FAR_COUNT"
    for d in "$FAR_DELAY" 0; do
        lab=FAR
        [[ $d == 0 ]] && lab=0
        start_proxy "flush$d" "$d" --events
        sed "s/^port = 587\$/port = $PROXY_PORT/" "$W/queue.toml" >"$W/flush$d.toml"
        rm -rf "$W/fspool"
        cp -a "$W/ftemplate" "$W/fspool"
        sync
        mark=$(log_mark)
        t0=$EPOCHREALTIME
        out=$(rc "$W/flush$d.toml" "$W/fspool" queue flush) || die "case 9: queue flush failed: $out"
        t1=$EPOCHREALTIME
        [[ $out == "tls: delivered $FAR_COUNT, deferred 0, held 0, failed 0"* ]] ||
            die "case 9: queue flush printed: $out"
        (($(queued "$W/fspool") == 0)) || die "case 9: queue flush left $(queued "$W/fspool") messages queued"
        settled "flush$d" 10 || die "case 9: relayctl's connections through the proxy did not end"
        read -r o _ t <<<"$(conns "flush$d")"
        printf -v "FLUSH_RC_MS_$lab" '%s' "$(calc "($t1 - $t0) * 1000" .0f)"
        printf -v "FLUSH_RC_RATE_$lab" '%s' "$(calc "$FAR_COUNT / ($t1 - $t0)" .0f)"
        printf -v "FLUSH_RC_CONNS_$lab" '%s' "$o"
        printf -v "FLUSH_RC_TURNS_$lab" '%s' "$t"
        arrived "$mark" "$FAR_COUNT" "case 9, relayctl at $d ms"
    done
    rm -rf "$W/fspool"

    # Postfix as a null client: an instance of its own (no listener), relayhost the proxy, SASL
    # and TLS as the tls profile, its default concurrency; every message held by cleanup on
    # arrival, then all released and the queue flushed at once.
    start_proxy pfnull "$FAR_DELAY" --events
    PN=$(mktemp -d /var/tmp/relayctl-bench-null.XXXXXX)
    chmod 0755 "$PN"
    install -d -m 0755 "$PN/etc" "$PN/queue"
    install -d -o postfix -m 0755 "$PN/data"
    printf '[127.0.0.1]:%s %s:%s\n' "$PROXY_PORT" "$RELAY_USER" "$RELAY_PASS" >"$PN/etc/sasl_passwd"
    printf '/^/ HOLD\n' >"$PN/etc/hold"
    cat >"$PN/etc/main.cf" <<MAINCF
compatibility_level = 3.6
queue_directory = $PN/queue
data_directory = $PN/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = null.bench.invalid
mydestination =
local_transport = error:local delivery is disabled
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$PROXY_PORT
header_checks = regexp:$PN/etc/hold
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = texthash:$PN/etc/sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_tls_security_level = encrypt
smtp_tls_CAfile = $RELAY_DIR/ca.pem
maillog_file = $PN/maillog
MAINCF
    cat >"$PN/etc/master.cf" <<MASTERCF
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
MASTERCF
    postfix -c "$PN/etc" start >/dev/null 2>&1 ||
        die "the Postfix null client did not start: $(tail -n 3 "$PN/maillog" 2>/dev/null)"
    held() { find "$PN/queue/hold" -type f | wc -l; }
    for _ in $(seq "$FAR_COUNT"); do
        sendmail -C "$PN/etc" -f "$RELAY_USER" -t <"$W/small.eml" ||
            die "case 9: Postfix's sendmail -C $PN/etc failed"
    done
    for _ in $(seq 600); do (($(held) < FAR_COUNT)) || break; sleep 0.1; done
    (($(held) == FAR_COUNT)) || die "case 9: the Postfix null client holds $(held) messages, not $FAR_COUNT"
    sync
    mark=$(log_mark)
    PN_MS=$(python3 - "$PN" "$FAR_COUNT" <<'PY'
import os, re, subprocess, sys, time
pn, n = sys.argv[1], int(sys.argv[2])
queue = [os.path.join(pn, "queue", d) for d in ("maildrop", "incoming", "active", "deferred", "hold")]
def left():
    return sum(len(files) for d in queue for _, _, files in os.walk(d))
def trouble():
    try:
        text = open(os.path.join(pn, "maillog"), errors="replace").read()
    except OSError:
        return None
    bad = re.findall(r".*(?:status=(?:deferred|bounced)|fatal: |panic: ).*", text)
    return bad[-1] if bad else None
conf = os.path.join(pn, "etc")
start = time.monotonic()
subprocess.run(["postsuper", "-c", conf, "-H", "ALL"], check=True, stderr=subprocess.DEVNULL)
subprocess.run(["postqueue", "-c", conf, "-f"], check=True)
polls = 0
while left():
    time.sleep(0.01)
    polls += 1
    if polls % 50 == 0 and (bad := trouble()):
        sys.exit(f"the Postfix null client: {bad}")
    if time.monotonic() - start > 60 + n / 5:
        sys.exit(f"the Postfix null client still holds {left()} of {n} messages")
print(f"{(time.monotonic() - start) * 1000:.0f}")
PY
    ) || die "case 9: the Postfix null client did not deliver everything"
    PN_SENT=$(grep -c 'status=sent' "$PN/maillog" || true)
    ((PN_SENT == FAR_COUNT)) || die "case 9: the Postfix null client logged $PN_SENT deliveries, not $FAR_COUNT"
    settled pfnull 10 || log "case 9: Postfix's connections through the proxy did not all end within 10 s"
    read -r PN_CONNS _ PN_TURNS <<<"$(conns pfnull)"
    postfix -c "$PN/etc" stop >/dev/null 2>&1 || true
    PN_RATE=$(calc "$FAR_COUNT / ($PN_MS / 1000)" .0f)
    arrived "$mark" "$FAR_COUNT" "case 9, Postfix null client"

    # 10. Daemon mode at a distance: `queue daemon` on a spool whose profile goes through the
    # proxy; each submission's delivery is found in the proxy's event log.
    log "case 10: queue daemon at $FAR_DELAY ms each way, $DAEMON_COUNT submissions 1.5 s apart"
    start_proxy daemon "$FAR_DELAY" --events
    sed "s/^port = 587\$/port = $PROXY_PORT/" "$W/queue.toml" >"$W/daemon.toml"
    mark=$(log_mark)
    RELAYCTL_SPOOL=$W/dspool "$BIN" --config "$W/daemon.toml" queue daemon 2>>"$W/daemon.log" &
    D_PID=$!
    PIDS+=("$D_PID")
    for _ in $(seq 50); do [[ -S $W/dspool/daemon.sock ]] && break; sleep 0.1; done
    [[ -S $W/dspool/daemon.sock ]] || die "case 10: queue daemon did not start: $(cat "$W/daemon.log")"
    # Its first pass is at its start, and it passes at most once a second.
    last=$EPOCHREALTIME
    TCK=$(getconf CLK_TCK)
    cpu_ticks() { sed 's/.*) //' "/proc/$D_PID/stat" | awk '{print $12 + $13}'; } # utime + stime
    delivered() { # N: N connections through the proxy, all ended, and the queue empty
        read -r o c _ <<<"$(conns daemon)"
        ((o >= $1 && o == c)) && (($(queued "$W/dspool") == 0))
    }
    : >"$W/daemon.runs"
    for i in $(seq "$DAEMON_COUNT"); do
        sleep "$(calc "max(0, $last + 1.5 - $EPOCHREALTIME)" .3f)"
        c0=$(cpu_ticks)
        before=$EPOCHREALTIME
        rc "$W/daemon.toml" "$W/dspool" --profile tls sendmail -t <"$W/small.eml" || die "case 10: sendmail -t failed"
        t0=$EPOCHREALTIME
        for _ in $(seq 1000); do delivered "$i" && break; sleep 0.01; done
        delivered "$i" || die "case 10: submission $i not delivered within 10 s: $(tail -n 3 "$W/daemon.log")"
        echo "$before $t0 $(($(cpu_ticks) - c0))" >>"$W/daemon.runs"
        last=$t0
    done
    kill "$D_PID" 2>/dev/null || true
    wait "$D_PID" 2>/dev/null || true
    arrived "$mark" "$DAEMON_COUNT" "case 10"
    # Per submission: the connections opened from just before its `sendmail` to just before the
    # next one's, and of them the one that carried the message (the most client bytes). Its turn
    # with the most client bytes is the message's (its 1 KB outweighs any TLS handshake flight);
    # t1 is when the proxy forwarded the last chunk of the relay's answer to that turn (under TLS
    # the proxy sees no text: this chunk holds the reply to the message, and any replies
    # pipelined with it), and the turns needed are that turn's number.
    DAEMON_OUT=$(python3 - "$W/events.daemon" "$W/daemon.runs" "$FAR_DELAY" "$TCK" <<'PY'
import statistics, sys
events, runs, delay, tck = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
conns = {}
for line in open(events):
    f = line.rstrip("\n").split(" ", 5)
    t, kind = int(f[0]) / 1e9, f[2]
    k = conns.setdefault(f[1], {"open": None, "turns": 0, "sent": {}, "answered": {}})
    if kind == "open":
        k["open"] = t
    elif kind == "closed":
        k["turns"] = int(f[3])
    elif kind == "client":
        k["sent"][int(f[3])] = k["sent"].get(int(f[3]), 0) + int(f[4])
    elif kind == "server":
        k["answered"][int(f[3])] = t
rows = [l.split() for l in open(runs)]
took, needed, turns, cpu = [], [], set(), []
for i, (before, t0, ticks) in enumerate(rows):
    end = float(rows[i + 1][0]) if i + 1 < len(rows) else float("inf")
    mine = [k for k in conns.values() if k["open"] is not None and float(before) <= k["open"] < end]
    if not mine:
        sys.exit(f"no connection for submission {i + 1}")
    k = max(mine, key=lambda k: sum(k["sent"].values()))
    turn = max(k["sent"], key=lambda n: (k["sent"][n], n))
    if turn not in k["answered"]:
        sys.exit(f"no answer to the message of submission {i + 1}")
    took.append((k["answered"][turn] - float(t0)) * 1000)
    needed.append(delay + turn * 2 * delay)
    turns.add(f"{turn}_({k['turns']})")
    cpu.append(int(ticks) * 1000 / tck)
rest = cpu[1:] or cpu
med = statistics.median
print(len(rows), "/".join(sorted(turns)), f"{med(needed):.0f}", f"{med(took):.1f}",
      f"{min(took):.1f}…{max(took):.1f}", f"{med(took) / med(needed):.2f}",
      f"{cpu[0]:.0f}", f"{med(rest):.0f}", f"{statistics.mean(rest):.1f}")
PY
    ) || die "case 10: the proxy's event log does not account for every delivery"
    read -r DAEMON_N DAEMON_TURNS DAEMON_NEEDED DAEMON_TOOK DAEMON_RANGE DAEMON_RATIO \
        DAEMON_CPU1 DAEMON_CPU_MED DAEMON_CPU_MEAN <<<"$DAEMON_OUT"

    # Let Postfix hand what it accepted to the sink, then stop the sink and empty its queue.
    relay_drained 10 || true
    kill "$SINK_2525" 2>/dev/null || true
    wait "$SINK_2525" 2>/dev/null || true
    postsuper -d ALL >/dev/null 2>&1 || true
fi

# ------------------------------------------------------------------ 2. enqueue only
log "case 2: enqueue only (delivery = \"queue\"), $RUNS runs"
"${HF[@]}" --warmup 3 --runs "$RUNS" --export-json "$W/queue.json" \
    -n "relayctl enqueue" "$SH 'RELAYCTL_SPOOL=$W/qspool exec $BIN --config $W/queue.toml sendmail -t < $W/small.eml'" >&2
read -r Q_RC Q_RC_MEAN Q_RC_SD Q_RC_MIN Q_RC_MAX Q_N <<<"$(stats "$W/queue.json" 0)"
Q_EXPECTED=$((Q_N + 3))
(($(queued "$W/qspool") == Q_EXPECTED)) || die "enqueue case: $(queued "$W/qspool") messages queued, expected $Q_EXPECTED"
FSYNCS=$(strace -f -c -e trace=fsync,fdatasync,sync_file_range -o "$W/fsync.txt" \
    env RELAYCTL_SPOOL="$W/qspool" "$BIN" --config "$W/queue.toml" sendmail -t <"$W/small.eml" &&
    awk '$NF ~ /^(fsync|fdatasync|sync_file_range)$/ {n += $4} END {print n + 0}' "$W/fsync.txt")
rm -rf "$W/qspool"

# ------------------------------------------------------------------ 3. bulk flush
log "case 3: bulk flush of $COUNT messages ($BULK_RUNS runs; msmtp loop $MSMTP_BULK_RUNS)"
for _ in $(seq "$COUNT"); do
    rc "$W/queue.toml" "$W/template" sendmail -t <"$W/small.eml"
done
(($(queued "$W/template") == COUNT)) || die "the bulk template holds $(queued "$W/template") messages, not $COUNT"
sync
RESET="sh -c 'rm -rf $W/bulk && cp -a $W/template $W/bulk && sync'"
"${HF[@]}" --runs "$BULK_RUNS" --export-json "$W/bulk.json" \
    --prepare "$RESET" -n "relayctl queue run" \
    "$SH 'RELAYCTL_SPOOL=$W/bulk exec $BIN --config $W/now.toml queue run'" \
    --prepare sync -n "smtp-source -d (one connection)" \
    "smtp-source -d -s 1 -m $COUNT -l $SMALL_BYTES -f $FROM -t $TO 127.0.0.1:$PORT" >&2
(($(queued "$W/bulk") == 0)) || die "queue run left $(queued "$W/bulk") messages queued"
"${HF[@]}" --runs "$MSMTP_BULK_RUNS" --export-json "$W/bulk-msmtp.json" --prepare sync \
    -n "msmtp loop" "$SH 'for i in \$(seq $COUNT); do msmtp -C $W/msmtprc -t < $W/small.eml || exit 1; done'" >&2
read -r BULK_RC _ _ BULK_RC_MIN BULK_RC_MAX _ <<<"$(stats "$W/bulk.json" 0)"
read -r BULK_SRC _ _ BULK_SRC_MIN BULK_SRC_MAX _ <<<"$(stats "$W/bulk.json" 1)"
read -r BULK_MS _ _ BULK_MS_MIN BULK_MS_MAX _ <<<"$(stats "$W/bulk-msmtp.json" 0)"
rate() { calc "$COUNT / ($1 / 1000)" .0f; }
RATE_RC=$(rate "$BULK_RC")
RATE_SRC=$(rate "$BULK_SRC")
RATE_MS=$(rate "$BULK_MS")
rm -rf "$W/bulk"

# ------------------------------------------------------------------ 4. large message
log "case 4: one $BIG_MB MB message, $ROUNDS rounds, alternating"
timev() { # OUT-PREFIX COMMAND... ; appends "wall_s maxrss_kb" to OUT-PREFIX
    local out=$1
    shift
    /usr/bin/time -v -o "$W/time.txt" "$@" || die "failed: $*"
    awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]}
        /Maximum resident set size/ {rss = $2} END {print s, rss}' "$W/time.txt" >>"$out"
}
: >"$W/big-rc" >"$W/big-ms" >"$W/big-q" >"$W/big-run"
for _ in $(seq "$ROUNDS"); do
    timev "$W/big-rc" env RELAYCTL_SPOOL="$W/bigspool" "$BIN" --config "$W/now.toml" sendmail -t <"$W/big.eml"
    (($(queued "$W/bigspool") == 0)) || die "the large message stayed queued"
    timev "$W/big-ms" msmtp -C "$W/msmtprc" -t <"$W/big.eml"
    # The two halves of relayctl's path on their own: into the spool, then out of it.
    timev "$W/big-q" env RELAYCTL_SPOOL="$W/bigspool" "$BIN" --config "$W/queue.toml" sendmail -t <"$W/big.eml"
    timev "$W/big-run" env RELAYCTL_SPOOL="$W/bigspool" "$BIN" --config "$W/now.toml" queue run
    (($(queued "$W/bigspool") == 0)) || die "queue run left the large message queued"
done
med() { # FILE COLUMN -> median
    python3 -c "import statistics,sys; print(format(statistics.median(float(l.split()[$2]) for l in open(sys.argv[1]) if l.strip()), 'g'))" "$1"
}
BIG_RC_S=$(med "$W/big-rc" 0) BIG_RC_KB=$(med "$W/big-rc" 1)
BIG_MS_S=$(med "$W/big-ms" 0) BIG_MS_KB=$(med "$W/big-ms" 1)
BIG_Q_S=$(med "$W/big-q" 0) BIG_Q_KB=$(med "$W/big-q" 1)
BIG_RUN_S=$(med "$W/big-run" 0) BIG_RUN_KB=$(med "$W/big-run" 1)
MAX_RSS_KB=$(cat "$W/big-rc" "$W/big-q" "$W/big-run" | awk '$2 > m {m = $2} END {print m}')
rm -rf "$W/bigspool"

# ------------------------------------------------------------------ 5. a large drop file
log "case 5: a $BIG_MB MB message dropped by a user, imported and delivered by the root runner"
: >"$W/drop"
for _ in $(seq "$ROUNDS"); do
    mkdir -p "$W/dropspool/maildrop"
    {
        printf '{"version":1,"profile":"bench","recipients":["%s"]}\n' "$TO"
        cat "$W/big.eml"
    } >"$W/dropspool/maildrop/big"
    chown nobody "$W/dropspool/maildrop/big" # a user's drop, as the kernel records it
    timev "$W/drop" env RELAYCTL_SPOOL="$W/dropspool" "$BIN" --config "$W/now.toml" queue run
    [[ -z $(ls "$W/dropspool/maildrop") ]] || die "the drop file was not imported"
    (($(queued "$W/dropspool") == 0)) || die "the imported message stayed queued"
    rm -rf "$W/dropspool"
done
DROP_S=$(med "$W/drop" 0) DROP_KB=$(med "$W/drop" 1)

# ------------------------------------------------------------------ 6. a relay that never answers
log "case 6: a relay that accepts TCP and never answers ($DEAD_RUNS first calls, $RUNS while known down)"
DEAD_PORT=$((PORT + 1))
while listening "$DEAD_PORT"; do DEAD_PORT=$((DEAD_PORT + 1)); done
python3 - "$DEAD_PORT" <<'EOF' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1024)
held = []  # accepted, never answered
while True:
    held.append(s.accept()[0])
EOF
PIDS+=($!)
for _ in $(seq 50); do listening "$DEAD_PORT" && break; sleep 0.1; done
listening "$DEAD_PORT" || die "the silent server did not come up on 127.0.0.1:$DEAD_PORT"
dead_config() { # TIMEOUT: the profile's timeout (the default is 30 s)
    cat <<EOF
default_profile = "dead"
delivery = "now"

[profiles.dead]
preset = "smarthost"
host = "127.0.0.1"
port = $DEAD_PORT
tls = "none"
from = "$FROM"
timeout = $1
EOF
}
dead_config 30 >"$W/dead.toml"
dead_config 5 >"$W/dead-flush.toml"
DEAD_CMD="$SH 'RELAYCTL_SPOOL=$W/deadspool exec $BIN --config $W/dead.toml sendmail -t < $W/small.eml'"
# The first call of each run meets a relay nobody knows to be down yet (a fresh spool).
"${HF[@]}" --runs "$DEAD_RUNS" --prepare "rm -rf $W/deadspool" --export-json "$W/dead-first.json" \
    -n "sendmail -t, relay not known to be down" "$DEAD_CMD" >&2
(($(queued "$W/deadspool") == 1)) || die "dead relay: the first call left $(queued "$W/deadspool") messages queued"
read -r DEAD1 _ _ DEAD1_MIN DEAD1_MAX _ <<<"$(stats "$W/dead-first.json" 0)"
# The spool now knows the relay is down (for retry_initial, a minute): every call queues at once.
"${HF[@]}" --warmup 3 --runs "$RUNS" --export-json "$W/dead-known.json" \
    -n "sendmail -t, relay known to be down" "$DEAD_CMD" >&2
read -r DEAD2 DEAD2_MEAN DEAD2_SD DEAD2_MIN DEAD2_MAX DEAD2_N <<<"$(stats "$W/dead-known.json" 0)"
DEAD_QUEUED=$(queued "$W/deadspool")
((DEAD_QUEUED == DEAD2_N + 4)) || die "dead relay: $DEAD_QUEUED messages queued, expected $((DEAD2_N + 4))"
FLUSH_START=$(date +%s.%N)
FLUSH_OUT=$(RELAYCTL_SPOOL=$W/deadspool "$BIN" --config "$W/dead-flush.toml" queue flush) || die "queue flush failed"
FLUSH_S=$(calc "$(date +%s.%N) - $FLUSH_START" .2f)
FLUSH_LINES=$(grep -c . <<<"$FLUSH_OUT" || true)
[[ $FLUSH_LINES -eq 1 && $FLUSH_OUT == "dead: delivered 0, deferred $DEAD_QUEUED, held 0, failed 0 (last: "* ]] ||
    die "queue flush printed: $FLUSH_OUT"
(($(queued "$W/deadspool") == DEAD_QUEUED)) || die "queue flush lost messages"
rm -rf "$W/deadspool"

# ------------------------------------------------------------------ 7. the SMTP listener
SMTP_NOTE=
if [[ $(id -u) -ne 0 ]]; then
    SMTP_NOTE="skipped: needs root (the listener gives root up for relayctl-smtpd; Postfix's instance runs as root)"
fi
if [[ -z $SMTP_NOTE ]]; then
    log "case 7: SMTP listener vs Postfix's smtpd, smtp-source -s 20 -m $SMTP_COUNT -l 1000, $ROUNDS rounds; $IDLE idle connections"
    getent passwd relayctl-smtpd >/dev/null ||
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin relayctl-smtpd
    # One thread and descriptor per connection, in the listener and in the client holding them.
    (($(ulimit -n) >= IDLE + 200)) || ulimit -n $((IDLE + 200))
    free_port() { local p=$1; while listening "$p"; do p=$((p + 1)); done; echo "$p"; }
    L_PORT=$(free_port $((DEAD_PORT + 1)))
    P_PORT=$(free_port $((L_PORT + 1)))
    LW=$(mktemp -d /var/tmp/relayctl-bench-smtpd.XXXXXX)
    chmod 0711 "$LW"
    {
        profiles queue
        printf '\n[server]\nlisten = ["127.0.0.1:%s"]\nmax_connections = %s\nmax_connections_per_client = %s\n' \
            "$L_PORT" $((IDLE + 100)) $((IDLE + 100))
    } >"$W/smtpd.toml"
    # Postfix as a second instance: its own configuration, queue and port; smtpd -> cleanup ->
    # the queue (fsynced before 250), every message put on hold so that nothing is delivered.
    PF=$(mktemp -d /var/tmp/relayctl-bench-pf.XXXXXX)
    chmod 0755 "$PF"
    install -d -m 0755 "$PF/etc" "$PF/queue"
    install -d -o postfix -m 0755 "$PF/data"
    cat >"$PF/etc/main.cf" <<MAINCF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = bench.invalid
mydestination =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_client_restrictions = check_client_access static:HOLD
smtpd_recipient_restrictions = permit_mynetworks, reject
maillog_file = $PF/maillog
MAINCF
    cat >"$PF/etc/master.cf" <<MASTERCF
127.0.0.1:$P_PORT inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
proxymap  unix  - - n - - proxymap
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
smtp      unix  - - n - - smtp
error     unix  - - n - - error
MASTERCF
    # `postfix start` checks the instance and creates its queue's directories.
    postfix -c "$PF/etc" start >/dev/null 2>&1 ||
        die "the Postfix instance did not start: $(tail -n 3 "$PF/maillog" 2>/dev/null)"
    for _ in $(seq 50); do listening "$P_PORT" && break; sleep 0.1; done
    listening "$P_PORT" || die "the Postfix instance does not listen on 127.0.0.1:$P_PORT"
    start_listener() { # sets L_PID
        RELAYCTL_SPOOL=$LW/spool "$BIN" --config "$W/smtpd.toml" serve 2>>"$W/serve.log" &
        L_PID=$!
        PIDS+=("$L_PID")
        for _ in $(seq 50); do listening "$L_PORT" && return 0; sleep 0.1; done
        die "relayctl serve did not come up: $(cat "$W/serve.log")"
    }
    stop_listener() { # SIGTERM: it must finish and exit 0
        kill -TERM "$L_PID"
        wait "$L_PID" || die "relayctl serve exited with $? on SIGTERM: $(cat "$W/serve.log")"
    }
    hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
    files() { find "$1" -type f | wc -l; }
    source_into() { # PORT; prints the wall time in seconds
        local start
        start=$(date +%s.%N)
        smtp-source -s 20 -m "$SMTP_COUNT" -l 1000 -f "$FROM" -t "$TO" "127.0.0.1:$1" >/dev/null ||
            die "smtp-source into port $1 failed"
        calc "$(date +%s.%N) - $start" .3f
    }
    : >"$W/smtp-rc" >"$W/smtp-pf"
    start_listener
    for _ in $(seq "$ROUNDS"); do
        find "$LW/spool/maildrop" -mindepth 1 -delete 2>/dev/null || true
        sync
        source_into "$L_PORT" >>"$W/smtp-rc"
        (($(files "$LW/spool/maildrop") == SMTP_COUNT)) ||
            die "listener: $(files "$LW/spool/maildrop") drops, expected $SMTP_COUNT"
        postsuper -c "$PF/etc" -d ALL >/dev/null 2>&1 || true
        sync
        source_into "$P_PORT" >>"$W/smtp-pf"
        (($(files "$PF/queue/hold") == SMTP_COUNT)) ||
            die "Postfix: $(files "$PF/queue/hold") messages held, expected $SMTP_COUNT"
    done
    SMTP_LOAD_KB=$(hwm "$L_PID")
    stop_listener
    postfix -c "$PF/etc" stop >/dev/null 2>&1 || true
    # What the listener took is mail: the root runner imports the drops and delivers them.
    IMPORT_START=$(date +%s.%N)
    RELAYCTL_SPOOL=$LW/spool "$BIN" --config "$W/now.toml" queue run ||
        die "queue run of the listener's drops failed"
    IMPORT_S=$(calc "$(date +%s.%N) - $IMPORT_START" .2f)
    (($(files "$LW/spool/maildrop") == 0)) || die "the listener's drops were not all imported"
    (($(queued "$LW/spool") == 0)) || die "the listener's messages were not all delivered"
    # Peak RSS with IDLE connections open at once, each greeted and then silent; a client that
    # behaves is served meanwhile.
    start_listener
    IDLE_OUT=$(python3 - "$L_PORT" "$IDLE" "$L_PID" <<'PY'
import socket, sys
port, n, pid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(n)]
greeted = sum(c.recv(512).startswith(b"220 ") for c in conns)
threads = next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("Threads:"))
with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
    f = s.makefile("rwb")
    served = f.readline().startswith(b"220 ")
    f.write(b"EHLO bench.invalid\r\n")
    f.flush()
    line = f.readline()
    while line[3:4] == b"-":
        line = f.readline()
    served = served and line.startswith(b"250 ")
print(greeted, threads, int(served))
PY
    ) || die "the idle connections failed"
    read -r IDLE_GREETED IDLE_THREADS IDLE_SERVED <<<"$IDLE_OUT"
    ((IDLE_GREETED == IDLE && IDLE_SERVED == 1)) ||
        die "idle connections: $IDLE_GREETED of $IDLE greeted, another client served: $IDLE_SERVED"
    IDLE_KB=$(hwm "$L_PID")
    stop_listener
    SMTP_RC_S=$(med "$W/smtp-rc" 0)
    SMTP_PF_S=$(med "$W/smtp-pf" 0)
    SMTP_RC_RATE=$(calc "$SMTP_COUNT / $SMTP_RC_S" .0f)
    SMTP_PF_RATE=$(calc "$SMTP_COUNT / $SMTP_PF_S" .0f)
    per_round() { awk -v n="$SMTP_COUNT" '{printf "%s%.0f", (NR > 1 ? ", " : ""), n / $1}' "$1"; }
    SMTP_RC_ALL=$(per_round "$W/smtp-rc")
    SMTP_PF_ALL=$(per_round "$W/smtp-pf")
fi

# ------------------------------------------------------------------ startup checks
log "startup checks (strace)"
traced() { # NAME COMMAND... (stdin from small.eml); leaves $W/trace.NAME
    local name=$1
    shift
    strace -f -qq -e trace=socket,connect,openat,open -o "$W/trace.$name" "$@" <"$W/small.eml" >/dev/null 2>&1 || true
}
traced version "$BIN" --version
traced config env RELAYCTL_SPOOL="$W/cspool" "$BIN" --config "$W/queue.toml" --profile tls profile list
traced enqueue env RELAYCTL_SPOOL="$W/cspool" "$BIN" --config "$W/queue.toml" --profile tls sendmail -t
inet() { grep -cE 'socket\(AF_INET6?,' "$W/trace.$1" || true; }
resolver() { grep -cE '"/etc/(resolv\.conf|hosts|nsswitch\.conf|gai\.conf)"' "$W/trace.$1" || true; }
keyring() { grep -cE 'dbus|keyring|/run/user/' "$W/trace.$1" || true; }
secret() { grep -c "\"$W/secret\"" "$W/trace.$1" || true; }
check_row() { # NAME LABEL
    printf '| %s | %s | %s | %s | %s |\n' "$2" "$(inet "$1")" "$(resolver "$1")" "$(keyring "$1")" "$(secret "$1")"
}
STARTUP_TABLE=$(
    check_row version '`relayctl --version`'
    check_row config '`relayctl profile list` (config load, STARTTLS+AUTH profile)'
    check_row enqueue '`sendmail -t` with `delivery = "queue"` (STARTTLS+AUTH profile)'
)
# ------------------------------------------------------------------ report
ratio() { calc "$1 / $2" .3f; }
verdict() { python3 -c "print('met' if $1 else '**missed**')"; }
R_CRON=$(ratio "$CRON_RC" "$CRON_MS")
if [[ -z $TLS_NOTE ]]; then R_TLS=$(ratio "$TLS_RC" "$TLS_MS"); fi
R_BULK_MS=$(calc "$RATE_RC / $RATE_MS" .1f)
R_BULK_SRC=$(ratio "$BULK_RC" "$BULK_SRC")
MB() { calc "$1 / 1024" .1f; }

if [[ -z $OUT ]]; then
    if ((SMOKE)); then OUT=$W/RESULTS.md; else OUT=$ROOT/bench/RESULTS.md; fi
fi
{
    echo "# relayctl vs msmtp on loopback"
    echo
    if ((SMOKE)); then
        echo "**Smoke run** (\`bench/run.sh --smoke\`: few iterations, small counts, debug build unless \`--bin\`); the figures mean nothing."
        echo
    fi
    echo "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). relayctl $("$BIN" --version | awk '{print $2}') ($BIN),"
    echo "msmtp $(msmtp --version | awk 'NR==1 {print $3}'), hyperfine $(hyperfine --version | awk '{print $2}'), Postfix $(postconf -h mail_version 2>/dev/null || echo '?') (smtp-sink, smtp-source)."
    echo "Method, configuration, fixes with before/after figures: [below](#method) (bench/NOTES.md)."
    echo
    echo "## Targets"
    echo
    echo "| target | measured | |"
    echo "|---|---|---|"
    echo "| cron path: relayctl median <= 0.2x msmtp's | ${CRON_RC} ms vs ${CRON_MS} ms = **${R_CRON}x** | $(verdict "$R_CRON <= 0.2") |"
    if [[ -z $TLS_NOTE ]]; then
        echo "| cron path with STARTTLS + AUTH (same target) | ${TLS_RC} ms vs ${TLS_MS} ms = **${R_TLS}x** | $(verdict "$R_TLS <= 0.2") |"
    else
        echo "| cron path with STARTTLS + AUTH | $TLS_NOTE | - |"
    fi
    if [[ -z $TLS_NOTE ]]; then
        R_FAR=$(ratio "$FAR_RC_FAR" "$FAR_MS_FAR")
        echo "| at $((2 * FAR_DELAY)) ms round trip (case 8), STARTTLS + AUTH: at most 7 client turns, median <= 0.45x msmtp's | ${TURNS_relayctl_FAR} turns (msmtp ${TURNS_msmtp_FAR}); ${FAR_RC_FAR} ms vs ${FAR_MS_FAR} ms = **${R_FAR}x** | $(verdict "${TURNS_relayctl_FAR} <= 7 and $R_FAR <= 0.45") |"
        echo "| flush of $FAR_COUNT at $((2 * FAR_DELAY)) ms round trip (case 9): >= 500 messages/s and >= Postfix as a null client (same run) | **${FLUSH_RC_RATE_FAR}/s** vs ${PN_RATE}/s = **$(calc "$FLUSH_RC_RATE_FAR / $PN_RATE" .2f)x** | $(verdict "$FLUSH_RC_RATE_FAR >= 500 and $FLUSH_RC_RATE_FAR >= $PN_RATE") |"
        echo "| daemon mode at $((2 * FAR_DELAY)) ms round trip (case 10): \`sendmail\` returning to the relay's reply within 1.2x the round trips needed (medians) | ${DAEMON_TOOK} ms vs ${DAEMON_NEEDED} ms = **${DAEMON_RATIO}x** | $(verdict "$DAEMON_RATIO <= 1.2") |"
    fi
    echo "| bulk flush >= 1,000 messages/s | **${RATE_RC}/s** ($COUNT in ${BULK_RC} ms) | $(verdict "$RATE_RC >= 1000") |"
    echo "| bulk flush >= 50x msmtp's loop | ${RATE_RC}/s vs ${RATE_MS}/s = **${R_BULK_MS}x** | $(verdict "$R_BULK_MS >= 50") |"
    echo "| bulk flush within 3x of smtp-source | ${BULK_RC} ms vs ${BULK_SRC} ms = **${R_BULK_SRC}x** | $(verdict "$R_BULK_SRC <= 3") |"
    echo "| $BIG_MB MB message: peak RSS <= 16 MB | **$(MB "$MAX_RSS_KB") MB** (highest of every relayctl process in case 4) | $(verdict "$MAX_RSS_KB <= 16384") |"
    echo "| $BIG_MB MB message: wall time <= msmtp's | ${BIG_RC_S} s vs ${BIG_MS_S} s = **$(ratio "$BIG_RC_S" "$BIG_MS_S")x** | $(verdict "$BIG_RC_S <= $BIG_MS_S") |"
    echo "| $BIG_MB MB drop file: import (and delivery) peak RSS < 32 MB | **$(MB "$DROP_KB") MB** | $(verdict "$DROP_KB < 32768") |"
    echo "| dead relay: \`sendmail -t\` returns within 2.5 s the first time, the message queued (exit 0) | **${DEAD1} ms** (max ${DEAD1_MAX} ms) | $(verdict "$DEAD1_MAX <= 2500") |"
    echo "| dead relay known to be down: \`sendmail -t\` returns within 50 ms, the message queued (exit 0) | **${DEAD2} ms** (max ${DEAD2_MAX} ms) | $(verdict "$DEAD2 <= 50") |"
    echo "| dead relay: \`queue flush\` prints a one-line summary per profile | see [case 6](#6-a-relay-that-never-answers) | met |"
    if [[ -z $SMTP_NOTE ]]; then
        echo "| SMTP listener: messages accepted/s >= Postfix's smtpd into its queue (smtp-source -s 20, same run) | **${SMTP_RC_RATE}/s** vs ${SMTP_PF_RATE}/s = **$(calc "$SMTP_RC_RATE / $SMTP_PF_RATE" .2f)x** | $(verdict "$SMTP_RC_RATE >= $SMTP_PF_RATE") |"
        echo "| SMTP listener: peak RSS < 50 MB with $IDLE connections | **$(MB "$IDLE_KB") MB** | $(verdict "$IDLE_KB < 51200") |"
    else
        echo "| SMTP listener | $SMTP_NOTE | - |"
    fi
    echo "| startup: no network, resolver or keyring for \`--version\` and a config load; secret only when connecting | see [Startup](#startup) | $(verdict "$(inet version) + $(resolver version) + $(keyring version) + $(inet config) + $(resolver config) + $(keyring config) + $(secret config) + $(secret enqueue) + $(inet enqueue) == 0") |"
    echo
    echo "## 1. Cron path: one ${SMALL_BYTES}-byte message, \`sendmail -t\`, whole process"
    echo
    echo "hyperfine, $CRON_N runs each after 3 warm-ups, both tools in one invocation; each command is"
    echo "\`sh -c 'exec ... < message'\` (hyperfine -N), so both include the shell's start (the baseline row)."
    echo
    echo "| | median | mean ± σ | min | max |"
    echo "|---|---|---|---|---|"
    echo "| relayctl, plain SMTP to smtp-sink (\`delivery = \"now\"\`: spool, fsync, deliver, remove) | **${CRON_RC} ms** | ${CRON_RC_MEAN} ± ${CRON_RC_SD} ms | ${CRON_RC_MIN} | ${CRON_RC_MAX} |"
    echo "| msmtp, plain SMTP to smtp-sink | **${CRON_MS} ms** | ${CRON_MS_MEAN} ± ${CRON_MS_SD} ms | ${CRON_MS_MIN} | ${CRON_MS_MAX} |"
    echo "| baseline: \`sh -c 'exec true < message'\` | ${CRON_SH} ms | | | |"
    if [[ -z $TLS_NOTE ]]; then
        echo "| relayctl, STARTTLS + AUTH PLAIN via Postfix on 587 | **${TLS_RC} ms** | ${TLS_RC_MEAN} ± ${TLS_RC_SD} ms | ${TLS_RC_MIN} | ${TLS_RC_MAX} |"
        echo "| msmtp, STARTTLS + AUTH PLAIN via Postfix on 587 | **${TLS_MS} ms** | ${TLS_MS_MEAN} ± ${TLS_MS_SD} ms | ${TLS_MS_MIN} | ${TLS_MS_MAX} |"
    else
        echo "| STARTTLS + AUTH | $TLS_NOTE | | | |"
    fi
    echo
    echo "Ratio relayctl/msmtp (medians): plain **${R_CRON}x**${R_TLS:+, STARTTLS + AUTH **${R_TLS}x**}."
    echo
    echo "## 8. At a distance: the cron path through a delay proxy"
    echo
    if [[ -z $TLS_NOTE ]]; then
        echo "testkit's \`delay-proxy\` in front of Postfix on 587 (STARTTLS + AUTH PLAIN) forwards each chunk after a fixed"
        echo "delay in each direction, so pipelined data stays pipelined, and counts the client's turns (times it speaks"
        echo "after the server). 0 ms is the proxy's own cost. hyperfine, $FAR_N runs each after 2 warm-ups."
        echo
        echo "| | delay each way | client turns | median | min … max |"
        echo "|---|---|---|---|---|"
        echo "| relayctl \`sendmail -t\` | 0 ms | ${TURNS_relayctl_0} | ${FAR_RC_0} ms | ${FAR_RC_RANGE_0} |"
        echo "| msmtp \`-t\` | 0 ms | ${TURNS_msmtp_0} | ${FAR_MS_0} ms | ${FAR_MS_RANGE_0} |"
        echo "| relayctl \`sendmail -t\` | ${FAR_DELAY} ms | ${TURNS_relayctl_FAR} | **${FAR_RC_FAR} ms** | ${FAR_RC_RANGE_FAR} |"
        echo "| msmtp \`-t\` | ${FAR_DELAY} ms | ${TURNS_msmtp_FAR} | **${FAR_MS_FAR} ms** | ${FAR_MS_RANGE_FAR} |"
        echo
        echo "relayctl's turns: EHLO, STARTTLS, ClientHello, Finished with EHLO, AUTH PLAIN with its initial response,"
        echo "then MAIL + RCPT + \`BDAT n LAST\` with the message + QUIT + close_notify in one flight (the message is alone in"
        echo "the queue, so the session ends with it; QUIT's reply is not awaited)."
        echo "tests/integration/round_trips.rs fails if one more appears."
    else
        echo "$TLS_NOTE"
    fi
    echo
    echo "## 9. Flush at a distance: $FAR_COUNT messages of ${SMALL_BYTES} bytes, STARTTLS + AUTH"
    echo
    if [[ -z $TLS_NOTE ]]; then
        echo "The same $FAR_COUNT messages, each tool through a delay proxy of its own in front of Postfix on 587; wall time"
        echo "until the tool's queue is empty, one run each. relayctl: \`queue flush\` on a fresh copy of a spool that"
        echo "holds them (profile \`tls\`). Postfix $(postconf -h mail_version 2>/dev/null || echo '?') as a null client: an instance of its own,"
        echo "relayhost the proxy, SASL and \`smtp_tls_security_level = encrypt\`, everything else (concurrency, connection"
        echo "and TLS session caching) its defaults; the messages held on arrival, then released and the queue flushed"
        echo "(\`postsuper -H ALL; postqueue -f\`). Every message was counted at the sink behind the relay."
        echo
        echo "| | delay each way | wall time | messages/s | connections | client turns (per message) |"
        echo "|---|---|---|---|---|---|"
        echo "| relayctl \`queue flush\` | 0 ms | ${FLUSH_RC_MS_0} ms | ${FLUSH_RC_RATE_0} | ${FLUSH_RC_CONNS_0} | ${FLUSH_RC_TURNS_0} ($(calc "$FLUSH_RC_TURNS_0 / $FAR_COUNT" .2f)) |"
        echo "| relayctl \`queue flush\` | ${FAR_DELAY} ms | ${FLUSH_RC_MS_FAR} ms | **${FLUSH_RC_RATE_FAR}** | ${FLUSH_RC_CONNS_FAR} | ${FLUSH_RC_TURNS_FAR} ($(calc "$FLUSH_RC_TURNS_FAR / $FAR_COUNT" .2f)) |"
        echo "| Postfix null client | ${FAR_DELAY} ms | ${PN_MS} ms | **${PN_RATE}** | ${PN_CONNS} | ${PN_TURNS} ($(calc "$PN_TURNS / $FAR_COUNT" .2f)) |"
        echo
        echo "relayctl/Postfix (messages/s): **$(calc "$FLUSH_RC_RATE_FAR / $PN_RATE" .2f)x**."
    else
        echo "$TLS_NOTE"
    fi
    echo
    echo "## 10. Daemon mode at a distance"
    echo
    if [[ -z $TLS_NOTE ]]; then
        echo "\`relayctl queue daemon\` on a spool whose profile \`tls\` (\`delivery = \"queue\"\`) goes through a delay proxy at"
        echo "${FAR_DELAY} ms each way; $DAEMON_N submissions by \`sendmail -t\`, at least 1.5 s apart (the daemon passes at most"
        echo "once a second). t0: \`sendmail\` returned; t1: the proxy forwarded to the daemon the relay's reply to the"
        echo "message (\`250 2.0.0 Ok: queued as\`), from the proxy's event log: the last chunk answering the client turn"
        echo "that carried the message, the turn with the most bytes (under TLS the proxy sees no text). Needed: the"
        echo "greeting one way plus two ways per client turn up to that one, ${FAR_DELAY} + turns x $((2 * FAR_DELAY)) ms."
        echo
        echo "| client turns to the reply (of the connection) | needed (median) | t1 - t0 (median) | min … max | ratio |"
        echo "|---|---|---|---|---|"
        echo "| ${DAEMON_TURNS//_/ } | ${DAEMON_NEEDED} ms | **${DAEMON_TOOK} ms** | ${DAEMON_RANGE} ms | **${DAEMON_RATIO}x** |"
        echo
        echo "The daemon's CPU time per delivery (utime + stime from /proc/PID/stat, read before \`sendmail\` and after"
        echo "the delivery; $(getconf CLK_TCK) ticks a second, so each reading is to $((1000 / $(getconf CLK_TCK))) ms): first delivery **${DAEMON_CPU1} ms**; the"
        echo "others median **${DAEMON_CPU_MED} ms**, mean ${DAEMON_CPU_MEAN} ms."
    else
        echo "$TLS_NOTE"
    fi
    echo
    echo "## 2. Enqueue only (\`delivery = \"queue\"\`)"
    echo
    echo "| | median | mean ± σ | min | max | runs |"
    echo "|---|---|---|---|---|---|"
    echo "| relayctl \`sendmail -t\`, into the spool with fsync | **${Q_RC} ms** | ${Q_RC_MEAN} ± ${Q_RC_SD} ms | ${Q_RC_MIN} | ${Q_RC_MAX} | $Q_N |"
    echo
    echo "fsync/fdatasync calls per submission (strace): $FSYNCS. msmtp has no queue of its own; its"
    echo "synchronous delivery (case 1) is ${CRON_MS} ms."
    echo
    echo "## 3. Bulk flush: $COUNT messages of ${SMALL_BYTES} bytes"
    echo
    echo "| | median wall time | min … max | messages/s (median) | runs |"
    echo "|---|---|---|---|---|"
    echo "| relayctl \`queue run\` (up to 4 connections; spool reset and synced before each run) | ${BULK_RC} ms | ${BULK_RC_MIN} … ${BULK_RC_MAX} | **${RATE_RC}** | $BULK_RUNS |"
    echo "| msmtp, one process per message in a shell loop | ${BULK_MS} ms | ${BULK_MS_MIN} … ${BULK_MS_MAX} | **${RATE_MS}** | $MSMTP_BULK_RUNS |"
    echo "| Postfix smtp-source \`-d -s 1 -m $COUNT -l $SMALL_BYTES\` (one connection, no spool) | ${BULK_SRC} ms | ${BULK_SRC_MIN} … ${BULK_SRC_MAX} | **${RATE_SRC}** | $BULK_RUNS |"
    echo
    echo "relayctl is **${R_BULK_MS}x** msmtp's loop and takes **${R_BULK_SRC}x** smtp-source's time."
    echo
    echo "## 4. One large message: $BIG_BYTES bytes (base64 attachment)"
    echo
    echo "\`/usr/bin/time -v\`, $ROUNDS rounds alternating relayctl and msmtp; medians."
    echo
    echo "| | wall time | peak RSS |"
    echo "|---|---|---|"
    echo "| relayctl \`sendmail -t\` (\`delivery = \"now\"\`: spool + fsync, then deliver from the spool file) | **${BIG_RC_S} s** | **$(MB "$BIG_RC_KB") MB** |"
    echo "| msmtp \`-t\` | **${BIG_MS_S} s** | **$(MB "$BIG_MS_KB") MB** |"
    echo "| relayctl enqueue only (\`delivery = \"queue\"\`) | ${BIG_Q_S} s | $(MB "$BIG_Q_KB") MB |"
    echo "| relayctl \`queue run\` delivering it from the spool | ${BIG_RUN_S} s | $(MB "$BIG_RUN_KB") MB |"
    echo "| relayctl \`queue run\` importing it from a user's drop file (maildrop) and delivering it | ${DROP_S} s | $(MB "$DROP_KB") MB |"
    echo
    echo "## 6. A relay that never answers"
    echo
    echo "A server on 127.0.0.1 that accepts every TCP connection and never says a word; the profile's"
    echo "\`timeout\` is 30 s (the default), \`submit_timeout\` the default 2 s. hyperfine; each of the"
    echo "first calls starts with an empty spool (no relay known to be down)."
    echo
    echo "| | median | min … max | runs |"
    echo "|---|---|---|---|"
    echo "| \`sendmail -t\`, relay not known to be down (connect + greeting budget, then queued) | **${DEAD1} ms** | ${DEAD1_MIN} … ${DEAD1_MAX} | $DEAD_RUNS |"
    echo "| \`sendmail -t\`, relay known to be down (queued without connecting) | **${DEAD2} ms** | ${DEAD2_MIN} … ${DEAD2_MAX} | $DEAD2_N |"
    echo
    echo "Then \`queue flush\` (profile \`timeout = 5\`) tried the $DEAD_QUEUED queued messages in ${FLUSH_S} s (one"
    echo "connection attempt for the profile) and printed:"
    echo
    echo '```'
    echo "$FLUSH_OUT"
    echo '```'
    echo
    echo "## 7. The SMTP listener"
    echo
    if [[ -z $SMTP_NOTE ]]; then
        echo "Postfix's \`smtp-source -s 20 -m $SMTP_COUNT -l 1000\` (20 sessions at a time, one message per"
        echo "connection: greeting, HELO, MAIL, RCPT, DATA, QUIT), $ROUNDS rounds alternating. relayctl:"
        echo "\`relayctl serve\` started as root and serving as relayctl-smtpd, each message written into the"
        echo "maildrop and synced (fsync of the file, then syncfs, as every maildrop drop) before its 250."
        echo "Postfix: an instance of its own on another port (\`postfix -c\`), smtpd handing each message to"
        echo "cleanup, which fsyncs it into the queue before the 250; every message put on hold, so that"
        echo "nothing is delivered. Both queues were emptied and synced before each round."
        echo
        echo "| | median wall time | messages/s (median) | each round |"
        echo "|---|---|---|---|"
        echo "| \`relayctl serve\` | ${SMTP_RC_S} s | **${SMTP_RC_RATE}** | ${SMTP_RC_ALL} |"
        echo "| Postfix $(postconf -h mail_version 2>/dev/null || echo '?') smtpd -> cleanup -> queue (held) | ${SMTP_PF_S} s | **${SMTP_PF_RATE}** | ${SMTP_PF_ALL} |"
        echo
        echo "The listener's peak RSS over these rounds: $(MB "$SMTP_LOAD_KB") MB. Afterwards one \`relayctl queue run\`"
        echo "imported the last round's $SMTP_COUNT drops and delivered them to the sink in ${IMPORT_S} s."
        echo
        echo "A fresh listener with $IDLE connections open at once, each greeted and then silent: peak RSS"
        echo "**$(MB "$IDLE_KB") MB** (VmHWM), $IDLE_THREADS threads; another client was greeted and served meanwhile."
    else
        echo "$SMTP_NOTE"
    fi
    echo
    echo "## Startup"
    echo
    echo "strace of each command: Internet sockets opened, resolver files read (resolv.conf, hosts,"
    echo "nsswitch.conf, gai.conf), D-Bus/keyring access, and opens of the profile's secret file."
    echo
    echo "| command | inet sockets | resolver files | keyring/D-Bus | secret opened |"
    echo "|---|---|---|---|---|"
    echo "$STARTUP_TABLE"
    echo
    echo "A submission reads the resolver's files once for the host's FQDN, to tell local recipients"
    echo "(\`root@<this host>\`) from others: from /etc/hosts when the host name is there (no socket);"
    echo "otherwise it is a DNS query. Neither \`--version\` nor loading the configuration does it."
    if [[ -z $TLS_NOTE ]]; then
        echo
        echo "In case 1b the secret file is opened only after the TLS handshake (checked: $SECRET_ORDER)."
    fi
    echo
    echo "## Machine"
    echo
    echo '```'
    echo "\$ nproc; lscpu | head -n 16 | grep -v Flags; free -h; uname -srvm; df -h $W; findmnt -T $W"
    nproc
    lscpu | head -n 16 | grep -v Flags
    free -h
    uname -srvm
    df -h "$W"
    findmnt -no SOURCE,FSTYPE,OPTIONS -T "$W" || true
    (. /etc/os-release && echo "$PRETTY_NAME") || true
    echo "load average (1, 5, 15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    echo '```'
    echo
    echo "msmtp's configuration in this run (\`msmtp -C\`):"
    echo
    echo '```'
    sed "s/^password .*/password (the test relay's)/" "$W/msmtprc"
    echo '```'
    if [[ -r $ROOT/bench/NOTES.md ]]; then
        echo
        cat "$ROOT/bench/NOTES.md"
    fi
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
log "report: $OUT"
if ((SMOKE)); then cat "$OUT"; fi
