//! The `deal` command: a thin shell over the library.

use std::fs::File;
use std::io::{self, IsTerminal, Read as _, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use miette::Diagnostic;
use thiserror::Error;

use deal::diag::source::SourceFile;
use deal::diag::{render, Style, WithSource};
use deal::driver::{self, AsOf, BadAt, LoadError, ReplayOptions};
use deal::eval::{Engine, Options};
use deal::events::EventReader;
use deal::report::{html, text, Report};
use deal::syntax::SyntaxError;
use deal::value::Duration;

#[path = "deal/rejects.rs"]
mod rejects;
#[path = "deal/toolchain.rs"]
mod toolchain;

const EVALUATED: u8 = 0;
const BREACHED: u8 = 1;
const INVALID: u8 = 2;

#[derive(Parser)]
#[command(
    name = "deal",
    version,
    about = "Contracts as code: check a .deal contract and replay dated events against it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How diagnostics are written: `human` (graphical), `json` (one object a line, for editors and CI)
    /// or `narrated` (plain sentences, for screen readers).
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Human)]
    error_format: ErrorFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check contracts without events. Exit 0 if clean (warnings allowed), 2 on errors.
    Check {
        /// The `.deal` files to check.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Replay events against a contract and report its state.
    /// Exit 0 if no breach, 1 if breaches were found, 2 if the contract or the events are invalid.
    Run {
        /// The `.deal` contract.
        contract: String,
        /// The events, as JSON Lines; `-` reads standard input.
        #[arg(long)]
        events: String,
        /// Report as of this date (the end of that day) or RFC 3339 date-time. Default: the last event.
        #[arg(long)]
        at: Option<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Fill or override a term for a what-if run, e.g. `--set future_profit_rate=10%`.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        sets: Vec<String>,
        /// Go on past bad event lines, writing each one as it was read to this file (created at the
        /// first), and its line and reason to FILE.reasons.jsonl. The exit status is then by breaches.
        #[arg(long, value_name = "FILE")]
        rejects: Option<String>,
        /// Stream every transition of every clause and norm instance, and every ledger movement,
        /// to this file as JSON Lines.
        #[arg(long, value_name = "FILE")]
        history: Option<String>,
        /// How long, in event time, ids are remembered to recognise a redelivered event.
        /// Default: 30 days, or the horizon the `--state` was made with.
        #[arg(long, value_name = "DURATION")]
        dedup_horizon: Option<String>,
        /// Carry on from this state, if it exists, and save the state to it at the end: feed the same
        /// growing events file again, or a file of new events. See docs/running.md.
        #[arg(long, value_name = "FILE")]
        state: Option<String>,
        /// With `--state`: also save the state after every N events applied.
        #[arg(long, value_name = "N", requires = "state")]
        checkpoint_every: Option<u64>,
    },
    /// A local playground in the browser: edit a contract and its events, see the
    /// diagnostics, the report and the timeline as you type.
    Serve {
        /// The contract to start with; without one, the reference deal and its events.
        contract: Option<String>,
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The address to listen on. The default, loopback, is reachable from this machine only.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
    },
    /// Explain a diagnostic code: `deal explain unknown_name`, `deal explain deal::check::unknown_name`.
    Explain {
        /// The code: in full, without `deal::`, or its last part alone.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with a line on what it means.
        #[arg(long)]
        list: bool,
    },
    /// Run the tests written beside contracts (`supply.test` for `supply.deal`).
    /// Exit 0 if all pass, 1 if any fails, 2 if a test file or its contract cannot be run.
    Test {
        /// Test files, contracts (their `.test` file), or folders to search for `.test` files.
        /// Default: the current folder.
        paths: Vec<String>,
        /// Rewrite failed expectations, and fill empty `expect` blocks, from the actual report;
        /// then run again. Read the diff before you commit it.
        #[arg(long)]
        update: bool,
        /// Output: `human`, `json` (one document) or `junit` (JUnit XML, for CI).
        #[arg(long, value_enum, default_value_t = toolchain::TestFormat::Human)]
        format: toolchain::TestFormat,
        /// Run only the scenarios whose name contains this text.
        #[arg(long, value_name = "TEXT")]
        filter: Option<String>,
    },
    /// Lay contracts out the one way `deal fmt` lays out every contract, keeping their comments.
    /// Exit 0 if done (with `--check`: if all were formatted), 1 if `--check` found one that was not,
    /// 2 if one cannot be read or parsed.
    Fmt {
        /// Contracts, or folders to search for `.deal` files. Default: the current folder.
        /// `-` reads standard input and writes the formatted contract to standard output.
        paths: Vec<String>,
        /// Change nothing: say which contracts are not formatted, and where first.
        #[arg(long)]
        check: bool,
    },
    /// A language server on standard input and output, for editors: diagnostics as you type,
    /// hover, go to definition, and `deal fmt` as formatting.
    Lsp,
    /// Write a contract to start from, an events file and a test: NAME.deal, NAME.events.jsonl, NAME.test.
    Init {
        /// The name, or a path without extension, e.g. `supply` or `contracts/supply`.
        name: String,
    },
    /// Write a JSON Schema (draft 2020-12) of one line of the contract's events file.
    Schema {
        /// The `.deal` contract.
        contract: String,
    },
    /// Write a shell completion script to standard output, e.g. `deal completions bash`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Write the manual page (roff) to standard output: `deal man > deal.1`.
    Man,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    /// One self-contained page: the timeline, the money, the breaches.
    Html,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ErrorFormat {
    Human,
    Json,
    Narrated,
}

impl CliError {
    /// What a failed read of the text at `path` is to its reader.
    pub(crate) fn unreadable(path: &str, e: deal::diag::source::ReadError) -> CliError {
        use deal::diag::source::ReadError;
        let path = path.to_string();
        match e {
            ReadError::Io(e) => CliError::Unreadable {
                path,
                reason: e.to_string(),
            },
            ReadError::TooLarge { limit } => CliError::TooLarge { path, limit },
            ReadError::NotUtf8 { offset } => CliError::NotUtf8 { path, offset },
        }
    }
}

#[derive(Debug, Error, Diagnostic)]
pub(crate) enum CliError {
    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(
        code(deal::cli::unreadable),
        help("check the path and the file's permissions")
    )]
    Unreadable { path: String, reason: String },
    #[error("`{path}` is not valid UTF-8 text")]
    #[diagnostic(
        code(deal::parse::not_utf8),
        help("save the contract as UTF-8 text; the first invalid byte is at offset {offset}")
    )]
    NotUtf8 { path: String, offset: usize },
    #[error("`{path}` is more than {limit} bytes long: it was not read further")]
    #[diagnostic(
        code(deal::cli::too_large),
        help("a contract is a text of at most {limit} bytes; check that the path names the contract and not a device or a data file")
    )]
    TooLarge { path: String, limit: usize },
    #[error("`--set {text}` does not say NAME=VALUE")]
    #[diagnostic(
        code(deal::cli::set_syntax),
        help("write it as `--set future_profit_rate=10%`")
    )]
    SetSyntax { text: String },
    #[error("cannot write `{path}`: {reason}")]
    #[diagnostic(
        code(deal::cli::unwritable),
        help("check that the folder exists and can be written")
    )]
    Unwritable { path: String, reason: String },
    #[error("cannot write the {what}: {reason}")]
    #[diagnostic(
        code(deal::cli::write_failed),
        help("check that the disk has room and that whatever reads the output is still reading")
    )]
    WriteFailed { what: &'static str, reason: String },
    #[error("breaches beyond those held in memory could not be set aside in a temporary file: {reason}")]
    #[diagnostic(
        code(deal::cli::spill_failed),
        severity(Warning),
        help("they were held in memory instead, and the report is complete; set TMPDIR to a folder with room to keep memory bounded")
    )]
    SpillFailed { reason: String },
    #[error("`--dedup-horizon {text}` is not a duration")]
    #[diagnostic(
        code(deal::cli::bad_horizon),
        help("write a whole number and a unit, e.g. `--dedup-horizon \"30 days\"` or `--dedup-horizon \"12 hours\"`")
    )]
    BadHorizon { text: String },
    #[error("there is no diagnostic `{code}`")]
    #[diagnostic(code(deal::cli::unknown_code))]
    UnknownCode {
        code: String,
        #[help]
        help: String,
    },
    #[error("the language server stopped: {reason}")]
    #[diagnostic(
        code(deal::cli::lsp_failed),
        help("`deal lsp` is started by an editor, which speaks the Language Server Protocol to it on standard input and output")
    )]
    Lsp { reason: String },
    #[error("`--{flag} {path}` is the events file: writing it would destroy the events")]
    #[diagnostic(
        code(deal::cli::overwrites_events),
        help("give `--{flag}` a file of its own, e.g. `--{flag} {suggestion}`")
    )]
    OverwritesEvents {
        flag: &'static str,
        path: String,
        suggestion: &'static str,
    },
    #[error("{count} rejected line{s} set aside in `{path}`; {reasons}", s = if *count == 1 { "" } else { "s" })]
    #[diagnostic(
        code(deal::run::rejected),
        severity(Warning),
        help("the report is as if those lines were not in the events; correct them and feed the file to a later run")
    )]
    Rejected {
        count: u64,
        path: String,
        reasons: String,
    },
    #[error("the run stopped at {place}: the report is as of the last event applied ({last}){not_at}")]
    #[diagnostic(
        code(deal::run::stopped),
        severity(Warning),
        help("correct the line and run again, or pass `--rejects FILE` to set bad lines aside and go on")
    )]
    Stopped {
        place: String,
        last: String,
        not_at: String,
    },
    #[error("line {line} of `{file}` has no line end: it was left unread")]
    #[diagnostic(
        code(deal::run::unended),
        severity(Warning),
        help("with `--state` a file may still be being written, so a last line without its `\\n` may be half a line; end it with a line break, and a later run reads it")
    )]
    Unended { line: usize, file: String },
    #[error("{message}")]
    #[diagnostic(code(deal::cli::usage))]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },
}

