//! The `deal` command: a thin shell over the library.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use miette::Diagnostic;
use thiserror::Error;

use deal::diag::source::SourceFile;
use deal::diag::{render, Style, WithSource};
use deal::driver::{self, LoadError};
use deal::syntax::SyntaxError;

#[path = "deal/rejects.rs"]
mod rejects;
#[path = "deal/run.rs"]
mod run;
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
        } => run::run(
            &out,
            &run::RunArgs {
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
