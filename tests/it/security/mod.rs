//! Every attack mcpscope defends against, in one place: a line each here, a test each below or
//! in the submodules.
//!
//! The guard (this file): the API without the token; another origin with the token; a DNS
//! rebinding Host on pages, static files and the API; the token in served HTML; inline script
//! (CSP); a non-loopback bind; names on `--dangerously-bind-all`; a kept call's outcome read
//! without the token, from another origin, through another session, or with a huge ref; the
//! recorded calls of a session (`…/recorded`) the same ways, with unknown or huge parameters;
//! the history (`…/history`) the same ways, with a huge text, too many kinds, NUL and escapes in
//! the text, another session's events, and a stream's `tail` past any size; one event whole
//! (`…/events/{seq}`) the same ways, another session's, and seqs that are not numbers.
//!
//! Recordings and replay (`replay.rs`): a sealed export whose requests were edited (another
//! tool called on the user's server) replayed by the CLI with no terminal, against its own
//! target or one given; the same file opened and replayed through the API, or against another
//! session; a recording's `startedAt` that is not a file name in `Content-Disposition`.
//!
//! Secrets (`secrets.rs`): a server echoing a secret env value in other JSON escapes (Python's
//! `\u00e4`, Go's `\u0026`, PHP's `\/`), percent-encoded, in base64 inside `user:secret`,
//! inside JSON it prints (stderr, nested strings); an imported remote entry whose URL or
//! headers name `${env:…}` of mcpscope's own environment; a `password` input in stdio args in
//! the session object and the export header; URL passwords, `api_key=` values and
//! `X-Auth-Key` / `Ocp-Apim-Subscription-Key` headers in the catalog's answers, exports and
//! export previews, and a secret written as a placeholder that names no source (`${ghp_…}`).
//!
//! This machine (`local.rs`): server text full of terminal escapes (title, clear screen, OSC 52
//! clipboard) in `--cli --format text`, lint and replay reports and the stderr passed through;
//! a symlink where a private file (responders, credentials, catalog) is written; a recording key
//! others can read; `mcpscope dev` given an option-looking file name, or a server file below a
//! `.venv` / `pyproject.toml` others can write (unit test in `src/dev.rs`).
//!
//! MCP Apps (`apps.rs`): a hostile app's view reaching for the top page, the UI's token and
//! API, opening a window, running a javascript: link, calling a tool apps may not call,
//! flooding size changes, declaring `*` and keywords to widen its own policy, or never starting
//! its handshake; the apps origin from another site, under another Host, written to without an
//! Origin, with a huge view, asked for the UI's routes; the page's report route from another
//! origin and with escape-laden text.
//!
//! A model in the loop (`model.rs`): the chat and models routes without the token or from
//! another origin, with a model that is not PROVIDER:MODEL or unknown fields; the key never in
//! `GET /api/models` (nor in events, exports or a debug log: `tests/it/model.rs`); an eval file
//! over its size limit, or whose case names and model answers carry terminal escapes and XML.
//!
//! The tap (`tap.rs`): `POST /api/tap` without the token or from another origin, with a body
//! that is not a report, a frame before its hello, a hello with unknown fields or a huge name,
//! a record over its limit; tapped lines that are not JSON, not UTF-8, answer nothing or carry
//! terminal escapes; a tapped session asked to send; a tap told to report off this machine; a
//! token file planted as a symlink or readable by others; the proxy under another Host (DNS
//! rebinding) or from another site's page, given a non-HTTP upstream or a remote mcpscope; an `--otlp` URL that is not
//! http(s). (Secrets in spans: `tests/it/otlp.rs`.) (Config rewrites: a symlinked or
//! commented client config is refused, unit tests in `src/tap/install.rs`.)
//!
//! The mock (`mock.rs`): its HTTP listener under another Host or from another Origin, asked
//! for a standalone stream, a huge body, an unknown session; a file that is not a recording,
//! with terminal escapes.
//!
//! The network (`network.rs`): a server streaming answers past the process's memory budget; a
//! challenge whose `resource_metadata` points at the cloud metadata address.

mod apps;
mod local;
mod mock;
mod model;
mod network;
mod replay;
mod secrets;
mod tap;

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

async fn status(req: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value) {
    decode(req.send().await.unwrap()).await
}

