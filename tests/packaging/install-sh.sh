#!/usr/bin/env bash
# packaging/install.sh on a Debian machine whose MTA is Postfix, run by tests/packaging.rs in a
# private namespace with throwaway overlays over /usr, /etc and /var (see deb.sh).
#
# Environment: REPO (the source tree), BIN (the relayctl binary to install), M4 (the marker of the
# message the Rust test waits for at the capture server).
set -euo pipefail

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
mode() { stat -c '%a %U:%G' "$1"; }
expect_mode() { [[ $(mode "$1") == "$2" ]] || fail "$1 is $(mode "$1"), expected $2"; }
dangling() { find /usr /etc /var -xtype l 2>/dev/null | sort; }

rm -rf /etc/relayctl /var/spool/relayctl
dangling >/tmp/dangling-before.$$
postfix_sendmail=$(sha256sum </usr/sbin/sendmail)
install=$REPO/packaging/install.sh

step "without --force, install.sh leaves Postfix's sendmail alone and names its package"
if "$install" --binary "$BIN" >/tmp/out.$$ 2>&1; then
    fail "install.sh replaced postfix's sendmail without --force"
fi
grep -q 'package postfix' /tmp/out.$$ || fail "$(cat /tmp/out.$$)"
[[ $(sha256sum </usr/sbin/sendmail) == "$postfix_sendmail" ]] || fail "sendmail changed"

step "with --force it installs everything and moves Postfix's files aside"
"$install" --binary "$BIN" --force >/tmp/out.$$ 2>&1 || fail "$(cat /tmp/out.$$)"
expect_mode /usr/local/bin/relayctl "755 root:root"
for f in man/man1/relayctl.1 man/man5/relayctl.toml.5 man/man8/relayctl-sendmail.8 \
    bash-completion/completions/relayctl zsh/site-functions/_relayctl \
    fish/vendor_completions.d/relayctl.fish relayctl/completions/relayctl.elv \
    relayctl/completions/_relayctl.ps1; do
    expect_mode "/usr/local/share/$f" "644 root:root"
done
for unit in relayctl-queue.service relayctl-queue.timer relayctl-daemon.service \
    relayctl-smtpd.socket relayctl-smtpd.service; do
    expect_mode "/etc/systemd/system/$unit" "644 root:root"
done
grep -qx 'ExecStart=/usr/local/bin/relayctl queue run' /etc/systemd/system/relayctl-queue.service ||
    fail "ExecStart not pointed at the prefix"
grep -qx 'ExecStart=/usr/local/bin/relayctl serve' /etc/systemd/system/relayctl-smtpd.service ||
    fail "the listener's ExecStart not pointed at the prefix"
[[ $(getent passwd relayctl-smtpd | cut -d: -f7) == /usr/sbin/nologin ]] ||
    fail "no relayctl-smtpd system user: $(getent passwd relayctl-smtpd)"
expect_mode /etc/relayctl "755 root:root"
expect_mode /etc/relayctl/secrets "700 root:root"
expect_mode /var/spool/relayctl "711 root:root"
expect_mode /var/spool/relayctl/maildrop "1733 root:root"
# Postfix's mailq, newaliases and /usr/lib/sendmail are links to ../sbin/sendmail: they now reach
# relayctl and stay as they are; its sendmail binary is kept aside for --uninstall.
[[ $(readlink /usr/sbin/sendmail) == /usr/local/bin/relayctl ]] || fail "$(ls -l /usr/sbin/sendmail)"
for link in /usr/lib/sendmail /usr/bin/mailq /usr/bin/newaliases; do
    [[ $(readlink -f "$link") == /usr/local/bin/relayctl ]] || fail "$link: $(ls -l "$link")"
done
[[ -f /usr/sbin/sendmail.relayctl-saved ]] || fail "postfix's sendmail was not kept aside"
[[ $(readlink -f "$(man -w relayctl-sendmail)") == /usr/local/share/man/man8/relayctl-sendmail.8 ]] ||
    fail "man -w relayctl-sendmail: $(man -w relayctl-sendmail 2>&1)"

step "the sendmail it installed delivers through the relay"
relayctl setup smarthost --system --name campus --host localhost --port 25 --tls none \
    --from vm1@campus.example
printf 'To: ops@example.org\nSubject: %s\n\nsent by install.sh'"'"'s sendmail\n' "$M4" |
    /usr/sbin/sendmail -t -i

step "--uninstall removes it and puts Postfix's files back"
"$install" --uninstall >/tmp/out.$$ 2>&1 || fail "$(cat /tmp/out.$$)"
[[ $(sha256sum </usr/sbin/sendmail) == "$postfix_sendmail" ]] || fail "postfix's sendmail not restored"
for p in /usr/local/bin/relayctl /usr/local/share/man/man1/relayctl.1 \
    /etc/systemd/system/relayctl-queue.timer /etc/systemd/system/relayctl-smtpd.socket \
    /usr/sbin/sendmail.relayctl-saved; do
    [[ ! -e $p ]] || fail "$p left after --uninstall"
done
[[ -f /etc/relayctl/config.toml ]] || fail "--uninstall removed the configuration"
new=$(dangling | comm -13 /tmp/dangling-before.$$ -)
[[ -z $new ]] || fail "dangling links after --uninstall: $new"

echo "install.sh: ok"
