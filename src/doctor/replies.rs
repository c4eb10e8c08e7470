//! Known relay replies and what to do about them. Providers' refusals are terse and their
//! meaning is documented far away; this turns the common ones into a one-line fix.

/// What to do about `reply` (the relay's reply, code first), when it is a known one.
pub fn advice(reply: &str) -> Option<String> {
    let lower = reply.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    let code = reply.get(..3).unwrap_or_default();
    let text = if code == "535"
        && has("5.7.8")
        && (has("username and password not accepted") || has("badcredentials"))
    {
        // Gmail
        "Gmail refuses account passwords: turn on 2-Step Verification, create an app password at https://myaccount.google.com/apppasswords and paste its 16 letters without spaces into `relayctl profile set-secret PROFILE`"
    } else if has("5.7.139") {
        // Microsoft 365
        "Microsoft 365 has SMTP AUTH disabled for this tenant or mailbox (or security defaults block it): an admin must enable Authenticated SMTP for the mailbox (admin center > Users > Mail > Manage email apps) or for the tenant"
    } else if has("5.7.3") && has("authentication unsuccessful") {
        "Microsoft 365 refused the password: check the address and password (with MFA, an app password), then `relayctl profile set-secret PROFILE`"
    } else if has("5.7.57")
        || (has("5.7.0") && has("authentication required"))
        || has("not authenticated")
    {
        "the relay wants a login before it takes mail: set user and a secret (`relayctl setup` again with --user)"
    } else if has("relay access denied")
        || has("relaying denied")
        || has("unable to relay")
        || has("not permitted to relay")
        || (code == "550" && has("5.7.1") && has("relay"))
    {
        "the relay does not relay for this host or login: log in (set user and a secret), use the relay's submission port (587 or 465), or ask its admin to allow this host's address"
    } else if has("domain not found") || has("sender domain") && has("does not exist") {
        "the relay cannot find the sender's domain in DNS: use a sender address in a domain that exists and has an MX record"
    } else if has("not owned by user")
        || has("sendasdenied")
        || has("5.7.60")
        || has("5.2.252")
        || has("not verified")
        || has("not allowed to send as")
        || has("sender address rejected")
        || has("does not match")
    {
        "the relay lets this login send only from its own (verified) addresses: set `from` to the login's address, or register this address as a verified sender or alias with the provider"
    } else if has("must issue a starttls") || has("5.7.0") && has("starttls") {
        "the relay requires TLS first: set tls = \"starttls\" (port 587) or tls = \"tls\" (port 465)"
    } else if has("helo command rejected")
        || has("ehlo") && has("rejected")
        || has("fully-qualified")
    {
        "the relay wants a fully qualified EHLO name registered in DNS: set ehlo_name = \"host.your.domain\" in the profile"
    } else if has("spamhaus")
        || has("blocklist")
        || has("blacklist")
        || has("listed") && has("dnsbl")
    {
        "this host's address is on a DNS blocklist: after a compromise relays block the sender; clean the host, then request delisting at the list's site"
    } else if code == "535" || (code == "534" && has("5.7.9")) {
        "the relay refused the user name or password: check `user`, then store the right password with `relayctl profile set-secret PROFILE` (an app password where the provider has them)"
    } else if code.starts_with('4') && (has("too many") || has("rate") || has("throttl")) {
        "the relay is throttling this account: mail waits in the queue and is retried; set rate_limit in the profile to stay under the provider's limit"
    } else {
        return None;
    };
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::advice;

    fn says(reply: &str, needle: &str) {
        let a = advice(reply).unwrap_or_else(|| panic!("no advice for {reply}"));
        assert!(a.contains(needle), "{reply} -> {a}");
    }

    #[test]
    fn providers_replies_become_fixes() {
        says(
            "535 5.7.8 Username and Password not accepted. For more information, go to 5.7.8 https://support.google.com/mail/?p=BadCredentials",
            "app password",
        );
        says(
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
            "SMTP AUTH disabled",
        );
        says(
            "535 5.7.3 Authentication unsuccessful",
            "Microsoft 365 refused the password",
        );
        says("550 5.7.1 Relaying denied", "does not relay");
        says(
            "454 4.7.1 <a@example.org>: Relay access denied",
            "does not relay",
        );
        says(
            "553 5.7.1 <x@example.org>: Sender address rejected: not owned by user jdoe@relay.test",
            "verified",
        );
        says(
            "554 5.2.252 SendAsDenied; me@contoso.com not allowed to send as x@y",
            "verified",
        );
        says("530 5.7.0 Must issue a STARTTLS command first", "TLS first");
        says(
            "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
            "EHLO name",
        );
        says(
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            "blocklist",
        );
        says(
            "535 5.7.8 Error: authentication failed: authentication failure",
            "set-secret",
        );
        says(
            "450 4.1.8 <a@nomx.test>: Sender address rejected: Domain not found",
            "DNS",
        );
        says("451 4.7.1 Too many messages, slow down", "throttling");
        assert_eq!(advice("250 2.0.0 Ok: queued as 123"), None);
        assert_eq!(advice("450 4.2.0 mailbox busy"), None);
    }
}
