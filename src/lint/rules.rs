//! One job: the lint rules, one table: each rule's id, the spec section it holds the server to, its
//! severity (`error` for a MUST, `warning` for a SHOULD), and a check over what the session
//! observed. A check only reads; it says what it found and the frame it found it in.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::{
    apps,
    observe::{Connection, Observed, key},
    uritemplate,
};
use crate::events::Severity;

pub struct Rule {
    pub id: &'static str,
    /// A section of the MCP specification, as a path under
    /// `https://modelcontextprotocol.io/specification/`.
    pub spec: &'static str,
    pub severity: Severity,
    /// What the rule asks of a server, in a line.
    pub summary: &'static str,
    pub check: fn(&Observed) -> Vec<Hit>,
}

/// One place a rule found something.
#[derive(Debug)]
pub struct Hit {
    pub message: String,
    pub frame_seq: Option<u64>,
}

pub(super) fn hit(seq: u64, message: String) -> Hit {
    Hit {
        message,
        frame_seq: Some(seq),
    }
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "tool-name",
        spec: "2025-11-25/server/tools#tool-names",
        severity: Severity::Warning,
        summary: "tool names are 1 to 128 of A-Z a-z 0-9 _ - .",
        check: tool_name,
    },
    Rule {
        id: "tool-name-duplicate",
        spec: "2025-11-25/server/tools#tool-names",
        severity: Severity::Error,
        summary: "tool names are unique within a server",
        check: tool_name_duplicate,
    },
    Rule {
        id: "tool-input-schema",
        spec: "2025-11-25/server/tools#tool",
        severity: Severity::Error,
        summary: "inputSchema is a valid JSON Schema of type object",
        check: tool_input_schema,
    },
    Rule {
        id: "tool-output-structured",
        spec: "2025-11-25/server/tools#output-schema",
        severity: Severity::Error,
        summary: "a tool with an outputSchema answers with structuredContent that matches it",
        check: tool_output_structured,
    },
    Rule {
        id: "resource-uri",
        spec: "2025-11-25/server/resources#resource",
        severity: Severity::Error,
        summary: "resource URIs are absolute URIs (RFC 3986)",
        check: resource_uri,
    },
    Rule {
        id: "resource-template",
        spec: "2025-11-25/server/resources#resource-templates",
        severity: Severity::Error,
        summary: "uriTemplate is an RFC 6570 URI template",
        check: resource_template,
    },
    Rule {
        id: "resource-mime",
        spec: "2025-11-25/server/resources#resource-contents",
        severity: Severity::Warning,
        summary: "a resource's mimeType agrees with its contents and its listing",
        check: resource_mime,
    },
    Rule {
        id: "before-initialized",
        spec: "2025-11-25/basic/lifecycle#initialization",
        severity: Severity::Warning,
        summary: "no requests other than ping before the client's notifications/initialized",
        check: before_initialized,
    },
    Rule {
        id: "undeclared-capability",
        spec: "2025-11-25/basic/lifecycle#capability-negotiation",
        severity: Severity::Error,
        summary: "notifications only for capabilities the server declared",
        check: undeclared_capability,
    },
    Rule {
        id: "declared-not-implemented",
        spec: "2025-11-25/basic/lifecycle#capability-negotiation",
        severity: Severity::Error,
        summary: "a declared capability's methods are not answered -32601",
        check: declared_not_implemented,
    },
    Rule {
        id: "list-failed",
        spec: "2025-11-25/basic/lifecycle#capability-negotiation",
        severity: Severity::Warning,
        summary: "a list the server declares is answered with a result, not an error",
        check: list_failed,
    },
    Rule {
        id: "error-code",
        spec: "2025-11-25/basic#error-responses",
        severity: Severity::Warning,
        summary: "error codes are JSON-RPC's or MCP's (-32768 to -32000), or at least not 0",
        check: error_code,
    },
    Rule {
        id: "protocol-version",
        spec: "2025-11-25/basic/lifecycle#version-negotiation",
        severity: Severity::Error,
        summary: "the server answers the requested protocol version, or an earlier one it supports",
        check: protocol_version,
    },
    Rule {
        id: "cursor-repeat",
        spec: "2025-11-25/server/utilities/pagination",
        severity: Severity::Error,
        summary: "a list walk never gives the same nextCursor twice",
        check: cursor_repeat,
    },
    Rule {
        id: "progress-unknown-token",
        spec: "2025-11-25/basic/utilities/progress",
        severity: Severity::Error,
        summary: "progress only for tokens the client sent",
        check: progress_unknown_token,
    },
    Rule {
        id: "answer-after-cancel",
        spec: "2025-11-25/basic/utilities/cancellation",
        severity: Severity::Warning,
        summary: "no answer to a request the client cancelled",
        check: answer_after_cancel,
    },
    Rule {
        id: "id-reused",
        spec: "2025-11-25/basic#requests",
        severity: Severity::Error,
        summary: "the server never reuses a request id within a session",
        check: id_reused,
    },
    Rule {
        id: "app-view-missing",
        spec: apps::SPEC,
        severity: Severity::Error,
        summary: "a tool's _meta.ui.resourceUri is a ui:// resource that exists on the server",
        check: apps::app_view_missing,
    },
    Rule {
        id: "app-view-mime",
        spec: apps::SPEC,
        severity: Severity::Error,
        summary: "an MCP App view is served as text/html;profile=mcp-app",
        check: apps::app_view_mime,
    },
    Rule {
        id: "app-view-unlisted",
        spec: apps::SPEC,
        severity: Severity::Info,
        summary: "a tool's view is in resources/list, so hosts can prefetch and review it",
        check: apps::app_view_unlisted,
    },
    Rule {
        id: "app-tool-visibility",
        spec: apps::SPEC,
        severity: Severity::Error,
        summary: "an app calls only tools whose _meta.ui.visibility includes \"app\"",
        check: apps::app_tool_visibility,
    },
];

