//! `--state FILE`: a run that carries on from where an earlier one left
//! off. The state holds the engine's state (see `eval::persist`), which
//! contract it belongs to, the duplicate-detection horizon it was made
//! with, and how far the stream was read.
//!
//! How far: the parts of the stream fed before the last file (as a count of
//! lines, so that a breach's line is its position in the whole stream), and
//! of the last file, the lines and bytes taken and a print of them. A file
//! that starts with exactly those bytes is the same file, grown: it is read
//! on after them, its own line numbers going on. Any other file holds new
//! events and is read from its start.
//!
//! The file is one header line, `deal-state 1 <checksum>`, then a JSON
//! body. JSON, because serde_json is already what the crate writes, the
//! body stays readable when a state has to be looked into, and its size is
//! that of the open state either way (a binary form would be smaller by a
//! constant, not by an order); it is read and written only at the start,
//! at checkpoints and at the end, never per event. The version comes first
//! so that a state of another format is refused for what it is, and the
//! checksum (XXH3-128 of the body) so that a torn or altered file is
//! refused whole, never half-read. It is written to a temporary file in
//! the same folder, synced and renamed over the old one: a run killed at
//! any moment leaves either the old state or the new.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use miette::Diagnostic;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::driver::Fed;
use crate::eval::{Engine, Options, Saved};
use crate::events::stream::{chain, line_print};
use crate::model::Program;
use crate::value::Duration;

/// The version of the state's format.
pub const FORMAT: u32 = 1;
const MAGIC: &str = "deal-state";

/// How far the stream fed through a state was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Lines of the files fed before the last one.
    pub base: usize,
    /// What was taken of the last file.
    pub lines: usize,
    pub bytes: u64,
    pub print: u64,
}

impl Position {
    /// After a run that read `file` from `start`: where the next one begins.
    pub fn after(self, start: Start, read: Fed) -> Position {
        match start {
            Start::After(_) => Position {
                lines: read.lines,
                bytes: read.bytes,
                print: read.print,
                ..self
            },
            // A file of which nothing was taken leaves the state where it was:
            // the file last fed can still be recognised when it grows.
            Start::New if read.lines == 0 => self,
            Start::New => Position {
                base: self.base + self.lines,
                lines: read.lines,
                bytes: read.bytes,
                print: read.print,
            },
        }
    }
}

/// Where a file is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// It begins with what the state took of the last file: read on after it.
    After(Fed),
    /// Another file: read from its start.
    New,
}

impl Start {
    /// What the replay starts from, and what it adds to every line the
    /// engine sees.
    pub fn replay(self, at: Position) -> (Fed, usize) {
        match self {
            Start::After(fed) => (fed, at.base),
            Start::New => (Fed::default(), at.base + at.lines),
        }
    }
}

#[derive(Serialize)]
struct BodyOut<'a, E: Serialize> {
    format: u32,
    contract: &'a str,
    horizon: Duration,
    fed: Position,
    engine: E,
}

#[derive(Deserialize)]
struct BodyIn {
    format: u32,
    contract: String,
    horizon: Duration,
    fed: Position,
    engine: Saved,
}

/// A state that cannot be carried on from.
#[derive(Debug, Error, Diagnostic)]
pub enum StateError {
    #[error("cannot read the state `{path}`: {reason}")]
    #[diagnostic(
        code(deal::state::unreadable),
        help("check the path and the file's permissions")
    )]
    Unreadable { path: String, reason: String },
    #[error("the state `{path}` is damaged: {reason}")]
    #[diagnostic(
        code(deal::state::corrupt),
        help("nothing of it was used; run again from the whole stream without `--state`, or with a new state file")
    )]
    Corrupt { path: String, reason: String },
    #[error("the state `{path}` is of format {found}; this deal reads format {FORMAT}")]
    #[diagnostic(
        code(deal::state::version),
        help("use the deal that wrote it, or run again from the whole stream into a new state file")
    )]
    Version { path: String, found: String },
    #[error("the state `{path}` belongs to another contract, or to other `--set` values")]
    #[diagnostic(
        code(deal::state::other_contract),
        help("a state carries on one contract with one set of `--set` values (its layout and comments may change); give this run a state file of its own")
    )]
    OtherContract { path: String },
    #[error("the state `{path}` was made with `--dedup-horizon \"{saved}\"`, not \"{given}\"")]
    #[diagnostic(
        code(deal::state::other_horizon),
        help("ids are remembered over the horizon the state was made with: leave `--dedup-horizon` out, or give `--dedup-horizon \"{saved}\"`")
    )]
    OtherHorizon {
        path: String,
        saved: String,
        given: String,
    },
    #[error("cannot write the state `{path}`: {reason}")]
    #[diagnostic(
        code(deal::state::unwritable),
        help("check that the folder exists, can be written and has room; the state there before is left as it was")
    )]
    Unwritable { path: String, reason: String },
}

