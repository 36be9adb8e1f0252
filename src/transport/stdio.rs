//! The stdio transport: spawns the target (command + argument vector, never a shell) with a
//! minimal inherited environment plus the user's variables, reads stdout as frames and stderr as
//! lines, and shuts down the way real servers need: close stdin, wait, SIGTERM, then SIGKILL —
//! some servers ignore EOF while one of their own requests is unanswered.

use std::{collections::BTreeMap, path::PathBuf, process::Stdio, time::Duration};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::Pid,
};
use tokio::{
    io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::{mpsc, oneshot},
    time::timeout,
};

use super::{Exit, Link, ToTransport, TransportEvent};

/// Frames longer than this are cut off with a finding. Real servers send tens of MB at most.
pub const MAX_FRAME_BYTES: usize = 512 * 1024 * 1024;
/// How much of an over-long frame is kept: enough for its id, to fail the request it answers.
const HEAD: usize = 512;
/// stderr is for humans; longer lines are split.
const MAX_STDERR_LINE: usize = 64 * 1024;
/// Inherited from our own environment; everything else must be given explicitly (`-e`), so a
/// server never sees secrets that happen to be in the inspector's environment.
const INHERITED_ENV: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR",
    "TZ",
];

/// How long a server may take to exit on its own once its stdin closes (a session's default).
pub const GRACE_AFTER_EOF: Duration = Duration::from_millis(1500);
const GRACE_AFTER_TERM: Duration = Duration::from_secs(2);

/// What to spawn.
#[derive(Debug, Clone)]
pub struct StdioTarget {
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
    /// Values that came from `${input:}` / `${env:}` placeholders: hidden wherever they appear
    /// in the description (an argument, the working directory), and scrubbed from exports.
    pub secrets: Vec<String>,
    /// What mcpscope chose for this command and why (`mcpscope dev`: the SDK and environment a
    /// Python server runs with), shown in the session's description.
    pub note: Option<String>,
}

/// Spawns the target and returns the link. Fails only if the process cannot be started.
/// At shutdown the server gets `exit_grace` to exit on its own after EOF, then SIGTERM.
pub fn spawn(target: &StdioTarget, exit_grace: Duration) -> std::io::Result<Link> {
    let mut cmd = Command::new(&target.command);
    cmd.args(&target.args)
        .env_clear()
        .envs(
            INHERITED_ENV
                .iter()
                .filter_map(|k| std::env::var_os(k).map(|v| (*k, v))),
        )
        .envs(&target.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so shutdown reaches grandchildren (npx → node) too, and a
        // Ctrl-C in our terminal does not kill it before we shut it down in order.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = &target.cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn()?;
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let (events_tx, events_rx) = mpsc::channel(1024);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (close_stdin_tx, close_stdin_rx) = oneshot::channel();
    let (shutdown_tx, shutdown_rx) = oneshot::channel();

    tokio::spawn(write_frames(stdin, out_rx, close_stdin_rx));
    let reader = tokio::spawn(read_frames(
        BufReader::with_capacity(64 * 1024, stdout),
        events_tx.clone(),
    ));
    let stderr_reader = tokio::spawn(read_stderr(BufReader::new(stderr), events_tx.clone()));
    tokio::spawn(async move {
        let status = supervise(&mut child, shutdown_rx, close_stdin_tx, exit_grace).await;
        // Deliver what the child wrote before it died ahead of the exit itself; a grandchild
        // holding the pipes open must not delay the exit for long, though.
        let _ = timeout(Duration::from_millis(500), reader).await;
        let _ = timeout(Duration::from_millis(200), stderr_reader).await;
        let _ = events_tx.send(TransportEvent::Closed(status)).await;
    });

    Ok(Link {
        outgoing: out_tx,
        incoming: events_rx,
        shutdown: Some(shutdown_tx),
    })
}

async fn supervise(
    child: &mut Child,
    shutdown: oneshot::Receiver<()>,
    close_stdin: oneshot::Sender<()>,
    exit_grace: Duration,
) -> Exit {
    let pid = child.id().map(|p| Pid::from_raw(p as i32));
    let status = tokio::select! {
        status = child.wait() => status,
        _ = shutdown => {
            let _ = close_stdin.send(());
            match timeout(exit_grace, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    if let Some(pid) = pid {
                        let _ = killpg(pid, Signal::SIGTERM);
                    }
                    match timeout(GRACE_AFTER_TERM, child.wait()).await {
                        Ok(status) => status,
                        Err(_) => {
                            if let Some(pid) = pid {
                                let _ = killpg(pid, Signal::SIGKILL);
                            }
                            child.wait().await
                        }
                    }
                }
            }
        }
    };
    // Whatever the child left behind in its group goes with it.
    if let Some(pid) = pid {
        let _ = killpg(pid, Signal::SIGKILL);
    }
    describe(status)
}