struct Out {
    style: Style,
}

impl Out {
    fn diag(&self, d: &dyn Diagnostic) {
        let _ = io::stderr().write_all(render(d, self.style).as_bytes());
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = toolchain::width();
    let style = match cli.error_format {
        ErrorFormat::Human => Style::Graphical { color, width },
        ErrorFormat::Json => Style::Json,
        ErrorFormat::Narrated => Style::Narrated,
    };
    let out = Out { style };
    let code = match cli.command {
        Command::Check { files } => check(&out, &files),
        Command::Run {
            contract,
            events,
            at,
            format,
            sets,
            rejects,
            history,
            dedup_horizon,
            state,
            checkpoint_every,
        } => run(
            &out,
            &RunArgs {
                contract: &contract,
                events: &events,
                at: at.as_deref(),
                format,
                sets: &sets,
                rejects: rejects.as_deref(),
                history: history.as_deref(),
                dedup_horizon: dedup_horizon.as_deref(),
                state: state.as_deref(),
                checkpoint_every: checkpoint_every.unwrap_or(0),
            },
        ),
        Command::Explain { code, list } => toolchain::explain(out.style, code.as_deref(), list),
        Command::Test {
            paths,
            update,
            format,
            filter,
        } => toolchain::test(
            out.style,
            &toolchain::TestArgs {
                paths,
                update,
                format,
                filter,
            },
        ),
        Command::Fmt { paths, check } => toolchain::fmt(out.style, &paths, check),
        Command::Lsp => match deal::lsp::serve_stdio() {
            Ok(()) => EVALUATED,
            Err(reason) => {
                out.diag(&CliError::Lsp { reason });
                INVALID
            }
        },
        Command::Init { name } => toolchain::init(out.style, &name),
        Command::Schema { contract } => schema(&out, &contract),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            toolchain::completions(&mut Cli::command(), shell)
        }
        Command::Man => {
            use clap::CommandFactory;
            toolchain::man(Cli::command())
        }
        Command::Serve { contract, port, host } => serve(&out, contract.as_deref(), port, host),
    };
    ExitCode::from(code)
}

