//! Output: one stream of engine events, several consumers (TTY bars, plain lines, ndjson), and the
//! final table or JSON document. Nothing here decides an outcome.

pub mod live;
pub mod style;
pub mod summary;
pub mod table;
