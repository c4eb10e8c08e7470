# relayctl %post ($1: 1 on install, 2 on upgrade). Directories with their modes (re-asserted on
# upgrade; config, secrets and queued mail are kept), then relayctl as the `mta` alternative:
# /usr/sbin/sendmail, /usr/lib/sendmail, mailq and newaliases, the way Fedora's MTAs register.
# The SMTP listener's system user (relayctl serve gives up root for it); kept on erase.
getent passwd relayctl-smtpd >/dev/null ||
    useradd --system --user-group --no-create-home --home-dir / --shell /sbin/nologin \
        --comment "relayctl SMTP listener" relayctl-smtpd
install -d -o root -g root -m 0755 /etc/relayctl
install -d -o root -g root -m 0700 /etc/relayctl/secrets
install -d -o root -g root -m 0711 /var/spool/relayctl
install -d -o root -g root -m 1733 /var/spool/relayctl/maildrop
for dir in queue failed corrupt tmp; do
    install -d -o root -g root -m 0700 "/var/spool/relayctl/$dir"
done
update-alternatives --install /usr/sbin/sendmail mta /usr/bin/relayctl 60 \
    --slave /usr/lib/sendmail mta-sendmail /usr/bin/relayctl \
    --slave /usr/bin/mailq mta-mailq /usr/bin/relayctl \
    --slave /usr/bin/newaliases mta-newaliases /usr/bin/relayctl
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
