//! OpenAI-compatible chat completions (OpenAI, Ollama, LM Studio, vLLM, OpenRouter): an MCP
//! `sampling/createMessage` request as a chat-completions body, and the answer back as a
//! `CreateMessageResult`. Tool calls go as `tool_calls` with `function.arguments` a JSON string,
//! tool results as `role: "tool"` messages, as the API documents them.

use serde_json::{Map, Value, json};

use super::{blocks, text_of};

/// The request body for `POST {OPENAI_BASE_URL}/chat/completions`.
pub fn request(model: &str, params: &Value) -> Value {
    let mut messages = Vec::new();
    if let Some(s) = params.get("systemPrompt").and_then(Value::as_str) {
        messages.push(json!({"role": "system", "content": s}));
    }
    for m in params
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        let mut parts = Vec::new();
        let mut calls = Vec::new();
        for b in blocks(m.get("content")) {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => parts.push(
                    json!({"type": "text", "text": b.get("text").cloned().unwrap_or_default()}),
                ),
                Some("image") => {
                    parts.push(json!({"type": "image_url", "image_url": {"url": format!(
                        "data:{};base64,{}",
                        b.get("mimeType").and_then(Value::as_str).unwrap_or("image/png"),
                        b.get("data").and_then(Value::as_str).unwrap_or("")
                    )}}))
                }
                Some("tool_use") => calls.push(json!({
                    "id": b.get("id").cloned().unwrap_or_default(),
                    "type": "function",
                    "function": {
                        "name": b.get("name").cloned().unwrap_or_default(),
                        "arguments": b.get("input").map_or("{}".to_owned(), Value::to_string),
                    },
                })),
                Some("tool_result") => messages.push(json!({
                    "role": "tool",
                    "tool_call_id": b.get("toolUseId").cloned().unwrap_or_default(),
                    "content": text_of(b),
                })),
                // Audio and anything newer: said as text, so the turn keeps its place.
                Some(other) => parts.push(json!({"type": "text", "text": super::resource_text(b)
                        .unwrap_or_else(|| format!("[{other} content]"))})),
                None => {}
            }
        }
        if parts.is_empty() && calls.is_empty() {
            continue;
        }
        let mut msg = Map::new();
        msg.insert("role".into(), json!(role));
        // One text part is sent as a plain string: what every compatible server accepts.
        let content = match parts.as_slice() {
            [] => Value::Null,
            [one] if one["type"] == "text" => one["text"].clone(),
            _ => Value::from(parts),
        };
        msg.insert("content".into(), content);
        if !calls.is_empty() {
            msg.insert("tool_calls".into(), Value::from(calls));
        }
        messages.push(Value::Object(msg));
    }
    let mut body = json!({"model": model, "messages": messages});
    if let Some(n) = params.get("maxTokens") {
        body["max_tokens"] = n.clone();
    }
    if let Some(t) = params.get("temperature").filter(|t| t.is_number()) {
        body["temperature"] = t.clone();
    }
    if let Some(stop) = params.get("stopSequences").filter(|s| s.is_array()) {
        body["stop"] = stop.clone();
    }
    if let Some(tools) = params.get("tools").and_then(Value::as_array) {
        body["tools"] = tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.get("name").cloned().unwrap_or_default(),
                    "description": t.get("description").cloned().unwrap_or_else(|| json!("")),
                    "parameters": t.get("inputSchema").cloned().unwrap_or_else(|| json!({"type": "object"})),
                }})
            })
            .collect();
        if let Some(mode) = params.pointer("/toolChoice/mode").and_then(Value::as_str) {
            body["tool_choice"] = json!(match mode {
                "required" => "required",
                "none" => "none",
                _ => "auto",
            });
        }
    }
    body
}

/// The answer as a `CreateMessageResult` with the tokens used, or why it is not one.
pub fn result(answer: &Value) -> Result<super::Drafted, String> {
    let choice = answer
        .pointer("/choices/0")
        .ok_or("the answer has no choices[0]")?;
    let message = choice.get("message").ok_or("choices[0] has no message")?;
    let mut content = Vec::new();
    if let Some(t) = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": t}));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let args = call
            .pointer("/function/arguments")
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let input: Value = serde_json::from_str(args)
            .map_err(|e| format!("tool call arguments are not JSON ({e}): {args}"))?;
        content.push(json!({
            "type": "tool_use",
            "id": call.get("id").cloned().unwrap_or_default(),
            "name": call.pointer("/function/name").cloned().unwrap_or_default(),
            "input": input,
        }));
    }
    let stop = match choice.get("finish_reason").and_then(Value::as_str) {
        Some("length") => "maxTokens",
        Some("tool_calls") => "toolUse",
        Some("stop") | None => "endTurn",
        Some(other) => other,
    };
    Ok(super::drafted(
        content,
        stop,
        answer,
        ("prompt_tokens", "completion_tokens"),
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
                {"role": "user", "content": {"type": "text", "text": "Weather in Paris?"}},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "toolUseId": "c1", "content": [{"type": "text", "text": "18 C"}]}]},
            ],
            "maxTokens": 50, "temperature": 0.2, "stopSequences": ["END"],
            "tools": [{"name": "weather", "inputSchema": {"type": "object"}}],
            "toolChoice": {"mode": "required"},
        });
        let body = request("gpt-test", &params);
        assert_eq!(
            body["messages"][0],
            json!({"role": "system", "content": "Be brief."})
        );
        assert_eq!(body["messages"][1]["content"], "Weather in Paris?");
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            "{\"city\":\"Paris\"}"
        );
        assert_eq!(
            body["messages"][3],
            json!({"role": "tool", "tool_call_id": "c1", "content": "18 C"})
        );
        assert_eq!(
            (body["max_tokens"].clone(), body["stop"][0].clone()),
            (json!(50), json!("END"))
        );
        assert_eq!(
            body["tools"][0]["function"]["parameters"],
            json!({"type": "object"})
        );
        assert_eq!(body["tool_choice"], "required");
        let answer = json!({"model": "gpt-test-1", "choices": [{"message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}]},
            "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 9, "completion_tokens": 4}});
        let d = result(&answer).unwrap();
        let r = &d.result;
        assert_eq!(
            r["content"],
            json!([{"type": "tool_use", "id": "c2", "name": "weather", "input": {"city": "Rome"}}])
        );
        assert_eq!(
            (r["stopReason"].clone(), r["model"].clone()),
            (json!("toolUse"), json!("gpt-test-1"))
        );
        let attached = request(
            "m",
            &json!({"messages": [{"role": "user", "content": [
            {"type": "text", "text": "Summarise"},
            {"type": "resource", "resource": {"uri": "file:///a.md", "mimeType": "text/markdown", "text": "# A"}}]}]}),
        );
        assert_eq!(
            attached["messages"][0]["content"][1]["text"],
            "[resource file:///a.md (text/markdown)]\n# A"
        );
        let text = json!({"model": "m", "choices": [{"message": {"content": "Hi"}, "finish_reason": "stop"}]});
        assert_eq!(
            result(&text).unwrap().result["content"],
            json!({"type": "text", "text": "Hi"})
        );
    }
}
