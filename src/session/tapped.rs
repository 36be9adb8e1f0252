//! A tapped session: a real client and a real server talk through `mcpscope tap` or
//! `mcpscope proxy`, and what they say reaches us as a report. The session has no actor and
//! sends nothing; each reported line goes through the engine's observer (`wire::observer`) into
//! the same `frame` and `finding` events a session of ours publishes, the client's lines as
//! `sent`, the server's as `received`, so the timeline, lint, export and replay read it as they
//! read any session. The session object learns what the handshake said (both peers' info,
//! capabilities, the protocol version) as it passes.

use std::sync::Arc;

use serde_json::{Value, json};

use super::{Era, Session, SessionState, Sessions, actor::Reporter, era::legacy};
use crate::{
    events::{Direction, Event, HttpEvent, Severity},
    tap::report::{Hello, Peer, Report},
    wire::{Outcome, observer::Observer},
};

/// One tapped connection being reported: its session and the observer of its lines.
pub struct Tapped {
    /// The session and the generation this report owns, as an actor has them.
    reporter: Reporter,
    observer: Observer,
    ended: bool,
}

/// A report dropped without its end (the tap's connection closed under the route, which hyper
/// then drops) still ends the session.
impl Drop for Tapped {
    fn drop(&mut self) {
        if !self.ended {
            self.end(Some("the tap's connection closed".into()));
        }
    }
}

impl Sessions {
    /// A new session for a tap's report, connected from the start: it shows what passes.
    pub fn open_tap(&self, hello: &Hello) -> Tapped {
        let name = hello
            .name
            .clone()
            .or_else(|| {
                hello
                    .command
                    .as_deref()
                    .map(|c| super::target::command_label(c, &hello.args))
            })
            .or_else(|| hello.upstream.clone())
            .unwrap_or_else(|| "tapped".into());
        // As a target of ours is described: a secret the server was given, hidden wherever it
        // shows (an API key passed as an argument, say).
        let hide = |s: &str| crate::redact::values_in(s, &hello.secrets);
        let session = self.create(Some(hide(&name)), None);
        let mut target = json!({ "transport": hello.transport });
        if let Some(command) = &hello.command {
            target["command"] = json!(hide(command));
            target["args"] = json!(hello.args.iter().map(|a| hide(a)).collect::<Vec<_>>());
        }
        for (key, value) in [
            ("cwd", &hello.cwd),
            ("url", &hello.upstream),
            ("listen", &hello.listen),
        ] {
            if let Some(value) = value {
                target[key] = json!(hide(value));
            }
        }
        target["tap"] = json!({ "pid": hello.pid, "serverPid": hello.server_pid });
        let generation = {
            let mut cur = session.inner.lock().unwrap();
            cur.generation += 1;
            cur.info.tapped = true;
            cur.given
                .extend(hello.secrets.iter().filter(|s| !s.is_empty()).cloned());
            cur.generation
        };
        let tapped = Tapped {
            reporter: Reporter::new(session, generation),
            observer: Observer::default(),
            ended: false,
        };
        // `connecting` starts a connection for every reader (ids start again); the tap is
        // live from here, before any line.
        tapped.update(|info| {
            info.target = Some(target.clone());
            info.state = SessionState::Connecting;
        });
        tapped.update(|info| info.state = SessionState::Connected);
        if hello.late {
            tapped.finding(
                Severity::Info,
                "the tap reached mcpscope after the connection began: what passed before is not shown".into(),
            );
        }
        tapped
    }
}

impl Tapped {
    pub fn session(&self) -> &Arc<Session> {
        self.reporter.session()
    }

    /// Whether the session still shows this tap: forgotten (or reused), it takes no more.
    pub fn is_current(&self) -> bool {
        self.reporter.is_current()
    }

