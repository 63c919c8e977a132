//! `deal serve`: a local playground. One page (embedded in the binary)
//! with an editor for the contract, the diagnostics of `deal check` as you
//! type, an events pane, what-if values for the terms, an as-of slider, and
//! the report and timeline of `--format html`, redrawn as you edit.
//!
//! The server evaluates only the text each request carries: it reads no
//! file but the contract it was started with, once, at start. It listens
//! on loopback unless told otherwise, answers only requests addressed to
//! it by a loopback name (so a web page elsewhere cannot reach it through
//! DNS tricks), bounds the size of each request, and gives each evaluation
//! a budget of events and of time, past which it is stopped with a message
//! that says so.

mod eval;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use miette::Diagnostic;
use thiserror::Error;

pub use eval::{check, run, Budget, CheckIn, RunIn};

/// The largest request body: a contract (at most 1 MiB) and its events.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

const PAGE: &str = include_str!("assets/playground.html");
const PAGE_CSS: &str = include_str!("assets/playground.css");
const PAGE_JS: &str = include_str!("assets/playground.js");
const EXAMPLE: &str = include_str!("../../contracts/microsoft_openai.deal");
const EXAMPLE_EVENTS: &str = include_str!("../../contracts/microsoft_openai.events.jsonl");

/// How the playground is started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub host: IpAddr,
    pub port: u16,
    /// The contract it was started with: its name and text.
    pub contract: Option<(String, String)>,
    pub budget: Budget,
}

#[derive(Debug, Error, Diagnostic)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason}")]
    #[diagnostic(
        code(deal::cli::cannot_listen),
        help("another program (perhaps another `deal serve`) has this port: pick another with `--port`, e.g. `deal serve --port 8081`")
    )]
    CannotListen { addr: String, reason: String },
}

struct App {
    page: String,
    budget: Budget,
    /// At most this many evaluations run at once; the others wait.
    slots: tokio::sync::Semaphore,
    port: u16,
    /// Listening beyond loopback on purpose: any `Host` is answered.
    any_host: bool,
}

/// Builds the page once: styles, scripts and the starting texts inline.
fn page(contract: Option<&(String, String)>) -> String {
    let (name, text, events) = match contract {
        Some((name, text)) => (name.as_str(), text.as_str(), ""),
        None => ("microsoft_openai.deal", EXAMPLE, EXAMPLE_EVENTS),
    };
    let initial = serde_json::json!({
        "name": name,
        "contract": text,
        "events": events,
        "example": {"contract": EXAMPLE, "events": EXAMPLE_EVENTS},
    });
    PAGE.replace("/*REPORT_CSS*/", crate::report::html::CSS)
        .replace("/*PAGE_CSS*/", PAGE_CSS)
        .replace("/*REPORT_JS*/", crate::report::html::JS)
        .replace("/*PAGE_JS*/", PAGE_JS)
        .replace("/*INITIAL*/", &crate::report::html::fmt::script_json(&initial))
}

/// Serves until interrupted. Prints the address to standard error once
/// listening.
pub fn serve(options: ServeOptions) -> Result<(), ServeError> {
    let addr = SocketAddr::new(options.host, options.port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .map_err(|e| ServeError::CannotListen {
            addr: addr.to_string(),
            reason: e.to_string(),
        })?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ServeError::CannotListen {
                addr: addr.to_string(),
                reason: match e.kind() {
                    std::io::ErrorKind::AddrInUse => "the address is already in use".to_string(),
                    _ => e.to_string(),
                },
            })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(options.port);
        let app = Arc::new(App {
            page: page(options.contract.as_ref()),
            budget: options.budget,
            slots: tokio::sync::Semaphore::new(2),
            port,
            any_host: !options.host.is_loopback(),
        });
        let router = Router::new()
            .route("/", get(index))
            .route("/health", get(|| async { "ok" }))
            .route("/api/check", post(api_check))
            .route("/api/run", post(api_run))
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(app);
        let shown = SocketAddr::new(options.host, port);
        eprintln!("deal serve: the playground is at http://{shown}/ (Ctrl-C stops it)");
        if !options.host.is_loopback() {
            eprintln!(
                "deal serve: warning: listening on {}, which other machines may reach",
                options.host
            );
        }
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
        served.map_err(|e| ServeError::CannotListen {
            addr: shown.to_string(),
            reason: e.to_string(),
        })
    })
}

/// Only requests addressed to this server by a loopback name are
/// answered: a page elsewhere that points its own name at 127.0.0.1 is
/// turned away.
fn host_allowed(app: &App, headers: &HeaderMap) -> bool {
    if app.any_host {
        return true;
    }
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let port = app.port.to_string();
    let (name, p) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((n, tail)) => (n, tail.strip_prefix(':').unwrap_or("")),
            None => return false,
        }
    } else {
        match host.split_once(':') {
            Some((n, p)) => (n, p),
            None => (host, ""),
        }
    };
    (p.is_empty() || p == port) && matches!(name, "127.0.0.1" | "localhost" | "::1")
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        "this playground answers only on 127.0.0.1 and localhost\n",
    )
        .into_response()
}

fn secure(mut r: Response, csp: &'static str) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    r
}

async fn index(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if !host_allowed(&app, &headers) {
        return forbidden();
    }
    let r = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        app.page.clone(),
    )
        .into_response();
    secure(
        r,
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; form-action 'none'",
    )
}

/// Runs `work` on a blocking thread within the budget; a run past it is
/// told to stop, and the answer says so.
async fn within_budget<T: serde::Serialize + Send + 'static>(
    app: &App,
    work: impl FnOnce(Arc<std::sync::atomic::AtomicBool>) -> T + Send + 'static,
) -> Response {
    let Ok(Ok(_permit)) = tokio::time::timeout(Duration::from_secs(5), app.slots.acquire()).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"error": "the playground is busy with other evaluations; try again in a moment"})),
        )
            .into_response();
    };
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let task = tokio::task::spawn_blocking({
        let stop = Arc::clone(&stop);
        move || work(stop)
    });
    let limit = app.budget.time + Duration::from_millis(500);
    match tokio::time::timeout(limit, task).await {
        Ok(Ok(out)) => secure(Json(out).into_response(), "default-src 'none'"),
        Ok(Err(_)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({"error": "the evaluation failed"})),
        )
            .into_response(),
        Err(_) => {
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({"error": app.budget.time_message()})),
            )
                .into_response()
        }
    }
}

async fn api_check(State(app): State<Arc<App>>, headers: HeaderMap, Json(input): Json<CheckIn>) -> Response {
    if !host_allowed(&app, &headers) {
        return forbidden();
    }
    within_budget(&app, move |_| check(&input)).await
}

async fn api_run(State(app): State<Arc<App>>, headers: HeaderMap, Json(input): Json<RunIn>) -> Response {
    if !host_allowed(&app, &headers) {
        return forbidden();
    }
    let budget = app.budget;
    within_budget(&app, move |stop| run(&input, budget, &stop)).await
}
