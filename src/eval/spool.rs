//! A list that is reported in full but held in memory only up to a cap:
//! past it, entries go, in order, to an unnamed temporary file, and are read
//! back from there when the report is written.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// How many breaches, and how many ineffective acts, a run holds in memory.
pub const DEFAULT_CAP: usize = 10_000;

/// How many bytes of them, at most: a breach by an act keeps the act's line,
/// which may be long, so a count alone would not bound memory.
pub const BYTES_CAP: usize = 32 << 20;

/// What an entry costs to hold, roughly: its text.
pub trait Weigh {
    fn weight(&self) -> usize;
}

impl Weigh for u32 {
    fn weight(&self) -> usize {
        4
    }
}

impl Weigh for (u32, String) {
    fn weight(&self) -> usize {
        self.1.len()
    }
}

#[derive(Debug)]
pub struct Spool<T> {
    memory: Vec<T>,
    cap: usize,
    /// What the entries in memory weigh.
    weight: usize,
    file: Option<Spill>,
    spilled: u64,
    /// Entries after a failure to spill: held in memory, so that none is
    /// lost and the order stays.
    tail: Vec<T>,
    /// The first failure to write the spill; nothing is spilled after it.
    pub error: Option<String>,
}

#[derive(Debug)]
struct Spill {
    /// Flushed when the list is read back, from a shared view.
    writer: RefCell<BufWriter<File>>,
    path: tempfile::TempPath,
}

impl<T: Serialize + DeserializeOwned + Clone + Weigh> Spool<T> {
    pub fn new(cap: usize) -> Spool<T> {
        Spool {
            memory: Vec::new(),
            cap,
            weight: 0,
            file: None,
            spilled: 0,
            tail: Vec::new(),
            error: None,
        }
    }

    pub fn push(&mut self, item: T) {
        let weight = item.weight();
        if self.memory.len() < self.cap
            && self.weight.saturating_add(weight) <= BYTES_CAP
            && self.file.is_none()
        {
            self.weight += weight;
            self.memory.push(item);
            return;
        }
        if self.error.is_some() {
            self.tail.push(item);
            return;
        }
        if let Err(e) = self.spill(&item) {
            self.error = Some(e.to_string());
            self.tail.push(item);
        }
    }

    fn spill(&mut self, item: &T) -> io::Result<()> {
        if self.file.is_none() {
            let (file, path) = tempfile::NamedTempFile::new()?.into_parts();
            self.file = Some(Spill {
                writer: RefCell::new(BufWriter::new(file)),
                path,
            });
        }
        if let Some(f) = self.file.as_mut() {
            let w = f.writer.get_mut();
            // One line at a time: a line that fails part-way is not counted,
            // and the reader stops at the count.
            let mut line = serde_json::to_vec(item)?;
            line.push(b'\n');
            w.write_all(&line)?;
            self.spilled += 1;
        }
        Ok(())
    }

    pub fn len(&self) -> u64 {
        (self.memory.len() + self.tail.len()) as u64 + self.spilled
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A list holding `items`, in order, as if each had been pushed.
    pub fn restore(cap: usize, items: impl IntoIterator<Item = T>) -> Spool<T> {
        let mut s = Spool::new(cap);
        for item in items {
            s.push(item);
        }
        s
    }

    /// The entries held in memory: the first ones.
    pub fn in_memory(&self) -> &[T] {
        &self.memory
    }

    /// Every entry, in order: those in memory, then those spilled.
    pub fn iter(&self) -> io::Result<impl Iterator<Item = io::Result<T>> + '_> {
        let spilled = match self.file.as_ref() {
            Some(f) => {
                f.writer.borrow_mut().flush()?;
                Some(BufReader::new(File::open(&f.path)?).lines())
            }
            None => None,
        };
        let memory = self.memory.iter().cloned().map(Ok);
        let spilled_lines = usize::try_from(self.spilled).unwrap_or(usize::MAX);
        let rest = spilled.into_iter().flatten().take(spilled_lines).map(|line| {
            line.and_then(|l| {
                serde_json::from_str(&l).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            })
        });
        Ok(memory.chain(rest).chain(self.tail.iter().cloned().map(Ok)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_past_the_cap_come_back_in_order() {
        let mut s: Spool<(u32, String)> = Spool::new(3);
        for i in 0..10 {
            s.push((i, format!("entry {i}")));
        }
        assert_eq!(s.len(), 10);
        assert_eq!(s.in_memory().len(), 3);
        let back: Vec<u32> = s.iter().unwrap().map(|r| r.unwrap().0).collect();
        assert_eq!(back, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn entries_that_cannot_be_spilled_are_kept_in_order() {
        let mut s: Spool<u32> = Spool::new(2);
        for i in 0..4 {
            s.push(i);
        }
        s.error = Some("no space left".into());
        for i in 4..7 {
            s.push(i);
        }
        assert_eq!(s.len(), 7);
        let back: Vec<u32> = s.iter().unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(back, (0..7).collect::<Vec<_>>());
    }
}
