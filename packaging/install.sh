#!/bin/sh
# Installs relayctl on a machine without the .deb or .rpm: the binary, the man pages, the shell
# completions, the systemd units, the spool and configuration directories with their modes, and
# the sendmail links (/usr/sbin/sendmail, /usr/lib/sendmail, /usr/bin/mailq, /usr/bin/newaliases,
# made by `relayctl sendmail-link install`, which refuses to replace another MTA's files unless
# --force and puts them back on --uninstall).
#
# Run as root from a source checkout (after `cargo build --release --locked`) or from an
# unpacked release tree with the same layout:
#
#   packaging/install.sh [--prefix /usr/local] [--binary FILE] [--force] [--no-sendmail-links]
#   packaging/install.sh --uninstall [--prefix /usr/local]
#
# --uninstall keeps /etc/relayctl (configuration and secrets) and /var/spool/relayctl (queued
# mail); delete them by hand when you no longer need them.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
binary=$root/target/release/relayctl
force=
links=yes
action=install

usage() {
    sed -n '2,17s/^# \{0,1\}//p' "$0" >&2
    exit 64
}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
        --binary) [ $# -ge 2 ] || usage; binary=$2; shift 2 ;;
        --force) force=--force; shift ;;
        --no-sendmail-links) links=no; shift ;;
        --uninstall) action=uninstall; shift ;;
        -h | --help) usage ;;
        *) echo "install.sh: unknown option $1" >&2; usage ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root (it installs into $prefix, /etc and /var/spool)" >&2
    exit 77
fi

bin=$prefix/bin/relayctl
man=$prefix/share/man
bash_completion=$prefix/share/bash-completion/completions/relayctl
zsh_completion=$prefix/share/zsh/site-functions/_relayctl
fish_completion=$prefix/share/fish/vendor_completions.d/relayctl.fish
other_completions=$prefix/share/relayctl/completions
units=/etc/systemd/system
unit_names="relayctl-queue.service relayctl-queue.timer relayctl-daemon.service relayctl-smtpd.socket relayctl-smtpd.service"

systemd_running() { [ -d /run/systemd/system ]; }

if [ "$action" = uninstall ]; then
    if systemd_running; then
        systemctl disable --now relayctl-queue.timer relayctl-daemon.service relayctl-smtpd.socket \
            relayctl-smtpd.service >/dev/null 2>&1 || :
    fi
    if [ -x "$bin" ]; then
        "$bin" sendmail-link remove --prefix /usr
    fi
    for unit in $unit_names; do
        rm -f "$units/$unit"
    done
    systemd_running && systemctl daemon-reload || :
    rm -f "$bin" "$man/man1/relayctl.1" "$man/man5/relayctl.toml.5" \
        "$man/man8/relayctl-sendmail.8" "$bash_completion" "$zsh_completion" \
        "$fish_completion" "$other_completions/relayctl.elv" "$other_completions/_relayctl.ps1"
    rmdir "$other_completions" "$prefix/share/relayctl" 2>/dev/null || :
    echo "relayctl removed; /etc/relayctl and /var/spool/relayctl were kept"
    exit 0
fi

if [ ! -x "$binary" ]; then
    echo "install.sh: no relayctl binary at $binary; build it (cargo build --release --locked) or pass --binary FILE" >&2
    exit 66
fi

install -D -o root -g root -m 0755 "$binary" "$bin"
install -D -o root -g root -m 0644 "$root/man/relayctl.1" "$man/man1/relayctl.1"
install -D -o root -g root -m 0644 "$root/man/relayctl.toml.5" "$man/man5/relayctl.toml.5"
install -D -o root -g root -m 0644 "$root/man/relayctl-sendmail.8" "$man/man8/relayctl-sendmail.8"
install -D -o root -g root -m 0644 "$root/completions/relayctl.bash" "$bash_completion"
install -D -o root -g root -m 0644 "$root/completions/_relayctl" "$zsh_completion"
install -D -o root -g root -m 0644 "$root/completions/relayctl.fish" "$fish_completion"
install -D -o root -g root -m 0644 "$root/completions/relayctl.elv" "$other_completions/relayctl.elv"
install -D -o root -g root -m 0644 "$root/completions/_relayctl.ps1" "$other_completions/_relayctl.ps1"

# The same directories and modes as the packages (see packaging/README.md).
install -d -o root -g root -m 0755 /etc/relayctl
install -d -o root -g root -m 0700 /etc/relayctl/secrets
install -d -o root -g root -m 0711 /var/spool/relayctl
install -d -o root -g root -m 1733 /var/spool/relayctl/maildrop
for dir in queue failed corrupt tmp; do
    install -d -o root -g root -m 0700 "/var/spool/relayctl/$dir"
done
# The SMTP listener's system user (relayctl serve gives up root for it); kept by --uninstall.
if ! getent passwd relayctl-smtpd >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin relayctl-smtpd
fi

# The units run /usr/bin/relayctl; point them at this prefix.
install -d -m 0755 "$units"
for unit in $unit_names; do
    sed "s|/usr/bin/relayctl|$bin|g" "$root/packaging/systemd/$unit" >"$units/$unit"
    chmod 0644 "$units/$unit"
done
if systemd_running; then
    systemctl daemon-reload
    systemctl enable --now relayctl-queue.timer
else
    echo "install.sh: systemd is not running; run \`$bin queue run\` from cron every few minutes" >&2
fi

if [ "$links" = yes ]; then
    # shellcheck disable=SC2086 # $force is empty or one word
    "$bin" sendmail-link install --prefix /usr $force
fi
echo "relayctl installed in $prefix; configure it with: relayctl setup PRESET --system"
