# relayctl %preun ($1: 0 on erase, 1 on upgrade). On erase: stop the queue runners and the SMTP
# listener, and give up the `mta` alternative (its links go, or point at the next MTA).
# Configuration, secrets, the spool and the relayctl-smtpd user stay: remove /etc/relayctl and
# /var/spool/relayctl by hand.
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl --no-reload disable --now relayctl-queue.timer relayctl-queue.service \
            relayctl-daemon.service relayctl-smtpd.socket relayctl-smtpd.service >/dev/null 2>&1 || :
    fi
    update-alternatives --remove mta /usr/bin/relayctl
fi
exit 0
