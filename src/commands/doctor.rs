//! `relayctl doctor [--json]`: runs the checklist and prints it; exit 1 when a check failed.

use crate::commands::Context;
use crate::doctor;
use crate::error::{Error, Result};

/// Prints the report (text, or JSON with `json`) on stdout.
pub fn execute(ctx: &Context, json: bool) -> Result<()> {
    let report = doctor::run(ctx);
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
