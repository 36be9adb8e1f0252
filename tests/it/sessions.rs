//! Several sessions at once, through the API: server-everything over stdio beside a FastMCP
//! server over Streamable HTTP. Events carry their session; calls, pending server requests and
//! progress stay with theirs; one ending leaves the other answering; the single-session routes
//! act on the selected session. Also the two regressions found while trying it: a refused
//! `initialize` keeps its reason, and an HTTP 400 carrying a JSON-RPC error is a refusal, not a
//! reason to fall back.

use serde_json::{Value, json};

use crate::{remote, support::*};

impl Scope {
    /// `POST /api/sessions`: 201 and a connected session.
    pub async fn open_session(&self, name: &str, target: Value) -> Value {
        let mut body = target;
        body["name"] = json!(name);
        let (status, session) = self.post("/api/sessions", body).await;
        assert_eq!(status, 201, "{session}");
        assert_eq!(session["state"], "connected", "{session:#}");
        assert_eq!(session["name"], name);
        session
    }

    pub async fn session_result(&self, id: &str, method: &str, params: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/sessions/{id}/request"),
                json!({"method": method, "params": params}),
            )
            .await;
        assert_eq!(status, 200, "{id} {method}: {body}");
        assert!(body.get("result").is_some(), "{id} {method}: {body}");
        body["result"].clone()
    }
}

fn of(session: &'static str, pred: impl Fn(&Value) -> bool) -> impl Fn(&Value) -> bool {
    move |e| e["session"] == session && pred(e)
}