fn describe(status: std::io::Result<std::process::ExitStatus>) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => Exit {
            code: s.code(),
            signal: s.signal(),
            description: s.to_string(),
        },
        Err(e) => Exit {
            code: None,
            signal: None,
            description: format!("could not wait for the process: {e}"),
        },
    }
}

async fn write_frames(
    mut stdin: ChildStdin,
    mut frames: mpsc::UnboundedReceiver<ToTransport>,
    mut close: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            biased;
            _ = &mut close => break,
            frame = frames.recv() => {
                let frame = match frame {
                    Some(ToTransport::Message(m)) => m.text,
                    // One pipe, no headers: nothing to learn or open.
                    Some(
                        ToTransport::ProtocolVersion(_)
                        | ToTransport::OpenServerStream
                        | ToTransport::Modern
                        | ToTransport::Abandon { .. },
                    ) => continue,
                    None => break,
                };
                let mut bytes = frame.into_bytes();
                bytes.push(b'\n');
                if stdin.write_all(&bytes).await.is_err() || stdin.flush().await.is_err() {
                    // The child is gone; the supervisor reports the exit.
                    break;
                }
            }
        }
    }
    // Dropping stdin closes the pipe: the server sees EOF.
}

/// Splits a byte stream into lines with no fixed cap below its `max`; a final unterminated line
/// is delivered too, and `\r\n` endings lose the `\r`.
struct LineReader<R> {
    reader: R,
    max: usize,
    /// Whether an over-long line's first `max` bytes are handed out (`Cut`); else none of it is
    /// kept, so a line of gigabytes costs no more memory than the limit.
    keep_cut: bool,
    line: Vec<u8>,
    /// The first bytes of the last over-long line (without `keep_cut`): where its id is.
    head: Vec<u8>,
    /// Bytes skipped so far of an over-long line (`Some` while inside one).
    skipping: Option<usize>,
    /// A `Skipped` report owed for a line that was cut and ended within one read.
    owed: Option<usize>,
}

enum LineChunk {
    Line(Vec<u8>),
    /// The first `max` bytes of an over-long line.
    Cut(Vec<u8>),
    /// How many bytes of an over-long line were skipped after the cut (all of them, without
    /// `keep_cut`).
    Skipped(usize),
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    fn new(reader: R, max: usize, keep_cut: bool) -> Self {
        LineReader {
            reader,
            max,
            keep_cut,
            line: Vec::new(),
            head: Vec::new(),
            skipping: None,
            owed: None,
        }
    }

