//! `deal`: contracts as code.
//!
//! The pipeline is visible in the modules: [`syntax`] turns text into an AST,
//! [`check`] resolves names and types and lowers every clause to core norms
//! ([`model`]), [`eval`] replays [`events`] against those norms, and
//! [`report`] says what the state is. [`driver`] strings them together for
//! the command line.

pub mod check;
pub mod diag;
pub mod driver;
pub mod eval;
pub mod events;
pub mod fmt;
pub mod lsp;
pub mod model;
pub mod ops;
pub mod report;
pub mod resume;
pub mod scaffold;
pub mod schema;
pub mod serve;
pub mod syntax;
pub mod testing;
pub mod time;
pub mod value;
