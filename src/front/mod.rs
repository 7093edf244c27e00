//! What the two front ends — `commands/` (the command line) and `operator/` (the controller) — share:
//! flags → typed requests, one cluster's deploy turned into a report, Ctrl-C/SIGTERM handling. Both
//! depend on this; it depends on neither, so the operator never re-enters the command line.

pub mod deploy;
pub mod report;
pub mod requests;
pub mod signals;

pub use report::Report;
