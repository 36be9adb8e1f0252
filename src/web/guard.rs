//! The guard in front of every route, pages and static files included: an unexpected `Host`
//! (DNS rebinding) or a foreign `Origin` gets 403; an `/api/*` call without the right token gets
//! 401. The token is compared in constant time.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::{AppState, error::ApiError};

pub(super) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Err(e) = check(&state, &request) {
        return e.into_response();
    }
    next.run(request).await
}

fn check(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if state.is_own_host(h) => {}
        other => {
            return Err(ApiError::Forbidden(format!(
                "unexpected Host {:?}: mcpscope answers only to its own loopback address",
                other.unwrap_or("")
            )));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let own = origin
            .strip_prefix("http://")
            .is_some_and(|rest| state.is_own_host(rest));
        if !own {
            return Err(ApiError::Forbidden(format!(
                "foreign Origin {origin:?}: only mcpscope's own pages may call it"
            )));
        }
    }
    let path = request.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        let query_token = if path == "/api/events" {
            token_from_query(request.uri().query().unwrap_or(""))
        } else {
            None
        };
        let given = bearer(headers).or(query_token);
        let ok = given.is_some_and(|t| bool::from(t.as_bytes().ct_eq(state.token.as_bytes())));
        if !ok {
            return Err(ApiError::Unauthorized);
        }
    }
    Ok(())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

fn token_from_query(query: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| percent_decode(v))
}

fn percent_decode(s: &str) -> String {
    fn hex(b: Option<&u8>) -> Option<u8> {
        (*b? as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes[i] {
            b'%' => hex(bytes.get(i + 1)).zip(hex(bytes.get(i + 2))),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some((hi, lo)), _) => {
                out.push(hi * 16 + lo);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_tokens_are_found_and_decoded() {
        assert_eq!(
            token_from_query("since=3&token=ab%2Fc").as_deref(),
            Some("ab/c")
        );
        assert_eq!(token_from_query("since=3"), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