#[tokio::test]
async fn api_calls_need_the_token() {
    let s = Scope::start().await;
    let (code, body) = status(s.http.get(s.url("/api/session"))).await;
    assert_eq!(code, 401);
    assert_eq!(body["error"]["kind"], "unauthorized");
    let (code, _) = status(s.http.get(s.url("/api/session")).bearer_auth("wrong")).await;
    assert_eq!(code, 401);
    let (code, _) = status(
        s.http
            .get(s.url(&format!("/api/session?token={}", s.token))),
    )
    .await;
    assert_eq!(code, 401, "the query token is only for /api/events");
    let (code, _) = status(s.http.post(s.url("/api/session/connect")).body("{}")).await;
    assert_eq!(code, 401);
    let (code, _) = status(s.http.get(s.url("/api/events"))).await;
    assert_eq!(code, 401);
    let (code, _) = status(s.http.get(s.url("/api/events?token=nope"))).await;
    assert_eq!(code, 401);
    // The paged history is the event stream's history: the same guard, and no query token.
    for path in [
        "/api/history",
        "/api/sessions/s1/history",
        "/api/sessions/s1/responders",
    ] {
        let (code, _) = status(s.http.get(s.url(path))).await;
        assert_eq!(code, 401, "{path}");
        let (code, _) = status(s.http.get(s.url(&format!("{path}?token={}", s.token)))).await;
        assert_eq!(code, 401, "{path} with the query token");
        let (code, _) = status(
            s.http
                .get(s.url(path))
                .bearer_auth(&s.token)
                .header("Origin", "http://evil.example"),
        )
        .await;
        assert_eq!(code, 403, "{path} from another origin");
    }
    let res = s
        .http
        .get(s.url(&format!("/api/events?token={}", s.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
}

#[tokio::test]
async fn foreign_origins_are_refused_even_with_the_token() {
    let s = Scope::start().await;
    for origin in ["http://evil.example", "null", "http://127.0.0.1:1"] {
        let (code, body) = status(
            s.http
                .get(s.url("/api/session"))
                .bearer_auth(&s.token)
                .header("Origin", origin),
        )
        .await;
        assert_eq!(code, 403, "{origin}");
        assert_eq!(body["error"]["kind"], "forbidden");
        let (code, _) = status(s.http.get(s.url("/")).header("Origin", origin)).await;
        assert_eq!(code, 403, "page with Origin {origin}");
    }
    for own in [
        format!("http://127.0.0.1:{}", s.port),
        format!("http://localhost:{}", s.port),
    ] {
        let (code, _) = status(
            s.http
                .get(s.url("/api/session"))
                .bearer_auth(&s.token)
                .header("Origin", own.as_str()),
        )
        .await;
        assert_eq!(code, 200, "{own}");
    }
}

#[tokio::test]
async fn rebinding_hosts_are_refused_on_pages_static_files_and_api() {
    let s = Scope::start().await;
    for path in [
        "/",
        "/static/app.css",
        "/static/js/app.js",
        "/favicon.ico",
        "/api/session",
    ] {
        let (code, _) = status(
            s.http
                .get(s.url(path))
                .bearer_auth(&s.token)
                .header("Host", format!("attacker.example:{}", s.port)),
        )
        .await;
        assert_eq!(code, 403, "{path}");
        let (code, _) = status(
            s.http
                .get(s.url(path))
                .bearer_auth(&s.token)
                .header("Host", "127.0.0.1:1"),
        )
        .await;
        assert_eq!(code, 403, "{path} with another port");
        let (code, _) = status(
            s.http
                .get(s.url(path))
                .bearer_auth(&s.token)
                .header("Host", format!("localhost:{}", s.port)),
        )
        .await;
        assert_eq!(code, 200, "{path} via localhost");
    }
}

/// Browsers fetch /favicon.ico on every load, without the token; a 404 there is a console error.
#[tokio::test]
async fn the_favicon_is_served_as_svg_without_a_token() {
    let s = Scope::start().await;
    for path in ["/favicon.ico", "/static/favicon.svg"] {
        let res = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml", "{path}");
        let body = res.text().await.unwrap();
        assert!(
            body.starts_with("<svg") && body.len() < 400,
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_never_the_token() {
    let s = Scope::start().await;
    let res = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let html = res.text().await.unwrap();
    assert!(!html.contains(&s.token));
    assert!(!html.contains("<script>"), "no inline script");
    for asset in ["/static/js/app.js", "/static/js/api.js", "/static/app.css"] {
        let body = s
            .http
            .get(s.url(asset))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!body.is_empty() && !body.contains(&s.token), "{asset}");
    }
}

/// The guard and the headers wrap the whole router once, not each route: every answer carries
/// them, refusals, unknown paths and wrong methods included, and API answers are never cached.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = Scope::start().await;
    let with_token = |req: reqwest::RequestBuilder| req.bearer_auth(&s.token);
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, bool)> = vec![
        ("page", s.http.get(s.url("/")), 200, false),
        ("asset", s.http.get(s.url("/static/js/app.js")), 200, false),
        ("unknown path", s.http.get(s.url("/nope")), 404, false),
        (
            "api",
            with_token(s.http.get(s.url("/api/session"))),
            200,
            true,
        ),
        ("no token", s.http.get(s.url("/api/session")), 401, true),
        (
            "other origin",
            with_token(s.http.get(s.url("/api/session"))).header("Origin", "http://evil.example"),
            403,
            true,
        ),
        (
            "rebinding host",
            s.http.get(s.url("/")).header("Host", "evil.example"),
            403,
            false,
        ),
        ("head", s.http.head(s.url("/")), 200, false),
        (
            "oauth callback",
            s.http.get(s.url("/oauth/callback")),
            400,
            false,
        ),
        (
            "event stream",
            s.http.get(s.url(&format!("/api/events?token={}", s.token))),
            200,
            true,
        ),
        (
            "a session's route",
            with_token(s.http.get(s.url("/api/sessions/s9/inflight"))),
            404,
            true,
        ),
        (
            "unknown api path",
            with_token(s.http.get(s.url("/api/nope"))),
            404,
            true,
        ),
        (
            "wrong method",
            with_token(s.http.get(s.url("/api/request"))),
            405,
            true,
        ),
        (
            "bad body",
            with_token(s.http.post(s.url("/api/request")))
                .header("content-type", "application/json")
                .body("{"),
            400,
            true,
        ),
    ];
    for (what, req, code, api) in cases {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), code, "{what}");
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.starts_with("default-src 'none'; script-src 'self';"),
            "{what}: {csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
        if api {
            assert_eq!(h["cache-control"], "no-store", "{what}");
        } else {
            assert_ne!(
                h.get("cache-control").map(|v| v.to_str().unwrap()),
                Some("no-store"),
                "{what}: only API answers are no-store"
            );
        }
    }
    // The API's own body limit is still in front of it: a 3 MiB argument (over axum's 2 MB
    // default, far under ours) is read, not refused.
    let big = json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": "x".repeat(3 << 20)}}});
    let res = with_token(s.http.post(s.url("/api/request")))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 413);
    assert_eq!(res.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn non_loopback_binds_are_refused() {
    for host in ["0.0.0.0", "::"] {
        let out = tokio::process::Command::new(bin())
            .args(["--host", host, "--port", "0", "--no-open"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{host}");
        assert!(out.stdout.is_empty(), "no ready line");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--dangerously-bind-all"));
    }
}

#[tokio::test]
async fn with_bind_all_ip_hosts_work_but_names_are_still_refused() {
    let s = Scope::start_with(&["--dangerously-bind-all"]).await;
    let get = |host: String| {
        s.http
            .get(s.url("/api/session"))
            .bearer_auth(&s.token)
            .header("Host", host)
    };
    let (code, _) = status(get(format!("192.0.2.7:{}", s.port))).await;
    assert_eq!(code, 200, "an IP literal cannot be a rebinding attack");
    let (code, _) = status(get(format!("rebind.attacker.example:{}", s.port))).await;
    assert_eq!(code, 403);
    let (code, _) = status(get("192.0.2.7:1".into())).await;
    assert_eq!(code, 403, "another port");
}

/// A scope with two demo sessions; the first one's id.
async fn two_demo_sessions() -> (Scope, String) {
    let s = Scope::start().await;
    let first = s.connect(demo_target()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, _) = s.post("/api/sessions", demo_target()).await;
    assert!(code.is_success());
    (s, first)
}

/// `GET path` without the token is 401, and with it from another origin 403.
async fn refused_without_token_or_from_another_origin(s: &Scope, path: &str) {
    let (code, _) = status(s.http.get(s.url(path))).await;
    assert_eq!(code, 401, "no token");
    let (code, _) = status(
        s.http
            .get(s.url(path))
            .bearer_auth(&s.token)
            .header("Origin", "http://evil.example"),
    )
    .await;
    assert_eq!(code, 403, "another origin");
}

#[tokio::test]
async fn a_kept_call_is_read_only_with_the_token_from_us_and_on_its_own_session() {
    let (s, first) = two_demo_sessions().await;
    let (code, body) = s
        .post(
            &format!("/api/sessions/{first}/request"),
            json!({"method": "tools/list", "ref": "mine"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let path = format!("/api/sessions/{first}/calls/mine");
    assert_eq!(s.get(&path).await.0, 200);
    refused_without_token_or_from_another_origin(&s, &path).await;
    let (code, _) = s.get("/api/sessions/s2/calls/mine").await;
    assert_eq!(code, 404, "another session's ref");
    let (code, body) = s
        .post(
            "/api/request",
            json!({"method": "tools/list", "ref": "x".repeat(100_000)}),
        )
        .await;
    assert_eq!(code, 400, "{body}");
}

#[tokio::test]
async fn recorded_calls_are_read_with_the_token_from_us_and_only_from_their_own_session() {
    let (s, first) = two_demo_sessions().await;
    s.post(
        &format!("/api/sessions/{first}/request"),
        json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"text": "mine"}}}),
    )
    .await;
    let path = format!("/api/sessions/{first}/recorded?method=tools/call&name=echo");
    let (code, body) = s.get(&path).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["total"], 1, "{body}");
    refused_without_token_or_from_another_origin(&s, &path).await;
    let (code, body) = s
        .get("/api/sessions/s2/recorded?method=tools/call&name=echo")
        .await;
    assert_eq!(
        (code.as_u16(), body["total"].clone()),
        (200, json!(0)),
        "another session's calls"
    );
    let (code, _) = s
        .get(&format!(
            "/api/sessions/{first}/recorded?method=tools/call&x=1"
        ))
        .await;
    assert_eq!(code, 400, "an unknown parameter");
    let (code, _) = s.get(&format!("/api/sessions/{first}/recorded")).await;
    assert_eq!(code, 400, "no method");
    let huge = "n".repeat(30_000);
    let (code, body) = s
        .get(&format!(
            "/api/sessions/{first}/recorded?method=tools/call&name={huge}"
        ))
        .await;
    assert!(code == 200 || code == 414 || code == 431, "{code} {body}");
    assert_eq!(s.get("/api/session").await.0, 200, "still serving");
}

#[tokio::test]
async fn history_is_read_with_the_token_from_us_and_refuses_searches_that_would_cost_too_much() {
    let (s, first) = two_demo_sessions().await;
    s.post(
        &format!("/api/sessions/{first}/request"),
        json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"text": "mine \u{1b}]52;c;x\u{7}"}}}),
    )
    .await;
    let path = format!("/api/sessions/{first}/history?q=mine");
    let (code, body) = s.get(&path).await;
    assert_eq!(code, 200, "{body}");
    assert!(!body["events"].as_array().unwrap().is_empty(), "{body}");
    refused_without_token_or_from_another_origin(&s, &path).await;
    refused_without_token_or_from_another_origin(&s, "/api/history?scope=all").await;
    // One event whole: the same guard, only the session's own (or no session's), and a seq.
    refused_without_token_or_from_another_origin(&s, &format!("/api/sessions/{first}/events/1"))
        .await;
    assert_eq!(
        s.get(&format!("/api/sessions/{first}/events/1")).await.0,
        200
    );
    let (_, theirs) = s.get("/api/sessions/s2/history?limit=1").await;
    let theirs = theirs["events"][0]["seq"].as_u64().unwrap();
    assert_eq!(
        s.get(&format!("/api/sessions/{first}/events/{theirs}"))
            .await
            .0,
        404,
        "another session's event through this one's route"
    );
    for bad in ["-1", "1.5", "%00", "99999999999999999999999"] {
        let (code, _) = s.get(&format!("/api/sessions/{first}/events/{bad}")).await;
        assert!(code == 400 || code == 404, "{bad}: {code}");
    }
    // Another session's events only with scope=all, never through its own route.
    let (_, other) = s.get("/api/sessions/s2/history?q=mine").await;
    assert_eq!(other["events"], json!([]));
    // A text over 1 KiB, a kind list longer than the kinds there are, a kind that is not one,
    // a NUL or escapes in the text (searched as bytes, answered as JSON).
    for (query, want) in [
        (format!("q={}", "x".repeat(1025)), 400),
        (
            format!(
                "kind={}",
                (0..40u8)
                    .map(|i| format!("k{}{}", (b'a' + i / 26) as char, (b'a' + i % 26) as char))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            400,
        ),
        ("kind=frame%00".to_owned(), 400),
        ("q=%00%1b%5d52".to_owned(), 200),
        ("q=%1b%5d52%3bc".to_owned(), 200),
        ("scope=all&scope=all&q=%FF%FE".to_owned(), 200),
        ("elide=lots".to_owned(), 400),
        ("elide=0".to_owned(), 200),
    ] {
        let (code, body) = s
            .get(&format!("/api/sessions/{first}/history?{query}"))
            .await;
        assert_eq!(code, want, "{query}: {body}");
    }
    let (_, escaped) = s
        .get(&format!("/api/sessions/{first}/history?q=%1b%5d52"))
        .await;
    assert_eq!(
        escaped["events"],
        json!([]),
        "the JSON holds \\u001b, never the byte"
    );
    // A tail past what the stream serves is clamped, not a copy of the whole ring.
    let res = s
        .http
        .get(s.url(&format!(
            "/api/events?token={}&tail=18446744073709551615",
            s.token
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut stream = res.bytes_stream();
    let first_chunk = futures_util::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&first_chunk);
    assert!(text.starts_with("id: 0\nevent: start\n"), "{text}");
    assert_eq!(s.get("/api/session").await.0, 200, "still serving");
}