    async fn next(&mut self) -> Option<LineChunk> {
        if let Some(n) = self.owed.take() {
            return Some(LineChunk::Skipped(n));
        }
        loop {
            let buf = match self.reader.fill_buf().await {
                Ok([]) | Err(_) => {
                    if let Some(n) = self.skipping.take() {
                        return Some(LineChunk::Skipped(n));
                    }
                    return (!self.line.is_empty())
                        .then(|| LineChunk::Line(std::mem::take(&mut self.line)));
                }
                Ok(buf) => buf,
            };
            let (chunk, used, complete) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            let mut cut = None;
            if let Some(n) = &mut self.skipping {
                *n += chunk.len();
            } else if self.line.len() + chunk.len() > self.max && !self.keep_cut {
                self.skipping = Some(self.line.len() + chunk.len());
                self.head = self.line.iter().chain(chunk).take(HEAD).copied().collect();
                self.line = Vec::new();
            } else if self.line.len() + chunk.len() > self.max {
                let room = self.max - self.line.len();
                self.line.extend_from_slice(&chunk[..room]);
                self.skipping = Some(chunk.len() - room);
                cut = Some(LineChunk::Cut(std::mem::take(&mut self.line)));
            } else {
                self.line.extend_from_slice(chunk);
            }
            self.reader.consume(used);
            if complete {
                if let Some(n) = self.skipping.take() {
                    if cut.is_some() {
                        self.owed = Some(n);
                        return cut;
                    }
                    return Some(LineChunk::Skipped(n));
                }
                if self.line.last() == Some(&b'\r') {
                    self.line.pop();
                }
                return Some(LineChunk::Line(std::mem::take(&mut self.line)));
            }
            if cut.is_some() {
                return cut;
            }
        }
    }
}

async fn read_frames<R: AsyncBufRead + Unpin>(reader: R, events: mpsc::Sender<TransportEvent>) {
    let mut lines = LineReader::new(reader, MAX_FRAME_BYTES, false);
    let mut cut_len = 0;
    while let Some(chunk) = lines.next().await {
        let event = match chunk {
            LineChunk::Line(l) => TransportEvent::Frame(l),
            LineChunk::Cut(l) => {
                cut_len = l.len();
                continue;
            }
            LineChunk::Skipped(n) => TransportEvent::Overlong {
                bytes: cut_len + n,
                head: std::mem::take(&mut lines.head),
            },
        };
        if events.send(event).await.is_err() {
            return;
        }
    }
}

async fn read_stderr<R: AsyncBufRead + Unpin>(reader: R, events: mpsc::Sender<TransportEvent>) {
    let mut lines = LineReader::new(reader, MAX_STDERR_LINE, true);
    while let Some(chunk) = lines.next().await {
        let text = match chunk {
            LineChunk::Line(l) | LineChunk::Cut(l) => String::from_utf8_lossy(&l).into_owned(),
            LineChunk::Skipped(n) => format!("[… {n} more bytes of this line not shown]"),
        };
        if events.send(TransportEvent::Stderr(text)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<String> {
        lines_keeping(input, max, true).await
    }

    async fn lines_keeping(input: &[u8], max: usize, keep_cut: bool) -> Vec<String> {
        let mut reader = LineReader::new(input, max, keep_cut);
        let mut out = Vec::new();
        while let Some(c) = reader.next().await {
            out.push(match c {
                LineChunk::Line(l) => format!("line:{}", String::from_utf8_lossy(&l)),
                LineChunk::Cut(l) => format!("cut:{}", String::from_utf8_lossy(&l)),
                LineChunk::Skipped(n) => format!("skipped:{n}"),
            });
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_strips_cr_and_keeps_the_unterminated_tail() {
        assert_eq!(
            lines(b"a\r\n\nbc\nlast", 100).await,
            ["line:a", "line:", "line:bc", "line:last"]
        );
    }

    #[tokio::test]
    async fn over_long_lines_are_cut_and_the_stream_resyncs() {
        assert_eq!(
            lines(b"0123456789\nok\n", 4).await,
            ["cut:0123", "skipped:6", "line:ok"]
        );
        // A frame's reader keeps none of it: the whole length is reported.
        assert_eq!(
            lines_keeping(b"0123456789\nok\n01234567", 4, false).await,
            ["skipped:10", "line:ok", "skipped:8"]
        );
    }
}
