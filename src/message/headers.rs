//! The header section of a message as written: fields in their order, folded lines intact, the
//! body untouched. Only fields relayctl rewrites are re-serialised; everything else is transmitted
//! byte for byte.

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name as written (`To`, `content-type`, ...).
    pub name: String,
    /// The field as written: name, colon, value, folded lines joined with CRLF, no final CRLF.
    pub raw: Vec<u8>,
}

impl Field {
    /// A new field, folded at commas to keep lines within 78 characters where possible.
    ///
    /// Every control character of `value` (CR and LF above all) becomes a space: a value that
    /// relayctl writes, wherever it came from (a decoded display name, a config setting), can
    /// never end the field and start another. Line breaks come only from the folding here.
    pub fn new(name: &str, value: &str) -> Self {
        let value: String = value
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Field {
            name: name.to_string(),
            raw: fold(name, &value).into_bytes(),
        }
    }

    /// The bytes after the colon (folded lines still folded).
    pub fn value_bytes(&self) -> &[u8] {
        let colon = self.raw.iter().position(|&b| b == b':').unwrap_or(0);
        &self.raw[colon + 1..]
    }

    /// The value unfolded, as text (invalid UTF-8 replaced), without surrounding space.
    pub fn value(&self) -> String {
        let text = String::from_utf8_lossy(self.value_bytes());
        text.replace("\r\n", "").trim().to_string()
    }

    /// Whether this field has the given name (case-insensitive). White space before the colon
    /// (`Bcc : x`) is not part of the name (see [`field_name`]).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A message split into header fields and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub fields: Vec<Field>,
    /// Everything after the empty line that ends the header section, as given.
    pub body: Vec<u8>,
}

/// Splits `input` into header fields and body. The header section ends at the first empty line,
/// or at the first line that is neither a field nor a continuation (that line starts the body, as
/// Postfix does). A leading mbox `From ` line is dropped. Line endings may be LF or CRLF.
pub fn split(input: &[u8]) -> Message {
    let mut fields: Vec<Field> = Vec::new();
    let mut pos = 0;
    if input.starts_with(b"From ") {
        pos = next_line(input, 0).1;
    }
    while pos < input.len() {
        let (line, next) = next_line(input, pos);
        if line.is_empty() {
            return Message {
                fields,
                body: input[next..].to_vec(),
            };
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some(last) = fields.last_mut() {
                last.raw.extend_from_slice(b"\r\n");
                last.raw.extend_from_slice(line);
                pos = next;
                continue;
            }
            break;
        }
        match field_name(line) {
            Some(name) => fields.push(Field {
                name: String::from_utf8_lossy(name).into_owned(),
                raw: line.to_vec(),
            }),
            None => break,
        }
        pos = next;
    }
    Message {
        fields,
        body: input[pos.min(input.len())..].to_vec(),
    }
}

/// The line at `pos` without its ending, and where the next line starts.
/// A bare CR ends a line too: it becomes a line break on the wire (see `canonical`), so a header
/// hidden behind one (`Subject: x\rBcc: y`) must be seen here as the field it will be.
fn next_line(input: &[u8], pos: usize) -> (&[u8], usize) {
    let rest = &input[pos..];
    match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
        Some(i) if rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n') => (&rest[..i], pos + i + 2),
        Some(i) => (&rest[..i], pos + i + 1),
        None => (rest, input.len()),
    }
}

/// The name of a `Name: value` line: printable ASCII other than colon, then any spaces and tabs
/// (RFC 5322's obsolete syntax allows white space before the colon, and relays and mail readers
/// honour it), then a colon. The returned name excludes that white space. This is the one test of
/// "is this line a header field" in relayctl: every reader of header sections uses it, so that no
/// field (a `Bcc<TAB>:` above all) is seen by one and missed by another.
pub fn field_name(line: &[u8]) -> Option<&[u8]> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii_end();
    let padding = &line[name.len()..colon];
    (!name.is_empty()
        && name.iter().all(|&b| (33..=126).contains(&b))
        && padding.iter().all(|&b| b == b' ' || b == b'\t'))
    .then_some(name)
}

