//! A model in the loop: the LLM providers mcpscope can ask (any OpenAI-compatible
//! chat-completions endpoint, and the Anthropic Messages API), configured from the environment,
//! and one call: an MCP `sampling/createMessage` request answered as a `CreateMessageResult`.
//! The MCP shape is the common language: each provider module maps it to its own API and back.
//! Each exchange is reported as an `http` event with the key hidden; 429 and 5xx are tried again
//! with back-off, honouring `retry-after`. Nothing of MCP sessions is known here.

pub mod anthropic;
pub mod openai;
pub mod stream;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::events::{HttpEvent, HttpKind};

/// Tries in all for one call (the first and two more after a 429 or 5xx).
const ATTEMPTS: u32 = 3;
/// The longest wait a `retry-after` is honoured for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(20);
/// An answer larger than this is refused.
const MAX_ANSWER: usize = 16 << 20;
const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }
}

/// `PROVIDER:MODEL`, as `--model` and the responders' `model` write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub provider: Provider,
    pub model: String,
}

impl ModelRef {
    pub fn parse(s: &str) -> Result<ModelRef, String> {
        let (p, m) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: write PROVIDER:MODEL (openai:… or anthropic:…)"))?;
        let provider = match p {
            "openai" => Provider::OpenAi,
            "anthropic" => Provider::Anthropic,
            other => {
                return Err(format!(
                    "unknown provider {other:?}: use openai or anthropic"
                ));
            }
        };
        if m.trim().is_empty() {
            return Err(format!("{s:?}: the model name is missing"));
        }
        Ok(ModelRef {
            provider,
            model: m.trim().to_owned(),
        })
    }
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.provider.as_str(), self.model)
    }
}

/// One provider's endpoint and key.
#[derive(Clone)]
struct Endpoint {
    base: String,
    key: String,
}

/// The providers configured, and the default model.
#[derive(Clone, Default)]
pub struct Providers {
    openai: Option<Endpoint>,
    anthropic: Option<Endpoint>,
    pub default: Option<ModelRef>,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("Providers")
            .field("openai", &self.openai.as_ref().map(|e| &e.base))
            .field("anthropic", &self.anthropic.as_ref().map(|e| &e.base))
            .field("default", &self.default)
            .finish()
    }
}

/// A model's answer: the result for the server, and the tokens it used (in, out).
#[derive(Debug, Clone, PartialEq)]
pub struct Drafted {
    pub result: Value,
    pub usage: Option<(u64, u64)>,
}

/// A provider's answer as a `CreateMessageResult`: its content blocks and stop reason (already
/// in MCP's words), its `model`, and the tokens its `usage` names under `tokens` (in, out).
fn drafted(content: Vec<Value>, stop: &str, answer: &Value, tokens: (&str, &str)) -> Drafted {
    let model = answer.get("model").and_then(Value::as_str).unwrap_or("");
    let count = |key: &str| {
        answer
            .pointer(&format!("/usage/{key}"))
            .and_then(Value::as_u64)
    };
    // One plain block is sent as the block itself (what every MCP client before tools sent);
    // tool calls always as an array.
    let plain = content.len() == 1 && content[0]["type"] != "tool_use";
    let content = if plain {
        content.into_iter().next().unwrap_or_default()
    } else {
        Value::from(content)
    };
    Drafted {
        result: json!({"role": "assistant", "content": content, "model": model, "stopReason": stop}),
        usage: count(tokens.0).zip(count(tokens.1)),
    }
}

