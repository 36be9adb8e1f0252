//! What the page reports of an app it hosts (`POST /api/sessions/{id}/app`), checked and turned
//! into events: a bridge message becomes an `app` event; a policy applied, a policy violation,
//! an error the app threw, a handshake that never completed or a flood of messages becomes a
//! finding that says what happened and what would fix it. The page only relays what the
//! browser saw; every text here is built from it and shown as text.

use serde::Deserialize;
use serde_json::{Value, json};

use super::csp;
use crate::events::{AppDirection, AppEvent, Event, Severity};

/// Longest text taken from a report into a finding.
const MAX_TEXT: usize = 300;

/// One report from the page about one app instance (`view`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub view: String,
    #[serde(default)]
    pub request_id: Option<Value>,
    #[serde(default)]
    pub tool: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(flatten)]
    pub what: What,
}

#[derive(Debug, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum What {
    /// A bridge message, either way.
    Message {
        direction: AppDirection,
        message: Value,
    },
    /// The policy the sandbox served the view with.
    Policy {
        csp: String,
        #[serde(default)]
        allow: String,
        #[serde(default)]
        ignored: Vec<String>,
        /// The resource's `_meta.ui.domain`, which mcpscope cannot give a view.
        #[serde(default)]
        domain: Option<String>,
    },
    /// A `securitypolicyviolation` inside the view.
    Violation {
        directive: String,
        blocked: String,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        line: Option<u64>,
    },
    /// An uncaught error or rejection inside the view.
    Error {
        message: String,
        #[serde(default)]
        source: Option<String>,
        #[serde(default)]
        line: Option<u64>,
    },
    /// The handshake did not complete in time: `stage` says how far it got.
    Stalled { stage: Stage, after_ms: u64 },
    /// The app sent `count` messages of `method` within `window_ms`; the page stopped
    /// recording them one by one.
    Flood {
        method: String,
        count: u64,
        window_ms: u64,
    },
    /// The app's frame posted something that is not a JSON-RPC message.
    NotJsonRpc { message: Value },
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The sandbox never said it was ready.
    NoSandbox,
    /// The view never sent `ui/initialize`.
    NoInitialize,
    /// It sent `ui/initialize` but never `ui/notifications/initialized`.
    NoInitialized,
}

impl Report {
    /// The events this report becomes (one, or two for a policy with ignored entries).
    pub fn events(self) -> Vec<Event> {
        let who = self.who();
        match self.what {
            What::Message { direction, message } => vec![Event::App(Box::new(AppEvent {
                direction,
                message: summarised(message),
                view: self.view,
                request_id: self.request_id,
                tool: self.tool,
                uri: self.uri,
            }))],
            What::Policy {
                csp,
                allow,
                ignored,
                domain,
            } => {
                let mut out = vec![finding(
                    Severity::Info,
                    format!(
                        "{who} runs under Content-Security-Policy: {}{}",
                        text(&csp),
                        if allow.is_empty() {
                            String::new()
                        } else {
                            format!("; allow=\"{}\"", text(&allow))
                        }
                    ),
                )];
                if !ignored.is_empty() {
                    let list: Vec<String> = ignored.iter().take(20).map(|i| text(i)).collect();
                    out.push(finding(
                        Severity::Warning,
                        format!("{who}: _meta.ui entries not applied: {}", list.join("; ")),
                    ));
                }
                if let Some(d) = domain {
                    out.push(finding(
                        Severity::Info,
                        format!(
                            "{who} asks for its own origin ({}); mcpscope serves every view from its apps origin, so anything keyed to that domain (OAuth callbacks, CORS, API-key allowlists) will not match here",
                            text(&d)
                        ),
                    ));
                }
                out
            }
            What::Violation {
                directive,
                blocked,
                source,
                line,
            } => vec![violation(
                &who,
                &directive,
                &blocked,
                source.as_deref(),
                line,
            )],
            What::Error {
                message,
                source,
                line,
            } => vec![finding(
                Severity::Error,
                format!(
                    "{who} threw: {}{}",
                    text(&message),
                    place(source.as_deref(), line)
                ),
            )],
            What::Stalled { stage, after_ms } => {
                let what = match stage {
                    Stage::NoSandbox => "the sandbox never loaded (is the apps port reachable?)",
                    Stage::NoInitialize => {
                        "the view never sent ui/initialize: a blank app usually means its script failed or was blocked (see any error or policy finding before this) or it does not use the MCP Apps bridge"
                    }
                    Stage::NoInitialized => {
                        "the view answered nothing after ui/initialize: it never sent ui/notifications/initialized, so the host may send it no tool input or result"
                    }
                };
                vec![finding(
                    Severity::Error,
                    format!("{who}: handshake incomplete after {} ms: {what}", after_ms),
                )]
            }
            What::Flood {
                method,
                count,
                window_ms,
            } => vec![finding(
                Severity::Warning,
                format!(
                    "{who} sent {count} {} messages within {window_ms} ms (a resize loop?); further ones are not recorded one by one",
                    text(&method)
                ),
            )],
            What::NotJsonRpc { message } => vec![finding(
                Severity::Warning,
                format!(
                    "{who} posted a message that is not JSON-RPC 2.0, ignored: {}",
                    text(&message.to_string())
                ),
            )],
        }
    }

