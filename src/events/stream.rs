//! An events stream read in large blocks, split into lines where they
//! are, and decoded a batch at a time: no line is copied, and the storage
//! of a batch (its block, its events) is reused for the next.
//!
//! A line longer than [`MAX_LINE_BYTES`] is never held whole: its bytes are
//! counted and dropped as they are read, and it is reported as too long.

use std::io::{self, Read};

use super::{Event, EventError, EventReader, MAX_LINE_BYTES};
use crate::time::LastDay;

/// How much is read at a time.
const BLOCK: usize = 256 * 1024;

/// What a line of the stream was.
#[derive(Debug)]
pub enum Outcome {
    /// Empty, or only whitespace.
    Blank,
    /// An event, at this index of the batch's events.
    Event(usize),
    Bad(Box<EventError>),
}

#[derive(Debug)]
pub struct Line {
    /// 1-based.
    pub no: usize,
    /// Where the line's bytes are in the batch's block (without its end).
    pub start: usize,
    pub end: usize,
    /// Where its bytes end with the carriage returns `end` leaves out: the
    /// line as written, but for its `\n`.
    pub raw_end: usize,
    /// How many bytes of the stream lie before the next line: where
    /// reading would go on after this one.
    pub after: u64,
    /// A hash of the line's bytes and its end, when the stream is asked
    /// for them (see [`LineStream::hashing`]); else 0.
    pub print: u64,
    /// Whether the line ends the stream without a `\n`.
    pub unended: bool,
    pub outcome: Outcome,
}

/// Consecutive lines of the stream, decoded.
#[derive(Debug, Default)]
pub struct Batch {
    block: Vec<u8>,
    pub lines: Vec<Line>,
    events: Vec<Event>,
    used: usize,
}

impl Batch {
    pub fn bytes(&self, line: &Line) -> &[u8] {
        self.block.get(line.start..line.end).unwrap_or(&[])
    }

    /// The line as written, carriage returns included, without its `\n`.
    /// Empty for a line too long to be held.
    pub fn raw(&self, line: &Line) -> &[u8] {
        self.block.get(line.start..line.raw_end).unwrap_or(&[])
    }

    pub fn event_mut(&mut self, i: usize) -> Option<&mut Event> {
        self.events.get_mut(i)
    }

    pub fn event(&self, i: usize) -> Option<&Event> {
        self.events.get(i)
    }

    fn clear(&mut self) {
        self.block.clear();
        self.lines.clear();
        self.used = 0;
    }
}

/// Reads a stream into batches of decoded lines.
pub struct LineStream<R> {
    input: R,
    /// The start of a line not yet ended, carried to the next block.
    carry: Vec<u8>,
    line_no: usize,
    done: bool,
    /// A read that failed, reported after the lines read before it.
    failed: Option<String>,
    last_day: LastDay,
    /// Bytes of the stream before the block being split.
    offset: u64,
    hashing: bool,
}

/// A line's print: its bytes and its end, if it has one. Two streams with
/// the same lines give the same prints; see [`chain`].
pub fn line_print(bytes: &[u8], ended: bool) -> u64 {
    with_end(xxhash_rust::xxh3::xxh3_64(bytes), ended)
}

fn with_end(hash: u64, ended: bool) -> u64 {
    if ended {
        hash ^ 0x9e37_79b9_7f4a_7c15
    } else {
        hash
    }
}

/// The print of a stream so far, `acc`, followed by a line of print `line`.
pub fn chain(acc: u64, line: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&line.to_le_bytes(), acc)
}

impl<R: Read> LineStream<R> {
    pub fn new(input: R) -> LineStream<R> {
        LineStream {
            input,
            carry: Vec::new(),
            line_no: 0,
            done: false,
            failed: None,
            last_day: LastDay::default(),
            offset: 0,
            hashing: false,
        }
    }

    /// Numbers the first line read `first` rather than 1: a stream read on
    /// from the middle of a file keeps the file's line numbers.
    pub fn numbered_from(mut self, first: usize) -> LineStream<R> {
        self.line_no = first.saturating_sub(1);
        self
    }

    /// Counts the stream's bytes from `offset` rather than 0: a file read
    /// on from the middle.
    pub fn offset_from(mut self, offset: u64) -> LineStream<R> {
        self.offset = offset;
        self
    }

    /// Gives every line its print (a hash of its bytes), so that what was
    /// read can be recognised later. Costs a hash a line: asked for only
    /// when a run's state is kept.
    pub fn hashing(mut self, on: bool) -> LineStream<R> {
        self.hashing = on;
        self
    }