/// The content of an MCP message: one block or an array, as blocks.
fn blocks(content: Option<&Value>) -> Vec<&Value> {
    match content {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// An embedded resource or a resource link (attached to a chat, or in a tool result), as the
/// text a model can read: its URI and type, then its text.
fn resource_text(block: &Value) -> Option<String> {
    match block.get("type").and_then(Value::as_str)? {
        "resource" => {
            let r = block.get("resource")?;
            let uri = r.get("uri").and_then(Value::as_str).unwrap_or("");
            let mime = r.get("mimeType").and_then(Value::as_str).unwrap_or("");
            Some(match r.get("text").and_then(Value::as_str) {
                Some(t) => format!("[resource {uri} ({mime})]\n{t}"),
                None => format!(
                    "[resource {uri} ({mime}): {} base64 characters of binary data]",
                    r.get("blob").and_then(Value::as_str).map_or(0, str::len)
                ),
            })
        }
        "resource_link" => Some(format!(
            "[resource link {} ({})]",
            block.get("uri").and_then(Value::as_str).unwrap_or(""),
            block.get("name").and_then(Value::as_str).unwrap_or("")
        )),
        _ => None,
    }
}

/// A tool result's text: its text blocks, else its structured content as JSON.
fn text_of(result: &Value) -> String {
    let texts: Vec<String> = blocks(result.get("content"))
        .into_iter()
        .filter_map(|b| {
            b.get("text")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| resource_text(b))
        })
        .collect();
    if texts.is_empty() {
        result
            .get("structuredContent")
            .map_or_else(String::new, Value::to_string)
    } else {
        texts.join("\n")
    }
}

/// Why a call gave no answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("no {0} provider is configured: set {1}")]
    NotConfigured(&'static str, &'static str),
    #[error("the provider answered {status}: {excerpt}")]
    Refused { status: u16, excerpt: String },
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the provider's answer is not one: {0}")]
    BadAnswer(String),
}

impl Providers {
    /// The providers the environment configures (`OPENAI_API_KEY` + `OPENAI_BASE_URL`,
    /// `ANTHROPIC_API_KEY` + `ANTHROPIC_BASE_URL`; each base URL has its provider's default),
    /// and the default model (`--model`, else the only provider's `…_MODEL`).
    pub fn from_env(default: Option<ModelRef>, env: impl Fn(&str) -> Option<String>) -> Providers {
        let endpoint = |key: &str, base: &str, fallback: &str| {
            env(key).filter(|k| !k.trim().is_empty()).map(|k| Endpoint {
                key: k.trim().to_owned(),
                base: env(base)
                    .filter(|b| !b.trim().is_empty())
                    .unwrap_or_else(|| fallback.to_owned())
                    .trim_end_matches('/')
                    .to_owned(),
            })
        };
        Providers {
            openai: endpoint(
                "OPENAI_API_KEY",
                "OPENAI_BASE_URL",
                "https://api.openai.com/v1",
            ),
            anthropic: endpoint(
                "ANTHROPIC_API_KEY",
                "ANTHROPIC_BASE_URL",
                "https://api.anthropic.com",
            ),
            default,
        }
    }

    /// Whether `provider` has a key.
    pub fn configured(&self, provider: Provider) -> bool {
        match provider {
            Provider::OpenAi => self.openai.is_some(),
            Provider::Anthropic => self.anthropic.is_some(),
        }
    }

    /// The keys, for scrubbing anything that might echo one.
    pub fn secrets(&self) -> Vec<String> {
        [&self.openai, &self.anthropic]
            .into_iter()
            .flatten()
            .map(|e| e.key.clone())
            .collect()
    }

