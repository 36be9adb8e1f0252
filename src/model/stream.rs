//! Streamed answers: each API's server-sent events folded back into the answer the API would
//! have sent whole, so one reader (`openai::result`, `anthropic::result`) reads both, while the
//! text is handed out as it comes. OpenAI: `chat.completion.chunk` deltas (content, tool calls
//! by index with their arguments in pieces), `data: [DONE]`, usage in the last chunk. Anthropic:
//! `message_start`, `content_block_start` / `_delta` (`text_delta`, `input_json_delta`) /
//! `_stop`, `message_delta` (stop reason, output tokens), `message_stop`.

use serde_json::{Map, Value, json};

use super::Provider;

/// One stream being folded.
#[derive(Debug)]
pub struct Fold {
    provider: Provider,
    model: String,
    text: String,
    /// OpenAI tool calls by index: id, name, arguments so far.
    calls: Vec<(String, String, String)>,
    /// Anthropic content blocks (a tool_use's input kept as its JSON text until the end).
    blocks: Vec<Value>,
    stop: Option<String>,
    usage: Map<String, Value>,
    /// The provider said it failed mid-stream.
    error: Option<String>,
    /// The stream's own end was seen (`[DONE]`, a finish reason, `message_stop`).
    done: bool,
}

impl Fold {
    pub fn new(provider: Provider) -> Fold {
        Fold {
            provider,
            model: String::new(),
            text: String::new(),
            calls: Vec::new(),
            blocks: Vec::new(),
            stop: None,
            usage: Map::new(),
            error: None,
            done: false,
        }
    }

    /// Takes one event (its `event:` name and `data`); the text it adds, if any.
    pub fn feed(&mut self, event: &str, data: &str) -> Option<String> {
        if data.trim() == "[DONE]" {
            self.done = true;
            return None;
        }
        let v: Value = serde_json::from_str(data).ok()?;
        // Both APIs may fail mid-stream: an `error` event (Anthropic) or an `error` object.
        if event == "error"
            || v.get("type").and_then(Value::as_str) == Some("error")
            || v.get("error").is_some()
        {
            let e = v.get("error").unwrap_or(&v);
            self.error = Some(
                e.get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| e.to_string(), str::to_owned)
                    .chars()
                    .take(500)
                    .collect(),
            );
            return None;
        }
        match self.provider {
            Provider::OpenAi => self.openai(&v),
            Provider::Anthropic => self.anthropic(event, &v),
        }
    }

    fn openai(&mut self, chunk: &Value) -> Option<String> {
        if let Some(m) = chunk.get("model").and_then(Value::as_str) {
            self.model = m.to_owned();
        }
        if let Some(u) = chunk.get("usage").and_then(Value::as_object) {
            self.usage = u.clone();
        }
        let choice = chunk.pointer("/choices/0")?;
        if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
            self.stop = Some(f.to_owned());
            self.done = true;
        }
        let delta = choice.get("delta")?;
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let i = call.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
            if i > 1024 {
                continue;
            }
            while self.calls.len() <= i {
                self.calls.push(Default::default());
            }
            let slot = &mut self.calls[i];
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                slot.0 = id.to_owned();
            }
            if let Some(n) = call.pointer("/function/name").and_then(Value::as_str) {
                slot.1.push_str(n);
            }
            if let Some(a) = call.pointer("/function/arguments").and_then(Value::as_str) {
                slot.2.push_str(a);
            }
        }
        let text = delta.get("content").and_then(Value::as_str)?;
        self.text.push_str(text);
        Some(text.to_owned())
    }

    fn anthropic(&mut self, event: &str, v: &Value) -> Option<String> {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        match kind {
            "message_start" => {
                if let Some(m) = v.pointer("/message/model").and_then(Value::as_str) {
                    self.model = m.to_owned();
                }
                if let Some(u) = v.pointer("/message/usage").and_then(Value::as_object) {
                    self.usage.extend(u.clone());
                }
                None
            }
            "content_block_start" => {
                // Only an object can take text later; anything else becomes an empty text block.
                let mut block = v
                    .get("content_block")
                    .filter(|b| b.is_object())
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "text", "text": ""}));
                if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    block["input_json"] = json!("");
                }
                if self.blocks.len() < 1024 {
                    self.blocks.push(block);
                }
                None
            }
            "content_block_delta" => {
                let i = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                let block = self.blocks.get_mut(i)?;
                let delta = v.get("delta")?;
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        let t = delta.get("text").and_then(Value::as_str)?;
                        append(block, "text", t);
                        Some(t.to_owned())
                    }
                    Some("input_json_delta") => {
                        let p = delta.get("partial_json").and_then(Value::as_str)?;
                        append(block, "input_json", p);
                        None
                    }
                    _ => None,
                }
            }
            "message_stop" => {
                self.done = true;
                None
            }
            "message_delta" => {
                if let Some(s) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(s.to_owned());
                }
                if let Some(u) = v.get("usage").and_then(Value::as_object) {
                    self.usage.extend(u.clone());
                }
                None
            }
            _ => None,
        }
    }

    /// The answer as the API would have sent it whole, or why the stream gave none: the
    /// provider said it failed, or the stream ended before its own end.
    pub fn finish(self) -> Result<Value, String> {
        if let Some(e) = self.error {
            return Err(format!("the provider failed mid-stream: {e}"));
        }
        if !self.done {
            return Err("the stream ended before the answer did".into());
        }
        Ok(self.whole())
    }

    fn whole(self) -> Value {
        match self.provider {
            Provider::OpenAi => {
                let mut message = json!({"role": "assistant",
                    "content": if self.text.is_empty() { Value::Null } else { json!(self.text) }});
                if !self.calls.is_empty() {
                    message["tool_calls"] = self
                        .calls
                        .into_iter()
                        .map(|(id, name, args)| json!({"id": id, "type": "function",
                            "function": {"name": name, "arguments": if args.is_empty() { "{}".to_owned() } else { args }}}))
                        .collect();
                }
                json!({"object": "chat.completion", "model": self.model,
                    "choices": [{"index": 0, "message": message, "finish_reason": self.stop}],
                    "usage": self.usage})
            }
            Provider::Anthropic => {
                let content: Vec<Value> = self
                    .blocks
                    .into_iter()
                    .map(|mut b| {
                        if let Some(j) = b
                            .get("input_json")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                        {
                            b["input"] = serde_json::from_str(if j.is_empty() { "{}" } else { &j })
                                .unwrap_or_else(|_| json!({}));
                            if let Some(o) = b.as_object_mut() {
                                o.remove("input_json");
                            }
                        }
                        b
                    })
                    .collect();
                json!({"type": "message", "role": "assistant", "model": self.model,
                    "content": content, "stop_reason": self.stop, "usage": self.usage})
            }
        }
    }
}

