//! Clauses: their names, terms, suspensions and ends, and their norms.

use std::collections::HashMap;

use super::error::*;
use super::Checker;
use crate::model::*;
use crate::ops::Span;
use crate::syntax::ast;

impl Checker {
    pub(super) fn clauses(&mut self, contract: &ast::Contract) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for clause in &contract.clauses {
            if let Some(first) = seen.get(clause.name.name.as_str()) {
                let first = *first;
                self.push(DuplicateName {
                    what: "clause",
                    name: clause.name.name.clone(),
                    span: clause.name.span.into(),
                    first: first.into(),
                    help: "give each clause its own name".to_string(),
                });
                continue;
            }
            seen.insert(&clause.name.name, clause.name.span);
            let mut lifetime = Lifetime {
                start: Bound::Unbounded,
                end: Bound::Unbounded,
            };
            let mut forces = clause.in_force.iter();
            if let Some(first) = forces.next() {
                lifetime = self.lifetime(first);
                for again in forces {
                    self.push(RepeatedPart {
                        what: "`in force`".to_string(),
                        span: again.span.into(),
                        first: first.span.into(),
                    });
                }
            }
            let matches = |c: &mut Self, list: &[ast::EventMatch]| -> Vec<Match> {
                list.iter().filter_map(|m| c.event_match(m)).collect()
            };
            let suspended_on = matches(self, &clause.suspended_on);
            let resumed_on = matches(self, &clause.resumed_on);
            let ended_on = matches(self, &clause.ended_on);
            let id = self.clauses.push(ClauseSpec {
                name: clause.name.name.clone(),
                span: clause.name.span,
                lifetime,
                suspended_on,
                resumed_on,
                ended_on,
                norms: Vec::new(),
            });
            for n in &clause.norms {
                let before = self.norms.next_id();
                self.norm(id, n);
                let added: Vec<NormId> = self.norms.ids_from(before).collect();
                if let Some(c) = self.clauses.get_mut(id) {
                    c.norms.extend(added);
                }
            }
        }
    }
}