    /// The model for a request: a `modelPreferences` hint that names part of a model we can
    /// use (the `preferred` one, or the default), else the preferred one, else the default.
    pub fn pick(&self, preferred: Option<&ModelRef>, params: &Value) -> Option<ModelRef> {
        let candidates: Vec<&ModelRef> =
            preferred.into_iter().chain(self.default.as_ref()).collect();
        let hints = params
            .pointer("/modelPreferences/hints")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|h| h.get("name").and_then(Value::as_str));
        for hint in hints {
            let hint = hint.to_ascii_lowercase();
            if let Some(m) = candidates
                .iter()
                .find(|m| m.model.to_ascii_lowercase().contains(&hint))
            {
                return Some((*m).clone());
            }
        }
        candidates.first().map(|m| (*m).clone())
    }

    /// Asks `model` to answer a `sampling/createMessage` request. Each HTTP exchange (retries
    /// too) goes to `report`, the key hidden.
    pub async fn create_message(
        &self,
        model: &ModelRef,
        params: &Value,
        report: &mut (dyn FnMut(HttpEvent) + Send),
    ) -> Result<Drafted, ModelError> {
        self.create(model, params, report, None).await
    }

    /// The same, streamed: each piece of text goes to `on_text` as the provider sends it.
    pub async fn create_message_streaming(
        &self,
        model: &ModelRef,
        params: &Value,
        report: &mut (dyn FnMut(HttpEvent) + Send),
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Drafted, ModelError> {
        self.create(model, params, report, Some(on_text)).await
    }

    async fn create(
        &self,
        model: &ModelRef,
        params: &Value,
        report: &mut (dyn FnMut(HttpEvent) + Send),
        on_text: Option<&mut (dyn FnMut(&str) + Send)>,
    ) -> Result<Drafted, ModelError> {
        let (endpoint, url, mut body) = match model.provider {
            Provider::OpenAi => {
                let e = self.openai.as_ref().ok_or(ModelError::NotConfigured(
                    "openai",
                    "OPENAI_API_KEY and OPENAI_BASE_URL",
                ))?;
                (
                    e,
                    format!("{}/chat/completions", e.base),
                    openai::request(&model.model, params),
                )
            }
            Provider::Anthropic => {
                let e = self.anthropic.as_ref().ok_or(ModelError::NotConfigured(
                    "anthropic",
                    "ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL",
                ))?;
                (
                    e,
                    format!("{}/v1/messages", e.base),
                    anthropic::request(&model.model, params),
                )
            }
        };
        if on_text.is_some() {
            body["stream"] = json!(true);
            if model.provider == Provider::OpenAi {
                body["stream_options"] = json!({"include_usage": true});
            }
        }
        let answer = self
            .post(model.provider, endpoint, &url, &body, report, on_text)
            .await?;
        match model.provider {
            Provider::OpenAi => openai::result(&answer),
            Provider::Anthropic => anthropic::result(&answer),
        }
        .map_err(ModelError::BadAnswer)
    }

    async fn post(
        &self,
        provider: Provider,
        endpoint: &Endpoint,
        url: &str,
        body: &Value,
        report: &mut (dyn FnMut(HttpEvent) + Send),
        mut on_text: Option<&mut (dyn FnMut(&str) + Send)>,
    ) -> Result<Value, ModelError> {
        let client = crate::net::client().map_err(ModelError::Unreachable)?;
        let scrub =
            |text: &str| crate::redact::values_in(text, std::slice::from_ref(&endpoint.key));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = client
                .post(url)
                .timeout(TIMEOUT)
                .header("content-type", "application/json")
                .body(body.to_string());
            req = match provider {
                Provider::OpenAi => req.bearer_auth(&endpoint.key),
                Provider::Anthropic => req
                    .header("x-api-key", &endpoint.key)
                    .header("anthropic-version", anthropic::VERSION),
            };
            let shown_headers = match provider {
                Provider::OpenAi => {
                    json!({"authorization": "<redacted>", "content-type": "application/json"})
                }
                Provider::Anthropic => {
                    json!({"x-api-key": "<redacted>", "anthropic-version": anthropic::VERSION, "content-type": "application/json"})
                }
            };
            let started = Instant::now();
            let mut event = HttpEvent {
                kind: Some(HttpKind::Exchange),
                phase: Some(format!("model {}", provider.as_str())),
                method: Some("POST".into()),
                url: Some(scrub(url)),
                request_headers: Some(shown_headers),
                ..HttpEvent::default()
            };
            let res = match req.send().await {
                Ok(res) => res,
                Err(e) => {
                    let why = scrub(&crate::net::describe_error(&e));
                    event.kind = Some(HttpKind::Error);
                    event.error = Some(Some(why.clone()));
                    event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                    report(event);
                    return Err(ModelError::Unreachable(why));
                }
            };
            let status = res.status().as_u16();
            let retry_after = res
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                // Clamped before it becomes a Duration: `1e400` or `inf` must not panic.
                .filter(|s| s.is_finite())
                .map(|s| Duration::from_secs_f64(s.clamp(0.0, MAX_RETRY_AFTER.as_secs_f64())));
            event.status = Some(status);
            event.response_headers = Some(crate::redact::header_map(
                res.headers(),
                &Default::default(),
            ));
            let streamed = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            if (200..300).contains(&status)
                && streamed
                && let Some(on_text) = on_text.as_deref_mut()
            {
                let folded = fold_stream(res, provider, on_text).await;
                event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                if let Err(why) = &folded {
                    event.error = Some(Some(scrub(why)));
                }
                report(event);
                return folded.map_err(|why| ModelError::Unreachable(scrub(&why)));
            }
            let body = crate::net::read_limited(res, MAX_ANSWER).await;
            event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            let body = match body {
                Ok(b) => b,
                Err(e) => {
                    let why = scrub(&String::from(e));
                    event.error = Some(Some(why.clone()));
                    report(event);
                    return Err(ModelError::Unreachable(why));
                }
            };
            let text = String::from_utf8_lossy(&body);
            if !(200..300).contains(&status) {
                let excerpt: String = scrub(&text).chars().take(500).collect();
                event.body_excerpt = Some(excerpt.clone());
                report(event);
                let again = status == 429 || status >= 500;
                if again && attempt < ATTEMPTS {
                    let wait = retry_after.unwrap_or(Duration::from_millis(500 << (attempt - 1)));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(ModelError::Refused { status, excerpt });
            }
            report(event);
            return serde_json::from_str(&text)
                .map_err(|e| ModelError::BadAnswer(format!("not JSON: {e}")));
        }
    }
}