fn conns(o: &Observed) -> impl Iterator<Item = &Connection> {
    o.connections.iter()
}

/// Every tool of every `tools/list` answer, with the answer's seq.
pub(super) fn listed_tools(c: &Connection) -> impl Iterator<Item = (u64, &Value)> {
    c.answered("tools/list").flat_map(|e| {
        let seq = e.answer.as_ref().map_or(0, |a| a.seq);
        e.items("tools").map(move |t| (seq, t))
    })
}

fn tool_name(o: &Observed) -> Vec<Hit> {
    let ok = |n: &str| {
        (1..=128).contains(&n.len())
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    };
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut seen = HashSet::new();
        for (seq, t) in listed_tools(c) {
            let name = t.get("name").and_then(Value::as_str).unwrap_or("");
            if !ok(name) && seen.insert(name.to_owned()) {
                hits.push(hit(seq, format!("tool name {name:?} has characters outside A-Z a-z 0-9 _ - . or is not 1 to 128 long")));
            }
        }
    }
    hits
}

fn tool_name_duplicate(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        // Said once per tool: every later walk of the same list says the same again.
        let mut said = HashSet::new();
        for w in c.walks("tools/list") {
            let mut walk: HashMap<String, u64> = HashMap::new();
            for e in w {
                let seq = e.answer.as_ref().map_or(0, |a| a.seq);
                for t in e.items("tools") {
                    let Some(name) = t.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    if let Some(first) = walk.insert(name.to_owned(), seq)
                        && said.insert(name.to_owned())
                    {
                        hits.push(hit(
                            seq,
                            format!("tool {name:?} is listed twice (first in the frame #{first})"),
                        ));
                    }
                }
            }
        }
    }
    hits
}

/// Why a JSON Schema is unusable: not valid against its meta-schema (2020-12 unless it
/// declares another draft), or not compilable.
pub fn schema_problem(schema: &Value) -> Option<String> {
    if let Err(e) = jsonschema::meta::validate(schema) {
        // The meta-schema's own words ("not valid under any of the schemas listed in the
        // 'anyOf' keyword") do not say where: the path inside the schema does.
        let at = e
            .instance_path()
            .to_string()
            .trim_start_matches('/')
            .replace('/', ".");
        return Some(match at.as_str() {
            "" => format!("not a valid JSON Schema: {e}"),
            at => format!("not a valid JSON Schema at {at}: {e}"),
        });
    }
    jsonschema::options()
        .build(schema)
        .err()
        .map(|e| format!("not a usable JSON Schema: {e}"))
}