    /// Fills `batch` with the next lines, decoded. Returns `false` once the
    /// stream is over and the batch holds nothing.
    pub fn fill(&mut self, reader: &EventReader<'_>, batch: &mut Batch) -> bool {
        batch.clear();
        if self.done {
            return false;
        }
        std::mem::swap(&mut batch.block, &mut self.carry);
        // Read until the block ends a line and is half full, or the stream ends.
        let mut searched = 0;
        let mut has_line = false;
        loop {
            if !has_line {
                has_line = memchr::memchr(b'\n', batch.block.get(searched..).unwrap_or(&[])).is_some();
                searched = batch.block.len();
            }
            if has_line && batch.block.len() >= BLOCK / 2 {
                break;
            }
            if !has_line && batch.block.len() > MAX_LINE_BYTES {
                self.skip_long_line(batch);
                return true;
            }
            match read_more(&mut self.input, &mut batch.block) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    self.failed = Some(e.to_string());
                    break;
                }
            }
        }
        let mut start = 0;
        while let Some(nl) = memchr::memchr(b'\n', batch.block.get(start..).unwrap_or(&[])) {
            let end = start + nl;
            self.decode_line(reader, batch, start, end, true);
            start = end + 1;
        }
        let rest = batch.block.get(start..).unwrap_or(&[]);
        if let Some(message) = self.failed.take() {
            batch.lines.push(Line {
                no: self.line_no + 1,
                start: 0,
                end: 0,
                raw_end: 0,
                after: self.offset + start as u64,
                print: 0,
                unended: false,
                outcome: Outcome::Bad(Box::new(EventError::Unreadable { message })),
            });
        } else if self.done {
            // The last line, without a line end.
            if !rest.is_empty() {
                let end = batch.block.len();
                self.decode_line(reader, batch, start, end, false);
            }
        } else {
            self.carry.clear();
            self.carry.extend_from_slice(rest);
            self.offset += start as u64;
        }
        true
    }

    fn decode_line(
        &mut self,
        reader: &EventReader<'_>,
        batch: &mut Batch,
        start: usize,
        end: usize,
        ended: bool,
    ) {
        self.line_no += 1;
        let no = self.line_no;
        let raw_end = end;
        let after = self.offset + (end + usize::from(ended)) as u64;
        let print = if self.hashing {
            line_print(batch.block.get(start..end).unwrap_or(&[]), ended)
        } else {
            0
        };
        let mut end = end;
        while end > start && batch.block.get(end - 1).is_some_and(|b| *b == b'\r') {
            end -= 1;
        }
        let mut bytes = batch.block.get(start..end).unwrap_or(&[]);
        if no == 1 {
            // Some tools write a byte-order mark first; it is not part of the event.
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        let outcome = if bytes.len() > MAX_LINE_BYTES && bytes.iter().all(u8::is_ascii_whitespace) {
            Outcome::Blank
        } else if bytes.len() > MAX_LINE_BYTES {
            Outcome::Bad(Box::new(EventError::TooLong {
                line: no,
                bytes: bytes.len(),
            }))
        } else {
            match std::str::from_utf8(bytes) {
                Err(_) => Outcome::Bad(Box::new(EventError::NotUtf8 { line: no })),
                Ok(text) => {
                    if batch.used == batch.events.len() {
                        batch.events.push(Event::blank());
                    }
                    match batch.events.get_mut(batch.used) {
                        Some(ev) => match reader.decode_after(no, text, ev, &mut self.last_day) {
                            Ok(true) => {
                                batch.used += 1;
                                Outcome::Event(batch.used - 1)
                            }
                            Ok(false) => Outcome::Blank,
                            Err(e) => Outcome::Bad(e),
                        },
                        None => Outcome::Blank,
                    }
                }
            }
        };
        batch.lines.push(Line {
            no,
            start,
            end,
            raw_end,
            after,
            print,
            unended: !ended,
            outcome,
        });
    }

    /// A line past the longest accepted: its bytes are counted and dropped
    /// up to its end; what follows it is carried on. A line of nothing but
    /// spaces is blank however long; a read that fails inside the line is
    /// reported after it.
    fn skip_long_line(&mut self, batch: &mut Batch) {
        self.line_no += 1;
        let no = self.line_no;
        let mut bytes = batch.block.len();
        let mut blank = batch.block.iter().all(u8::is_ascii_whitespace);
        let mut hasher = self.hashing.then(|| Box::new(xxhash_rust::xxh3::Xxh3::new()));
        let mut ended = false;
        if let Some(h) = hasher.as_mut() {
            h.update(&batch.block);
        }
        batch.block.clear();
        let mut failed = None;
        loop {
            match read_more(&mut self.input, &mut batch.block) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Err(e) => {
                    self.done = true;
                    failed = Some(e.to_string());
                    break;
                }
                Ok(_) => {}
            }
            let nl = memchr::memchr(b'\n', &batch.block);
            let part = batch.block.get(..nl.unwrap_or(batch.block.len())).unwrap_or(&[]);
            bytes += part.len();
            blank &= part.iter().all(u8::is_ascii_whitespace);
            if let Some(h) = hasher.as_mut() {
                h.update(part);
            }
            if let Some(nl) = nl {
                ended = true;
                self.carry.clear();
                self.carry
                    .extend_from_slice(batch.block.get(nl + 1..).unwrap_or(&[]));
                batch.block.clear();
                break;
            }
            batch.block.clear();
        }
        let outcome = if blank {
            Outcome::Blank
        } else {
            Outcome::Bad(Box::new(EventError::TooLong { line: no, bytes }))
        };
        let print = hasher.map_or(0, |h| with_end(h.digest(), ended));
        self.offset += (bytes + usize::from(ended)) as u64;
        batch.lines.push(Line {
            no,
            start: 0,
            end: 0,
            raw_end: 0,
            after: self.offset,
            print,
            unended: !ended,
            outcome,
        });
        if let Some(message) = failed {
            batch.lines.push(Line {
                no: no + 1,
                start: 0,
                end: 0,
                raw_end: 0,
                after: self.offset,
                print: 0,
                unended: false,
                outcome: Outcome::Bad(Box::new(EventError::Unreadable { message })),
            });
        }
    }
}

/// Appends what one read gives to `block`.
fn read_more(input: &mut impl Read, block: &mut Vec<u8>) -> io::Result<usize> {
    let len = block.len();
    block.resize(len + BLOCK, 0);
    let got = loop {
        match input.read(block.get_mut(len..).unwrap_or(&mut [])) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => break other,
        }
    };
    block.truncate(len + *got.as_ref().unwrap_or(&0));
    got
}
