//! `relayctl doctor [--json]`: runs the checklist and prints it; exit 1 when a check failed.

use crate::doctor;
use crate::error::{Error, Result};
use crate::options::Options;

/// Prints the report (text, or JSON with `json`) on stdout.
pub fn execute(options: &Options, json: bool) -> Result<()> {
    let report = doctor::run(options);
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    if report.ok {
        Ok(())
    } else {
        Err(Error::ChecksFailed(report.counts.fail))
    }
}