/// Appends to a block's string field in place (not a copy of the whole per piece).
fn append(block: &mut Value, key: &str, piece: &str) {
    let Some(obj) = block.as_object_mut() else {
        return;
    };
    match obj.get_mut(key) {
        Some(Value::String(s)) => s.push_str(piece),
        _ => {
            obj.insert(key.to_owned(), Value::String(piece.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_openai_stream_folds_into_its_whole_answer() {
        let mut f = Fold::new(Provider::OpenAi);
        let mut said = String::new();
        for data in [
            r#"{"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
            r#"{"model":"m","choices":[{"index":0,"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"echo","arguments":"{\"mes"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"sage\":\"x\"}"}}]},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
            "[DONE]",
        ] {
            if let Some(t) = f.feed("", data) {
                said.push_str(&t);
            }
        }
        assert_eq!(said, "Hello");
        let d = super::super::openai::result(&f.finish().unwrap()).unwrap();
        assert_eq!(
            d.result["content"][1],
            json!({"type": "tool_use", "id": "c1", "name": "echo", "input": {"message": "x"}})
        );
        assert_eq!(d.result["stopReason"], "toolUse");
        assert_eq!(d.usage, Some((3, 4)));
    }

    #[test]
    fn an_anthropic_stream_folds_into_its_whole_answer() {
        let mut f = Fold::new(Provider::Anthropic);
        let mut said = String::new();
        for (event, data) in [
            (
                "message_start",
                r#"{"type":"message_start","message":{"model":"c","usage":{"input_tokens":5,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t1","name":"echo","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"message\":"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ] {
            if let Some(t) = f.feed(event, data) {
                said.push_str(&t);
            }
        }
        assert_eq!(said, "Hi");
        let d = super::super::anthropic::result(&f.finish().unwrap()).unwrap();
        assert_eq!(d.result["content"][1]["input"], json!({"message": "x"}));
        assert_eq!(d.usage, Some((5, 9)));
    }

    #[test]
    fn a_stream_that_fails_or_stops_short_is_no_answer() {
        let mut f = Fold::new(Provider::Anthropic);
        f.feed(
            "content_block_start",
            r#"{"type":"content_block_start","index":0,"content_block":"x"}"#,
        );
        f.feed(
            "content_block_delta",
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}"#,
        );
        f.feed(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(
            f.finish().unwrap_err(),
            "the provider failed mid-stream: Overloaded"
        );
        let mut f = Fold::new(Provider::OpenAi);
        f.feed("", r#"{"choices":[{"index":0,"delta":{"content":"cut"}}]}"#);
        assert!(f.finish().unwrap_err().contains("ended before"));
    }
}
