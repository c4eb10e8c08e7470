//! The Prometheus text exposition format (version 0.0.4), which node_exporter's textfile
//! collector and every Prometheus server read: per metric family a `# HELP` and a `# TYPE`
//! line, then one line per series. Label values are escaped as the format requires; the names
//! are fixed in the code.

use std::fmt::Write as _;

/// The kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
}

/// One metric family being written: its lines go to the exposition it came from.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl Family<'_> {
    /// One series of the family.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (name, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{name}=\"{}\"", escape(value));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
        self
    }
}

/// The text of a scrape, family after family.
#[derive(Debug, Default)]
pub struct Exposition {
    out: String,
}

impl Exposition {
    /// Starts the family `name` (each name once): its HELP and TYPE lines.
    pub fn family(&mut self, name: &'static str, kind: Kind, help: &str) -> Family<'_> {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", help.replace('\\', "\\\\"));
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
        Family {
            out: &mut self.out,
            name,
        }
    }

    /// The finished text.
    pub fn into_text(self) -> String {
        self.out
    }
}

/// A label value as the format writes it: backslash, double quote and line feed escaped.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_and_type_and_label_values_are_escaped() {
        let mut e = Exposition::default();
        e.family("relayctl_x_total", Kind::Counter, "Things.")
            .sample(&[("profile", "a\"b\\c\nd")], 3.0)
            .sample(&[("profile", "uni"), ("class", "auth")], 0.5);
        e.family("relayctl_up", Kind::Gauge, "Up.").sample(&[], 1.0);
        assert_eq!(
            e.into_text(),
            "# HELP relayctl_x_total Things.\n# TYPE relayctl_x_total counter\n\
             relayctl_x_total{profile=\"a\\\"b\\\\c\\nd\"} 3\n\
             relayctl_x_total{profile=\"uni\",class=\"auth\"} 0.5\n\
             # HELP relayctl_up Up.\n# TYPE relayctl_up gauge\nrelayctl_up 1\n"
        );
    }
}