fn tool_input_schema(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut seen = HashSet::new();
        for (seq, t) in listed_tools(c) {
            let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
            if !seen.insert(name.to_owned()) {
                continue;
            }
            let problem = match t.get("inputSchema") {
                None => Some("has no inputSchema".to_owned()),
                Some(s) if s.get("type").and_then(Value::as_str) != Some("object") => Some(
                    format!("inputSchema is not an object schema (type {})", s["type"]),
                ),
                Some(s) => schema_problem(s).map(|p| format!("inputSchema is {p}")),
            };
            if let Some(p) = problem {
                hits.push(hit(seq, format!("tool {name:?} {p}")));
            }
        }
    }
    hits
}

fn tool_output_structured(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        for e in c.answered("tools/call") {
            let name = e.request.params()["name"].as_str().unwrap_or("");
            // Judged by the schema the client knew when it called, not a later listing.
            let tools = c.tools_before(e.request.seq);
            let (Some(schema), Some(result), Some(answer)) = (
                tools.get(name).and_then(|t| t.get("outputSchema")),
                e.result(),
                &e.answer,
            ) else {
                continue;
            };
            if result.get("isError") == Some(&Value::Bool(true)) {
                continue;
            }
            match result.get("structuredContent") {
                None => hits.push(hit(
                    answer.seq,
                    format!("tool {name:?} declares an outputSchema but answered without structuredContent"),
                )),
                Some(sc) => {
                    let verdict = crate::schema::validate(schema, sc);
                    if verdict["valid"] == false {
                        let first = &verdict["errors"][0];
                        hits.push(hit(
                            answer.seq,
                            format!(
                                "tool {name:?}: structuredContent does not match its outputSchema at {:?}: {}",
                                first["path"].as_str().unwrap_or(""),
                                first["message"].as_str().unwrap_or("")
                            ),
                        ));
                    }
                }
            }
        }
    }
    hits
}

/// Each `(seq, uri, mimeType)` of resources listed and of contents read.
fn resource_items(c: &Connection) -> Vec<(u64, &Value, &'static str)> {
    let mut items = Vec::new();
    for (method, key, what) in [
        ("resources/list", "resources", "listed"),
        ("resources/read", "contents", "read"),
    ] {
        for e in c.answered(method) {
            let seq = e.answer.as_ref().map_or(0, |a| a.seq);
            for r in e.items(key) {
                items.push((seq, r, what));
            }
        }
    }
    // In the order they came: a read is judged by what was listed before it.
    items.sort_by_key(|(seq, _, _)| *seq);
    items
}

fn resource_uri(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut seen = HashSet::new();
        for (seq, r, what) in resource_items(c) {
            let uri = r.get("uri").and_then(Value::as_str).unwrap_or("");
            if url::Url::parse(uri).is_err() && seen.insert(uri.to_owned()) {
                hits.push(hit(
                    seq,
                    format!("{what} resource URI {uri:?} is not an absolute URI"),
                ));
            }
        }
    }
    hits
}

fn resource_template(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut seen = HashSet::new();
        for e in c.answered("resources/templates/list") {
            let seq = e.answer.as_ref().map_or(0, |a| a.seq);
            for t in e.items("resourceTemplates") {
                let tpl = t.get("uriTemplate").and_then(Value::as_str).unwrap_or("");
                if let Err(why) = uritemplate::check(tpl)
                    && seen.insert(tpl.to_owned())
                {
                    hits.push(hit(
                        seq,
                        format!("uriTemplate {tpl:?} is not an RFC 6570 template: {why}"),
                    ));
                }
            }
        }
    }
    hits
}

fn resource_mime(o: &Observed) -> Vec<Hit> {
    // `+xml` and `+json` types are text whatever their top level (image/svg+xml is).
    let binary = |m: &str| {
        let base = m
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        (["image/", "audio/", "video/"]
            .iter()
            .any(|p| base.starts_with(p))
            || base == "application/octet-stream")
            && !(base.ends_with("+xml") || base.ends_with("+json"))
    };
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut listed: HashMap<&str, &str> = HashMap::new();
        for (seq, r, what) in resource_items(c) {
            let (Some(uri), Some(mime)) = (
                r.get("uri").and_then(Value::as_str),
                r.get("mimeType").and_then(Value::as_str),
            ) else {
                continue;
            };
            if what == "listed" {
                listed.insert(uri, mime);
                continue;
            }
            if r.get("text").is_some() && binary(mime) {
                hits.push(hit(
                    seq,
                    format!("{uri}: text contents under the binary type {mime}"),
                ));
            } else if let Some(l) = listed.get(uri).filter(|l| !same_type(l, mime)) {
                hits.push(hit(seq, format!("{uri}: listed as {l}, read as {mime}")));
            }
        }
    }
    hits
}

