//! The rules against event sequences no well-behaved server gives on demand: two walks of one
//! list at once, a page fetched again, a schema that changes between calls, a history whose
//! start the ring dropped, a stateless HTTP server. Each was a false finding once.

use serde_json::{Value, json};

use super::lint;
use crate::events::read;

/// Builds a session's events with rising seqs.
#[derive(Default)]
struct Events(Vec<Value>);

impl Events {
    fn push(&mut self, mut e: Value) -> &mut Self {
        e["seq"] = json!(self.0.len() as u64 + 1);
        e["session"] = json!("s1");
        self.0.push(e);
        self
    }
    /// A frame event as the engine publishes one: the message, and the summary it classified
    /// (here by the same plain rule, for messages that are all well formed).
    fn frame(&mut self, direction: &str, message: Value) -> &mut Self {
        let id = message.get("id").filter(|i| !i.is_null()).cloned();
        let frame_type = match (message.get("method"), &id, message.get("error")) {
            (Some(_), Some(_), _) => "request",
            (Some(_), None, _) => "notification",
            (None, _, Some(_)) => "error",
            (None, _, None) => "response",
        };
        self.push(
            json!({"kind": "frame", "direction": direction, "message": message,
            "method": message.get("method"), "id": id, "frameType": frame_type, "bytes": 0}),
        )
    }
    fn connecting(&mut self, transport: &str) -> &mut Self {
        self.push(
            json!({"kind": "state", "state": "connecting", "target": {"transport": transport}}),
        )
    }
    fn handshake(&mut self) -> &mut Self {
        self.sent(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}))
            .received(json!({"jsonrpc": "2.0", "id": 0, "result": {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "resources": {}}}}))
            .sent(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    }
    fn sent(&mut self, message: Value) -> &mut Self {
        self.frame("sent", message)
    }
    fn received(&mut self, message: Value) -> &mut Self {
        self.frame("received", message)
    }
    /// One request of ours and its answer.
    fn exchange(&mut self, id: i64, method: &str, params: Value, result: Value) -> &mut Self {
        self.sent(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .received(json!({"jsonrpc": "2.0", "id": id, "result": result}))
    }
    fn rules(&self) -> Vec<String> {
        lint(
            self.0
                .iter()
                .map(|e| read(&e.to_string()).expect("a well-formed event")),
        )
        .into_iter()
        .map(|f| format!("{}: {}", f.rule, f.message))
        .collect()
    }
}

fn page(names: &[&str], next: Option<&str>) -> Value {
    let tools: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "inputSchema": {"type": "object"}}))
        .collect();
    match next {
        Some(c) => json!({"tools": tools, "nextCursor": c}),
        None => json!({"tools": tools}),
    }
}

#[test]
fn two_walks_at_once_and_a_page_fetched_again_are_not_a_repeat() {
    let mut e = Events::default();
    e.connecting("stdio").handshake();
    // Two walks begun before either finishes, then page 2 fetched a third time.
    e.exchange(1, "tools/list", json!({}), page(&["a"], Some("c2")))
        .exchange(2, "tools/list", json!({}), page(&["a"], Some("c2")))
        .exchange(3, "tools/list", json!({"cursor": "c2"}), page(&["b"], None))
        .exchange(4, "tools/list", json!({"cursor": "c2"}), page(&["b"], None))
        .exchange(5, "tools/list", json!({"cursor": "c2"}), page(&["b"], None));
    assert_eq!(e.rules(), Vec::<String>::new());
    // A walk that really repeats still fires, once per repeat, with its duplicate tools.
    e.exchange(6, "tools/list", json!({}), page(&["a"], Some("c2")))
        .exchange(
            7,
            "tools/list",
            json!({"cursor": "c2"}),
            page(&["a"], Some("c2")),
        );
    let rules = e.rules();
    assert!(
        rules.iter().any(|r| r.starts_with("cursor-repeat")),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r.starts_with("tool-name-duplicate")),
        "{rules:?}"
    );
    assert_eq!(rules.len(), 2, "{rules:?}");
    // Walked again, it says nothing new: one finding per tool and per cursor, not per walk.
    e.exchange(8, "tools/list", json!({}), page(&["a"], Some("c2")))
        .exchange(
            9,
            "tools/list",
            json!({"cursor": "c2"}),
            page(&["a"], Some("c2")),
        );
    assert_eq!(e.rules(), rules);
}

#[test]
fn a_call_is_judged_by_the_output_schema_known_when_it_was_made() {
    let tool = |required: &str| {
        json!({"tools": [{"name": "t", "inputSchema": {"type": "object"},
            "outputSchema": {"type": "object", "required": [required]}}]})
    };
    let call = |id: i64, e: &mut Events, sc: Value| {
        e.exchange(
            id,
            "tools/call",
            json!({"name": "t"}),
            json!({"content": [], "structuredContent": sc}),
        );
    };
    let mut e = Events::default();
    e.connecting("stdio").handshake();
    e.exchange(1, "tools/list", json!({}), tool("x"));
    call(2, &mut e, json!({"x": 1}));
    // The server changed the schema afterwards: the earlier call was right by the schema of then.
    e.exchange(3, "tools/list", json!({}), tool("y"));
    assert_eq!(e.rules(), Vec::<String>::new());
    call(4, &mut e, json!({"x": 1}));
    let rules = e.rules();
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert!(rules[0].starts_with("tool-output-structured"), "{rules:?}");
}

