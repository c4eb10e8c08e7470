//! Local users, from `/etc/passwd` and `/etc/group`: how messages and headers name them
//! (`uid 1001 (alice)`), and whether a profile's `users` and `groups` let one submit through
//! it from the maildrop. A uid those files do not list is known by its number only.

use std::fmt;

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

/// The uid of login name `name`, from the system's user file.
pub fn uid_of(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| f[2].parse().ok())?
    })
}

/// The primary gid of login name `name`.
pub fn gid_of(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 4 && f[0] == name).then(|| f[3].parse().ok())?
    })
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

    /// Whether this user is one of `users` (names or uids) or a member of one of `groups`
    /// (names or gids).
    pub fn listed_in(&self, users: &[String], groups: &[String]) -> bool {
        let uid = self.uid.to_string();
        let listed_user = users
            .iter()
            .any(|u| *u == uid || self.name.as_deref() == Some(u.as_str()));
        let listed_group = groups.iter().any(|g| {
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
    fn users_and_groups_are_matched_by_name_or_number() {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let alice = LocalUser::from_files(1001, PASSWD, GROUP);
        let bob = LocalUser::from_files(1002, PASSWD, GROUP);
        assert!(alice.listed_in(&list(&["alice"]), &[]) && !bob.listed_in(&list(&["alice"]), &[]));
        assert!(bob.listed_in(&list(&["1002"]), &[]) && !alice.listed_in(&list(&["1002"]), &[]));
        assert!(alice.listed_in(&[], &list(&["web"])) && !bob.listed_in(&[], &list(&["web"])));
        assert!(bob.listed_in(&list(&["nobody"]), &list(&["100"])));
        assert!(!LocalUser::from_files(4242, PASSWD, GROUP).listed_in(&[], &list(&["web"])));
    }
}
