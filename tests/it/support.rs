//! Test support: runs the real `mcpscope` binary on a free port, talks to its HTTP API, follows
//! its event stream with deadlines (never bare sleeps), and finds the real test peers that
//! `scripts/install-test-peers.sh` installed.

use std::{
    path::PathBuf,
    pin::Pin,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub const DEADLINE: Duration = Duration::from_secs(30);

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_mcpscope")
}

fn must_exist(path: PathBuf) -> String {
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-test-peers.sh (the README's test command does)",
        path.display()
    );
    path.display().to_string()
}

/// `node <server-everything>` as a stdio target body.
pub fn everything_target() -> Value {
    let script = must_exist(
        root()
            .join("tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
    );
    json!({"transport": "stdio", "command": "node", "args": [script, "stdio"]})
}

pub fn python() -> String {
    must_exist(root().join("tests/peers/.venv/bin/python"))
}

/// The Python SDK 2.x (its own virtual environment), which speaks the modern era too.
pub fn python2() -> String {
    must_exist(root().join("tests/peers/.venv2/bin/python"))
}

pub fn python_target(script: &str) -> Value {
    let path = must_exist(root().join("tests/servers").join(script));
    json!({"transport": "stdio", "command": python(), "args": ["-u", path]})
}

pub fn demo_target() -> Value {
    json!({"transport": "stdio", "command": bin(), "args": ["demo-server"]})
}

/// One running mcpscope.
pub struct Scope {
    pub child: Child,
    pub port: u16,
    pub base: String,
    pub token: String,
    pub ready_url: String,
    pub http: reqwest::Client,
}

impl Scope {
    pub async fn start() -> Scope {
        Scope::start_with(&[]).await
    }

    /// Starts mcpscope with extra arguments (after `--port 0 --no-open --token …`).
    pub async fn start_with(extra: &[&str]) -> Scope {
        Scope::launch(extra, "warn", None).await
    }

    /// Starts mcpscope with server-everything as its initial target (`-- node …`), so the
    /// server's own start-up burst is history by the time a page loads.
    pub async fn start_everything() -> Scope {
        let target = everything_target();
        let mut args = vec![
            "--".to_owned(),
            target["command"].as_str().unwrap().to_owned(),
        ];
        args.extend(
            target["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned()),
        );
        Scope::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>()).await
    }

    /// Starts mcpscope with extra arguments and environment variables.
    pub async fn start_env(extra: &[&str], env: &[(&str, &str)]) -> Scope {
        Scope::launch_env(extra, "warn", None, env).await
    }

    /// Starts mcpscope logging at `level`, with its stderr collected into `logs`.
    pub async fn start_logging(level: &str, logs: Arc<Mutex<String>>) -> Scope {
        Scope::launch(&[], level, Some(logs)).await
    }

    /// Starts mcpscope with extra arguments and environment variables, logging at `level`
    /// into `logs`.
    pub async fn start_env_logging(
        extra: &[&str],
        env: &[(&str, &str)],
        level: &str,
        logs: Arc<Mutex<String>>,
    ) -> Scope {
        Scope::launch_env(extra, level, Some(logs), env).await
    }

    async fn launch(extra: &[&str], level: &str, logs: Option<Arc<Mutex<String>>>) -> Scope {
        Scope::launch_env(extra, level, logs, &[]).await
    }

    async fn launch_env(
        extra: &[&str],
        level: &str,
        logs: Option<Arc<Mutex<String>>>,
        env: &[(&str, &str)],
    ) -> Scope {
        let token = format!("test-{}-{}", std::process::id(), rand_suffix());
        // Each mcpscope keeps its own catalog, never the user's.
        let catalog = std::env::temp_dir().join(format!("mcpscope-catalog-{token}.json"));
        let mut child = Command::new(bin())
            .args(["--port", "0", "--no-open", "--token", &token])
            .arg("--catalog")
            .arg(&catalog)
            .args(extra)
            .env("MCPSCOPE_LOG", level)
            // Token files for taps go to the tests' own directory, never the user's.
            .env(
                "MCPSCOPE_RUN_DIR",
                std::env::temp_dir().join("mcpscope-test-runtime"),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(if logs.is_some() {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("mcpscope starts");
        if let (Some(logs), Some(stderr)) = (logs, child.stderr.take()) {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stderr).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut all = logs.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .expect("ready line within the deadline")
            .unwrap()
            .expect("a ready line");
        let url = line
            .strip_prefix("mcpscope ready: ")
            .unwrap_or_else(|| panic!("unexpected first stdout line {line:?}"))
            .to_owned();
        // Anything more on stdout breaks the contract ("then nothing else on stdout").
        tokio::spawn(async move {
            if let Ok(Some(extra)) = lines.next_line().await {
                panic!("mcpscope wrote more to stdout: {extra:?}");
            }
        });
        let port: u16 = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|r| r.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("ready URL {url:?}"));
        assert_eq!(url, format!("http://127.0.0.1:{port}/?token={token}"));
        Scope {
            child,
            port,
            base: format!("http://127.0.0.1:{port}"),
            token,
            ready_url: url,
            http: test_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        decode(res).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    pub async fn delete(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::DELETE, path, body).await
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let res = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(res).await
    }

    /// Starts an `/api/request` call in the background, for calls that wait on something the
    /// test does next (answering the server, cancelling).
    pub fn spawn_request(&self, body: Value) -> tokio::task::JoinHandle<reqwest::Response> {
        let req = self
            .http
            .post(self.url("/api/request"))
            .bearer_auth(&self.token)
            .json(&body);
        tokio::spawn(async move { req.send().await.unwrap() })
    }

    /// Waits for the next `pending` event and answers it with `body`; returns the event.
    pub async fn answer_next_pending(&self, events: &mut Events, body: Value) -> Value {
        let pending = events.wait_for("a pending request", kind("pending")).await;
        let (status, answer) = self
            .post(
                &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
                body,
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        pending
    }

    /// Connects and asserts the session is connected.
    pub async fn connect(&self, target: Value) -> Value {
        let (status, session) = self.post("/api/session/connect", target).await;
        assert_eq!(status, 200, "{session}");
        assert_eq!(session["state"], "connected", "{session:#}");
        session
    }

    pub async fn request(&self, method: &str, params: Value) -> (StatusCode, Value) {
        self.post("/api/request", json!({"method": method, "params": params}))
            .await
    }

    /// A request that must succeed with a result.
    pub async fn result(&self, method: &str, params: Value) -> Value {
        let (status, body) = self.request(method, params).await;
        assert_eq!(status, 200, "{method}: {body}");
        assert!(body.get("result").is_some(), "{method}: {body}");
        body["result"].clone()
    }

    /// The names `tools/list` returns, in order.
    pub async fn tool_names(&self) -> Vec<String> {
        let tools = self.result("tools/list", json!({})).await;
        tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn events(&self) -> Events {
        self.events_since(0).await
    }

    pub async fn events_since(&self, since: u64) -> Events {
        let res = self
            .http
            .get(self.url(&format!("/api/events?since={since}&token={}", self.token)))
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        Events::new(res)
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(self.child.id().unwrap() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .unwrap()
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        // A clean shutdown also stops the target; kill_on_drop is the fallback.
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub async fn decode(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| json!({"text": text}))
    };
    (status, body)
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// A reader of `/api/events`.
pub struct Events {
    stream: ByteStream,
    buf: String,
    /// Every event seen so far, in order.
    pub seen: Vec<Value>,
}

impl Events {
    pub fn from_response(res: reqwest::Response) -> Events {
        Events::new(res)
    }

    fn new(res: reqwest::Response) -> Events {
        Events {
            stream: Box::pin(res.bytes_stream()),
            buf: String::new(),
            seen: Vec::new(),
        }
    }

    /// The next event, or None at the deadline / end of stream.
    pub async fn next(&mut self, until: Instant) -> Option<Value> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if data.is_empty() {
                    continue; // a comment (keep-alive)
                }
                let event: Value = serde_json::from_str(&data.join("\n"))
                    .unwrap_or_else(|e| panic!("bad event JSON {e}: {block}"));
                self.seen.push(event.clone());
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(until.into(), self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Like [`Events::wait_for`], but an event already seen counts too: for events whose order
    /// against each other is not the point.
    pub async fn wait_seen(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(e) = self.seen.iter().find(|e| pred(e)) {
            return e.clone();
        }
        self.wait_for(what, pred).await
    }

    /// Waits (up to [`DEADLINE`]) for an event matching `pred`.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + DEADLINE;
        while let Some(event) = self.next(until).await {
            if pred(&event) {
                return event;
            }
        }
        panic!(
            "no event {what} within {DEADLINE:?}; last events:\n{}",
            self.seen
                .iter()
                .rev()
                .take(15)
                .map(|e| e.to_string().chars().take(400).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `kind == k` and, for frames, the given direction and method.
pub fn frame(direction: &'static str, method: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "frame" && e["direction"] == direction && e["method"] == method
}

pub fn kind(k: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == k
}

/// A `state` event with the given session state.
pub fn state(s: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "state" && e["state"] == s
}

/// A `stderr` event with exactly this line.
pub fn stderr_line(line: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "stderr" && e["line"] == line
}

/// The text of the first content block of a tools/call result.
pub fn first_text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {result}"))
        .to_owned()
}

/// An HTTP client for the tests. reqwest is built without a default TLS provider (mcpscope
/// installs ring itself), so the tests install it too before building one.
/// Spawns one of our commands that announces where it listens on its first stdout line
/// (`mcpscope mock: URL`, `mcpscope proxy: URL → …`), killed when dropped; and that URL.
pub async fn spawn_announcing(mut cmd: Command, prefix: &str) -> (Child, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = line
        .strip_prefix(prefix)
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("{line:?} does not announce {prefix:?}"))
        .to_owned();
    (child, url)
}

pub fn test_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// Changes a value in place and hands it on, for small edits inside an expression.
pub trait Tap: Sized {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}

impl Tap for Value {}