fn usage(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::from(EVALUATED);
    }
    // Nothing asked for: the usage, on standard error, is a failure to a
    // script that meant to ask something.
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(INVALID);
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines().filter(|l| !l.trim().is_empty()).peekable();
    let mut message = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    // "the following required arguments were not provided:" names them on
    // the lines below; the message should say which.
    while message.ends_with(':') || lines.peek().is_some_and(|l| l.starts_with("  ")) {
        match lines.next() {
            Some(more) if more.starts_with("  ") => {
                let sep = if message.ends_with(':') { " " } else { ", " };
                message = format!("{message}{sep}{}", more.trim());
            }
            Some(_) | None => break,
        }
    }
    let rest: Vec<&str> = lines.map(str::trim).collect();
    let help = if rest.is_empty() {
        None
    } else {
        Some(rest.join("\n"))
    };
    let color = io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let out = Out {
        style: Style::Graphical {
            color,
            width: toolchain::width(),
        },
    };
    out.diag(&CliError::Usage { message, help });
    ExitCode::from(INVALID)
}

fn read_source(out: &Out, path: &str) -> Option<SourceFile> {
    match deal::diag::source::read_file(path, deal::syntax::limits::MAX_SOURCE_BYTES) {
        Ok(text) => Some(SourceFile::new(path, text)),
        Err(e) => {
            out.diag(&CliError::unreadable(path, e));
            None
        }
    }
}

