//! One session run in this process with no listener: what `--cli`, `mcpscope lint` and
//! `mcpscope replay` connect through. The target comes from the command line (`-- COMMAND`,
//! `--url`, or a server of `--config`), the session is the same `Sessions` machinery the UI
//! drives, and the server's stderr (and, with `--verbose`, progress, logs and findings) goes to
//! our stderr while it runs.

use crate::session::SessionState;
use std::{sync::Arc, time::Duration};

use serde_json::json;
use tokio::{sync::watch, task::JoinHandle};

use super::{Failure, follow, refused};
use crate::{
    catalog::{self, Catalog},
    cli::Args,
    config,
    events::{EventBus, RingLimits},
    responders::{ResponderStore, Root},
    session::{ConnectOptions, Session, SessionHandle, Sessions, Target},
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

/// `--timeout` as a request's time limit.
pub fn timeout(args: &Args) -> Timeout {
    crate::session::timeout_after(Duration::from_millis(args.cli.timeout.max(1)))
}

/// A subcommand's exit code: its own, or a failure's after its JSON error line on stderr.
pub fn exit_code(outcome: Result<u8, Failure>) -> u8 {
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{}", crate::term::json(&failure.line()));
            failure.exit
        }
    }
}

/// The responders a run answers the server with: the `--responders` file's (never written
/// back), with the current directory as the one root when the file names none.
fn one_shot_responders(args: &Args, cwd_root: bool) -> Result<ResponderStore, Failure> {
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
    let store = ResponderStore::open(None).map_err(usage)?;
    store.replace(settings).map_err(usage)?;
    Ok(store)
}

/// The running session and what follows its events.
pub struct Local {
    pub events: EventBus,
    pub session: Arc<Session>,
    /// Whether a responders file was given (then the client offers what it can answer).
    responders: bool,
    stop: watch::Sender<bool>,
    follower: JoinHandle<()>,
}

impl Local {
    pub fn start(args: &Args, ring: RingLimits) -> Result<Local, Failure> {
        Self::start_with(args, ring, true)
    }

    /// `cwd_root`: the current directory is the root when `--responders` names none (a replay
    /// says no: it answers as the recording did, and roots are not the directory it runs in).
    pub fn start_with(args: &Args, ring: RingLimits, cwd_root: bool) -> Result<Local, Failure> {
        let responders = one_shot_responders(args, cwd_root)?;
        let events = EventBus::new(ring);
        // No listener, so no callback: a server that asks for authorization ends the call with
        // "authorization required" (exit 3), unless kept credentials still work.
        let broker = crate::oauth::broker::Broker::new(None, args.oauth_credentials.clone());
        let sessions = Sessions::new(events.clone(), Arc::new(responders), broker);
        let session = sessions.create(None, None);
        let (stop, stop_rx) = watch::channel(false);
        let follower = tokio::spawn(follow(
            events.clone(),
            !args.cli.quiet,
            args.cli.verbose,
            stop_rx,
        ));
        Ok(Local {
            events,
            session,
            responders: args.responders.is_some(),
            stop,
            follower,
        })
    }

    /// Connects, within `--connect-timeout`; the live handle, or why not as an exit code.
    pub async fn connect(
        &self,
        target: Target,
        mut options: ConnectOptions,
        args: &Args,
    ) -> Result<SessionHandle, Failure> {
        options.exit_grace = ONE_SHOT_EXIT_GRACE;
        // A one-shot run offers roots, as every real client does (a server may list tools only
        // for such a client: server-everything's get-roots-list), and answers `roots/list`
        // in-process, so the server's question never waits for anyone. Sampling and
        // elicitation need a person or rules: offered only with a responders file.
        options.client_capabilities = if self.responders {
            json!({"roots": {"listChanged": true}, "sampling": {}, "elicitation": {"form": {}}})
        } else {
            json!({"roots": {"listChanged": true}})
        };
        self.connect_as(target, options, args).await
    }

    /// Connects with the client capabilities `options` already say (replay uses the
    /// recorded ones).
    pub async fn connect_as(
        &self,
        target: Target,
        options: ConnectOptions,
        args: &Args,
    ) -> Result<SessionHandle, Failure> {
        let connecting = self.session.connect(target, options);
        let info = if args.cli.connect_timeout == 0 {
            Some(connecting.await)
        } else {
            tokio::time::timeout(Duration::from_millis(args.cli.connect_timeout), connecting)
                .await
                .ok()
        };
        match info {
            None => Err(Failure::new(
                4,
                "unreachable",
                format!(
                    "not connected within {} ms (--connect-timeout)",
                    args.cli.connect_timeout
                ),
            )),
            Some(info) if info.state != SessionState::Connected => Err(refused(
                &self.events,
                info.error
                    .unwrap_or_else(|| format!("the session is {}", info.state)),
            )),
            Some(_) => self
                .session
                .handle()
                .ok_or_else(|| Failure::new(4, "unreachable", "the session ended")),
        }
    }

    /// Disconnects and lets the follower drain what is left.
    pub async fn finish(self) {
        self.session.disconnect().await;
        let _ = self.stop.send(true);
        let _ = self.follower.await;
    }
}
