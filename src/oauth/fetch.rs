//! Every HTTP request an authorization flow makes, in one place: sent without following
//! redirects or using a proxy, and shown as an `http` event marked with its phase, secrets
//! (codes, verifiers, tokens, client secrets) hidden in headers and in both bodies. The `oauth2`
//! crate's token requests come through here too, so the debugger sees them like any other.

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use reqwest::{
    Method,
    header::{CONTENT_TYPE, HeaderMap, LOCATION},
};
use serde_json::{Value, json};
use url::Url;

use super::{Report, Reporter};
use crate::{
    events::{HttpEvent, HttpKind},
    net::{describe_error as describe, read_limited},
    redact,
};

/// How much of a body an event shows.
const BODY_SHOWN: usize = 4096;
/// Metadata, registration and token answers are small; anything bigger is not believed.
const BODY_LIMIT: usize = 256 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as a JSON object, when it is one.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice::<Value>(&self.body)
            .ok()
            .filter(Value::is_object)
    }
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    report: Reporter,
}

/// A request the `oauth2` crate could not complete, in words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

impl Fetcher {
    pub fn new(client: reqwest::Client, report: Reporter) -> Self {
        Fetcher { client, report }
    }

    pub async fn emit(&self, report: Report) {
        (self.report)(report).await;
    }

    /// Sends one request of the flow and reports it. A redirect is an answer like any other
    /// (its `Location` shows); the caller decides it is a refusal.
    pub async fn send(
        &self,
        phase: &str,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let mut req = self
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone())
            .timeout(REQUEST_TIMEOUT);
        if let Some(b) = &body {
            req = req.body(b.clone());
        }
        let started = Instant::now();
        let none = BTreeSet::new();
        let mut event = HttpEvent {
            kind: Some(HttpKind::Exchange),
            phase: Some(phase.to_owned()),
            method: Some(method.as_str().to_owned()),
            url: Some(redact::url(url, &none)),
            request_headers: Some(redact::header_map(&headers, &none)),
            request_body: body.as_ref().map(|b| shown_body(&headers, b)),
            ..HttpEvent::default()
        };
        let result = async {
            let res = req.send().await.map_err(|e| describe(&e))?;
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = read_limited(res, BODY_LIMIT).await?;
            Ok::<_, String>(Reply {
                status,
                headers,
                body,
            })
        }
        .await;
        event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        match &result {
            Ok(reply) => {
                event.status = Some(reply.status);
                event.response_headers = Some(redact::header_map(&reply.headers, &none));
                if !reply.body.is_empty() {
                    event.response_body = Some(shown_body(&reply.headers, &reply.body));
                }
            }
            Err(e) => {
                event.kind = Some(HttpKind::Error);
                event.error = Some(Some(e.clone()));
            }
        }
        self.emit(Report::Http(Box::new(event))).await;
        result.map_err(|e| format!("{method} {url}: {e}"))
    }

    /// A GET for a metadata document: its JSON object, or why there is none. A redirect is
    /// refused, so discovery never ends up on a host the server did not name.
    pub async fn get_json(&self, phase: &str, url: &Url) -> Result<Value, Missing> {
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        let reply = self
            .send(phase, Method::GET, url, headers, None)
            .await
            .map_err(Missing::Unreachable)?;
        if (300..400).contains(&reply.status) {
            let to = reply
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("nowhere");
            return Err(Missing::Redirected(format!(
                "{url} answered {} redirecting to {to}; mcpscope does not follow redirects while authorizing, so it only ever talks to hosts the metadata names",
                reply.status
            )));
        }
        if reply.status != 200 {
            return Err(Missing::Status(reply.status));
        }
        reply.json().ok_or_else(|| {
            Missing::NotJson(format!("{url} answered 200 but not with a JSON object"))
        })
    }

    /// The `oauth2` crate's requests (token, refresh), sent and shown like ours.
    pub async fn for_oauth2(
        &self,
        phase: &str,
        req: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, FetchError> {
        let url = Url::parse(&req.uri().to_string()).map_err(|e| FetchError(e.to_string()))?;
        let method = req.method().clone();
        let headers = req.headers().clone();
        let body = req.into_body();
        let reply = self
            .send(phase, method, &url, headers, Some(body))
            .await
            .map_err(FetchError)?;
        let mut res = oauth2::http::Response::builder().status(reply.status);
        for (name, value) in &reply.headers {
            res = res.header(name, value);
        }
        res.body(reply.body).map_err(|e| FetchError(e.to_string()))
    }
}

/// Why a metadata URL gave no document.
#[derive(Debug)]
pub enum Missing {
    Unreachable(String),
    Redirected(String),
    Status(u16),
    NotJson(String),
}

impl Missing {
    pub fn describe(&self) -> String {
        match self {
            Missing::Unreachable(s) | Missing::Redirected(s) | Missing::NotJson(s) => s.clone(),
            Missing::Status(code) => format!("answered {code}"),
        }
    }
}

/// Fields of a form or JSON body that hold secrets: codes, verifiers, tokens, client secrets.
pub fn is_secret_field(name: &str) -> bool {
    matches!(
        name,
        "code" | "code_verifier" | "assertion" | "client_assertion"
    ) || redact::is_secret_name(name, &BTreeSet::new())
}

/// A body as an event shows it: JSON or form fields with secrets hidden, other text cut short.
fn shown_body(headers: &HeaderMap, body: &[u8]) -> Value {
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.starts_with("application/x-www-form-urlencoded") {
        let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(body)
            .map(|(k, v)| {
                let shown = if is_secret_field(&k) {
                    json!(redact::REDACTED)
                } else {
                    json!(v)
                };
                (k.into_owned(), shown)
            })
            .collect();
        return Value::Object(pairs);
    }
    if let Ok(mut v) = serde_json::from_slice::<Value>(body) {
        hide_fields(&mut v);
        return v;
    }
    json!(String::from_utf8_lossy(&body[..body.len().min(BODY_SHOWN)]))
}

fn hide_fields(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_secret_field(k) && !val.is_null() {
                    *val = json!(redact::REDACTED);
                } else {
                    hide_fields(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(hide_fields),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn typed(ctype: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
        h
    }

    #[test]
    fn form_and_json_bodies_hide_every_secret_field() {
        let form = b"grant_type=authorization_code&code=abc&code_verifier=v&client_id=me&client_secret=s&resource=https%3A%2F%2Fx&refresh_token=r";
        let shown = shown_body(&typed("application/x-www-form-urlencoded"), form).to_string();
        for secret in ["abc", "\"v\"", "\"s\"", "\"r\""] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("\"client_id\":\"me\"") && shown.contains("https://x"));
        let json_body = br#"{"access_token":"at","refresh_token":"rt","expires_in":60,"token_type":"Bearer","nested":{"client_secret":"cs"}}"#;
        let shown = shown_body(&typed("application/json"), json_body).to_string();
        for secret in ["\"at\"", "\"rt\"", "\"cs\""] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("\"expires_in\":60"));
    }
}