/// Loads a contract, printing its diagnostics; `None` if it has errors.
fn load(out: &Out, source: &SourceFile) -> Option<driver::Loaded> {
    match driver::load(source) {
        Ok(loaded) => Some(loaded),
        Err(e) => {
            print_load_error(out, source, e);
            None
        }
    }
}

fn print_load_error(out: &Out, source: &SourceFile, e: LoadError) {
    match e {
        LoadError::Syntax(e) => {
            let e: SyntaxError = *e;
            out.diag(&WithSource { diag: &e, source });
        }
        LoadError::Check(errors) => {
            for e in &errors {
                out.diag(&WithSource { diag: e, source });
            }
        }
    }
}

/// Prints warnings, leaving out open terms that `--set` filled.
fn warn(out: &Out, source: &SourceFile, warnings: &[deal::check::CheckError], filled: &[&str]) {
    for w in warnings {
        if w.open_term().is_some_and(|name| filled.contains(&name)) {
            continue;
        }
        out.diag(&WithSource { diag: w, source });
    }
}

fn serve(out: &Out, contract: Option<&str>, port: u16, host: std::net::IpAddr) -> u8 {
    // The only file the playground reads: the contract it starts with.
    let contract = match contract {
        None => None,
        Some(path) => match read_source(out, path) {
            Some(source) => Some((path.to_string(), source.text.to_string())),
            None => return INVALID,
        },
    };
    let options = deal::serve::ServeOptions {
        host,
        port,
        contract,
        budget: deal::serve::Budget::default(),
    };
    match deal::serve::serve(options) {
        Ok(()) => EVALUATED,
        Err(e) => {
            out.diag(&e);
            INVALID
        }
    }
}

