//! The lint rules for MCP Apps (the `io.modelcontextprotocol/ui` extension): a tool's view is a
//! `ui://` resource that exists, is served as `text/html;profile=mcp-app`, and is best listed;
//! an app calls only tools whose visibility includes `app`. They read the frames and, for what
//! an app asked, the `app` events the page reported.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{
    observe::{Connection, Observed},
    rules::{Hit, hit, listed_tools},
};
use crate::{
    apps::{MIME_TYPE, resource_uri, visible_to},
    events::AppDirection,
};

/// Where the MCP Apps specification the rules cite lives.
pub const SPEC: &str =
    "https://github.com/modelcontextprotocol/ext-apps/blob/main/specification/2026-01-26/apps.mdx";

/// Each tool's view, as the latest listing before the end named it: (listing seq, tool, uri).
fn views(c: &Connection) -> Vec<(u64, String, String)> {
    let mut by_tool: HashMap<String, (u64, String)> = HashMap::new();
    // In listing order: a later listing that drops a tool's view drops it here too.
    for (seq, t) in listed_tools(c) {
        let Some(name) = t.get("name").and_then(Value::as_str) else {
            continue;
        };
        match resource_uri(t) {
            Some(uri) => by_tool.insert(name.to_owned(), (seq, uri.to_owned())),
            None => by_tool.remove(name),
        };
    }
    let mut out: Vec<_> = by_tool
        .into_iter()
        .map(|(tool, (seq, uri))| (seq, tool, uri))
        .collect();
    out.sort();
    out
}

/// A view's URI is a `ui://` one, and reading it finds it.
pub fn app_view_missing(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in &o.connections {
        let mut named = HashSet::new();
        for (seq, tool, uri) in views(c) {
            if !uri.starts_with("ui://") && named.insert(uri.clone()) {
                hits.push(hit(
                    seq,
                    format!("tool {tool}'s _meta.ui.resourceUri {uri:?} is not a ui:// URI"),
                ));
            }
        }
        let wanted: HashSet<String> = views(c).into_iter().map(|(_, _, uri)| uri).collect();
        for e in c.answered("resources/read") {
            let uri = e
                .request
                .params()
                .get("uri")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !wanted.contains(uri) {
                continue;
            }
            let Some(answer) = &e.answer else { continue };
            if let Some(err) = answer.message.get("error") {
                hits.push(hit(
                    answer.seq,
                    format!("the view {uri} a tool names could not be read: {err}"),
                ));
            } else if e.items("contents").next().is_none() {
                hits.push(hit(
                    answer.seq,
                    format!("reading the view {uri} a tool names gave no contents"),
                ));
            }
        }
    }
    hits
}

/// A read view is served with the MCP App profile.
pub fn app_view_mime(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in &o.connections {
        for e in c.answered("resources/read") {
            let seq = e.answer.as_ref().map_or(0, |a| a.seq);
            for r in e.items("contents") {
                let uri = r.get("uri").and_then(Value::as_str).unwrap_or("");
                let mime = r.get("mimeType").and_then(Value::as_str);
                if uri.starts_with("ui://") && mime != Some(MIME_TYPE) {
                    hits.push(hit(
                        seq,
                        format!(
                            "{uri} is read as {}, not {MIME_TYPE}: hosts may refuse to render it",
                            mime.map_or("no mimeType".into(), |m| format!("{m:?}"))
                        ),
                    ));
                }
            }
        }
    }
    hits
}

/// A view is listed by `resources/list`, so hosts can prefetch and review it (servers MAY leave
/// it out: a note, judged only when the list was read whole).
pub fn app_view_unlisted(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in &o.connections {
        let walks = c.walks("resources/list");
        let Some(walk) = walks.iter().rev().find(|w| {
            w.last()
                .and_then(|p| p.result())
                .is_some_and(|r| r.get("nextCursor").is_none_or(Value::is_null))
        }) else {
            continue;
        };
        let listed: HashSet<&str> = walk
            .iter()
            .flat_map(|p| p.items("resources"))
            .filter_map(|r| r.get("uri").and_then(Value::as_str))
            .collect();
        let mut told = HashSet::new();
        for (seq, tool, uri) in views(c) {
            if uri.starts_with("ui://")
                && !listed.contains(uri.as_str())
                && told.insert(uri.clone())
            {
                hits.push(hit(
                    seq,
                    format!("tool {tool}'s view {uri} is not in resources/list: hosts cannot prefetch or review it before a call"),
                ));
            }
        }
    }
    hits
}

/// An app calls only tools whose `_meta.ui.visibility` includes `app`.
pub fn app_tool_visibility(o: &Observed) -> Vec<Hit> {
    let mut hits = Vec::new();
    for c in &o.connections {
        for m in &c.app_messages {
            let e = &m.event;
            if e.direction != AppDirection::FromApp
                || e.message.get("method").and_then(Value::as_str) != Some("tools/call")
            {
                continue;
            }
            let Some(name) = e.message.pointer("/params/name").and_then(Value::as_str) else {
                continue;
            };
            let tools = c.tools_before(m.seq);
            if let Some(tool) = tools.get(name)
                && !visible_to(tool, "app")
            {
                hits.push(Hit {
                    message: format!(
                        "the app of {} (view {}) calls tool {name}, whose _meta.ui.visibility does not include \"app\": hosts refuse it",
                        e.tool.as_deref().unwrap_or("a tool"),
                        e.view
                    ),
                    frame_seq: Some(m.seq),
                });
            }
        }
    }
    hits
}
