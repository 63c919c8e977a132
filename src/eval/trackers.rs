//! Running counts and sums over events (`count(…)`, `sum(…)`), the windows
//! they slide over, and the latest event of each kind that expressions read.
//! A window slides by a timer set for its oldest entry, so a window that
//! sees no events costs nothing.

use std::collections::VecDeque;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::events::Event;
use crate::model::interpret::{self as expr, EvalError, KeyedLatest, Latest};
use crate::model::{ById, CExpr, EventId, ExprNode, FieldId, NormId, Program, Table, TrackerId};
use crate::time::Instant;
use crate::value::exact::{Exact, Kind};
use crate::value::{Type, Value};
use num_traits::Zero;
use rustc_hash::FxHashMap;
use smol_str::SmolStr;

/// Saved with the engine but for what the program alone gives (which
/// trackers each kind feeds), made afresh when a state is read.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Trackers {
    /// Current values; a sum over no events is zero of the field's kind.
    pub values: Vec<Option<Value>>,
    /// For windowed trackers: each entry's contribution and when it leaves.
    windows: Table<TrackerId, VecDeque<(Instant, Value)>>,
    /// Whether a timer is set for the window's oldest entry.
    sliding: Table<TrackerId, bool>,
    /// Per event kind: the trackers it adds to, and those it starts afresh.
    #[serde(skip)]
    on: Table<EventId, Vec<TrackerId>>,
    #[serde(skip)]
    reset: Table<EventId, Vec<TrackerId>>,
    /// The latest event of each kind, kept only for kinds some expression reads.
    pub latest: Vec<Option<Latest>>,
    #[serde(skip)]
    reads_latest: Table<EventId, bool>,
    /// `with the same K`: the latest event of a kind for each of its keys,
    /// kept only for the (kind, field) pairs some expression reads by key.
    #[serde(default, with = "super::persist::pairs")]
    pub keyed: KeyedLatest,
    #[serde(skip)]
    reads_keyed: Vec<(EventId, FieldId)>,
    /// `growing until F with the same K`, `unless F with the same K first`:
    /// how many F of each key came before what they were to pair with.
    #[serde(default, with = "super::persist::pairs")]
    pub early: FxHashMap<(NormId, SmolStr), u32>,
}

impl Trackers {
    pub fn new(program: &Program) -> Trackers {
        let kinds = program.events.len();
        let mut t = Trackers {
            values: Vec::new(),
            windows: Table::filled(VecDeque::new(), program.trackers.len()),
            sliding: Table::filled(false, program.trackers.len()),
            on: Table::filled(Vec::new(), kinds),
            reset: Table::filled(Vec::new(), kinds),
            latest: vec![None; kinds],
            reads_latest: Table::filled(false, kinds),
            keyed: KeyedLatest::default(),
            reads_keyed: Vec::new(),
            early: FxHashMap::default(),
        };
        t.values = program.trackers.ids().map(|i| empty(program, i)).collect();
        for (i, tr) in program.trackers.iter() {
            if let Some(list) = t.on.get_mut(tr.event) {
                list.push(i);
            }
            if let Some(list) = tr.since.and_then(|s| t.reset.get_mut(s)) {
                list.push(i);
            }
        }
        let mut reads = |e: &CExpr| {
            if let ExprNode::Latest(ev, _) = e.node {
                if let Some(r) = t.reads_latest.get_mut(ev) {
                    *r = true;
                }
            }
            if let ExprNode::Keyed(ev, _, by, _) = e.node {
                if !t.reads_keyed.contains(&(ev, by)) {
                    t.reads_keyed.push((ev, by));
                }
            }
        };
        crate::model::visit_program(program, &mut reads);
        t
    }

    /// What the program alone gives, taken from `fresh`: a tracker read
    /// from a saved state has only its values and windows.
    pub fn wire(&mut self, fresh: Trackers) {
        self.on = fresh.on;
        self.reset = fresh.reset;
        self.reads_latest = fresh.reads_latest;
        self.reads_keyed = fresh.reads_keyed;
    }

    /// One more F of `key` came before what it pairs with.
    pub fn bank(&mut self, n: NormId, key: SmolStr) {
        *self.early.entry((n, key)).or_default() += 1;
    }

    /// Takes one F of `key` that came early, if there is one.
    pub fn take_banked(&mut self, n: NormId, key: &SmolStr) -> bool {
        let k = (n, key.clone());
        match self.early.get_mut(&k) {
            Some(c) if *c > 1 => {
                *c -= 1;
                true
            }
            Some(_) => {
                self.early.remove(&k);
                true
            }
            None => false,
        }
    }

