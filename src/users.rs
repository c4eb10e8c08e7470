//! Local users, from `/etc/passwd` and `/etc/group`: how messages and headers name them
//! (`uid 1001 (alice)`), and whether a profile's `users` and `groups` let one submit through
//! it from the maildrop. A uid those files do not list is known by its number only.

use std::fmt;

use crate::config::Profile;

/// A local user, as the kernel recorded them (the owner of their drop file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    pub uid: u32,
    pub name: Option<String>,
    /// The primary group and every group that lists the user as a member, as (gid, name).
    pub groups: Vec<(u32, String)>,
}

/// The login name of `uid`.
pub fn user_name(uid: u32) -> Option<String> {
    LocalUser::lookup(uid).name
}

/// `uid 1001 (alice)`: a user as messages and headers name them.
pub fn describe_uid(uid: u32) -> String {
    LocalUser::lookup(uid).to_string()
}

impl LocalUser {
    /// Looks `uid` up in the system's user and group files.
    pub fn lookup(uid: u32) -> LocalUser {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        LocalUser::from_files(uid, &passwd, &group)
    }

    fn from_files(uid: u32, passwd: &str, group: &str) -> LocalUser {
        let entry = passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && f[2].parse() == Ok(uid)).then(|| (f[0].to_string(), f[3].parse().ok()))
        });
        let (name, primary) = match entry {
            Some((name, gid)) => (Some(name), gid),
            None => (None, None),
        };
        let groups = group
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                let gid: u32 = f.get(2)?.parse().ok()?;
                let member = name
                    .as_deref()
                    .is_some_and(|n| f.get(3).is_some_and(|m| m.split(',').any(|m| m == n)));
                (Some(gid) == primary || member).then(|| (gid, f[0].to_string()))
            })
            .collect();
        LocalUser { uid, name, groups }
    }

    /// Whether the profile's `users` and `groups` let this user submit through it (every user
    /// may when neither is set).
    pub fn may_use(&self, profile: &Profile) -> bool {
        if !profile.restricts_submitters() {
            return true;
        }
        let uid = self.uid.to_string();
        let listed_user = profile
            .users
            .iter()
            .flatten()
            .any(|u| *u == uid || self.name.as_deref() == Some(u.as_str()));
        let listed_group = profile.groups.iter().flatten().any(|g| {
            self.groups
                .iter()
                .any(|(gid, name)| *g == gid.to_string() || g == name)
        });
        listed_user || listed_group
    }
}

impl fmt::Display for LocalUser {
    /// `uid 1001 (alice)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "uid {} ({})",
            self.uid,
            self.name.as_deref().unwrap_or("unknown")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nalice:x:1001:1001::/home/alice:/bin/sh\nbob:x:1002:100::/home/bob:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nusers:x:100:\nalice:x:1001:\nweb:x:33:alice,carol\n";

    fn profile(users: Option<&[&str]>, groups: Option<&[&str]>) -> Profile {
        let mut p: Profile =
            toml::from_str("preset = \"smarthost\"\nhost = \"mx\"\nport = 25\ntls = \"none\"\n")
                .unwrap();
        p.users = users.map(|l| l.iter().map(|s| s.to_string()).collect());
        p.groups = groups.map(|l| l.iter().map(|s| s.to_string()).collect());
        p
    }

    #[test]
    fn names_and_groups_come_from_the_files() {
        let alice = LocalUser::from_files(1001, PASSWD, GROUP);
        assert_eq!(alice.to_string(), "uid 1001 (alice)");
        assert_eq!(
            alice.groups,
            [(1001, "alice".to_string()), (33, "web".into())]
        );
        let ghost = LocalUser::from_files(4242, PASSWD, GROUP);
        assert_eq!(ghost.to_string(), "uid 4242 (unknown)");
        assert!(ghost.groups.is_empty());
    }

    #[test]
    fn users_and_groups_limit_who_may_submit() {
        let alice = LocalUser::from_files(1001, PASSWD, GROUP);
        let bob = LocalUser::from_files(1002, PASSWD, GROUP);
        assert!(alice.may_use(&profile(None, None)));
        let only_alice = profile(Some(&["alice"]), None);
        assert!(alice.may_use(&only_alice) && !bob.may_use(&only_alice));
        let by_uid = profile(Some(&["1002"]), None);
        assert!(bob.may_use(&by_uid) && !alice.may_use(&by_uid));
        let web = profile(None, Some(&["web"]));
        assert!(alice.may_use(&web) && !bob.may_use(&web));
        let users_group = profile(Some(&["nobody"]), Some(&["100"]));
        assert!(bob.may_use(&users_group) && !alice.may_use(&users_group));
        assert!(!LocalUser::from_files(4242, PASSWD, GROUP).may_use(&web));
    }
}
