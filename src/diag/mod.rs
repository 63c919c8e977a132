//! Diagnostics: the texts they point into, how they are rendered (for
//! people, screen readers and machines), the reference of their codes, and
//! the words they share (suggestions, articles). Every stage reports through
//! here; nothing here knows any stage.

pub mod codes;
mod render;
pub mod source;
pub mod words;

pub use render::{render, to_json, Style, WithSource};
