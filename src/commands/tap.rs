//! `mcpscope tap [--to URL] [--name NAME] [--save FILE] -- COMMAND [ARGS…]`: put in an MCP
//! client's config in place of a stdio server's command. The server runs as our child, with our
//! environment and working directory as the client gave them, in our process group (so a
//! client that ends the group ends it too). Its stdin, stdout and stderr pass through plain
//! threads that write each chunk on as soon as it is read: no line buffering, nothing a client
//! could notice. Each complete line is first put, without ever waiting, into a bounded queue
//! (full: the line is counted as dropped from the report, never held back), so the report
//! keeps the order of both directions; one task reports from it to a running mcpscope
//! (`POST /api/tap`, reconnecting when one appears) and, with `--save`, keeps a local session
//! for the recording.
//!
//! Exit: the server's exit code (128 + the signal when a signal ended it). SIGTERM, SIGINT and
//! SIGHUP are passed on to the server.

use std::{
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::mpsc;

use crate::{
    cli::{Args, TapArgs},
    events::{EventBus, RingLimits},
    oauth::broker::Broker,
    recording::export::{Secrets, save},
    responders::ResponderStore,
    session::{Sessions, Tapped},
    tap::{
        pipe::{Queue, pass},
        remote::{Connection, Remote},
        report::{Hello, Peer, Report},
    },
};

/// Lines waiting to be reported; a full queue drops from the report, never from the wire.
const QUEUE: usize = 16 * 1024;
/// How often a tap with no mcpscope to report to tries again (on the next line after it).
const RETRY: Duration = Duration::from_secs(2);
/// How long, after the server exits, the report may take to get out.
const FLUSH: Duration = Duration::from_secs(3);

pub async fn run(args: &Args, tap: &TapArgs) -> u8 {
    if tap.install.is_some() || tap.uninstall.is_some() {
        return install_or_uninstall(tap);
    }
    let Some((command, rest)) = tap.target.split_first() else {
        eprintln!("mcpscope tap: name the server after `--`: mcpscope tap -- COMMAND [ARGS…]");
        return 2;
    };
    let remote = match Remote::from_flags(&tap.to, args.token.as_deref(), crate::config_dir()) {
        Ok(remote) => remote,
        Err(message) => {
            eprintln!("mcpscope tap: {message}");
            return 2;
        }
    };
    let mut child = match Command::new(command)
        .args(rest)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("mcpscope tap: could not start {command:?}: {e}");
            return 127;
        }
    };
    let clock = Instant::now();
    let (tx, rx) = mpsc::channel(QUEUE);
    let queue = Queue {
        tx,
        dropped: Arc::new(AtomicU64::new(0)),
    };
    let hello = Hello {
        name: tap.name.clone(),
        transport: "stdio".into(),
        command: Some(command.clone()),
        args: rest.to_vec(),
        cwd: std::env::current_dir()
            .ok()
            .map(|d| d.display().to_string()),
        pid: std::process::id(),
        server_pid: Some(child.id()),
        secrets: secret_env_values(),
        ..Hello::default()
    };
    let local = tap.save.as_ref().map(|_| Local::start(&hello));
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let reporter = tokio::spawn(report(
        rx,
        queue.dropped.clone(),
        hello,
        remote,
        local,
        done_rx,
    ));

    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (q1, q2, q3) = (queue.clone(), queue.clone(), queue.clone());
    std::thread::spawn(move || {
        pass(
            std::io::stdin().lock(),
            stdin,
            Some(Peer::Client),
            clock,
            &q1,
        )
    });
    let out = std::thread::spawn(move || {
        pass(
            stdout,
            std::io::stdout().lock(),
            Some(Peer::Server),
            clock,
            &q2,
        )
    });
    let err = std::thread::spawn(move || pass(stderr, std::io::stderr(), None, clock, &q3));

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    let status = forward_signals_until(pid, exit_rx).await;
    // What the server wrote before it exited still goes out first (unless something it
    // started holds its pipes open).
    for pump in [out, err] {
        let _ = tokio::task::spawn_blocking(move || pump.join()).await;
    }
    let code = match status {
        Ok(status) => {
            use std::os::unix::process::ExitStatusExt;
            queue.offer(Report::Exit(serde_json::json!({
                "code": status.code(),
                "signal": status.signal(),
            })));
            status
                .code()
                .map(|c| c as u8)
                .or(status.signal().map(|s| 128u8.wrapping_add(s as u8)))
                .unwrap_or(1)
        }
        Err(e) => {
            eprintln!("mcpscope tap: lost the server: {e}");
            1
        }
    };
    drop(queue);
    let _ = done_tx.send(());
    let flushed = tokio::time::timeout(FLUSH, async {
        let (local, request) = reporter.await.unwrap_or((None, None));
        if let Some(request) = request {
            let _ = request.await;
        }
        local
    })
    .await;
    match flushed {
        Ok(local) => {
            if let (Some(local), Some(path)) = (local, &tap.save)
                && let Err(e) = local.save(path)
            {
                eprintln!("mcpscope tap: could not write {}: {e}", path.display());
            }
        }
        Err(_) => eprintln!("mcpscope tap: the report did not finish in time"),
    }
    code
}

/// Runs `--install` or `--uninstall`; the exit code.
fn install_or_uninstall(tap: &TapArgs) -> u8 {
    let name = tap.server.as_deref().unwrap_or_default();
    let (path, installing) = match (&tap.install, &tap.uninstall) {
        (Some(p), _) => (p, true),
        (None, Some(p)) => (p, false),
        (None, None) => return 2,
    };
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "mcpscope".into());
    let done = if installing {
        crate::tap::install::install(path, name, &exe, &tap.to)
    } else {
        crate::tap::install::uninstall(path, name)
    };
    match done {
        Ok(message) => {
            println!("{}", crate::term::text(&message));
            0
        }
        Err(message) => {
            eprintln!("mcpscope tap: {}", crate::term::text(&message));
            1
        }
    }
}