    /// Publishes what one record of the report says.
    pub fn apply(&mut self, report: Report) {
        match report {
            // Only the first record says hello.
            Report::Hello(_) => self.finding(Severity::Warning, "the tap said hello twice".into()),
            Report::Frame { from, at_us, bytes } => self.frame(from, at_us, &bytes),
            Report::Skipped { from, len, .. } => self.finding(
                Severity::Warning,
                format!(
                    "a line of {len} bytes from the {} passed through the tap unchanged, but is over the {} MiB the tap reports, so it is not shown",
                    peer_word(from),
                    crate::tap::report::MAX_REPORTED >> 20
                ),
            ),
            Report::Stderr { line, .. } => {
                self.reporter.publish(Event::Stderr {
                    line: String::from_utf8_lossy(&line).into_owned(),
                });
            }
            Report::Http(value) => match serde_json::from_value::<HttpEvent>(value) {
                Ok(http) => {
                    self.reporter.publish(Event::Http(Box::new(http)));
                }
                Err(e) => self.finding(Severity::Warning, format!("an unreadable HTTP record: {e}")),
            },
            Report::Secret(value) => {
                if !value.is_empty() {
                    self.session().inner.lock().unwrap().given.insert(value);
                }
            }
            Report::Dropped(n) => self.finding(
                Severity::Warning,
                format!(
                    "the tap could not report {n} records in time (its queue was full): they passed between client and server unchanged, but are not shown here"
                ),
            ),
            Report::Exit(v) => {
                let code = v.get("code").and_then(Value::as_i64).map(|c| c as i32);
                let signal = v.get("signal").and_then(Value::as_i64).map(|s| s as i32);
                let description = match (code, signal) {
                    (Some(c), _) => format!("exited with code {c}"),
                    (None, Some(s)) => format!("killed by signal {s}"),
                    _ => "exited".into(),
                };
                self.reporter.publish(Event::Exit {
                    code,
                    signal,
                    description,
                });
            }
        }
    }

    /// The report ended: the session stays, read-only, disconnected, with why.
    pub fn end(&mut self, why: Option<String>) {
        self.ended = true;
        self.update(|info| {
            info.state = SessionState::Disconnected;
            info.error = why;
        });
    }

    fn frame(&mut self, from: Peer, at_us: u64, bytes: &[u8]) {
        let direction = match from {
            Peer::Client => Direction::Sent,
            Peer::Server => Direction::Received,
        };
        let seen = self.observer.see(direction, bytes, at_us);
        let seq = self.reporter.publish(Event::Frame(seen.frame));
        for (severity, message) in seen.findings {
            self.reporter.publish(Event::Finding {
                severity,
                message,
                frame_seq: Some(seq),
            });
        }
        for (method, params) in &seen.calls {
            if from == Peer::Client && method == "initialize" {
                let params = params.as_ref();
                let version = params
                    .and_then(|p| p.get("protocolVersion"))
                    .and_then(Value::as_str);
                self.observer.batches_allowed = version == Some("2025-03-26");
                self.update(|info| {
                    info.client_capabilities = params.and_then(|p| p.get("capabilities")).cloned();
                    info.client_info = params.and_then(|p| p.get("clientInfo")).cloned();
                });
            }
        }
        for (method, outcome) in &seen.answers {
            let Outcome::Result(result) = outcome else {
                continue;
            };
            let result: Value = serde_json::from_str(result.get()).unwrap_or(Value::Null);
            match (from, method.as_str()) {
                (Peer::Server, "initialize") => {
                    let version = result.get("protocolVersion").and_then(Value::as_str);
                    self.observer.batches_allowed = version == Some("2025-03-26");
                    if let Some(v) = version
                        && !legacy::KNOWN_PROTOCOL_VERSIONS.contains(&v)
                    {
                        self.finding(
                            Severity::Warning,
                            format!("the server chose protocol version {v}, which mcpscope does not know"),
                        );
                    }
                    self.update(|info| {
                        info.era = Some(Era::Legacy);
                        info.protocol_version = version.map(str::to_owned);
                        info.server_info = result.get("serverInfo").cloned();
                        info.capabilities = result.get("capabilities").cloned();
                        info.instructions = result.get("instructions").cloned();
                    });
                }
                (Peer::Server, "server/discover") => self.update(|info| {
                    info.era = Some(Era::Modern);
                    info.protocol_version = Some(super::MODERN_VERSION.to_owned());
                    info.server_info = result.get("serverInfo").cloned();
                    info.capabilities = result.get("capabilities").cloned();
                    info.instructions = result.get("instructions").cloned();
                    info.discover = Some(result.clone());
                }),
                _ => {}
            }
        }
    }

    fn finding(&self, severity: Severity, message: String) {
        self.reporter.publish(Event::Finding {
            severity,
            message,
            frame_seq: None,
        });
    }

    /// Changes the session object and publishes it, unless the session was forgotten or
    /// reused since.
    fn update(&self, change: impl FnOnce(&mut super::SessionInfo)) {
        self.reporter.update(|cur| change(&mut cur.info));
    }
}

fn peer_word(peer: Peer) -> &'static str {
    match peer {
        Peer::Client => "client",
        Peer::Server => "server",
    }
}
