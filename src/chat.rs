//! A chat: a model that may call the tools of connected sessions, in an agent loop. The model
//! sees each session's tools (those whose MCP Apps visibility includes the model), under names
//! its API accepts; each tool call it makes is an ordinary `tools/call` on its session (a frame
//! like any other, so the timeline, lint and recordings see it), and its result goes back to
//! the model until the model answers without a tool call or the step limit is reached. Each
//! step is a `chat` event. The conversation is kept in the MCP sampling shape the providers
//! already speak (`model.rs`).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Value, json};

pub use crate::events::{ChatStep, ToolCall};
use crate::{
    events::Event,
    model::{ModelRef, Providers},
    session::{LIST_METHODS, Session, SessionHandle},
};

/// Model turns one chat may take (each may call several tools).
pub const MAX_STEPS: u32 = 8;
/// The most tokens one model turn may write.
const MAX_TOKENS: u64 = 4096;
/// Tools listed per session at most (pages × their tools).
const MAX_PAGES: usize = 20;
/// Streamed text goes out when this much has come, or this long after the last piece went.
const DELTA_CHARS: usize = 200;
const DELTA_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// A session whose tools the model may call.
pub struct Host {
    pub session: std::sync::Arc<Session>,
    pub handle: SessionHandle,
}

/// The chat's answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reply {
    /// The model's last message (`role`, `content` blocks).
    pub message: Value,
    pub tool_calls: Vec<ToolCall>,
    pub model: String,
    pub steps: u32,
    /// Tokens in and out over every turn.
    pub usage: Value,
    /// Set when the step limit ended the loop before the model answered without a tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// The tools offered to the model, by the name the provider sees.
struct Offered {
    tools: Vec<Value>,
    by_name: HashMap<String, (usize, String)>,
}

/// A provider-safe tool name (`[A-Za-z0-9_-]{1,64}`), prefixed with its session when several
/// sessions are offered, made unique.
fn offered_name(
    taken: &HashMap<String, (usize, String)>,
    prefix: Option<&str>,
    name: &str,
) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let base: String = match prefix {
        Some(p) => format!("{p}__{clean}"),
        None => clean,
    }
    .chars()
    .take(60)
    .collect();
    let base = if base.is_empty() {
        "tool".to_owned()
    } else {
        base
    };
    let mut candidate = base.clone();
    let mut n = 2;
    while taken.contains_key(&candidate) {
        candidate = format!("{base}_{n}");
        n += 1;
    }
    candidate
}

async fn offer(hosts: &[Host], newest_seq: u64) -> Offered {
    let mut offered = Offered {
        tools: Vec::new(),
        by_name: HashMap::new(),
    };
    debug_assert!(LIST_METHODS.iter().any(|(m, _)| *m == "tools/list"));
    for (i, host) in hosts.iter().enumerate() {
        let modern = host.session.info().era == Some(crate::events::Era::Modern);
        let mut cursor: Option<Value> = None;
        for _ in 0..MAX_PAGES {
            let Ok(listed) = host
                .handle
                .list(
                    "tools/list",
                    cursor.as_ref(),
                    newest_seq,
                    0,
                    false,
                    modern,
                    crate::session::timeout_after(crate::session::DEFAULT_TIMEOUT),
                )
                .await
            else {
                break;
            };
            let crate::wire::Outcome::Result(raw) = &listed.answer.outcome else {
                break;
            };
            let page: Value = serde_json::from_str(raw.get()).unwrap_or_default();
            for tool in page
                .get("tools")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                // MCP Apps: a tool only apps may call is never shown to a model.
                if !crate::apps::visible_to(tool, "model") {
                    continue;
                }
                let prefix = (hosts.len() > 1).then(|| host.session.id());
                let shown = offered_name(&offered.by_name, prefix, name);
                let mut description = tool
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                if hosts.len() > 1 {
                    description =
                        format!("[{} on session {}] {description}", name, host.session.id());
                }
                offered.tools.push(json!({
                    "name": shown,
                    "description": description,
                    "inputSchema": tool.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                }));
                offered.by_name.insert(shown, (i, name.to_owned()));
            }
            cursor = page.get("nextCursor").filter(|c| !c.is_null()).cloned();
            if cursor.is_none() {
                break;
            }
        }
    }
    offered
}

