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
    time::Instant,
};

use super::reporter::Reporter;
use crate::{
    cli::{Args, TapArgs},
    tap::{
        pipe::pass,
        remote::Remote,
        report::{Hello, Peer, Report},
    },
};

/// How long, after the server exits, its pipes may take to reach their end.
const PIPES_END: std::time::Duration = std::time::Duration::from_secs(2);

pub async fn run(args: &Args, tap: &TapArgs) -> u8 {
    if tap.install.is_some() || tap.uninstall.is_some() {
        return install_or_uninstall(tap);
    }
    let Some((command, rest)) = tap.target.split_first() else {
        eprintln!("mcpscope tap: name the server after `--`: mcpscope tap -- COMMAND [ARGS…]");
        return 2;
    };
    let remote = match Remote::from_flags(&tap.to, args.token.as_deref()) {
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
    let reporter = Reporter::start(hello, remote, tap.save.clone());
    let queue = reporter.queue();

    let stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let (q1, q2, q3) = (queue.clone(), queue.clone(), queue.clone());
    let written = Arc::new(AtomicU64::new(0));
    let (w1, w2, w3) = (written.clone(), written.clone(), written.clone());
    std::thread::spawn(move || {
        pass(
            std::io::stdin().lock(),
            stdin,
            Some(Peer::Client),
            clock,
            &q1,
            &w1,
        )
    });
    // Each of the server's pipes says when it has reached its end.
    let (out_done, out) = tokio::sync::oneshot::channel::<()>();
    let (err_done, err) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        pass(
            stdout,
            std::io::stdout().lock(),
            Some(Peer::Server),
            clock,
            &q2,
            &w2,
        );
        let _ = out_done.send(());
    });
    std::thread::spawn(move || {
        pass(stderr, std::io::stderr(), None, clock, &q3, &w3);
        let _ = err_done.send(());
    });

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (exit_tx, exit_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = exit_tx.send(child.wait());
    });
    let status = forward_signals_until(pid, exit_rx).await;
    // What the server wrote before it exited still goes out first, however slowly the client
    // reads it; but something the server started may hold its pipes open with nothing in them,
    // and the client must still see the tap end: once nothing has moved for a while, it ends.
    let pipes = async {
        let _ = out.await;
        let _ = err.await;
    };
    tokio::pin!(pipes);
    let mut moved = written.load(Ordering::Relaxed);
    while tokio::time::timeout(PIPES_END, &mut pipes).await.is_err() {
        let now = written.load(Ordering::Relaxed);
        if now == moved {
            break;
        }
        moved = now;
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
    reporter.finish("tap").await;
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
    use nix::sys::signal::{Signal, kill};
    use tokio::signal::unix::{SignalKind, signal};
    // A signal we cannot listen for is simply not passed on.
    let (mut term, mut int, mut hup) = (
        signal(SignalKind::terminate()).ok(),
        signal(SignalKind::interrupt()).ok(),
        signal(SignalKind::hangup()).ok(),
    );
    async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
        if let Some(s) = s
            && s.recv().await.is_some()
        {
            return;
        }
        std::future::pending().await
    }
    loop {
        let sig = tokio::select! {
            status = &mut exited => {
                return status.unwrap_or_else(|_| Err(std::io::Error::other("the waiting thread ended")));
            }
            () = next(&mut term) => Signal::SIGTERM,
            () = next(&mut int) => Signal::SIGINT,
            () = next(&mut hup) => Signal::SIGHUP,
        };
        let _ = kill(pid, sig);
    }
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
