//! The Anthropic Messages API: an MCP `sampling/createMessage` request as a Messages body, and
//! the answer back as a `CreateMessageResult`. Tool calls are `tool_use` blocks and results
//! `tool_result` blocks in a user turn, as the API documents them.

use serde_json::{Value, json};

use super::{blocks, text_of};

/// The API version sent as `anthropic-version`.
pub const VERSION: &str = "2023-06-01";
/// Messages requires `max_tokens`; a sampling request always has it, this is for safety.
const DEFAULT_MAX_TOKENS: u64 = 1024;

/// The request body for `POST {ANTHROPIC_BASE_URL}/v1/messages`.
pub fn request(model: &str, params: &Value) -> Value {
    let mut messages: Vec<Value> = Vec::new();
    for m in params
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = match m.get("role").and_then(Value::as_str) {
            Some("assistant") => "assistant",
            _ => "user",
        };
        let content: Vec<Value> = blocks(m.get("content"))
            .into_iter()
            .filter_map(|b| match b.get("type").and_then(Value::as_str) {
                // The API refuses empty text blocks (a turn that said nothing has none).
                Some("text") => b
                    .get("text")
                    .and_then(Value::as_str)
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| json!({"type": "text", "text": t})),
                Some("image") => Some(json!({"type": "image", "source": {
                    "type": "base64",
                    "media_type": b.get("mimeType").cloned().unwrap_or_else(|| json!("image/png")),
                    "data": b.get("data").cloned().unwrap_or_default(),
                }})),
                Some("tool_use") => Some(json!({
                    "type": "tool_use",
                    "id": b.get("id").cloned().unwrap_or_default(),
                    "name": b.get("name").cloned().unwrap_or_default(),
                    "input": b.get("input").cloned().unwrap_or_else(|| json!({})),
                })),
                Some("tool_result") => {
                    let mut r = json!({
                        "type": "tool_result",
                        "tool_use_id": b.get("toolUseId").cloned().unwrap_or_default(),
                        "content": text_of(b),
                    });
                    if b.get("isError") == Some(&json!(true)) {
                        r["is_error"] = json!(true);
                    }
                    Some(r)
                }
                Some(other) => Some(json!({"type": "text", "text": super::resource_text(b)
                    .unwrap_or_else(|| format!("[{other} content]"))})),
                None => None,
            })
            .collect();
        if content.is_empty() {
            continue;
        }
        messages.push(json!({"role": role, "content": content}));
    }
    let mut body = json!({
        "model": model,
        "max_tokens": params.get("maxTokens").and_then(Value::as_u64).unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages,
    });
    if let Some(s) = params.get("systemPrompt").and_then(Value::as_str) {
        body["system"] = json!(s);
    }
    if let Some(t) = params.get("temperature").filter(|t| t.is_number()) {
        body["temperature"] = t.clone();
    }
    if let Some(stop) = params.get("stopSequences").filter(|s| s.is_array()) {
        body["stop_sequences"] = stop.clone();
    }
    if let Some(tools) = params.get("tools").and_then(Value::as_array) {
        body["tools"] = tools
            .iter()
            .map(|t| {
                let mut tool = json!({
                    "name": t.get("name").cloned().unwrap_or_default(),
                    "input_schema": t.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                });
                if let Some(d) = t.get("description") {
                    tool["description"] = d.clone();
                }
                tool
            })
            .collect();
        if let Some(mode) = params.pointer("/toolChoice/mode").and_then(Value::as_str) {
            body["tool_choice"] = json!({"type": match mode {
                "required" => "any",
                "none" => "none",
                _ => "auto",
            }});
        }
    }
    body
}

/// The answer as a `CreateMessageResult` with the tokens used, or why it is not one.
pub fn result(answer: &Value) -> Result<super::Drafted, String> {
    let blocks = answer
        .get("content")
        .and_then(Value::as_array)
        .ok_or("the answer has no content array")?;
    let content: Vec<Value> = blocks
        .iter()
        .filter_map(|b| match b.get("type").and_then(Value::as_str) {
            Some("text") => {
                Some(json!({"type": "text", "text": b.get("text").cloned().unwrap_or_default()}))
            }
            Some("tool_use") => Some(json!({
                "type": "tool_use",
                "id": b.get("id").cloned().unwrap_or_default(),
                "name": b.get("name").cloned().unwrap_or_default(),
                "input": b.get("input").cloned().unwrap_or_else(|| json!({})),
            })),
            // Thinking and anything newer is not part of the message the server asked for.
            _ => None,
        })
        .collect();
    let stop = match answer.get("stop_reason").and_then(Value::as_str) {
        Some("max_tokens") => "maxTokens",
        Some("stop_sequence") => "stopSequence",
        Some("tool_use") => "toolUse",
        Some("end_turn") | None => "endTurn",
        Some(other) => other,
    };
    Ok(super::drafted(
        content,
        stop,
        answer,
        ("input_tokens", "output_tokens"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampling_request_with_tools_maps_both_ways() {
        let params = json!({
            "systemPrompt": "Be brief.",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "Weather?"}},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "weather", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "toolUseId": "t1", "isError": true,
                    "content": [{"type": "text", "text": "down"}]}]},
            ],
            "maxTokens": 40, "stopSequences": ["END"],
            "tools": [{"name": "weather", "description": "w", "inputSchema": {"type": "object"}}],
            "toolChoice": {"mode": "required"},
        });
        let body = request("claude-test", &params);
        assert_eq!(body["system"], "Be brief.");
        assert_eq!(body["max_tokens"], 40);
        assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
        assert_eq!(
            body["messages"][2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "t1", "content": "down", "is_error": true})
        );
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(body["tool_choice"], json!({"type": "any"}));
        assert_eq!(body["stop_sequences"], json!(["END"]));
        // A turn that said nothing is left out: the API refuses empty text blocks.
        let quiet = request(
            "c",
            &json!({"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}},
            {"role": "assistant", "content": [{"type": "text", "text": ""}]}]}),
        );
        assert_eq!(quiet["messages"].as_array().unwrap().len(), 1);
        let answer = json!({"model": "claude-test-1", "content": [{"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "t2", "name": "weather", "input": {"city": "Rome"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 7}});
        let d = result(&answer).unwrap();
        let r = &d.result;
        assert_eq!(r["content"][1]["input"], json!({"city": "Rome"}));
        assert_eq!(r["stopReason"], "toolUse");
        assert_eq!(d.usage, Some((5, 7)));
    }
}