/// A message as the caller wrote it (`content` a string or blocks), in the MCP shape.
pub fn message(m: &Value) -> Value {
    let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
    let content = match m.get("content") {
        Some(Value::String(s)) => json!([{"type": "text", "text": s}]),
        Some(Value::Array(a)) => Value::Array(a.clone()),
        Some(v @ Value::Object(_)) => json!([v]),
        _ => json!([]),
    };
    json!({"role": role, "content": content})
}

fn blocks(content: &Value) -> Vec<Value> {
    match content {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// The text of a model message's blocks.
pub fn text(message: &Value) -> String {
    blocks(message.get("content").unwrap_or(&Value::Null))
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What one chat runs with.
#[derive(Clone, Copy)]
pub struct Chat<'a> {
    /// Its name in the `chat` events (`c1`, …).
    pub id: &'a str,
    pub providers: &'a Providers,
    pub model: &'a ModelRef,
    /// The sessions whose tools the model may call.
    pub hosts: &'a [Host],
    /// The newest event seq, for the sessions' kept tool lists.
    pub newest_seq: u64,
    pub max_steps: u32,
}

/// Runs the loop: the model answers `messages`, calling the hosts' tools as it likes, at most
/// `max_steps` turns. Every step goes to `publish` as a `chat` event, and every provider
/// exchange as an `http` event.
pub async fn run(
    chat: &Chat<'_>,
    messages: &[Value],
    publish: &(dyn Fn(Event) + Send + Sync),
) -> Result<Reply, String> {
    let Chat {
        id,
        providers,
        model,
        hosts,
        newest_seq,
        max_steps,
    } = *chat;
    let offered = offer(hosts, newest_seq).await;
    let mut convo: Vec<Value> = messages.iter().map(message).collect();
    let mut calls = Vec::new();
    let (mut tokens_in, mut tokens_out) = (0u64, 0u64);
    let mut report = |e: crate::events::HttpEvent| publish(Event::Http(Box::new(e)));
    let mut last = json!({"role": "assistant", "content": []});
    for step in 1..=max_steps {
        let mut params = json!({"messages": convo, "maxTokens": MAX_TOKENS});
        if !offered.tools.is_empty() {
            params["tools"] = Value::from(offered.tools.clone());
            params["toolChoice"] = json!({"mode": "auto"});
        }
        // The text as it comes, as `chat` events with `part: "delta"`: a few per second, not one
        // per token.
        let mut pending = String::new();
        let mut last_sent = std::time::Instant::now();
        let mut on_text = |t: &str| {
            pending.push_str(t);
            if pending.len() >= DELTA_CHARS || last_sent.elapsed() >= DELTA_EVERY {
                publish(Event::Chat(Box::new(ChatStep {
                    chat: id.to_owned(),
                    step,
                    part: "delta".into(),
                    model: None,
                    text: Some(std::mem::take(&mut pending)),
                    tool_call: None,
                })));
                last_sent = std::time::Instant::now();
            }
        };
        let drafted = providers
            .create_message_streaming(model, &params, &mut report, &mut on_text)
            .await
            .map_err(|e| e.to_string())?;
        if !pending.is_empty() {
            publish(Event::Chat(Box::new(ChatStep {
                chat: id.to_owned(),
                step,
                part: "delta".into(),
                model: None,
                text: Some(pending),
                tool_call: None,
            })));
        }
        if let Some((i, o)) = drafted.usage {
            tokens_in += i;
            tokens_out += o;
        }
        let content = blocks(drafted.result.get("content").unwrap_or(&Value::Null));
        last = json!({"role": "assistant", "content": content});
        let uses: Vec<&Value> = content
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
            .collect();
        publish(Event::Chat(Box::new(ChatStep {
            chat: id.to_owned(),
            step,
            part: "model".into(),
            model: Some(model.to_string()),
            text: Some(text(&last)),
            tool_call: None,
        })));
        if uses.is_empty() {
            return Ok(reply(last, calls, model, step, tokens_in, tokens_out, None));
        }
        let mut results = Vec::new();
        for u in uses {
            let shown = u.get("name").and_then(Value::as_str).unwrap_or("");
            let arguments = u.get("input").cloned().unwrap_or_else(|| json!({}));
            let (call, result_block) = match offered.by_name.get(shown) {
                Some((i, name)) => {
                    let host = &hosts[*i];
                    let answer = host
                        .handle
                        .request(
                            "tools/call".into(),
                            Some(json!({"name": name, "arguments": arguments})),
                            crate::session::timeout_after(crate::session::DEFAULT_TIMEOUT),
                        )
                        .await;
                    let result = match answer.map(|a| a.outcome) {
                        Ok(crate::wire::Outcome::Result(raw)) => {
                            serde_json::from_str(raw.get()).unwrap_or_default()
                        }
                        Ok(crate::wire::Outcome::Error(raw)) => {
                            json!({"error": serde_json::from_str::<Value>(raw.get()).unwrap_or_default()})
                        }
                        Err(e) => json!({"error": {"message": e.to_string()}}),
                    };
                    let failed = result.get("error").is_some()
                        || result.get("isError") == Some(&json!(true));
                    let content = match result.get("content") {
                        Some(c) => c.clone(),
                        None => json!([{"type": "text", "text": result.to_string()}]),
                    };
                    (
                        ToolCall {
                            session: host.session.id().to_owned(),
                            name: name.clone(),
                            arguments: arguments.clone(),
                            result,
                        },
                        json!({"type": "tool_result", "toolUseId": u.get("id").cloned().unwrap_or_default(),
                            "content": content, "isError": failed}),
                    )
                }
                None => (
                    ToolCall {
                        session: String::new(),
                        name: shown.to_owned(),
                        arguments: arguments.clone(),
                        result: json!({"error": {"message": format!("no tool {shown:?} was offered")}}),
                    },
                    json!({"type": "tool_result", "toolUseId": u.get("id").cloned().unwrap_or_default(),
                        "content": [{"type": "text", "text": format!("There is no tool {shown:?}.")}], "isError": true}),
                ),
            };
            publish(Event::Chat(Box::new(ChatStep {
                chat: id.to_owned(),
                step,
                part: "tool".into(),
                model: None,
                text: None,
                tool_call: Some(call.clone()),
            })));
            calls.push(call);
            results.push(result_block);
        }
        convo.push(last.clone());
        convo.push(json!({"role": "user", "content": results}));
    }
    Ok(reply(
        last,
        calls,
        model,
        max_steps,
        tokens_in,
        tokens_out,
        Some(format!(
            "the step limit ({max_steps}) was reached with the model still calling tools"
        )),
    ))
}

fn reply(
    message: Value,
    tool_calls: Vec<ToolCall>,
    model: &ModelRef,
    steps: u32,
    tokens_in: u64,
    tokens_out: u64,
    stopped: Option<String>,
) -> Reply {
    Reply {
        message,
        tool_calls,
        model: model.to_string(),
        steps,
        usage: json!({"inputTokens": tokens_in, "outputTokens": tokens_out}),
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_names_are_what_a_provider_takes_and_unique() {
        let mut taken = HashMap::new();
        let a = offered_name(&taken, None, "files.read/all");
        assert_eq!(a, "files_read_all");
        taken.insert(a.clone(), (0, "files.read/all".into()));
        assert_eq!(
            offered_name(&taken, None, "files_read_all"),
            "files_read_all_2"
        );
        assert_eq!(offered_name(&taken, Some("s2"), "echo"), "s2__echo");
        assert_eq!(offered_name(&taken, None, &"x".repeat(100)).len(), 60);
        assert_eq!(
            message(&json!({"content": "hi"})),
            json!({"role": "user", "content": [{"type": "text", "text": "hi"}]})
        );
    }
}