#[tokio::test]
async fn two_servers_at_once_keep_their_calls_pending_requests_and_progress_apart() {
    let peer = remote::fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let a = scope.open_session("everything", everything_target()).await;
    let b = scope
        .open_session("fastmcp", json!({"url": peer.url("/mcp")}))
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    assert_eq!((a, b), ("s1", "s2"));

    let (status, list) = scope.get("/api/sessions").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["everything", "fastmcp"]);
    assert_eq!(
        scope.get(&format!("/api/sessions/{b}")).await.1["target"]["transport"],
        "http"
    );

    // Each answers its own calls.
    let sum = scope
        .session_result(
            a,
            "tools/call",
            json!({"name": "get-sum", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert!(first_text(&sum).contains('5'), "{sum}");
    let added = scope
        .session_result(
            b,
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
        )
        .await;
    assert_eq!(first_text(&added), "42");

    // A sampling request from `a` waits in a's queue only.
    let call = {
        let req = scope
            .http
            .post(scope.url(&format!("/api/sessions/{a}/request")))
            .bearer_auth(&scope.token)
            .json(&json!({"method": "tools/call", "params": {"name": "trigger-sampling-request", "arguments": {"prompt": "hi", "maxTokens": 5}}}));
        tokio::spawn(async move { req.send().await.unwrap() })
    };
    let pending = events
        .wait_for("a's pending request", kind("pending"))
        .await;
    assert_eq!(pending["session"], a);
    assert_eq!(
        scope.get(&format!("/api/sessions/{b}/pending")).await.1,
        json!([])
    );
    let (_, queued) = scope.get(&format!("/api/sessions/{a}/pending")).await;
    assert_eq!(queued.as_array().unwrap().len(), 1, "{queued}");
    assert_eq!(
        scope.get(&format!("/api/sessions/{a}")).await.1["pending"],
        1
    );
    let pid = pending["id"].as_str().unwrap();
    let (status, body) = scope
        .post(
            &format!("/api/sessions/{b}/pending/{pid}"),
            json!({"result": {}}),
        )
        .await;
    assert_eq!(status, 404, "b has no such pending request: {body}");
    let (status, body) = scope
        .post(
            &format!("/api/sessions/{a}/pending/{pid}"),
            json!({"result": {"role": "assistant", "content": {"type": "text", "text": "hello from a"}, "model": "m"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, answered) = decode(call.await.unwrap()).await;
    assert!(answered.to_string().contains("hello from a"), "{answered}");

    // Progress from b belongs to b.
    scope
        .session_result(
            b,
            "tools/call",
            json!({"name": "count_to", "arguments": {"n": 2}}),
        )
        .await;
    let progress = events.wait_for("b's progress", kind("progress")).await;
    assert_eq!(progress["session"], b);

    // Every session event says whose it is; frames of each carry their own methods.
    assert!(
        events
            .seen
            .iter()
            .all(|e| e["session"] == a || e["session"] == b),
        "every event so far belongs to a session"
    );
    assert!(
        events
            .seen
            .iter()
            .any(of("s1", frame("sent", "tools/call")))
    );
    assert!(
        events
            .seen
            .iter()
            .any(of("s2", frame("sent", "tools/call")))
    );

    // b's server dies: b fails, a keeps answering.
    drop(peer);
    let (status, _) = scope
        .post(
            &format!("/api/sessions/{b}/request"),
            json!({"method": "tools/list"}),
        )
        .await;
    assert!(status == 502 || status == 409, "{status}");
    events.wait_for("b failed", of("s2", state("failed"))).await;
    let tools = scope.session_result(a, "tools/list", json!({})).await;
    assert!(!tools["tools"].as_array().unwrap().is_empty());
    assert_eq!(
        scope.get(&format!("/api/sessions/{a}")).await.1["state"],
        "connected"
    );
}

#[tokio::test]
async fn single_session_routes_act_on_the_selected_session() {
    let scope = Scope::start().await;
    let a = scope.open_session("demo one", demo_target()).await;
    let b = scope.open_session("demo two", demo_target()).await;
    // The first session is selected by default.
    assert_eq!(scope.get("/api/session").await.1["id"], a["id"]);
    let (status, body) = scope.post("/api/sessions/s2/select", json!({})).await;
    assert_eq!((status.as_u16(), &body["id"]), (200, &b["id"]));
    assert_eq!(scope.get("/api/session").await.1["name"], "demo two");
    scope.result("tools/list", json!({})).await;
    let (_, sent) = scope.get("/api/sessions/s2/inflight").await;
    assert_eq!(sent, json!([]));

    // Disconnect through the single route ends only the selected one.
    let (_, off) = scope.post("/api/session/disconnect", json!({})).await;
    assert_eq!(
        (off["id"].as_str(), off["state"].as_str()),
        (Some("s2"), Some("disconnected"))
    );
    assert_eq!(scope.get("/api/sessions/s1").await.1["state"], "connected");

    // Unknown ids are 404 with the error shape, on every per-session route.
    for (method, path) in [
        ("GET", "/api/sessions/s9"),
        ("POST", "/api/sessions/s9/request"),
        ("POST", "/api/sessions/s9/select"),
        ("GET", "/api/sessions/s9/pending"),
        ("DELETE", "/api/sessions/s9"),
    ] {
        let res = scope
            .http
            .request(method.parse().unwrap(), scope.url(path))
            .bearer_auth(&scope.token)
            .json(&json!({"method": "ping"}))
            .send()
            .await
            .unwrap();
        let (status, body) = decode(res).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["kind"], "not_found", "{body}");
    }

    // Forgetting the selected session selects the first remaining one.
    let mut events = scope.events().await;
    let res = scope
        .http
        .delete(scope.url("/api/sessions/s1"))
        .bearer_auth(&scope.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    events
        .wait_for("s1 removed", of("s1", kind("removed")))
        .await;
    let (_, list) = scope.get("/api/sessions").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(scope.get("/api/session").await.1["id"], "s2");
}

#[tokio::test]
async fn the_event_stream_can_follow_one_session() {
    let scope = Scope::start().await;
    scope.open_session("one", demo_target()).await;
    scope.open_session("two", demo_target()).await;
    scope.session_result("s2", "tools/list", json!({})).await;
    let res = scope
        .http
        .get(scope.url(&format!("/api/events?session=s2&token={}", scope.token)))
        .send()
        .await
        .unwrap();
    let mut only = crate::support::Events::from_response(res);
    only.wait_for("s2's tools/list", frame("sent", "tools/list"))
        .await;
    assert!(
        only.seen.iter().all(|e| e["session"] == "s2"),
        "{:?}",
        only.seen.iter().map(|e| &e["session"]).collect::<Vec<_>>()
    );
    assert!(only.seen.iter().any(frame("sent", "initialize")));
}

#[tokio::test]
async fn a_refused_initialize_stays_the_reason_after_the_server_exits() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (status, session) = scope
        .post(
            "/api/session/connect",
            python_target("refusing_server.py")
                .tap(|t| t["args"].as_array_mut().unwrap().push(json!("stdio"))),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["state"], "failed", "{session}");
    assert!(
        session["error"].as_str().unwrap().contains("-32022"),
        "{session}"
    );
    // The server exits 0 once we close its stdin; that must not replace the refusal.
    events.wait_for("the exit", kind("exit")).await;
    let (_, now) = scope.get("/api/session").await;
    let error = now["error"].as_str().unwrap();
    assert!(
        error.contains("refused initialize") && error.contains("-32022"),
        "{error}"
    );
    assert!(!error.contains("exited"), "{error}");
}

#[tokio::test]
async fn an_http_400_with_a_json_rpc_error_is_a_refusal_not_a_fallback() {
    let port = remote::free_port();
    let peer =
        remote::python_server("refusing_server.py", &["http", &port.to_string()], port).await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (_, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": peer.url("/mcp")}),
        )
        .await;
    assert_eq!(session["state"], "failed", "{session}");
    let error = session["error"].as_str().unwrap();
    assert!(
        error.contains("-32022"),
        "the refusal is the reason: {error}"
    );
    assert_eq!(
        session["target"]["transport"], "http",
        "no fallback: {session}"
    );
    let post = events
        .wait_for("the POST exchange", |e| {
            e["kind"] == "http" && e["method"] == "POST"
        })
        .await;
    assert_eq!(post["status"], 400);
    assert!(
        post["bodyExcerpt"]
            .as_str()
            .unwrap()
            .contains("Unsupported protocol version"),
        "{post}"
    );
    events
        .wait_for("the refusal as a frame", |e| {
            e["kind"] == "frame" && e["frameType"] == "error"
        })
        .await;
    assert!(
        !events
            .seen
            .iter()
            .any(|e| e["kind"] == "http" && e["method"] == "GET"),
        "no GET for an SSE endpoint: the server answered"
    );
}