fn check(out: &Out, files: &[String]) -> u8 {
    let mut code = EVALUATED;
    let (mut checked, mut clauses, mut errors, mut warnings) = (0usize, 0usize, 0usize, 0usize);
    for path in files {
        checked += 1;
        let Some(source) = read_source(out, path) else {
            code = INVALID;
            errors += 1;
            continue;
        };
        match driver::load(&source) {
            Ok(loaded) => {
                clauses += loaded.program.clauses.len();
                warnings += loaded.warnings.len();
                warn(out, &source, &loaded.warnings, &[]);
            }
            Err(e) => {
                if let LoadError::Check(ds) = &e {
                    let w = ds.iter().filter(|d| d.is_warning()).count();
                    warnings += w;
                    errors += ds.len() - w;
                } else {
                    errors += 1;
                }
                code = INVALID;
                print_load_error(out, &source, e);
            }
        }
    }
    // Said on every run, so that a clean check is seen to have happened; on
    // standard output, so that the diagnostics on standard error stay
    // diagnostics only (one JSON object a line with `--error-format json`).
    let n = |k: usize, word: &str| format!("{k} {word}{}", if k == 1 { "" } else { "s" });
    let line = format!(
        "checked {}: {}, {}, {}\n",
        n(checked, "contract"),
        n(clauses, "clause"),
        n(errors, "error"),
        n(warnings, "warning")
    );
    let _ = io::stdout().write_all(line.as_bytes());
    code
}

fn schema(out: &Out, contract: &str) -> u8 {
    let Some(source) = read_source(out, contract) else {
        return INVALID;
    };
    let Some(loaded) = load(out, &source) else {
        return INVALID;
    };
    match toolchain::schema(&loaded.program, contract) {
        Ok(()) => EVALUATED,
        Err(e) => {
            out.diag(&CliError::WriteFailed {
                what: "schema",
                reason: e.to_string(),
            });
            INVALID
        }
    }
}

struct RunArgs<'a> {
    contract: &'a str,
    events: &'a str,
    at: Option<&'a str>,
    format: Format,
    sets: &'a [String],
    rejects: Option<&'a str>,
    history: Option<&'a str>,
    dedup_horizon: Option<&'a str>,
    state: Option<&'a str>,
    checkpoint_every: u64,
}

fn create(out: &Out, path: &str, append: bool) -> Option<io::BufWriter<File>> {
    let opened = if append {
        std::fs::OpenOptions::new().create(true).append(true).open(path)
    } else {
        File::create(path)
    };
    match opened {
        Ok(f) => Some(io::BufWriter::new(f)),
        Err(e) => {
            out.diag(&CliError::Unwritable {
                path: path.to_string(),
                reason: e.to_string(),
            });
            None
        }
    }
}

