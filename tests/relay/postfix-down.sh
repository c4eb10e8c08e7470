#!/usr/bin/env bash
# Stop the Postfix test relay started by postfix-up.sh (no-op if not running).
# Configuration, certificates and the queue are left in place.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
DIR=${RELAYCTL_TEST_RELAY_DIR:-/var/tmp/relayctl-test-relay}
rm -f "$DIR/.running"
if postfix status >/dev/null 2>&1; then
    postfix stop >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do
        postfix status >/dev/null 2>&1 || exit 0
        sleep 0.1
    done
    echo "postfix-down: Postfix did not stop" >&2
    exit 1
fi
