//! Editing a profile key by key. Re-running `setup` on an existing profile must change only what
//! its flags name: a key whose value stays the same keeps the admin's spelling (`"60/h"`), its
//! comments and its place; a changed key keeps its comments; and every change is reported
//! (`port: 25 -> 587`) so that the admin sees what happened to the file.

use std::fmt;

use toml_edit::{Item, TableLike};

/// One key an edit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The key in the profile (`port`), or a name outside it (`aliases.root`).
    pub key: String,
    /// The value before, as it reads in the file; `None` when it was not set.
    pub old: Option<String>,
    /// The value after; `None` when the key was removed.
    pub new: Option<String>,
}

impl fmt::Display for Change {
    /// `port: 25 -> 587`, `rate_limit: unset -> 60/hour`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unset".into());
        write!(
            f,
            "{}: {} -> {}",
            self.key,
            show(&self.old),
            show(&self.new)
        )
    }
}

/// Brings `table` (a profile as the admin's file holds it) from `old` to `new` (both as relayctl
/// writes a profile, so that equal values compare equal however the file spells them): keys whose
/// value differs are replaced in place with their comments kept, keys only `new` has are added,
/// keys only `old` has are removed. Returns the changes, in `new`'s key order, then removals.
pub(super) fn apply(
    table: &mut dyn TableLike,
    old: &toml_edit::Table,
    new: &toml_edit::Table,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for (key, item) in new.iter() {
        let before = old.get(key).map(shown);
        let after = shown(item);
        if before.as_deref() == Some(after.as_str()) {
            continue;
        }
        set(table, key, item);
        changes.push(Change {
            key: key.to_string(),
            old: before,
            new: Some(after),
        });
    }
    for (key, item) in old.iter() {
        if !new.contains_key(key) {
            table.remove(key);
            changes.push(Change {
                key: key.to_string(),
                old: Some(shown(item)),
                new: None,
            });
        }
    }
    changes
}

/// Sets `key` to `item`, keeping the comments around the value it replaces.
pub(super) fn set(table: &mut dyn TableLike, key: &str, item: &Item) {
    match (table.get_mut(key), item) {
        (Some(Item::Value(slot)), Item::Value(value)) => {
            let decor = slot.decor().clone();
            *slot = value.clone();
            *slot.decor_mut() = decor;
        }
        (Some(Item::Table(slot)), Item::Table(value)) => {
            let decor = slot.decor().clone();
            *slot = value.clone();
            *slot.decor_mut() = decor;
        }
        (Some(slot), _) => *slot = item.clone(),
        (None, _) => {
            table.insert(key, item.clone());
        }
    }
}

/// A value as an admin reads it: a string without quotes, anything else as TOML writes it
/// (a table inline).
pub(super) fn shown(item: &Item) -> String {
    let mut value = match item {
        Item::Value(toml_edit::Value::String(s)) => return s.value().clone(),
        Item::Value(v) => v.clone(),
        Item::Table(t) => {
            let mut inline = t.clone().into_inline_table();
            inline.fmt();
            toml_edit::Value::InlineTable(inline)
        }
        Item::ArrayOfTables(a) => return a.to_string().trim().to_string(),
        Item::None => return String::new(),
    };
    match &mut value {
        toml_edit::Value::Array(a) => a.fmt(),
        toml_edit::Value::InlineTable(t) => t.fmt(),
        _ => {}
    }
    value.decor_mut().clear();
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml_edit::DocumentMut;

    fn table(text: &str) -> toml_edit::Table {
        text.parse::<DocumentMut>().unwrap().as_table().clone()
    }

    #[test]
    fn only_changed_keys_are_touched_and_comments_stay() {
        let mut doc: DocumentMut = "# relay of the campus\nhost = \"mx\"\nport = 25 # the old port\n# agreed with IT\nrate_limit = \"60/h\"\n"
            .parse()
            .unwrap();
        let old = table("host = \"mx\"\nport = 25\nrate_limit = \"60/hour\"\n");
        let new =
            table("host = \"mx\"\nport = 587\nrate_limit = \"60/hour\"\nfrom = \"a@b.example\"\n");
        let changes = apply(doc.as_table_mut(), &old, &new);
        let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(lines, ["port: 25 -> 587", "from: unset -> a@b.example"]);
        let text = doc.to_string();
        assert_eq!(
            text,
            "# relay of the campus\nhost = \"mx\"\nport = 587 # the old port\n# agreed with IT\nrate_limit = \"60/h\"\nfrom = \"a@b.example\"\n"
        );
    }

    #[test]
    fn removed_keys_are_reported() {
        let mut doc: DocumentMut = "host = \"mx\"\ntls_name = \"mx.example\"\n"
            .parse()
            .unwrap();
        let old = table("host = \"mx\"\ntls_name = \"mx.example\"\n");
        let new = table("host = \"mx\"\n");
        let changes = apply(doc.as_table_mut(), &old, &new);
        assert_eq!(changes[0].to_string(), "tls_name: mx.example -> unset");
        assert_eq!(doc.to_string(), "host = \"mx\"\n");
    }

    #[test]
    fn lists_and_tables_are_shown_as_toml() {
        let t = table("fallback = [\"a\",   \"b\"]\n[oauth]\nclient_id = \"x\"\n");
        assert_eq!(shown(&t["fallback"]), "[\"a\", \"b\"]");
        assert_eq!(shown(&t["oauth"]), "{ client_id = \"x\" }");
    }
}
