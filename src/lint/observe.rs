//! What a session observed, digested for the lint rules: the observed exchanges
//! (`events::observed`, which pairs answers with requests) gathered into connections, and in
//! each our requests with their answers, the server's requests and notifications, the tokens we
//! sent, and when we said `notifications/initialized`.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

pub use crate::events::observed::key;
use crate::events::{
    AppEvent, Direction, FrameType, Severity, Stamped,
    observed::{self, Observation, observe},
};

/// A message from the wire, parsed, with the `seq` of its frame event.
#[derive(Debug, Clone)]
pub struct Msg {
    pub seq: u64,
    pub method: String,
    pub id: Option<Value>,
    pub message: Value,
}

impl Msg {
    pub fn params(&self) -> &Value {
        self.message.get("params").unwrap_or(&Value::Null)
    }
}

/// One request of ours and what came back for it.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Msg,
    pub answer: Option<Answer>,
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub seq: u64,
    pub message: Value,
    /// We had sent `notifications/cancelled` for the request before this came.
    pub after_cancel: bool,
}

impl Exchange {
    pub fn result(&self) -> Option<&Value> {
        self.answer.as_ref()?.message.get("result")
    }

    /// The result's array `key` (`tools`, `contents`, …): empty when absent or not an array.
    pub fn items<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a Value> + 'a {
        self.result()
            .and_then(|r| r.get(key))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    pub fn error_code(&self) -> Option<i64> {
        self.answer
            .as_ref()?
            .message
            .pointer("/error/code")?
            .as_i64()
    }
}

/// One connection of the session.
#[derive(Debug, Default)]
pub struct Connection {
    pub exchanges: Vec<Exchange>,
    pub server_requests: Vec<Msg>,
    pub notifications: Vec<Msg>,
    /// The seq of our `notifications/initialized`.
    pub initialized_at: Option<u64>,
    /// Progress tokens our requests carried.
    pub progress_tokens: HashSet<String>,
    /// The server's capabilities, from `initialize` or `server/discover`.
    pub capabilities: Option<Value>,
    pub modern: bool,
    /// Its start is gone from the history (the ring dropped it): what came before is unknown,
    /// so the rules about the handshake and the tokens we sent do not judge it.
    pub partial: bool,
    /// Over HTTP, and the server never gave an `Mcp-Session-Id`: each POST stands alone, and
    /// the server's request ids may start again on each.
    pub stateless_http: bool,
    /// What crossed the bridges of the MCP Apps hosted on this connection, in order.
    pub app_messages: Vec<AppMsg>,
}

/// A message of an MCP App's bridge, with the `seq` of its `app` event.
#[derive(Debug, Clone)]
pub struct AppMsg {
    pub seq: u64,
    pub event: AppEvent,
}

impl Connection {
    /// Our requests of one method that got an answer.
    pub fn answered<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a Exchange> + 'a {
        self.exchanges
            .iter()
            .filter(move |e| e.request.method == method && e.answer.is_some())
    }

    /// Whether the server declared a capability: `path` like `["resources", "subscribe"]`.
    pub fn declares(&self, path: &[&str]) -> bool {
        let mut v = match &self.capabilities {
            Some(c) => c,
            None => return false,
        };
        for key in path {
            match v.get(key) {
                Some(next) => v = next,
                None => return false,
            }
        }
        // `listChanged: false` declares nothing; `{}` declares the feature.
        !matches!(v, Value::Bool(false) | Value::Null)
    }

    /// The answered pages of `method` (a `…/list`), chained into walks: a page without a cursor
    /// starts one, a page continues the walk whose last page gave its cursor (the latest such),
    /// and a page whose cursor no walk is waiting for (a page fetched again) stands alone. So two
    /// walks at once, or a page asked twice, never read as one walk that repeats itself.
    pub fn walks<'a>(&'a self, method: &'a str) -> Vec<Vec<&'a Exchange>> {
        let mut walks: Vec<Vec<&Exchange>> = Vec::new();
        for e in self.answered(method) {
            let joins = e.request.params().get("cursor").and_then(|cur| {
                walks.iter().rposition(|w| {
                    w.last()
                        .and_then(|p| p.result())
                        .and_then(|r| r.get("nextCursor"))
                        == Some(cur)
                })
            });
            match joins {
                Some(i) => walks[i].push(e),
                None => walks.push(vec![e]),
            }
        }
        walks
    }

    /// The tools as the latest `tools/list` walk begun before `seq` listed them (its pages
    /// answered by then), by name: what a client calling at `seq` knew.
    pub fn tools_before(&self, seq: u64) -> HashMap<String, Value> {
        let walks = self.walks("tools/list");
        let known = walks.iter().rev().find(|w| w[0].request.seq < seq);
        let mut tools = HashMap::new();
        for page in known.into_iter().flatten() {
            if page.answer.as_ref().is_none_or(|a| a.seq > seq) {
                break;
            }
            for t in page.items("tools") {
                if let Some(name) = t.get("name").and_then(Value::as_str) {
                    tools.insert(name.to_owned(), t.clone());
                }
            }
        }
        tools
    }
}

