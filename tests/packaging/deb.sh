#!/usr/bin/env bash
# The .deb's life on a Debian machine, run by tests/packaging.rs inside a private mount and PID
# namespace whose /usr, /etc and /var are throwaway overlays and whose /run is empty: dpkg's
# database, Postfix's files and everything the packages change exist in the namespace only, and
# the host's running Postfix (the test relay) is not touched. /usr/sbin/policy-rc.d (exit 101,
# as in chroots and containers) stops maintainer scripts from starting or stopping services.
#
# Environment: DEB1 and DEB2 (the same package as revisions 1 and 2), M1..M3 (markers of the
# messages the Rust test waits for at the capture server).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
status() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true; }
mode() { stat -c '%a %U:%G' "$1"; }
expect_mode() { # path "mode owner:group"
    [[ $(mode "$1") == "$2" ]] || fail "$1 is $(mode "$1"), expected $2"
}
expect_link() { # path target
    [[ -L $1 && $(readlink "$1") == "$2" ]] || fail "$1 should be a link to $2: $(ls -l "$1" 2>&1)"
}
expect_layout() {
    expect_mode /usr/bin/relayctl "755 root:root"
    expect_link /usr/sbin/sendmail ../bin/relayctl
    expect_link /usr/lib/sendmail ../sbin/sendmail
    expect_link /usr/bin/mailq relayctl
    expect_link /usr/bin/newaliases relayctl
    expect_mode /etc/relayctl "755 root:root"
    expect_mode /etc/relayctl/secrets "700 root:root"
    expect_mode /var/spool/relayctl "711 root:root"
    expect_mode /var/spool/relayctl/maildrop "1733 root:root"
    for d in queue failed corrupt tmp; do
        expect_mode "/var/spool/relayctl/$d" "700 root:root"
    done
    # The SMTP listener's system user: no login, no home.
    local smtpd
    smtpd=$(getent passwd relayctl-smtpd) || fail "no relayctl-smtpd user"
    [[ $(cut -d: -f3 <<<"$smtpd") -lt 1000 && $(cut -d: -f7 <<<"$smtpd") == /usr/sbin/nologin &&
        ! -e $(cut -d: -f6 <<<"$smtpd") ]] || fail "relayctl-smtpd is not a system user: $smtpd"
    for unit in relayctl-smtpd.socket relayctl-smtpd.service; do
        expect_mode "/usr/lib/systemd/system/$unit" "644 root:root"
    done
}
# Symbolic links that point nowhere, under the trees a package touches.
dangling() { find /usr /etc /var -xtype l 2>/dev/null | sort; }
queued() { relayctl queue list --json | grep -c '"id"' || true; }

# A clean slate: whatever earlier runs left on the host is hidden (in the overlay only).
rm -rf /etc/relayctl /var/spool/relayctl

step "dpkg -i refuses to install beside another mail transport agent"
[[ $(status postfix) == "install ok installed" ]] || fail "postfix is not installed: $(status postfix)"
if dpkg -i "$DEB1" >/tmp/dpkg.$$ 2>&1; then
    fail "relayctl was installed beside postfix"
fi
grep -q 'relayctl conflicts with mail-transport-agent' /tmp/dpkg.$$ || fail "$(cat /tmp/dpkg.$$)"
[[ $(status relayctl) != "install ok installed" ]] || fail "relayctl half-installed"

step "apt replaces postfix with relayctl (Conflicts/Replaces/Provides: mail-transport-agent)"
apt-get install -y --no-install-recommends "$DEB1" >/tmp/apt.$$ 2>&1 || fail "$(cat /tmp/apt.$$)"
grep -A2 'will be REMOVED' /tmp/apt.$$ | grep -qw postfix || fail "postfix not removed: $(cat /tmp/apt.$$)"
[[ $(status relayctl) == "install ok installed" ]] || fail "relayctl: $(status relayctl)"
[[ $(status postfix) == "deinstall ok config-files" ]] || fail "postfix: $(status postfix)"
# bsd-mailx depends on default-mta | mail-transport-agent: relayctl's Provides satisfies it.
[[ $(status bsd-mailx) == "install ok installed" ]] || fail "bsd-mailx: $(status bsd-mailx)"
expect_layout
# From here on, links that dangle are relayctl's (postfix's leftovers dangle already).
dangling >/tmp/dangling-before.$$
[[ -L /etc/systemd/system/timers.target.wants/relayctl-queue.timer ]] ||
    fail "relayctl-queue.timer is not enabled"
[[ ! -e /etc/systemd/system/multi-user.target.wants/relayctl-daemon.service ]] ||
    fail "relayctl-daemon.service should not be enabled"
[[ ! -e /etc/systemd/system/sockets.target.wants/relayctl-smtpd.socket ]] ||
    fail "relayctl-smtpd.socket should not be enabled: nothing listens until the admin says so"
[[ $(man -w relayctl-sendmail) == /usr/share/man/man8/relayctl-sendmail.8.gz ]] || fail "man -w"
man -w 8 sendmail >/dev/null || fail "man 8 sendmail finds no page"
for page in relayctl relayctl.toml relayctl-sendmail; do
    warnings=$(man --warnings "$page" 2>&1 >/dev/null)
    [[ -z $warnings ]] || fail "man $page: $warnings"
done
for f in /usr/share/bash-completion/completions/relayctl /usr/share/zsh/vendor-completions/_relayctl \
    /usr/share/fish/vendor_completions.d/relayctl.fish /usr/share/doc/relayctl/examples/config.sample.toml \
    /usr/share/doc/relayctl/examples/prometheus/relayctl.rules.yml; do
    expect_mode "$f" "644 root:root"