    /// The trackers that events of `kind` add to.
    pub fn fed_by(&self, kind: EventId) -> &[TrackerId] {
        self.on.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Adds `add` to tracker `i`. Returns when to slide its window, if a
    /// timer is now needed for that.
    pub fn take_in(
        &mut self,
        program: &Program,
        i: TrackerId,
        at: Instant,
        add: Value,
    ) -> Result<Option<Instant>, EvalError> {
        let window = program.trackers.get(i).and_then(|t| t.window);
        let mut wake = None;
        if let Some(w) = window {
            let leaves = expr::ahead(at, w).ok_or(expr::Problem::DateRange)?;
            if let (Some(q), Some(s)) = (self.windows.get_mut(i), self.sliding.get_mut(i)) {
                q.push_back((leaves, add.clone()));
                if !*s {
                    *s = true;
                    wake = Some(leaves);
                }
            }
        }
        if let Some(v) = self.values.by_id_mut(i) {
            *v = Some(match v.take() {
                None => add,
                Some(old) => expr::add_values(old, add)?,
            });
        }
        Ok(wake)
    }

    /// Takes out of tracker `i` what has left its window by `now`. Returns
    /// when to slide it next.
    pub fn slide(
        &mut self,
        program: &Program,
        i: TrackerId,
        now: Instant,
    ) -> Result<Option<Instant>, EvalError> {
        let (Some(q), Some(value)) = (self.windows.get_mut(i), self.values.by_id_mut(i)) else {
            return Ok(None);
        };
        while q.front().is_some_and(|(leaves, _)| *leaves <= now) {
            let Some((_, gone)) = q.pop_front() else { break };
            *value = match value.take() {
                _ if q.is_empty() => empty(program, i),
                Some(v) => Some(expr::sub_values(v, gone)?),
                None => None,
            };
        }
        let next = q.front().map(|(leaves, _)| *leaves);
        if let Some(s) = self.sliding.get_mut(i) {
            *s = next.is_some();
        }
        Ok(next)
    }

    /// After an event: remembers it if it is read as the latest of its kind,
    /// and starts afresh the trackers counted `since` it. At the event
    /// itself a count still means the period it closes.
    pub fn after(&mut self, program: &Program, ev: &Event) {
        if self.reads_latest.get(ev.kind).copied().unwrap_or(false) {
            if let Some(slot) = self.latest.by_id_mut(ev.kind) {
                match slot {
                    Some(l) => {
                        l.at = ev.at;
                        l.fields.clone_from(&ev.fields);
                    }
                    None => {
                        *slot = Some(Latest {
                            at: ev.at,
                            fields: ev.fields.clone(),
                        })
                    }
                }
            }
        }
        for &(kind, by) in &self.reads_keyed {
            if kind != ev.kind {
                continue;
            }
            let Some(k) = ev.fields.by_id(by).and_then(Option::as_ref) else {
                continue;
            };
            self.keyed.insert(
                (kind, by, k.key_text()),
                Latest {
                    at: ev.at,
                    fields: ev.fields.clone(),
                },
            );
        }
        let Some(resets) = self.reset.get(ev.kind) else {
            return;
        };
        for &i in resets {
            if let Some(v) = self.values.by_id_mut(i) {
                *v = empty(program, i);
            }
            if let Some(q) = self.windows.get_mut(i) {
                q.clear();
            }
        }
    }
}

/// What a count or sum is over no events: zero, of the field's kind. A sum
/// of amounts over none is zero of no currency yet, and takes the currency
/// of whatever it meets, so that `fee - sum(credit.amount since invoice)`
/// is the fee when there were no credits, not undetermined.
fn empty(program: &Program, i: TrackerId) -> Option<Value> {
    let t = program.trackers.get(i)?;
    let Some(f) = t.field else {
        return Some(Value::Decimal(Decimal::ZERO));
    };
    let ty = program.events.get(t.event)?.fields.get(f)?.ty;
    Some(match ty {
        Type::Decimal => Value::Decimal(Decimal::ZERO),
        Type::Percent => Value::Percent(Decimal::ZERO),
        Type::Duration => Value::Duration(crate::value::Duration::default()),
        Type::Money => Value::Exact(Box::new(Exact {
            value: num_rational::BigRational::zero(),
            kind: Kind::AnyMoney,
        })),
        _ => return None,
    })
}
