//! HTTP plumbing that remote transports and the OAuth flow share, and nothing of MCP or OAuth:
//! the one client configuration (no proxy, no redirects), a body read whole within its limit and
//! the process's memory budget ([`budget`]), and reqwest's error in words. Neither side imports
//! the other for these. Also what our loopback listeners share: the names they answer to, the
//! refusal of a request from off this machine or another origin, and random ids.

pub mod budget;

use std::time::Duration;

/// The names a listener on loopback `port` answers to: `127.0.0.1:PORT`, `localhost:PORT`,
/// `[::1]:PORT`.
pub fn loopback_hosts(port: u16) -> [String; 3] {
    [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ]
}

/// Why a request to a listener of ours on loopback `port` that holds no token (the mock, the
/// proxy) must be refused, if it must: a `Host` that does not name this machine on that port
/// (DNS rebinding), or a browser page of any other origin, another local port included.
pub fn foreign_request(headers: &reqwest::header::HeaderMap, port: u16) -> Option<&'static str> {
    let names_us = |authority: &str| {
        loopback_hosts(port)
            .iter()
            .any(|h| h.eq_ignore_ascii_case(authority))
    };
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if !names_us(header(reqwest::header::HOST).unwrap_or("")) {
        return Some("Host must name this machine");
    }
    match header(reqwest::header::ORIGIN) {
        Some(origin) if !origin.strip_prefix("http://").is_some_and(names_us) => {
            Some("a page of another origin")
        }
        _ => None,
    }
}

/// `bytes` random bytes as hex: tokens, session and view ids, task ids.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS gives random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The client every remote connection (and its authorization flow) uses: no proxy (a debugger
/// talks to the server it was given), no redirects (each is shown, and a flow decides), a
/// connect timeout, Nagle off (frames are small and latency is what a user feels).
pub fn client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Why a body was not read whole.
#[derive(Debug)]
pub enum BodyError {
    OverBudget(budget::OverBudget),
    Other(String),
}

impl From<BodyError> for String {
    fn from(e: BodyError) -> String {
        match e {
            BodyError::OverBudget(b) => b.to_string(),
            BodyError::Other(s) => s,
        }
    }
}

/// A whole answer body, refused past `limit` bytes or past the process's memory budget for
/// answers being read (also what an authorization flow reads).
pub async fn read_limited(mut res: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut held = budget::Reservation::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| BodyError::Other(format!("reading the answer: {}", describe_error(&e))))?
    {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::Other(format!(
                "the answer is over {limit} bytes; not read"
            )));
        }
        held.resize(body.len() + chunk.len())
            .map_err(BodyError::OverBudget)?;
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's error with its causes, which is where "connection refused" lives.
pub fn describe_error(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