/// Media types compared without parameters or case (`text/plain; charset=utf-8` is text/plain).
fn same_type(a: &str, b: &str) -> bool {
    let base = |m: &str| {
        m.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    base(a) == base(b)
}

/// The connections whose start the history still holds.
fn whole(o: &Observed) -> impl Iterator<Item = &Connection> {
    conns(o).filter(|c| !c.partial)
}

fn before_initialized(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in whole(o).filter(|c| !c.modern) {
        for r in &c.server_requests {
            if r.method != "ping" && c.initialized_at.is_none_or(|at| r.seq < at) {
                hits.push(hit(
                    r.seq,
                    format!("{} before the client's notifications/initialized", r.method),
                ));
            }
        }
    }
    hits
}

fn undeclared_capability(o: &Observed) -> Vec<Hit> {
    const NEEDS: &[(&str, &[&str])] = &[
        ("notifications/message", &["logging"]),
        (
            "notifications/tools/list_changed",
            &["tools", "listChanged"],
        ),
        (
            "notifications/prompts/list_changed",
            &["prompts", "listChanged"],
        ),
        (
            "notifications/resources/list_changed",
            &["resources", "listChanged"],
        ),
        (
            "notifications/resources/updated",
            &["resources", "subscribe"],
        ),
    ];
    let mut hits = Vec::new();
    for c in conns(o).filter(|c| c.capabilities.is_some()) {
        let mut said = HashSet::new();
        for n in &c.notifications {
            if let Some((_, path)) = NEEDS.iter().find(|(m, _)| *m == n.method)
                && !c.declares(path)
                && said.insert(n.method.clone())
            {
                hits.push(hit(
                    n.seq,
                    format!(
                        "{} although the server did not declare capabilities.{}",
                        n.method,
                        path.join(".")
                    ),
                ));
            }
        }
    }
    hits
}

fn declared_not_implemented(o: &Observed) -> Vec<Hit> {
    const METHODS: &[(&str, &[&str])] = &[
        ("tools/list", &["tools"]),
        ("tools/call", &["tools"]),
        ("resources/list", &["resources"]),
        ("resources/templates/list", &["resources"]),
        ("resources/read", &["resources"]),
        ("resources/subscribe", &["resources", "subscribe"]),
        ("prompts/list", &["prompts"]),
        ("prompts/get", &["prompts"]),
        ("completion/complete", &["completions"]),
        ("logging/setLevel", &["logging"]),
    ];
    let mut hits = Vec::new();
    for c in conns(o) {
        for e in &c.exchanges {
            if let Some((m, path)) = METHODS.iter().find(|(m, _)| *m == e.request.method)
                && e.error_code() == Some(-32601)
                && c.declares(path)
            {
                hits.push(hit(
                    e.answer.as_ref().map_or(e.request.seq, |a| a.seq),
                    format!(
                        "{m} answered -32601 (method not found) although the server declares capabilities.{}",
                        path.join(".")
                    ),
                ));
            }
        }
    }
    hits
}

/// The list methods, and the capability that declares each.
const LISTS: &[(&str, &str)] = &[
    ("tools/list", "tools"),
    ("resources/list", "resources"),
    ("resources/templates/list", "resources"),
    ("prompts/list", "prompts"),
];

/// A declared list that fails leaves a client's pane empty with nothing to say why; -32601 is
/// `declared-not-implemented`'s to say.
fn list_failed(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut said = HashSet::new();
        for e in &c.exchanges {
            let Some((m, cap)) = LISTS.iter().find(|(m, _)| *m == e.request.method) else {
                continue;
            };
            let (Some(answer), Some(code)) = (&e.answer, e.error_code()) else {
                continue;
            };
            if code == -32601 || !c.declares(&[cap]) || !said.insert(*m) {
                continue;
            }
            let message = answer
                .message
                .pointer("/error/message")
                .and_then(Value::as_str);
            hits.push(hit(
                answer.seq,
                format!(
                    "{m} failed with error {code}{}: the server declares capabilities.{cap}, so a client shows an empty list",
                    message.map(|m| format!(" ({m:?})")).unwrap_or_default()
                ),
            ));
        }
    }
    hits
}