/// Reads a streamed answer to its end, handing out its text, and folds it into the answer the
/// API would have sent whole.
async fn fold_stream(
    mut res: reqwest::Response,
    provider: Provider,
    on_text: &mut (dyn FnMut(&str) + Send),
) -> Result<Value, String> {
    let mut parser = crate::transport::sse::SseParser::new(MAX_ANSWER);
    let mut fold = stream::Fold::new(provider);
    let mut read = 0usize;
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("the stream broke: {}", crate::net::describe_error(&e)))?
    {
        read += chunk.len();
        if read > MAX_ANSWER {
            return Err(format!("the streamed answer is over {MAX_ANSWER} bytes"));
        }
        let events = parser
            .push(&chunk)
            .map_err(|_| "a streamed event is too large".to_owned())?;
        for e in events {
            if let Some(text) = fold.feed(e.kind(), &e.data) {
                on_text(&text);
            }
        }
    }
    fold.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_are_parsed_and_picked_by_hints() {
        assert_eq!(
            ModelRef::parse("anthropic:claude-x").unwrap().to_string(),
            "anthropic:claude-x"
        );
        assert!(ModelRef::parse("gpt-4").is_err());
        assert!(ModelRef::parse("google:gemini").is_err());
        let p = Providers::from_env(Some(ModelRef::parse("openai:gpt-small").unwrap()), |k| {
            (k == "OPENAI_API_KEY").then(|| "sk-secret".to_owned())
        });
        assert_eq!(p.secrets(), vec!["sk-secret".to_owned()]);
        assert!(!format!("{p:?}").contains("sk-secret"));
        let preferred = ModelRef::parse("anthropic:claude-big").unwrap();
        let hinted =
            json!({"modelPreferences": {"hints": [{"name": "nothing"}, {"name": "SMALL"}]}});
        assert_eq!(
            p.pick(Some(&preferred), &hinted).unwrap().model,
            "gpt-small"
        );
        assert_eq!(
            p.pick(Some(&preferred), &json!({})).unwrap().model,
            "claude-big"
        );
        assert_eq!(p.pick(None, &json!({})).unwrap().model, "gpt-small");
    }
}
