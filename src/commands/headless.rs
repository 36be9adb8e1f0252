//! What `--cli`, `lint` and `replay` share around the headless session
//! ([`crate::session::headless`]): the target the command line names, the run's validated
//! settings ([`RunConfig`]), the server's stderr (and, with `--verbose`, progress, logs and
//! findings) passed to our stderr while it runs, and a refused connect as an exit code.

use std::{io::Write, path::PathBuf, time::Duration};

use serde_json::json;
use tokio::{sync::watch, task::JoinHandle};

use super::failure::Failure;
use crate::{
    catalog::{self, Catalog},
    cli::Args,
    config,
    events::{Event, EventBus, FrameType, RingLimits, Stamped},
    responders::{ResponderStore, Root},
    session::{
        ConnectOptions, Session, SessionHandle, Target,
        headless::{Headless, NotConnected},
    },
    wire::Timeout,
};

/// The target the command line names, with its connect options.
pub fn target(args: &Args) -> Result<(Target, ConnectOptions), Failure> {
    let start = config::start(args)
        .map_err(|e| Failure::usage(e.to_string()))?
        .ok_or_else(|| {
            Failure::usage(
                "no target: give a command (after `--`, or first with --cli), a URL, or --config FILE --server NAME",
            )
        })?;
    Ok(match start {
        config::Start::Target(target) => (
            target,
            ConnectOptions {
                era: args.protocol_era.unwrap_or_default(),
                ..ConnectOptions::default()
            },
        ),
        server => {
            let catalog = Catalog::open(
                args.catalog.clone().unwrap_or_else(catalog::default_path),
                args.config.as_deref(),
            )
            .map_err(Failure::usage)?;
            let options = server
                .options(args.protocol_era, &catalog)
                .map_err(Failure::usage)?;
            (server.target(&catalog).map_err(Failure::usage)?, options)
        }
    })
}

/// The history a whole run (lint, replay) keeps: all of it, for the report and `--save`.
pub const WHOLE_RUN: RingLimits = RingLimits {
    max_events: 200_000,
    max_bytes: 256 * 1024 * 1024,
};

/// A run's answer is in hand when it shuts the server down, and nothing the server does next
/// can change what we print; a server that is still busy after EOF (server-everything asks
/// for roots 350 ms after `initialized`, then waits for an answer our closed stdin can no
/// longer carry) would hold every run for the session's 1.5 s. So a run waits this long, then
/// SIGTERM, which still lets the server exit in its own order.
const ONE_SHOT_EXIT_GRACE: Duration = Duration::from_millis(100);

/// A run's settings, checked from the command line before anything starts.
pub struct RunConfig {
    /// What answers the server's requests: the `--responders` file's rules and roots (never
    /// written back), with the current directory as the one root when asked and none is named.
    responders: ResponderStore,
    /// Whether a responders file was given (then the client offers what it can answer).
    answers_requests: bool,
    credentials: Option<PathBuf>,
    /// Pass the server's stderr through (not `--quiet`).
    stderr: bool,
    verbose: bool,
    /// `--connect-timeout`; none for 0.
    connect_limit: Option<Duration>,
    /// `--timeout` as a request's time limit.
    pub timeout: Timeout,
}

impl RunConfig {
    /// `cwd_root`: the current directory is the root when `--responders` names none (a replay
    /// says no: it answers as the recording did, and roots are not the directory it runs in).
    pub fn from_args(args: &Args, cwd_root: bool) -> Result<RunConfig, Failure> {
        let usage = |e: String| Failure::usage(e);
        let mut settings = ResponderStore::open(args.responders.clone())
            .map_err(usage)?
            .get()
            .settings()
            .clone();
        if cwd_root
            && settings.roots.is_empty()
            && let Ok(dir) = std::env::current_dir()
            && let Ok(uri) = url::Url::from_file_path(&dir)
        {
            settings.roots.push(Root {
                uri: uri.to_string(),
                name: dir.file_name().map(|n| n.to_string_lossy().into_owned()),
            });
        }
        let responders = ResponderStore::open(None).map_err(usage)?;
        responders.replace(settings).map_err(usage)?;
        Ok(RunConfig {
            responders,
            answers_requests: args.responders.is_some(),
            credentials: args.oauth_credentials.clone(),
            stderr: !args.cli.quiet,
            verbose: args.cli.verbose,
            connect_limit: (args.cli.connect_timeout > 0)
                .then(|| Duration::from_millis(args.cli.connect_timeout)),
            timeout: crate::session::timeout_after(Duration::from_millis(args.cli.timeout.max(1))),
        })
    }
}