done
# Every page of docs/ that README.md links to is installed beside it (gzipped or not).
doc=/usr/share/doc/relayctl
readme=$(zcat -f "$doc"/README.md* 2>/dev/null)
links=$(grep -o '](docs/[^)#]*' <<<"$readme" | sed 's/^](//' | sort -u)
[[ -n $links ]] || fail "README.md links to no page of docs/"
for link in $links; do
    [[ -f $doc/$link || -f $doc/$link.gz ]] || fail "README.md links to $link, which is not installed"
done

step "configure system profiles, with a secret in the file store"
relayctl setup smarthost --system --name campus --host localhost --port 25 --tls none \
    --from vm1@campus.example
printf '%s' 'Upgrade-Keeps-This-Secret' | relayctl setup institutional --system --name uni \
    --host localhost --port 587 --tls starttls --user jdoe@relay.test --from jdoe@relay.test \
    --password-stdin --secret-store file --no-verify
# A relay that is down (nothing listens on port 9): its mail waits in the queue. Both profiles
# are saved without the login check (--no-verify), as when baking an image: uni has no CA here.
relayctl setup smarthost --system --name later --host 127.0.0.1 --port 9 --tls none \
    --from vm1@campus.example --timeout 5 --no-verify
expect_mode /etc/relayctl/config.toml "644 root:root"
expect_mode /etc/relayctl/secrets/uni "600 root:root"

step "/usr/sbin/sendmail -t delivers through relayctl and the relay"
printf 'To: ops@example.org\nSubject: %s\n\nsent by the packaged sendmail\n' "$M1" |
    /usr/sbin/sendmail -t -i
[[ $(queued) == 0 ]] || fail "M1 is still queued: $(relayctl queue list)"

step "mail for a relay that is down is queued (exit 0)"
printf 'To: ops@example.org\nSubject: %s\n\nwaits for the upgrade\n' "$M2" |
    RELAYCTL_PROFILE=later /usr/sbin/sendmail -t -i
[[ $(queued) == 1 ]] || fail "M2 not queued: $(relayctl queue list)"
mailq >/tmp/mailq.$$
grep -q 'ops@example.org' /tmp/mailq.$$ || fail "mailq: $(cat /tmp/mailq.$$)"

step "an upgrade keeps the configuration, the secrets and the queue"
sha256sum /etc/relayctl/config.toml /etc/relayctl/secrets/uni >/tmp/sums.$$
dpkg -i "$DEB2" >/tmp/dpkg.$$ 2>&1 || fail "$(cat /tmp/dpkg.$$)"
[[ $(dpkg-query -W -f='${Version}' relayctl) == 0.1.0-2 ]] || fail "not upgraded"
sha256sum --quiet -c /tmp/sums.$$ || fail "configuration or secret changed by the upgrade"
[[ $(queued) == 1 ]] || fail "the queued message did not survive the upgrade"
expect_layout

step "the queued message leaves once its relay is back"
relayctl setup smarthost --system --name later --host localhost --port 25 --tls none \
    --from vm1@campus.example
relayctl queue flush
[[ $(queued) == 0 ]] || fail "M2 still queued: $(relayctl queue list)"

step "dpkg -r removes the program and its links, and keeps configuration and mail"
relayctl setup smarthost --system --name later --host 127.0.0.1 --port 9 --tls none \
    --from vm1@campus.example --timeout 5 --no-verify
printf 'To: ops@example.org\nSubject: %s\n\nstays queued\n' "$M3" |
    RELAYCTL_PROFILE=later /usr/sbin/sendmail -t -i
# --force-depends: bsd-mailx (a test dependency of this machine) needs some MTA.
dpkg -r --force-depends relayctl >/tmp/dpkg.$$ 2>&1 || fail "$(cat /tmp/dpkg.$$)"
for p in /usr/bin/relayctl /usr/sbin/sendmail /usr/lib/sendmail /usr/bin/mailq \
    /usr/bin/newaliases /usr/share/man/man8/sendmail.8.gz; do
    [[ ! -e $p && ! -L $p ]] || fail "$p is left after dpkg -r"
done
[[ -f /etc/relayctl/config.toml && -f /etc/relayctl/secrets/uni ]] || fail "config removed"
[[ -n $(ls /var/spool/relayctl/queue) ]] || fail "queued mail removed"
# New dangling links: only the timer's enablement, which deb-systemd-helper keeps until purge
# (as for every Debian service: a reinstall restores the admin's choice).
new=$(dangling | comm -13 /tmp/dangling-before.$$ - |
    grep -vx /etc/systemd/system/timers.target.wants/relayctl-queue.timer || true)
[[ -z $new ]] || fail "dangling links after dpkg -r: $new"

step "dpkg --purge removes the configuration and secrets, never waiting mail"
dpkg --purge --force-depends relayctl >/tmp/dpkg.$$ 2>&1 || fail "$(cat /tmp/dpkg.$$)"
grep -q 'still holds mail' /tmp/dpkg.$$ || fail "no note about the kept spool: $(cat /tmp/dpkg.$$)"
[[ ! -e /etc/relayctl ]] || fail "/etc/relayctl left after purge"
[[ -n $(ls /var/spool/relayctl/queue) ]] || fail "purge deleted waiting mail"
[[ -z $(status relayctl) || $(status relayctl) == "unknown ok not-installed" ]] ||
    fail "relayctl: $(status relayctl)"
new=$(dangling | comm -13 /tmp/dangling-before.$$ -)
[[ -z $new ]] || fail "dangling links after purge: $new"
rm -rf /var/spool/relayctl/queue/*
dpkg -i "$DEB1" >/dev/null 2>&1 && dpkg --purge --force-depends relayctl >/dev/null 2>&1
[[ ! -e /var/spool/relayctl ]] || fail "purge kept an empty spool"

echo "deb lifecycle: ok"