impl Message {
    /// The fields with this name, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Field> + 'a {
        self.fields.iter().filter(move |f| f.is(name))
    }

    /// Whether a field with this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.all(name).next().is_some()
    }

    /// Removes every field with this name.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|f| !f.is(name));
    }

    /// Replaces the field at `index`.
    pub fn replace(&mut self, index: usize, field: Field) {
        self.fields[index] = field;
    }

    /// The message as bytes: fields with CRLF, an empty line, the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let size = self.fields.iter().map(|f| f.raw.len() + 2).sum::<usize>() + 2 + self.body.len();
        let mut out = Vec::with_capacity(size);
        for f in &self.fields {
            out.extend_from_slice(&f.raw);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// `Name: value`, folded after commas so that lines stay short.
fn fold(name: &str, value: &str) -> String {
    let mut out = format!("{name}:");
    let mut line_len = out.len();
    let parts: Vec<&str> = value.split_inclusive(", ").collect();
    for part in parts {
        if line_len + part.len() + 1 > 78 && line_len > name.len() + 1 {
            out.push_str("\r\n");
            line_len = 0;
        }
        out.push(' ');
        let part = part.strip_suffix(' ').unwrap_or(part);
        out.push_str(part);
        line_len += part.len() + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fields_folds_and_body() {
        let m = split(b"To: a@x,\n\tb@y\nSubject: hi\n\nbody\n.line\n");
        assert_eq!(m.fields.len(), 2);
        assert_eq!(m.fields[0].raw, b"To: a@x,\r\n\tb@y");
        assert_eq!(m.fields[0].value(), "a@x,\tb@y");
        assert_eq!(m.body, b"body\n.line\n");
        assert_eq!(
            m.to_bytes(),
            b"To: a@x,\r\n\tb@y\r\nSubject: hi\r\n\r\nbody\n.line\n"
        );
    }

    #[test]
    fn a_non_field_line_starts_the_body() {
        let m = split(b"Subject: x\nthis is not a header\nmore\n");
        assert_eq!(m.fields.len(), 1);
        assert_eq!(m.body, b"this is not a header\nmore\n");
        let m = split(b"just a body line\n");
        assert!(m.fields.is_empty());
        assert_eq!(m.body, b"just a body line\n");
    }

    #[test]
    fn mbox_from_line_is_dropped_and_no_body_is_fine() {
        let m = split(b"From root Fri Nov 27 12:00:00 2026\nSubject: x");
        assert_eq!(m.fields[0].name, "Subject");
        assert!(m.body.is_empty());
        assert!(split(b"").fields.is_empty());
    }

    /// Regressions found by fuzzing and review: a Bcc must be found however it is written.
    #[test]
    fn bcc_behind_a_space_or_a_bare_cr_is_still_a_field() {
        for input in [
            &b"To: a@x\nBcc : hidden@y\n\nbody\n"[..],
            b"To: a@x\nBcc\t: hidden@y\n\nbody\n",
            b"To: a@x\nBcc  :hidden@y\n\nbody\n",
            b"To: a@x\nBcc \t :hidden@y\n\nbody\n",
        ] {
            let m = split(input);
            assert!(m.has("Bcc"), "{m:?}");
            assert_eq!(m.fields.len(), 2, "{m:?}");
            assert_eq!(m.body, b"body\n");
            assert!(m.fields[1].value().ends_with("hidden@y"), "{m:?}");
        }
        let m = split(b"Subject: hi\rBcc: hidden@y\r\n\r\nbody\n");
        assert_eq!(m.fields.len(), 2, "{m:?}");
        assert!(m.has("Bcc"));
        assert_eq!(m.body, b"body\n");
    }

    #[test]
    fn field_names_allow_white_space_before_the_colon_only() {
        assert_eq!(field_name(b"Subject: x"), Some(&b"Subject"[..]));
        assert_eq!(field_name(b"Bcc\t \t: x"), Some(&b"Bcc"[..]));
        assert_eq!(field_name(b"X-A:"), Some(&b"X-A"[..]));
        for not_a_field in [
            &b": x"[..],
            b" Bcc: x",
            b"Bc c: x",
            b"no colon",
            b"\tBcc: x",
        ] {
            assert_eq!(field_name(not_a_field), None, "{not_a_field:?}");
        }
    }

    #[test]
    fn written_values_never_break_the_field() {
        let f = Field::new(
            "To",
            "\"x\r\nBcc: victim@example.org\" <a@example.org>\u{7}",
        );
        assert!(!f.raw.contains(&b'\n') && !f.raw.contains(&7), "{f:?}");
        assert_eq!(split(&[&f.raw[..], b"\r\n\r\n"].concat()).fields.len(), 1);
    }

    #[test]
    fn long_values_are_folded_at_commas() {
        let list: Vec<String> = (0..8).map(|i| format!("person{i}@example.org")).collect();
        let f = Field::new("To", &list.join(", "));
        let text = String::from_utf8(f.raw.clone()).unwrap();
        assert!(text.lines().all(|l| l.trim_end().len() <= 78), "{text}");
        assert!(text.contains(",\r\n person"), "{text}");
        assert_eq!(f.value().replace(' ', ""), list.join(","));
    }
}