/// What a state stands for: the checked program, `--set` values worked in,
/// as its whole dump (no spans, so a contract laid out anew keeps its
/// states), and the values as given.
pub fn fingerprint(program: &Program, sets: &[String]) -> String {
    let mut text = crate::model::dump::whole(program);
    for s in sets {
        text.push('\0');
        text.push_str(s);
    }
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(text.as_bytes()))
}

/// A state read back: the horizon it was made with, the engine's state and
/// how far the stream was read.
pub struct Resumed {
    pub horizon: Duration,
    pub fed: Position,
    saved: Saved,
}

impl Resumed {
    /// The engine, carrying on.
    pub fn engine<'p>(
        self,
        program: &'p Program,
        options: Options,
        path: &str,
    ) -> Result<Engine<'p>, StateError> {
        Engine::restore(program, options, self.saved).map_err(|reason| StateError::Corrupt {
            path: path.to_string(),
            reason,
        })
    }
}

/// Reads the state at `path`: `None` if there is none yet.
pub fn read(path: &str, contract: &str) -> Result<Option<Resumed>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StateError::Unreadable {
                path: path.to_string(),
                reason: e.to_string(),
            })
        }
    };
    from_bytes(&bytes, contract, path).map(Some)
}

/// A state from its bytes, as [`read`] reads them; `path` names it in
/// errors.
pub fn from_bytes(bytes: &[u8], contract: &str, path: &str) -> Result<Resumed, StateError> {
    let corrupt = |reason: &str| StateError::Corrupt {
        path: path.to_string(),
        reason: reason.to_string(),
    };
    let nl = memchr::memchr(b'\n', bytes).ok_or_else(|| corrupt("it has no header line"))?;
    let header =
        std::str::from_utf8(bytes.get(..nl).unwrap_or(&[])).map_err(|_| corrupt("its header is not text"))?;
    let body = bytes.get(nl + 1..).unwrap_or(&[]);
    let mut parts = header.split(' ');
    if parts.next() != Some(MAGIC) {
        return Err(corrupt("it is not a deal state"));
    }
    let format = parts.next().unwrap_or_default();
    if format != FORMAT.to_string() {
        return Err(StateError::Version {
            path: path.to_string(),
            found: format.to_string(),
        });
    }
    if parts.next() != Some(checksum(body).as_str()) || parts.next().is_some() {
        return Err(corrupt("its checksum does not match what it holds"));
    }
    let body: BodyIn = serde_json::from_slice(body).map_err(|e| corrupt(&e.to_string()))?;
    if body.format != FORMAT {
        return Err(corrupt("its header and its body disagree on the format"));
    }
    if body.contract != contract {
        return Err(StateError::OtherContract {
            path: path.to_string(),
        });
    }
    Ok(Resumed {
        horizon: body.horizon,
        fed: body.fed,
        saved: body.engine,
    })
}

/// The bytes of a state: its header line and its body.
pub fn to_bytes(
    engine: &Engine<'_>,
    contract: &str,
    horizon: Duration,
    fed: Position,
) -> Result<Vec<u8>, String> {
    let body = BodyOut {
        format: FORMAT,
        contract,
        horizon,
        fed,
        engine: engine.saving(),
    };
    let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let mut out = format!("{MAGIC} {FORMAT} {}\n", checksum(&body)).into_bytes();
    out.extend_from_slice(&body);
    Ok(out)
}