/// A session's events, digested. `findings` are the engine's own (`finding` events).
#[derive(Debug, Default)]
pub struct Observed {
    pub connections: Vec<Connection>,
    pub findings: Vec<EngineFinding>,
}

/// One of the engine's own findings.
#[derive(Debug)]
pub struct EngineFinding {
    pub severity: Severity,
    pub message: String,
    pub frame_seq: Option<u64>,
}

impl Observed {
    pub fn read(events: impl IntoIterator<Item = Stamped>) -> Observed {
        let mut o = Observed::default();
        let observations = observe(events);
        // Where each of our requests sits in its connection's exchanges.
        let mut exchange_of: HashMap<usize, usize> = HashMap::new();
        for (at, observation) in observations.iter().enumerate() {
            match observation {
                Observation::Connecting { remote } => {
                    o.connections.push(Connection {
                        stateless_http: *remote,
                        ..Connection::default()
                    });
                }
                Observation::Finding {
                    severity,
                    message,
                    frame_seq,
                    ..
                } => o.findings.push(EngineFinding {
                    severity: *severity,
                    message: message.clone(),
                    frame_seq: *frame_seq,
                }),
                Observation::Http(http) => {
                    if let Some(conn) = o.connections.last_mut()
                        && http
                            .response_headers
                            .as_ref()
                            .is_some_and(|h| h.get("mcp-session-id").is_some())
                    {
                        conn.stateless_http = false;
                    }
                }
                Observation::App { seq, event } => {
                    if let Some(conn) = o.connections.last_mut() {
                        conn.app_messages.push(AppMsg {
                            seq: *seq,
                            event: (**event).clone(),
                        });
                    }
                }
                Observation::Message(m) => {
                    if o.connections.is_empty() {
                        // Frames before any `connecting`: the history lost the start.
                        o.connections.push(Connection {
                            partial: true,
                            ..Connection::default()
                        });
                    }
                    let conn = o.connections.last_mut().expect("one exists");
                    message(conn, at, m, &mut exchange_of);
                }
            }
        }
        o
    }
}

fn message(
    conn: &mut Connection,
    at: usize,
    m: &observed::Message,
    exchange_of: &mut HashMap<usize, usize>,
) {
    let sent = m.direction == Direction::Sent;
    let msg = |method: &str| Msg {
        seq: m.seq,
        method: method.to_owned(),
        id: m.id.clone(),
        message: m.message.clone(),
    };
    match (sent, m.kind, m.method.as_deref()) {
        (true, FrameType::Request, Some(method)) => {
            if let Some(token) = m.message.pointer("/params/_meta/progressToken") {
                conn.progress_tokens.insert(key(token));
            }
            exchange_of.insert(at, conn.exchanges.len());
            conn.exchanges.push(Exchange {
                request: msg(method),
                answer: None,
            });
        }
        (true, FrameType::Notification, Some("notifications/initialized"))
            if conn.initialized_at.is_none() =>
        {
            conn.initialized_at = Some(m.seq);
        }
        (false, FrameType::Request, Some(method)) => conn.server_requests.push(msg(method)),
        (false, FrameType::Notification, Some(method)) => conn.notifications.push(msg(method)),
        (false, _, _) if m.is_answer() => {
            let Some(answered) = &m.answers else { return };
            let Some(&i) = exchange_of.get(&answered.request) else {
                return;
            };
            let ex = &mut conn.exchanges[i];
            if let Some(caps) = m.message.pointer("/result/capabilities")
                && matches!(answered.method.as_str(), "initialize" | "server/discover")
            {
                conn.capabilities = Some(caps.clone());
            }
            // Modern once the server answers the probe: an `auto` session sends it to a
            // legacy server too, and falls back.
            if answered.method == "server/discover" && m.message.get("result").is_some() {
                conn.modern = true;
            }
            ex.answer = Some(Answer {
                seq: m.seq,
                message: m.message.clone(),
                after_cancel: answered.after_cancel,
            });
        }
        _ => {}
    }
}
