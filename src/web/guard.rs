//! What stands in front of every route, pages and static files included, wrapped once around the
//! whole router: the guard (an unexpected `Host`, i.e. DNS rebinding, or a foreign `Origin` gets
//! 403; an `/api/*` call without the right token gets 401; the token is compared in constant
//! time) and the security headers every answer carries, refusals and 404s included.
//!
//! One service around the router rather than layers on it: axum puts a router's layers on every
//! route, each boxed, so each request cloned and boxed the chain again (about 60 of the relay's
//! 130 allocations per call went to five such layers).

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
};

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;
use tower_service::Service;

use super::{AppState, error::ApiError};

/// `inner` behind the guard, its answers given the security headers.
#[derive(Clone)]
pub(super) struct Secure<S> {
    inner: S,
    state: AppState,
    policy: HeaderValue,
}

impl<S> Secure<S> {
    pub(super) fn new(inner: S, state: AppState) -> Secure<S> {
        let policy = HeaderValue::from_str(&super::content_security_policy(state.apps_port))
            .expect("a policy of ASCII text");
        Secure {
            inner,
            state,
            policy,
        }
    }
}

impl<S> Service<Request> for Secure<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Secured<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let path = request.uri().path();
        let api = path == "/api" || path.starts_with("/api/");
        let answer = match check(&self.state, &request, api) {
            Ok(()) => Answer::Routed(self.inner.call(request)),
            Err(e) => Answer::Refused(Some(e.into_response())),
        };
        Secured {
            answer,
            policy: self.policy.clone(),
            api,
        }
    }
}

/// The future of one answer through [`Secure`].
pub(super) struct Secured<F> {
    answer: Answer<F>,
    policy: HeaderValue,
    /// API answers are never cached.
    api: bool,
}

enum Answer<F> {
    Routed(F),
    Refused(Option<Response>),
}

impl<F> Future for Secured<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut response = match &mut this.answer {
            Answer::Routed(f) => ready!(Pin::new(f).poll(cx))?,
            Answer::Refused(r) => r.take().expect("polled after its answer"),
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, this.policy.clone());
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // The first page load carries the token in its URL; never leak it as a referrer.
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        if this.api {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        Poll::Ready(Ok(response))
    }
}

/// `api`: the request is for `/api` or under it, where the token is needed.
fn check(state: &AppState, request: &Request, api: bool) -> Result<(), ApiError> {
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
    if api {
        let query_token = if request.uri().path() == "/api/events" {
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
