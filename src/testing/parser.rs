//! The pest parser generated from `grammar/test.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "grammar/test.pest"]
pub struct TestParser;