/// The running session, and what follows its events to our stderr.
pub struct Local {
    pub events: EventBus,
    pub session: std::sync::Arc<Session>,
    pub timeout: Timeout,
    headless: Headless,
    answers_requests: bool,
    connect_limit: Option<Duration>,
    stop: watch::Sender<bool>,
    follower: JoinHandle<()>,
}

impl Local {
    pub fn start(config: RunConfig, ring: RingLimits) -> Local {
        // No listener, so no callback: a server that asks for authorization ends the call with
        // "authorization required" (exit 3), unless kept credentials still work.
        let headless = Headless::start(config.responders, config.credentials, ring);
        let (stop, stop_rx) = watch::channel(false);
        let follower = tokio::spawn(follow(
            headless.events.clone(),
            config.stderr,
            config.verbose,
            stop_rx,
        ));
        Local {
            events: headless.events.clone(),
            session: headless.session.clone(),
            timeout: config.timeout,
            headless,
            answers_requests: config.answers_requests,
            connect_limit: config.connect_limit,
            stop,
            follower,
        }
    }

    /// Connects as a one-shot client, within `--connect-timeout`; the live handle, or why not
    /// as an exit code.
    pub async fn connect(
        &self,
        target: Target,
        mut options: ConnectOptions,
    ) -> Result<SessionHandle, Failure> {
        options.exit_grace = ONE_SHOT_EXIT_GRACE;
        // A one-shot run offers roots, as every real client does (a server may list tools only
        // for such a client: server-everything's get-roots-list), and answers `roots/list`
        // in-process, so the server's question never waits for anyone. Sampling and
        // elicitation need a person or rules: offered only with a responders file.
        options.client_capabilities = if self.answers_requests {
            json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {"form": {}}})
        } else {
            json!({"roots": {"listChanged": true}})
        };
        self.connect_as(target, options).await
    }

    /// Connects with the client capabilities `options` already say (replay uses the
    /// recorded ones).
    pub async fn connect_as(
        &self,
        target: Target,
        options: ConnectOptions,
    ) -> Result<SessionHandle, Failure> {
        match self
            .headless
            .connect(target, options, self.connect_limit)
            .await
        {
            Ok(handle) => Ok(handle),
            Err(NotConnected::Timeout(limit)) => Err(Failure::new(
                4,
                "unreachable",
                format!(
                    "not connected within {} ms (--connect-timeout)",
                    limit.as_millis()
                ),
            )),
            Err(NotConnected::Refused(why)) => Err(refused(&self.events, why)),
            Err(NotConnected::Ended) => Err(Failure::new(4, "unreachable", "the session ended")),
        }
    }

    /// Disconnects and lets the follower drain what is left.
    pub async fn finish(self) {
        self.headless.finish().await;
        let _ = self.stop.send(true);
        let _ = self.follower.await;
    }
}

/// Why connecting failed, as an exit code: a 401 (or a 403 asking for more scope) on the way is
/// "authorization required", anything else "unreachable".
pub fn refused(events: &EventBus, message: String) -> Failure {
    let auth = retained(events).any(|e| match e.event {
        Event::Http(http) => http.asks_authorization(),
        _ => false,
    });
    if auth {
        Failure::new(3, "auth_required", message)
    } else {
        Failure::new(4, "unreachable", message)
    }
}

/// The retained events, typed. A one-shot run keeps few, so reading them all is cheap.
pub fn retained(events: &EventBus) -> impl Iterator<Item = Stamped> {
    events
        .next_after(0, usize::MAX)
        .records
        .into_iter()
        .filter_map(|r| r.read().ok())
}

/// Passes the stdio server's stderr through to ours (unless `--quiet`) and, with `--verbose`,
/// progress, log notifications and findings as their event records, one JSON line each, until
/// told to stop; then drains what is left.
async fn follow(events: EventBus, stderr: bool, verbose: bool, mut stop: watch::Receiver<bool>) {
    let mut newest = events.watch();
    let mut seen = 0;
    loop {
        let batch = events.next_after(seen, 1024);
        if batch.records.is_empty() {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                _ = newest.changed() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let mut err = std::io::stderr().lock();
        for record in batch.records {
            seen = record.seq;
            let Ok(e) = record.read() else {
                continue;
            };
            match e.event {
                Event::Stderr { line } if stderr => {
                    let _ = writeln!(err, "{}", crate::term::text(&line));
                }
                Event::Progress { .. } | Event::Finding { .. } if verbose => {
                    let _ = writeln!(err, "{}", crate::term::json(&record.json));
                }
                Event::Frame(frame)
                    if verbose
                        && frame.frame_type == FrameType::Notification
                        && frame.method.as_deref() == Some("notifications/message") =>
                {
                    let _ = writeln!(err, "{}", crate::term::json(&record.json));
                }
                _ => {}
            }
        }
    }
}
