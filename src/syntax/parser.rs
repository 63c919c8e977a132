//! The pest parser generated from `grammar/deal.pest`.

#[derive(pest_derive::Parser)]
#[grammar = "grammar/deal.pest"]
pub struct DealParser;