#[test]
fn resource_types_read_in_order_and_xml_json_images_are_text() {
    let listed =
        |uri: &str, mime: &str| json!({"resources": [{"uri": uri, "name": "r", "mimeType": mime}]});
    let read = |uri: &str, mime: &str| json!({"contents": [{"uri": uri, "mimeType": mime, "text": "<svg/>"}]});
    let mut e = Events::default();
    e.connecting("stdio").handshake();
    // Read before it was listed under another type: nothing listed yet to contradict.
    e.exchange(
        1,
        "resources/read",
        json!({"uri": "file:///a"}),
        read("file:///a", "text/plain"),
    )
    .exchange(
        2,
        "resources/list",
        json!({}),
        listed("file:///a", "text/markdown"),
    )
    .exchange(
        3,
        "resources/read",
        json!({"uri": "file:///i.svg"}),
        read("file:///i.svg", "image/svg+xml"),
    );
    assert_eq!(e.rules(), Vec::<String>::new());
    e.exchange(
        4,
        "resources/read",
        json!({"uri": "file:///p"}),
        read("file:///p", "image/png"),
    )
    .exchange(
        5,
        "resources/read",
        json!({"uri": "file:///a"}),
        read("file:///a", "text/plain"),
    );
    let rules = e.rules();
    assert_eq!(rules.len(), 2, "{rules:?}");
    assert!(
        rules[0].contains("binary type image/png") && rules[1].contains("listed as text/markdown"),
        "{rules:?}"
    );
}

#[test]
fn server_request_ids_may_start_again_on_a_stateless_http_server() {
    let ping = |e: &mut Events| {
        e.received(json!({"jsonrpc": "2.0", "id": 0, "method": "ping"}));
    };
    let mut stateless = Events::default();
    stateless.connecting("http").handshake();
    ping(&mut stateless);
    ping(&mut stateless);
    assert_eq!(stateless.rules(), Vec::<String>::new());

    let mut stateful = Events::default();
    stateful
        .connecting("http")
        .push(json!({"kind": "http", "responseHeaders": {"mcp-session-id": "abc"}}));
    stateful.handshake();
    ping(&mut stateful);
    ping(&mut stateful);
    let rules = stateful.rules();
    assert!(
        rules.len() == 1 && rules[0].starts_with("id-reused"),
        "{rules:?}"
    );
}

#[test]
fn a_history_that_lost_its_start_is_not_judged_on_the_handshake() {
    // The ring dropped the connecting state, initialize and the request that sent the token.
    let mut e = Events::default();
    e.received(json!({"jsonrpc": "2.0", "id": 9, "method": "roots/list"}))
        .received(json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 3, "progress": 1}}));
    let rules = e.rules();
    assert!(
        rules.len() == 1 && rules[0].starts_with("history: "),
        "{rules:?}"
    );
    // The same after a whole handshake is a finding each.
    e.connecting("stdio");
    e.received(json!({"jsonrpc": "2.0", "id": 9, "method": "roots/list"}))
        .received(json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 3, "progress": 1}}));
    let rules = e.rules();
    assert_eq!(rules.len(), 3, "{rules:?}");
}

#[test]
fn app_rules_judge_views_and_what_an_app_calls() {
    let mut e = Events::default();
    e.connecting("stdio").handshake();
    let tools = json!({"tools": [
        {"name": "show", "inputSchema": {"type": "object"}, "_meta": {"ui": {"resourceUri": "ui://a/view"}}},
        {"name": "gone", "inputSchema": {"type": "object"}, "_meta": {"ui": {"resourceUri": "ui://a/gone"}}},
        {"name": "odd", "inputSchema": {"type": "object"}, "_meta": {"ui/resourceUri": "https://a/view"}},
        {"name": "secret", "inputSchema": {"type": "object"}, "_meta": {"ui": {"visibility": ["model"]}}},
        {"name": "shared", "inputSchema": {"type": "object"}},
    ]});
    e.exchange(1, "tools/list", json!({}), tools)
        .exchange(2, "resources/list", json!({}), json!({"resources": [{"uri": "ui://a/view", "name": "v"}]}))
        .exchange(3, "resources/read", json!({"uri": "ui://a/view"}),
            json!({"contents": [{"uri": "ui://a/view", "mimeType": "text/html", "text": "<p>"}]}))
        .sent(json!({"jsonrpc": "2.0", "id": 4, "method": "resources/read", "params": {"uri": "ui://a/gone"}}))
        .received(json!({"jsonrpc": "2.0", "id": 4, "error": {"code": -32002, "message": "Resource not found"}}));
    for name in ["secret", "shared"] {
        e.push(json!({"kind": "app", "direction": "from-app", "view": "v1", "tool": "show", "requestId": 9,
            "message": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name}}}));
    }
    let rules = e.rules();
    let of = |id: &str| {
        rules
            .iter()
            .filter(|r| r.starts_with(&format!("{id}:")))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("app-view-mime").len(), 1, "{rules:?}");
    assert!(
        of("app-view-mime")[0].contains("\"text/html\""),
        "{rules:?}"
    );
    let missing = of("app-view-missing");
    assert_eq!(missing.len(), 2, "{rules:?}");
    assert!(
        missing
            .iter()
            .any(|m| m.contains("\"https://a/view\" is not a ui:// URI")),
        "{rules:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.contains("ui://a/gone") && m.contains("Resource not found")),
        "{rules:?}"
    );
    assert_eq!(of("app-view-unlisted").len(), 1, "{rules:?}");
    assert!(
        of("app-view-unlisted")[0].contains("ui://a/gone"),
        "{rules:?}"
    );
    let calls = of("app-tool-visibility");
    assert_eq!(calls.len(), 1, "{rules:?}");
    assert!(calls[0].contains("calls tool secret"), "{rules:?}");
}