/// Passes SIGTERM, SIGINT and SIGHUP on to the server until it exits.
async fn forward_signals_until(
    pid: nix::unistd::Pid,
    mut exited: tokio::sync::oneshot::Receiver<std::io::Result<std::process::ExitStatus>>,
) -> std::io::Result<std::process::ExitStatus> {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        (SignalKind::terminate(), nix::sys::signal::Signal::SIGTERM),
        (SignalKind::interrupt(), nix::sys::signal::Signal::SIGINT),
        (SignalKind::hangup(), nix::sys::signal::Signal::SIGHUP),
    ];
    let mut streams: Vec<_> = kinds
        .iter()
        .filter_map(|(kind, sig)| signal(*kind).ok().map(|s| (s, *sig)))
        .collect();
    loop {
        let any_signal = async {
            let waits = streams
                .iter_mut()
                .map(|(s, sig)| Box::pin(async move { s.recv().await.map(|_| *sig) }));
            futures_select_first(waits).await
        };
        tokio::select! {
            status = &mut exited => {
                return status.unwrap_or_else(|_| Err(std::io::Error::other("the waiting thread ended")));
            }
            Some(sig) = any_signal => {
                let _ = nix::sys::signal::kill(pid, sig);
            }
        }
    }
}

/// The first of several futures to finish (a tiny `select_all`).
async fn futures_select_first<F, T>(futures: impl IntoIterator<Item = F>) -> Option<T>
where
    F: std::future::Future<Output = Option<T>> + Unpin,
{
    let mut futures: Vec<F> = futures.into_iter().collect();
    if futures.is_empty() {
        return std::future::pending().await;
    }
    std::future::poll_fn(|cx| {
        for f in futures.iter_mut() {
            if let std::task::Poll::Ready(v) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready(v);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Environment values whose names look secret: the server got them, so a recording scrubs them
/// wherever it echoes them.
fn secret_env_values() -> Vec<String> {
    let none = Default::default();
    std::env::vars()
        .filter(|(k, v)| !v.is_empty() && crate::redact::is_secret_name(k, &none))
        .map(|(_, v)| v)
        .collect()
}

/// Reports every record: to the running mcpscope when there is one, and to the local session
/// kept for `--save`. Returns the local session when the queue closes.
async fn report(
    mut rx: mpsc::Receiver<Report>,
    dropped: Arc<AtomicU64>,
    hello: Hello,
    remote: Remote,
    mut local: Option<Local>,
    mut done: tokio::sync::oneshot::Receiver<()>,
) -> (Option<Local>, Option<tokio::task::JoinHandle<()>>) {
    let mut conn: Option<Connection> = None;
    let mut next_try = Instant::now();
    let mut reported_dropped = 0;
    let mut any_before = false;
    let mut finishing = false;
    loop {
        // Once the server has exited, what is queued still goes; the client's side may never
        // close (its pump keeps the queue open), so the end does not wait for it.
        let record = if finishing {
            match rx.try_recv() {
                Ok(record) => record,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                record = rx.recv() => match record {
                    Some(record) => record,
                    None => break,
                },
                _ = &mut done => {
                    finishing = true;
                    continue;
                }
            }
        };
        let now_dropped = dropped.load(Ordering::Relaxed);
        let mut records = Vec::with_capacity(2);
        if now_dropped > reported_dropped {
            records.push(Report::Dropped(now_dropped - reported_dropped));
            reported_dropped = now_dropped;
        }
        records.push(record);
        for record in records {
            if let Some(local) = &mut local {
                local.tapped.apply(record.clone());
            }
            if conn.is_none() && Instant::now() >= next_try {
                next_try = Instant::now() + RETRY;
                conn = remote.connect().and_then(|c| {
                    let hello = Hello {
                        late: any_before,
                        ..hello.clone()
                    };
                    let value = serde_json::to_value(hello).expect("a hello serialises");
                    c.tx.try_send(Ok(Report::Hello(value).encode().into()))
                        .ok()
                        .map(|_| c)
                });
            }
            any_before = true;
            if let Some(c) = &conn
                && c.tx.send(Ok(record.encode().into())).await.is_err()
            {
                conn = None;
            }
        }
    }
    // The body ends here; the request still has to say so to mcpscope.
    (local, conn.map(|c| c.task))
}

/// The session `--save` writes: the same tapped session mcpscope shows, kept in this process.
struct Local {
    events: EventBus,
    tapped: Tapped,
    secrets: Vec<String>,
}

impl Local {
    fn start(hello: &Hello) -> Local {
        let events = EventBus::new(RingLimits::default());
        let sessions = Sessions::new(
            events.clone(),
            Arc::new(ResponderStore::open(None).expect("no file, nothing to refuse")),
            Broker::new(None, None),
            Arc::new(crate::model::Providers::default()),
        );
        let tapped = sessions.open_tap(hello);
        Local {
            events,
            tapped,
            secrets: hello.secrets.clone(),
        }
    }

    fn save(mut self, path: &std::path::Path) -> std::io::Result<()> {
        self.tapped.end(None);
        let session = self.tapped.session();
        let secrets = Secrets::new(self.secrets.into_iter().chain(session.secret_values()));
        save(&self.events, session.id(), &session.info(), &secrets, path)
    }
}