    fn who(&self) -> String {
        let mut s = format!("app {}", text(&self.view));
        if let Some(t) = &self.tool {
            s.push_str(&format!(" of tool {}", text(t)));
        }
        if let Some(id) = &self.request_id {
            s.push_str(&format!(" (tools/call #{})", text(&id.to_string())));
        }
        if let Some(u) = &self.uri {
            s.push_str(&format!(" [{}]", text(u)));
        }
        s
    }
}

fn finding(severity: Severity, message: String) -> Event {
    Event::Finding {
        severity,
        message,
        frame_seq: None,
    }
}

/// A violation, with the `_meta.ui.csp` key (and the origin) that would allow what was blocked.
fn violation(
    who: &str,
    directive: &str,
    blocked: &str,
    source: Option<&str>,
    line: Option<u64>,
) -> Event {
    let at = place(source, line);
    let what = match blocked {
        "inline" => "inline code".to_owned(),
        "eval" | "wasm-eval" => format!("{blocked} (new Function, eval or WebAssembly)"),
        "" => "a resource".to_owned(),
        other => text(other),
    };
    let fix = match (csp::key_for(directive), csp::origin_of(blocked)) {
        (Some(key), Some(origin)) => {
            format!("to allow it, declare \"{origin}\" in the resource's _meta.ui.csp.{key}")
        }
        (Some(_), None) if blocked == "eval" || blocked == "wasm-eval" => {
            "no _meta.ui.csp key allows eval: MCP Apps never allows it".into()
        }
        (Some(key), None) => format!("only an origin can be declared in _meta.ui.csp.{key}"),
        (None, _) => format!("no _meta.ui.csp key allows {}", text(directive)),
    };
    // A library probing whether eval works (zod does) is not a broken app.
    let severity = if blocked == "eval" || blocked == "wasm-eval" {
        Severity::Info
    } else {
        Severity::Warning
    };
    finding(
        severity,
        format!(
            "{who}: the view's Content-Security-Policy blocked {what} ({}){at}; {fix}",
            text(directive)
        ),
    )
}

fn place(source: Option<&str>, line: Option<u64>) -> String {
    match (source.filter(|s| !s.is_empty()), line) {
        (Some(s), Some(l)) => format!(" at {}:{l}", text(s)),
        (Some(s), None) => format!(" at {}", text(s)),
        _ => String::new(),
    }
}

/// A report's text for a finding: control characters (terminal escapes) made visible, and cut.
fn text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if s.chars().count() > MAX_TEXT {
        out.push('…');
    }
    out
}

