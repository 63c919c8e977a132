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

#[derive(Debug)]
pub struct Spool<T> {
    memory: Vec<T>,
    cap: usize,
    file: Option<Spill>,
    spilled: u64,
    /// The first failure to write the spill, reported with the report.
    pub error: Option<String>,
}

#[derive(Debug)]
struct Spill {
    /// Flushed when the list is read back, from a shared view.
    writer: RefCell<BufWriter<File>>,
    path: tempfile::TempPath,
}

impl<T: Serialize + DeserializeOwned + Clone> Spool<T> {
    pub fn new(cap: usize) -> Spool<T> {
        Spool {
            memory: Vec::new(),
            cap,
            file: None,
            spilled: 0,
            error: None,
        }
    }

    pub fn push(&mut self, item: T) {
        if self.memory.len() < self.cap {
            self.memory.push(item);
            return;
        }
        if let Err(e) = self.spill(&item) {
            self.error.get_or_insert_with(|| e.to_string());
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
            serde_json::to_writer(&mut *w, item)?;
            w.write_all(b"\n")?;
            self.spilled += 1;
        }
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.memory.len() as u64 + self.spilled
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let rest = spilled.into_iter().flatten().map(|line| {
            line.and_then(|l| {
                serde_json::from_str(&l).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
            })
        });
        Ok(memory.chain(rest))
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
}