/// An error without the temporary file's name, which says nothing to the
/// reader and differs every run.
fn plain(e: &io::Error) -> String {
    let text = e.to_string();
    match text.split_once(" at path ") {
        Some((reason, _)) => reason.to_string(),
        None => text,
    }
}

fn checksum(body: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(body))
}

/// Writes the state atomically: a temporary file in the same folder,
/// synced, renamed over `path`.
pub fn write(
    path: &str,
    engine: &Engine<'_>,
    contract: &str,
    horizon: Duration,
    fed: Position,
) -> Result<(), StateError> {
    let failed = |e: &dyn std::fmt::Display| StateError::Unwritable {
        path: path.to_string(),
        reason: e.to_string(),
    };
    let bytes = to_bytes(engine, contract, horizon, fed).map_err(|e| failed(&e))?;
    let target = Path::new(path);
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".deal-state")
        .tempfile_in(folder)
        .map_err(|e| failed(&plain(&e)))?;
    let f = tmp.as_file_mut();
    f.write_all(&bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| failed(&e))?;
    tmp.persist(target).map_err(|e| failed(&e.error))?;
    // The rename itself is made durable by syncing the folder, where that
    // can be done.
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Whether `input` starts with what `at` took of the last file: its first
/// `at.bytes` bytes are read (only to be hashed, line by line as a run
/// reads them) and compared. The bytes read are handed back, so that a
/// stream that cannot be read again (standard input) loses nothing: the
/// caller reads on after them or from them.
pub fn recognise<R: Read>(mut input: R, at: Position) -> io::Result<(Start, Vec<u8>, R)> {
    if at.bytes == 0 {
        return Ok((Start::New, Vec::new(), input));
    }
    let mut head = Vec::new();
    // Not buffered: nothing past the prefix may be taken from the input.
    (&mut input).take(at.bytes).read_to_end(&mut head)?;
    let fed = prefix_fed(&head);
    let same =
        head.len() as u64 == at.bytes && fed.is_some_and(|f| f.lines == at.lines && f.print == at.print);
    let start = if same {
        Start::After(Fed {
            lines: at.lines,
            bytes: at.bytes,
            print: at.print,
        })
    } else {
        Start::New
    };
    Ok((start, head, input))
}

/// Like [`recognise`] for a file that can be read again: only the prefix
/// is read, in blocks, and nothing is kept.
pub fn recognise_file(file: &mut File, at: Position) -> io::Result<Start> {
    use std::io::{Seek, SeekFrom};
    if at.bytes == 0 || file.metadata()?.len() < at.bytes {
        return Ok(Start::New);
    }
    let mut reader = BufReader::with_capacity(1 << 18, &mut *file).take(at.bytes);
    let mut acc = 0u64;
    let mut lines = 0usize;
    let mut line = Vec::new();
    let mut buf = [0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut rest = buf.get(..n).unwrap_or(&[]);
        while let Some(i) = memchr::memchr(b'\n', rest) {
            line.extend_from_slice(rest.get(..i).unwrap_or(&[]));
            acc = chain(acc, line_print(&line, true));
            lines += 1;
            line.clear();
            rest = rest.get(i + 1..).unwrap_or(&[]);
        }
        line.extend_from_slice(rest);
    }
    // What a state took always ends a line.
    let same = line.is_empty() && lines == at.lines && acc == at.print;
    file.seek(SeekFrom::Start(if same { at.bytes } else { 0 }))?;
    Ok(if same {
        Start::After(Fed {
            lines: at.lines,
            bytes: at.bytes,
            print: at.print,
        })
    } else {
        Start::New
    })
}

/// The lines and print of `bytes`, which must end a line.
fn prefix_fed(bytes: &[u8]) -> Option<Fed> {
    let mut acc = 0u64;
    let mut lines = 0usize;
    let mut rest = bytes;
    while let Some(i) = memchr::memchr(b'\n', rest) {
        acc = chain(acc, line_print(rest.get(..i).unwrap_or(&[]), true));
        lines += 1;
        rest = rest.get(i + 1..).unwrap_or(&[]);
    }
    rest.is_empty().then_some(Fed {
        lines,
        bytes: bytes.len() as u64,
        print: acc,
    })
}