fn run(out: &Out, args: &RunArgs<'_>) -> u8 {
    let as_of = match args.at.map(|t| AsOf::parse(t).ok_or(t)) {
        None => None,
        Some(Ok(a)) => Some(a),
        Some(Err(text)) => {
            out.diag(&BadAt {
                text: text.to_string(),
            });
            return INVALID;
        }
    };
    let given_horizon = match args.dedup_horizon {
        None => None,
        Some(text) => {
            match Duration::parse(text).filter(|d| d.months >= 0 && d.days >= 0 && d.seconds >= 0) {
                Some(d) => Some(d),
                None => {
                    out.diag(&CliError::BadHorizon {
                        text: text.to_string(),
                    });
                    return INVALID;
                }
            }
        }
    };
    let Some(source) = read_source(out, args.contract) else {
        return INVALID;
    };
    let Some(loaded) = load(out, &source) else {
        return INVALID;
    };
    let mut program = loaded.program;
    let mut filled = Vec::new();
    for s in args.sets {
        let Some((name, value)) = s.split_once('=') else {
            out.diag(&CliError::SetSyntax { text: s.clone() });
            return INVALID;
        };
        if let Err(e) = deal::check::set_term(&mut program, name.trim(), value.trim()) {
            out.diag(&e);
            return INVALID;
        }
        filled.push(name.trim());
    }
    warn(out, &source, &loaded.warnings, &filled);
    if !filled.is_empty() {
        // A value given on the command line passes every check a written one does.
        let found = deal::check::settle_terms(&mut program);
        for e in &found {
            out.diag(&WithSource {
                diag: e,
                source: &source,
            });
        }
        if !found.is_empty() {
            return INVALID;
        }
    }
    let events = args.events;
    // Nothing written may be the events file: truncating it would lose them.
    if events != "-" {
        let outputs = [
            ("rejects", args.rejects, "rejects.jsonl"),
            ("history", args.history, "history.jsonl"),
            ("state", args.state, "run.state"),
        ];
        for (flag, path, suggestion) in outputs {
            let Some(path) = path else { continue };
            let reasons = format!("{path}.reasons.jsonl");
            if rejects::same_file(path, events) || (flag == "rejects" && rejects::same_file(&reasons, events))
            {
                out.diag(&CliError::OverwritesEvents {
                    flag,
                    path: path.to_string(),
                    suggestion,
                });
                return INVALID;
            }
        }
    }
    let fingerprint = args.state.map(|_| deal::resume::fingerprint(&program, args.sets));
    let resumed = match (args.state, &fingerprint) {
        (Some(path), Some(fp)) => match deal::resume::read(path, fp) {
            Ok(r) => r,
            Err(e) => {
                out.diag(&e);
                return INVALID;
            }
        },
        _ => None,
    };
    let horizon = match (&resumed, given_horizon) {
        (Some(r), Some(given)) if r.horizon != given => {
            out.diag(&deal::resume::StateError::OtherHorizon {
                path: args.state.unwrap_or_default().to_string(),
                saved: r.horizon.to_string(),
                given: given.to_string(),
            });
            return INVALID;
        }
        (Some(r), _) => r.horizon,
        (None, Some(given)) => given,
        (None, None) => Duration::days(deal::eval::DEFAULT_HORIZON_DAYS),
    };
    let position = resumed.as_ref().map(|r| r.fed).unwrap_or_default();
    // A regular file always ends, so it can be read on a thread of its own.
    let mut threaded = false;
    let mut start = deal::resume::Start::New;
    let input: Box<dyn io::Read + Send> = if events == "-" {
        Box::new(io::stdin())
    } else {
        match File::open(events) {
            Ok(mut f) => {
                threaded = f.metadata().is_ok_and(|m| m.is_file());
                if resumed.is_some() {
                    match deal::resume::recognise_file(&mut f, position) {
                        Ok(s) => start = s,
                        Err(e) => {
                            out.diag(&CliError::Unreadable {
                                path: events.to_string(),
                                reason: e.to_string(),
                            });
                            return INVALID;
                        }
                    }
                }
                Box::new(f)
            }
            Err(e) => {
                out.diag(&CliError::Unreadable {
                    path: events.to_string(),
                    reason: e.to_string(),
                });
                return INVALID;
            }
        }
    };
    // The page quotes the event lines behind its marks: standard input is
    // kept to pick them from afterwards; a file is read again.
    let mut kept_stdin: Option<std::sync::Arc<[u8]>> = None;
    let input: Box<dyn io::Read + Send> = if args.format == Format::Html && events == "-" {
        let mut all = Vec::new();
        if let Err(e) = io::Read::read_to_end(&mut io::stdin(), &mut all) {
            out.diag(&CliError::Unreadable {
                path: "<stdin>".to_string(),
                reason: e.to_string(),
            });
            return INVALID;
        }
        let all: std::sync::Arc<[u8]> = all.into();
        kept_stdin = Some(all.clone());
        Box::new(io::Cursor::new(all))
    } else {
        input
    };
    // Standard input cannot be read again: what was read to recognise it
    // is read on after, or read first.
    let input: Box<dyn io::Read + Send> = if events == "-" && resumed.is_some() {
        match deal::resume::recognise(input, position) {
            Ok((s, head, rest)) => {
                start = s;
                match s {
                    deal::resume::Start::After(_) => rest,
                    deal::resume::Start::New => Box::new(io::Cursor::new(head).chain(rest)),
                }
            }
            Err(e) => {
                out.diag(&CliError::Unreadable {
                    path: "<stdin>".to_string(),
                    reason: e.to_string(),
                });
                return INVALID;
            }
        }
    } else {
        input
    };
    let events_name = if events == "-" { "<stdin>" } else { events };
    // Carried on from a state, the rejects and the history go on too.
    let carried = resumed.is_some();
    let mut rejects_file = args.rejects.map(|path| rejects::Rejects::new(path, carried));
    let mut history: Option<Box<dyn Write>> = match args.history {
        None => None,
        Some(path) => match create(out, path, carried) {
            Some(f) => Some(Box::new(f)),
            None => return INVALID,
        },
    };
    // The page is drawn from the history, read back as it is written.
    let timeline = (args.format == Format::Html).then(|| {
        let (timeline, tap) = html::tap(&program, history.take());
        history = Some(tap);
        timeline
    });
    let reader = EventReader::new(&program, &source, events_name);
    let options = Options {
        dedup_horizon: horizon,
        history,
        ..Options::default()
    };
    let mut engine = match resumed {
        Some(r) => match r.engine(&program, options, args.state.unwrap_or_default()) {
            Ok(e) => e,
            Err(e) => {
                out.diag(&e);
                return INVALID;
            }
        },
        None => Engine::with_options(&program, options),
    };
    let until = as_of.as_ref().map(|a| a.instant);
    let (from, line_base) = start.replay(position);
    let keeping = args.state.is_some();
    let replay_options = ReplayOptions {
        until,
        keep_going: args.rejects.is_some(),
        threaded,
        start: from,
        line_base,
        hashing: keeping,
        leave_unended: keeping,
        checkpoint_every: if keeping { args.checkpoint_every } else { 0 },
    };
    let fingerprint = fingerprint.unwrap_or_default();
    let mut checkpoint_failed = None;
    let mut checkpoints = 0u64;
    // A run stopped by force right before a checkpoint, for tests of what
    // survives one: hidden, as nobody else has a use for it.
    let abort_at: Option<u64> = std::env::var("DEAL_TEST_ABORT_AT_CHECKPOINT")
        .ok()
        .and_then(|v| v.parse().ok());
    let replay = driver::replay_with(
        &mut engine,
        &reader,
        input,
        replay_options,
        |err, raw| {
            out.diag(err);
            if let Some(r) = rejects_file.as_mut() {
                r.put(events_name, err, raw);
            }
        },
        |engine, fed| {
            checkpoints += 1;
            if abort_at == Some(checkpoints) {
                std::process::abort();
            }
            if checkpoint_failed.is_some() {
                return;
            }
            if let Some(path) = args.state {
                let at = position.after(start, *fed);
                if let Err(e) = deal::resume::write(path, engine, &fingerprint, horizon, at) {
                    checkpoint_failed = Some(e);
                }
            }
        },
    );
    if let Some(e) = checkpoint_failed {
        out.diag(&e);
        return INVALID;
    }
    // Saved as of the last event applied, before the report is brought up
    // to `--at`: a later run applies what comes next as if in one run.
    if let Some(path) = args.state {
        let at = position.after(start, replay.fed);
        if let Err(e) = deal::resume::write(path, &engine, &fingerprint, horizon, at) {
            out.diag(&e);
            return INVALID;
        }
        // What is brought up to `--at` is not in the state: the history
        // records it when a later run's events get there.
        if as_of.is_some() && !replay.stopped {
            if let Err(e) = engine.detach_history() {
                out.diag(&CliError::WriteFailed {
                    what: "history",
                    reason: e.to_string(),
                });
                return INVALID;
            }
        }
    }
    if let Some(line) = replay.unended {
        out.diag(&CliError::Unended {
            line,
            file: events_name.to_string(),
        });
    }
    let mut failed = false;
    if let Some(reason) = rejects_file.as_ref().and_then(|r| r.failed.clone()) {
        out.diag(&CliError::Unwritable {
            path: args.rejects.unwrap_or_default().to_string(),
            reason,
        });
        failed = true;
    }
    // Stopped at a bad line, the run knows nothing of what came after it:
    // the report is as of the last event applied, never as of a later
    // `--at` that the unread lines might have changed.
    let stopped = if replay.stopped {
        replay.rejected.last().map(|err| deal::report::Stopped {
            file: events_name.to_string(),
            line: err.line(),
            code: err.code().map(|c| c.to_string()).unwrap_or_default(),
        })
    } else {
        None
    };
    let as_of = if stopped.is_some() { None } else { as_of };
    let as_of_seconds = match &as_of {
        Some(a) => Some(a.instant.as_second()),
        None => engine.last_event().map(|m| m.instant.as_second()),
    };
    let shown = match &as_of {
        Some(a) => {
            if let Err(e) = engine.advance_to(a.instant) {
                out.diag(&driver::CannotReport::new(&source, a.shown.clone(), &e));
                return INVALID;
            }
            Some(a.shown.clone())
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    if let Err(e) = engine.finish() {
        out.diag(&CliError::WriteFailed {
            what: "history",
            reason: e.to_string(),
        });
        return INVALID;
    }
    if let Some(reason) = engine.spill_failure() {
        out.diag(&CliError::SpillFailed {
            reason: reason.to_string(),
        });
    }
    let at = shown.clone().unwrap_or_else(|| "the start".to_string());
    let snapshot = match engine.snapshot() {
        Ok(s) => s,
        Err(e) => {
            out.diag(&driver::CannotReport::new(&source, at, &e));
            return INVALID;
        }
    };
    let mut report = Report::build(&snapshot, shown, replay.rejected.len() as u64);
    report.stopped = stopped.clone();
    let stdout = io::stdout();
    let mut w = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let written = match args.format {
        Format::Json => report.write_json(&mut w),
        Format::Html => {
            let timeline = timeline.as_ref().map(|t| t.borrow());
            let empty = html::Timeline::new(&program);
            let tl = timeline.as_deref().unwrap_or(&empty);
            let wanted = tl.lines_wanted();
            let lines = match &kept_stdin {
                Some(bytes) => html::pick_lines(&bytes[..], &wanted, html::LINE_CHARS),
                None => File::open(events)
                    .map(|f| html::pick_lines(io::BufReader::new(f), &wanted, html::LINE_CHARS))
                    .unwrap_or_default(),
            };
            let page = html::Page::new(&report, &program, &source, events_name, tl, &lines, as_of_seconds);
            page.write(&mut w)
        }
        Format::Text => {
            let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let style = match out.style {
                Style::Graphical { width, .. } => Style::Graphical { color, width },
                other => other,
            };
            text::render(&report, &source, events_name, style, &mut w)
        }
    }
    .and_then(|()| w.flush());
    if let Err(e) = written {
        out.diag(&CliError::WriteFailed {
            what: "report",
            reason: e.to_string(),
        });
        return INVALID;
    }
    // Said last, so that it is what a reader of standard error sees; an
    // input that could not be read at all was said to be already.
    if let Some(st) = stopped
        .as_ref()
        .filter(|st| st.line.is_some() || replay.fed.lines > 0)
    {
        let place = match st.line {
            Some(l) => format!("line {l} of `{}`", st.file),
            None => format!("the end of what could be read of `{}`", st.file),
        };
        let not_at = match args.at {
            Some(at) => format!(", not as of `--at {at}`"),
            None => String::new(),
        };
        out.diag(&CliError::Stopped {
            place,
            last: report
                .as_of
                .clone()
                .unwrap_or_else(|| "none; the start".to_string()),
            not_at,
        });
    }
    if stopped.is_some() {
        return INVALID;
    }
    if let Some(r) = rejects_file.as_ref().filter(|r| r.count > 0) {
        out.diag(&CliError::Rejected {
            count: r.count,
            path: r.path.clone(),
            reasons: r.reasons_said(),
        });
    }
    if failed {
        INVALID
    } else if !report.breaches.is_empty() {
        BREACHED
    } else {
        EVALUATED
    }
}