/// JSON-RPC leaves codes outside its reserved range to the application, but 0 (what an
/// unhandled exception becomes in some SDKs) and other unreserved codes tell a client nothing
/// about the kind of failure. Said once per method and code.
fn error_code(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let mut said = HashSet::new();
        for e in &c.exchanges {
            let (Some(answer), Some(code)) = (&e.answer, e.error_code()) else {
                continue;
            };
            if (-32768..=-32000).contains(&code) || !said.insert((e.request.method.clone(), code)) {
                continue;
            }
            hits.push(hit(
                answer.seq,
                format!(
                    "{} answered error code {code}, which is neither JSON-RPC's nor MCP's: use -32602 (invalid params), -32603 (internal error) or another reserved code",
                    e.request.method
                ),
            ));
        }
    }
    hits
}

/// The protocol revisions, oldest first.
const REVISIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

fn protocol_version(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        for e in c.answered("initialize") {
            let asked = e.request.params()["protocolVersion"].as_str().unwrap_or("");
            let Some(got) = e
                .result()
                .and_then(|r| r.get("protocolVersion"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let pos = |v: &str| REVISIONS.iter().position(|r| *r == v);
            let why = match (pos(asked), pos(got)) {
                _ if got == asked => None,
                (_, None) => Some(format!(
                    "the server answered protocol version {got:?}, which no MCP revision has (asked for {asked})"
                )),
                (Some(a), Some(g)) if g > a => Some(format!(
                    "asked for {asked}, the server answered the later {got}: a server that supports the version asked for must answer it"
                )),
                _ => None,
            };
            if let (Some(why), Some(a)) = (why, &e.answer) {
                hits.push(hit(a.seq, why));
            }
        }
    }
    hits
}

fn cursor_repeat(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        let methods: BTreeSet<&str> = c
            .exchanges
            .iter()
            .map(|e| e.request.method.as_str())
            .filter(|m| m.ends_with("/list"))
            .collect();
        // Said once per cursor: every later walk that follows it meets the same repeat.
        let mut said = HashSet::new();
        for m in methods {
            for walk in c.walks(m) {
                let mut cursors = HashSet::new();
                if let Some(first) = walk[0].request.params().get("cursor") {
                    cursors.insert(key(first));
                }
                for e in walk {
                    let (Some(next), Some(a)) = (
                        e.result()
                            .and_then(|r| r.get("nextCursor"))
                            .filter(|n| !n.is_null()),
                        &e.answer,
                    ) else {
                        continue;
                    };
                    if !cursors.insert(key(next)) && said.insert((m, key(next))) {
                        hits.push(hit(
                            a.seq,
                            format!(
                                "{m} gave the cursor {next} again: a client following it never ends"
                            ),
                        ));
                    }
                }
            }
        }
    }
    hits
}

fn progress_unknown_token(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in whole(o) {
        for n in c
            .notifications
            .iter()
            .filter(|n| n.method == "notifications/progress")
        {
            let token = &n.params()["progressToken"];
            if !c.progress_tokens.contains(&key(token)) {
                hits.push(hit(
                    n.seq,
                    format!(
                        "progress for the token {token}, which no request of the client carried"
                    ),
                ));
            }
        }
    }
    hits
}

fn answer_after_cancel(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o) {
        for e in &c.exchanges {
            if let Some(a) = e.answer.as_ref().filter(|a| a.after_cancel) {
                hits.push(hit(
                    a.seq,
                    format!(
                        "answered {} (id {}) after the client cancelled it",
                        e.request.method,
                        e.request.id.as_ref().unwrap_or(&Value::Null)
                    ),
                ));
            }
        }
    }
    hits
}

fn id_reused(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in conns(o).filter(|c| !c.stateless_http) {
        let mut seen: HashMap<String, u64> = HashMap::new();
        for r in &c.server_requests {
            let Some(id) = &r.id else { continue };
            if let Some(first) = seen.insert(key(id), r.seq) {
                hits.push(hit(
                    r.seq,
                    format!(
                        "the server used the request id {id} again (first in the frame #{first})"
                    ),
                ));
            }
        }
    }
    hits
}