/// A bridge message as recorded: a view's HTML replaced by its size.
fn summarised(mut message: Value) -> Value {
    let is_resource = message.get("method").and_then(Value::as_str)
        == Some("ui/notifications/sandbox-resource-ready");
    if is_resource && let Some(html) = message.pointer_mut("/params/html") {
        let n = html.as_str().map_or(0, str::len);
        *html = json!(format!(
            "({n} bytes of HTML, as resources/read returned it)"
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(v: Value) -> Vec<Value> {
        let r: Report = serde_json::from_value(v).unwrap();
        r.events()
            .into_iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect()
    }

    #[test]
    fn a_bridge_message_is_an_app_event_with_the_html_summarised() {
        let e = report(
            json!({"kind": "message", "view": "v1", "requestId": 4, "tool": "t",
            "uri": "ui://t", "direction": "to-app", "message": {"jsonrpc": "2.0",
            "method": "ui/notifications/sandbox-resource-ready", "params": {"html": "<p>hi</p>"}}}),
        );
        assert_eq!(e[0]["kind"], "app");
        assert_eq!(e[0]["direction"], "to-app");
        assert_eq!(e[0]["requestId"], 4);
        assert_eq!(
            e[0]["message"]["params"]["html"],
            "(9 bytes of HTML, as resources/read returned it)"
        );
    }

    #[test]
    fn a_violation_names_the_key_and_origin_that_would_allow_it() {
        let e = report(json!({"kind": "violation", "view": "v2", "tool": "weather",
            "directive": "connect-src", "blocked": "https://api.example.com/v1/now",
            "source": "ui://w", "line": 3}));
        let m = e[0]["message"].as_str().unwrap();
        assert_eq!(e[0]["severity"], "warning");
        assert!(
            m.contains("blocked https://api.example.com/v1/now (connect-src) at ui://w:3"),
            "{m}"
        );
        assert!(
            m.contains(
                "declare \"https://api.example.com\" in the resource's _meta.ui.csp.connectDomains"
            ),
            "{m}"
        );
        let e = report(
            json!({"kind": "violation", "view": "v2", "directive": "script-src", "blocked": "eval"}),
        );
        assert_eq!(e[0]["severity"], "info");
        let e = report(
            json!({"kind": "violation", "view": "v2", "directive": "object-src", "blocked": "https://x.example/a.swf"}),
        );
        assert!(
            e[0]["message"]
                .as_str()
                .unwrap()
                .contains("no _meta.ui.csp key allows object-src")
        );
    }

    #[test]
    fn hostile_text_is_cut_and_escapes_made_visible() {
        let e =
            report(json!({"kind": "error", "view": "\u{1b}[31mred", "message": "x".repeat(5000)}));
        let m = e[0]["message"].as_str().unwrap();
        assert!(!m.contains('\u{1b}'));
        assert!(m.len() < 1000);
        let bad: Result<Report, _> = serde_json::from_value(json!({"kind": "nope", "view": "v"}));
        assert!(bad.is_err());
    }

    #[test]
    fn a_stall_and_a_flood_read_as_the_page_sends_them() {
        let e = report(
            json!({"kind": "stalled", "view": "v", "stage": "no-initialized", "afterMs": 10000}),
        );
        assert!(e[0]["message"].as_str().unwrap().contains("after 10000 ms"));
        let e = report(
            json!({"kind": "flood", "view": "v", "method": "ui/notifications/size-changed",
            "count": 41, "windowMs": 1000}),
        );
        assert!(
            e[0]["message"]
                .as_str()
                .unwrap()
                .contains("41 ui/notifications/size-changed messages within 1000 ms")
        );
        let e = report(json!({"kind": "not-json-rpc", "view": "v", "message": {"x": 1}}));
        assert_eq!(e[0]["severity"], "warning");
    }

    #[test]
    fn a_policy_with_ignored_entries_is_two_findings() {
        let e = report(
            json!({"kind": "policy", "view": "v", "csp": "default-src 'none'",
            "ignored": ["connectDomains: \"*\" is not an origin"], "domain": "x.example"}),
        );
        assert_eq!(e.len(), 3);
        assert_eq!(e[1]["severity"], "warning");
    }
}
