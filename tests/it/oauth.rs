//! OAuth for remote targets against a real protected server: the Python SDK's own authorization
//! server and a FastMCP resource server (`tests/servers/oauth_servers.py`), with this test as the
//! user's browser. Then the refusals: a callback with the wrong state, a replayed callback,
//! authorization endpoints that are `javascript:` or plain http off loopback, and discovery that
//! would reach another host only through a redirect.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::process::Command;

use crate::{
    remote::{Peer, free_port, listening},
    support::*,
};

/// The protected server: (authorization server port, the MCP endpoint's peer).
async fn protected(ttl_seconds: u32) -> (u16, Peer) {
    let (as_port, rs_port) = (free_port(), free_port());
    let mut cmd = Command::new(python());
    cmd.arg("-u")
        .arg(root().join("tests/servers/oauth_servers.py"))
        .args([
            as_port.to_string(),
            rs_port.to_string(),
            ttl_seconds.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    let peer = listening(cmd.spawn().expect("the OAuth peer starts"), rs_port).await;
    let until = Instant::now() + DEADLINE;
    while tokio::net::TcpStream::connect(("127.0.0.1", as_port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < until,
            "the authorization server never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (as_port, peer)
}

/// The user's browser: opens the URL and follows the redirects, as a person clicking it would.
async fn browse(url: &str) -> (u16, String, String) {
    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    let landed = res.url().to_string();
    let status = res.status().as_u16();
    (status, landed, res.text().await.unwrap())
}

fn auth_step(phase: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "auth" && e["phase"] == phase
}

/// Every event so far, as one text.
async fn history(scope: &Scope) -> String {
    let mut events = scope.events().await;
    let mut all = String::new();
    while let Some(e) = events
        .next(Instant::now() + Duration::from_millis(300))
        .await
    {
        all.push_str(&e.to_string());
        all.push('\n');
    }
    all
}

/// What the Python peer's tokens and codes look like: `at-…`, `rt-…` and 32-character codes
/// never appear, and neither does any `Bearer <value>` other than the redacted one.
fn assert_no_secrets(text: &str, what: &str) {
    let token = regex_lite::Regex::new(r"\b(at|rt)-[A-Za-z0-9_-]{20,}").unwrap();
    assert!(!token.is_match(text), "a token in {what}");
    let bearer = regex_lite::Regex::new(r"Bearer [A-Za-z0-9_-]{8,}").unwrap();
    assert!(!bearer.is_match(text), "a bearer value in {what}");
}

#[tokio::test]
async fn a_python_sdk_protected_server_authorizes_refreshes_and_never_shows_a_token() {
    let (as_port, peer) = protected(4).await;
    let logs = Arc::new(Mutex::new(String::new()));
    let scope = Scope::start_logging("debug", logs.clone()).await;
    let mut events = scope.events().await;
    let (status, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": peer.url("/mcp")}),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    // Connect returns as soon as there is something for the user to open.
    assert_eq!(session["state"], "authorizing", "{session:#}");
    let auth = &session["authorization"];
    assert_eq!(auth["phase"], "authorize");
    assert_eq!(auth["host"], format!("127.0.0.1:{as_port}"));
    let url = auth["url"].as_str().unwrap();
    let parsed = url::Url::parse(url).unwrap();
    assert_eq!(parsed.port(), Some(as_port));
    let query: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["resource"], peer.url("/mcp"));
    assert_eq!(query["scope"], "mcp:read");
    assert_eq!(
        query["redirect_uri"],
        format!("http://127.0.0.1:{}/oauth/callback", scope.port)
    );

    // Each step so far, in order, and what the debugger shows of them.
    for phase in ["challenge", "prm", "as-metadata"] {
        let step = events.wait_for(phase, auth_step(phase)).await;
        assert_eq!(step["ok"], true, "{step}");
    }
    let register = events
        .wait_for("the registration request", |e| {
            e["kind"] == "http" && e["phase"] == "registration"
        })
        .await;
    assert_eq!(register["status"], 201, "{register}");
    assert_eq!(register["responseBody"]["client_secret"], "<redacted>");
    for phase in ["registration", "authorize"] {
        let step = events.wait_for(phase, auth_step(phase)).await;
        assert_eq!(step["ok"], true, "{step}");
    }

    // The browser goes there and comes back to mcpscope's callback.
    let (status, landed, page) = browse(url).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        landed.starts_with(&scope.url("/oauth/callback?")),
        "{landed}"
    );
    assert!(page.contains("Authorization received"), "{page}");
    let exchange = events
        .wait_for("the token request", |e| {
            e["kind"] == "http" && e["phase"] == "token"
        })
        .await;
    assert_eq!(exchange["requestBody"]["code"], "<redacted>");
    assert_eq!(exchange["requestBody"]["code_verifier"], "<redacted>");
    assert_eq!(exchange["requestBody"]["resource"], peer.url("/mcp"));
    assert_eq!(exchange["responseBody"]["access_token"], "<redacted>");
    let token = events.wait_for("the token", auth_step("token")).await;
    assert_eq!(token["ok"], true, "{token}");
    events
        .wait_for("connected", |e| {
            e["kind"] == "state" && e["state"] == "connected"
        })
        .await;
    let call = scope
        .result("tools/call", json!({"name": "whoami", "arguments": {}}))
        .await;
    assert_eq!(first_text(&call), "authorized");

    // The same callback again is refused: each state works once.
    let (status, _, page) = browse(&landed).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("no authorization is waiting for this state"),
        "{page}"
    );
    let (status, _, page) = browse(&scope.url("/oauth/callback?code=x&state=guessed")).await;
    assert_eq!(status, 400);
    assert!(page.contains("Callback refused"), "{page}");

    // The token lives 4 s: calls keep working across its expiry, refreshed on the way.
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let call = scope
            .result("tools/call", json!({"name": "whoami", "arguments": {}}))
            .await;
        assert_eq!(first_text(&call), "authorized");
        if history(&scope).await.contains("\"phase\":\"refresh\",") {
            break;
        }
        assert!(Instant::now() < until, "no refresh within 30 s");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all = history(&scope).await;
    let refresh: Vec<Value> = all
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "auth" && e["phase"] == "refresh")
        .collect();
    assert_eq!(refresh[0]["ok"], true, "{refresh:?}");
    assert_eq!(refresh[0]["details"]["rotated"], true);

    // No token, code or secret anywhere: events, the session object, mcpscope's own log.
    assert_no_secrets(&all, "the events");
    let (_, session) = scope.get("/api/session").await;
    assert_no_secrets(&session.to_string(), "the session object");
    assert_eq!(session["authorization"]["phase"], "authorized");
    assert_no_secrets(&logs.lock().unwrap(), "the log");

    // A server that prints the token it was given puts it in a frame; an export scrubs it, and
    // every token held before it (refreshed away) as well.
    let echoed = scope
        .result("tools/call", json!({"name": "my_token", "arguments": {}}))
        .await;
    assert!(first_text(&echoed).starts_with("at-"), "{echoed}");
    let text = scope.export("s1").await;
    assert!(text.contains("my_token"));
    assert_no_secrets(&text, "the export");

    // Forgetting the credentials: the next connection authorizes from the start.
    let (status, forgot) = scope.delete("/api/credentials", json!(null)).await;
    assert_eq!(status, 200, "{forgot}");
    assert_eq!(forgot["forgotten"], true);
    let (_, again) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": peer.url("/mcp")}),
        )
        .await;
    assert_eq!(again["state"], "authorizing", "{again:#}");
}

/// A protected server whose metadata says what each test needs: every MCP request gets 401,
/// the PRM names this same origin as the authorization server, and the AS metadata (or the PRM
/// itself) is the given document, or a redirect.
async fn scripted_server(answer: impl Fn(&str, u16) -> String + Send + Sync + 'static) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16384];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let _ = sock.write_all(answer(&path, port).as_bytes()).await;
            });
        }
    });
    port
}

fn reply(status: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An authorization server whose metadata is fine except its authorization endpoint.
fn with_authorization_endpoint(endpoint: &'static str) -> impl Fn(&str, u16) -> String {
    move |path, port| {
        let origin = format!("http://127.0.0.1:{port}");
        match path {
            "/.well-known/oauth-protected-resource/mcp" => reply(
                "200 OK",
                "",
                &json!({"resource": format!("{origin}/mcp"), "authorization_servers": [origin]})
                    .to_string(),
            ),
            "/.well-known/oauth-authorization-server" => reply(
                "200 OK",
                "",
                &json!({
                    "issuer": origin,
                    "authorization_endpoint": endpoint,
                    "token_endpoint": format!("{origin}/token"),
                    "registration_endpoint": format!("{origin}/register"),
                    "code_challenge_methods_supported": ["S256"],
                })
                .to_string(),
            ),
            _ => reply(
                "401 Unauthorized",
                &format!(
                    "WWW-Authenticate: Bearer resource_metadata=\"{origin}/.well-known/oauth-protected-resource/mcp\"\r\n"
                ),
                r#"{"error":"invalid_token"}"#,
            ),
        }
    }
}

async fn refused_connect(port: u16) -> (Value, String) {
    let scope = Scope::start().await;
    let (_, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": format!("http://127.0.0.1:{port}/mcp")}),
        )
        .await;
    let all = history(&scope).await;
    (session, all)
}

#[tokio::test]
async fn authorization_endpoints_that_are_not_safe_to_open_are_refused() {
    for (endpoint, says) in [
        ("javascript:alert(document.domain)", "scheme \"javascript\""),
        (
            "http://login.example/authorize",
            "plain http on a host that is not loopback",
        ),
    ] {
        let port = scripted_server(with_authorization_endpoint(endpoint)).await;
        let (session, all) = refused_connect(port).await;
        assert_eq!(session["state"], "failed", "{session:#}");
        let error = session["error"].as_str().unwrap();
        assert!(
            error.contains(says) && error.contains("authorization failed"),
            "{error}"
        );
        assert!(session["authorization"]["url"].is_null(), "{session:#}");
        // Refused before anything was registered or opened.
        assert!(!all.contains("\"phase\":\"registration\""), "{all}");
        assert!(
            all.contains("\"phase\":\"as-metadata\",\"ok\":false"),
            "{all}"
        );
    }
}

#[tokio::test]
async fn discovery_does_not_follow_a_redirect_to_another_host() {
    let port = scripted_server(|path, port| match path {
        "/.well-known/oauth-protected-resource/mcp" => reply(
            "302 Found",
            "Location: http://auth.attacker.example/.well-known/oauth-protected-resource\r\n",
            "",
        ),
        _ => reply(
            "401 Unauthorized",
            &format!("WWW-Authenticate: Bearer resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp\"\r\n"),
            "{}",
        ),
    })
    .await;
    let (session, _) = refused_connect(port).await;
    assert_eq!(session["state"], "failed", "{session:#}");
    let error = session["error"].as_str().unwrap();
    assert!(
        error.contains("redirecting to http://auth.attacker.example/")
            && error.contains("does not follow redirects"),
        "{error}"
    );
}

#[tokio::test]
async fn the_browser_shows_the_flow_opens_the_page_on_a_click_and_lands_connected() {
    use crate::browser::{click, fill_remote, find, open_ui, wait_text};
    use fantoccini::Locator;

    let (as_port, peer) = protected(3600).await;
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    fill_remote(c, &peer.url("/mcp")).await;
    click(c, "#connect").await;

    // The flow waits for the user: the URL with its host singled out, the steps so far.
    wait_text(c, "#state", "authorizing", |t| t == "authorizing").await;
    let host = wait_text(c, "#auth-waiting .url-host", "the host", |t| !t.is_empty()).await;
    assert_eq!(host, format!("127.0.0.1:{as_port}"));
    let steps = wait_text(c, "#auth-steps", "the steps so far", |t| {
        t.contains("Client registration") && t.contains("registered as client")
    })
    .await;
    assert!(steps.contains("names authorization server"), "{steps}");
    assert!(steps.contains("offers PKCE S256"), "{steps}");
    assert_eq!(
        find(c, "#auth-phase").await.text().await.unwrap(),
        "waiting: authorize"
    );
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("oauth-waiting.png"), png).unwrap();
    }

    // Nothing was opened by itself; the click opens the page, the session connects.
    assert_eq!(c.windows().await.unwrap().len(), 1);
    let ours = c.window().await.unwrap();
    click(c, "#auth-open").await;
    // The authorization page opened in a tab of its own; the user comes back to mcpscope's.
    c.switch_to_window(ours).await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.item[data-item='tool:whoami']"))
        .await
        .unwrap();
    wait_text(c, "#auth-phase", "authorized", |t| t == "authorized").await;
    // The checklist stays, folded, with every step ticked.
    click(c, "#auth-details summary").await;
    let steps = wait_text(c, "#auth-steps", "every step", |t| {
        t.contains("Connected") && t.contains("with a token from")
    })
    .await;
    for title in [
        "Discovery",
        "Authorization server metadata",
        "Client registration",
        "Authorize in the browser",
        "Callback",
        "Token",
        "Connected",
    ] {
        assert!(steps.contains(title), "{title} in {steps}");
    }
    let items = c.find_all(Locator::Css("#auth-steps > li")).await.unwrap();
    assert_eq!(items.len(), 7);
    for li in items {
        let class = li.attr("class").await.unwrap().unwrap_or_default();
        let text = li.text().await.unwrap();
        assert!(class.contains("auth-step-done"), "{class}: {text}");
    }
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("oauth-done.png"), png).unwrap();
    }
    // Calls push the flow out of the tail a reload replays (api.js TAIL, 1000 events); the reloaded page
    // fetches the flow's steps from the history, once, and shows the same checklist.
    for _ in 0..300 {
        let (status, body) = scope
            .request("tools/call", json!({"name": "whoami", "arguments": {}}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, tail) = scope.get("/api/history?limit=1000").await;
    let oldest_in_tail = tail["oldest"].as_u64().unwrap();
    let (_, flow) = scope.get("/api/history?kind=auth&limit=1").await;
    assert!(
        flow["events"][0]["seq"].as_u64().unwrap() < oldest_in_tail,
        "the flow is older than the tail"
    );
    c.refresh().await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#auth-phase", "authorized after the reload", |t| {
        t == "authorized"
    })
    .await;
    click(c, "#auth-details summary").await;
    wait_text(c, "#auth-steps", "every step after the reload", |t| {
        t == steps
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn step_by_step_pauses_before_each_request_and_takes_the_users_edits() {
    let (_as_port, peer) = protected(3600).await;
    let scope = Scope::start().await;
    let (status, mut session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": peer.url("/mcp"), "oauth": {"stepByStep": true}}),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let mut pauses: Vec<String> = Vec::new();
    let mut opened: Option<String> = None;
    let mut edited = false;
    let until = Instant::now() + DEADLINE;
    while session["state"] != "connected" {
        // Authorized, the session connects again with its token: "connecting" for a moment.
        let reconnecting =
            session["state"] == "connecting" && session["authorization"]["phase"] == "authorized";
        assert!(
            session["state"] == "authorizing" || reconnecting,
            "{session:#}"
        );
        let auth = &session["authorization"];
        if let Some(paused) = auth.get("paused") {
            let next = paused["next"].as_str().unwrap().to_owned();
            if pauses.last() != Some(&next) {
                if pauses.is_empty() {
                    // Nothing of the flow was sent before the first Continue.
                    let all = history(&scope).await;
                    assert!(!all.contains("\"type\":\"exchange\",\"phase\""), "{all}");
                }
                pauses.push(next);
                let offers_scopes = paused["editable"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("scopes"));
                let edits = if offers_scopes && !edited {
                    // Asked for before registering, so the registration asks for them too.
                    assert_eq!(paused["current"]["scopes"], json!(["mcp:read"]));
                    edited = true;
                    json!({"scopes": "mcp:read mcp:write"})
                } else {
                    if offers_scopes {
                        assert_eq!(
                            paused["current"]["scopes"],
                            json!(["mcp:read", "mcp:write"])
                        );
                    }
                    json!({})
                };
                let (status, body) = scope.post("/api/authorization/continue", edits).await;
                assert_eq!(status, 202, "{body}");
            }
        } else if let Some(url) = auth["url"].as_str()
            && opened.is_none()
        {
            opened = Some(url.to_owned());
            let (status, _, page) = browse(url).await;
            assert_eq!(status, 200, "{page}");
        }
        if Instant::now() > until {
            let all = history(&scope).await;
            panic!("not connected; paused at {pauses:#?}; {session:#}; {all}");
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        session = scope.get("/api/session").await.1;
    }
    let expected = [
        "GET http://127.0.0.1:",
        "GET http://127.0.0.1:",
        "register dynamically at ",
        "POST http://127.0.0.1:",
        "send the user to ",
        "POST http://127.0.0.1:",
    ];
    assert_eq!(pauses.len(), expected.len(), "{pauses:#?}");
    for (pause, start) in pauses.iter().zip(expected) {
        assert!(pause.starts_with(start), "{pauses:#?}");
    }
    assert!(pauses[0].ends_with("/.well-known/oauth-protected-resource/mcp"));
    assert!(pauses[3].ends_with("/register (Dynamic Client Registration)"));
    assert!(pauses[5].ends_with("/token (the code for a token)"));
    // The edited scopes are what the user was sent to authorize.
    let url = url::Url::parse(&opened.expect("the page was opened")).unwrap();
    let scopes: Vec<String> = url
        .query_pairs()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(scopes, ["mcp:read mcp:write"]);
    let call = scope
        .result("tools/call", json!({"name": "whoami", "arguments": {}}))
        .await;
    assert_eq!(first_text(&call), "authorized");
    // Not paused any more: Continue is refused plainly.
    let (status, body) = scope.post("/api/authorization/continue", json!({})).await;
    assert_eq!(status, 409, "{body}");
}

/// Waits until the selected session is connected (after the browser came back).
async fn until_connected(scope: &Scope) -> Value {
    let until = Instant::now() + DEADLINE;
    loop {
        let (_, session) = scope.get("/api/session").await;
        if session["state"] == "connected" {
            return session;
        }
        assert!(Instant::now() < until, "not connected: {session:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn kept_credentials_survive_a_restart_and_serve_the_cli() {
    use std::os::unix::fs::PermissionsExt;

    let (_as_port, peer) = protected(3600).await;
    let dir = std::env::temp_dir().join(format!(
        "mcpscope-oauth-kept-{}-{}",
        std::process::id(),
        peer.port
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("credentials.json");
    let file_arg = file.to_str().unwrap();
    let target = json!({"transport": "http", "url": peer.url("/mcp")});
    {
        let scope = Scope::start_with(&["--oauth-credentials", file_arg]).await;
        let (_, session) = scope.post("/api/session/connect", target.clone()).await;
        assert_eq!(session["state"], "authorizing", "{session:#}");
        browse(session["authorization"]["url"].as_str().unwrap()).await;
        until_connected(&scope).await;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the credentials file is the user's alone"
        );
    }
    // Another mcpscope with the same file connects with no new login.
    let scope = Scope::start_with(&["--oauth-credentials", file_arg]).await;
    scope.connect(target).await;
    drop(scope);
    // So does a one-shot --cli call; without the file it is "authorization required".
    let url = peer.url("/mcp");
    let kept = crate::cli::run(&[
        "--cli",
        "--oauth-credentials",
        file_arg,
        "--url",
        &url,
        "--method",
        "tools/call",
        "--tool-name",
        "whoami",
    ])
    .await;
    assert_eq!(kept.code, 0, "{}", kept.stderr);
    assert_eq!(first_text(&kept.json()), "authorized");
    let fresh = crate::cli::run(&["--cli", "--url", &url, "--method", "tools/list"]).await;
    assert_eq!(fresh.code, 3, "{}", fresh.stderr);
    let error = fresh.error();
    assert_eq!(error["code"], "auth_required");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("authorization required"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// What the page says, in one script: "open" when the authorization page can be opened, else
/// the paused flow's next request, else "".
const WHERE: &str = "return document.querySelector('#auth-open') ? 'open' : (document.querySelector('#auth-continue:not([disabled])') ? document.querySelector('.auth-next').textContent : '')";

/// The classes of the checklist's step `key`.
async fn step_class(c: &fantoccini::Client, key: &str) -> String {
    crate::daily_ui::js(
        c,
        &format!("return document.querySelector('#auth-steps li[data-step={key}]').className"),
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

#[tokio::test]
async fn step_by_step_in_the_browser_says_where_it_stands_and_the_badge_follows_forget_and_disconnect()
 {
    use crate::{
        browser::{click, find, open_ui, wait_text},
        daily_ui::{js, wait_js},
        real_use::{viewport, whole},
        servers_ui::choose,
    };

    let (_as_port, peer) = protected(3600).await;
    let scope = Scope::start().await;
    let mut everything = everything_target();
    everything["name"] = json!("everything");
    scope.post("/api/sessions", everything).await;
    let (status, s) = scope
        .post(
            "/api/sessions",
            json!({"name": "protected", "transport": "http", "url": peer.url("/mcp"),
                   "oauth": {"stepByStep": true}}),
        )
        .await;
    assert!(status == 201 || status == 200, "{s}");
    let b = open_ui(&scope).await;
    let c = &b.client;
    viewport(c, 1000, 700).await;
    choose(c, "everything").await;
    crate::daily_ui::item(c, "get-sum").await;
    // Regression (item 14): the authorizing session showed the previous server's tools.
    choose(c, "protected").await;
    wait_text(c, "#state", "authorizing", |t| t == "authorizing").await;
    wait_js(
        c,
        "return document.querySelectorAll('#tool-list button.item').length === 0",
        "no tools while authorizing",
    )
    .await;

    // Paused before the first request: discovery is not done, and the badge says so in words.
    wait_text(c, "#auth-phase", "the first pause", |t| {
        t == "paused before resource metadata"
    })
    .await;
    let discovery = step_class(c, "discovery").await;
    assert!(discovery.contains("auth-step-waiting"), "{discovery}");
    let next = find(c, "#auth-waiting").await.text().await.unwrap();
    assert!(
        next.contains("protected resource metadata (RFC 9728)"),
        "{next}"
    );

    let mut last = String::new();
    let mut saw_supported = false;
    let until = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < until, "stuck after {last:?}");
        let at = js(c, WHERE).await.as_str().unwrap_or_default().to_owned();
        if at == "open" {
            break;
        }
        if at.is_empty() || at == last {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        if js(c, "return !!document.getElementById('auth-edit-scopes')").await == json!(true) {
            // The scopes each party supports, beside the field that picks them.
            let said = find(c, ".auth-supported").await.text().await.unwrap();
            assert!(
                said.contains("the authorization server: mcp:read mcp:write"),
                "{said}"
            );
            saw_supported = true;
        }
        // At every pause, still none of the previous server's tools.
        assert_eq!(
            js(c, "return document.querySelectorAll(\"#tool-list button.item[data-item='tool:get-sum']\").length").await,
            json!(0),
            "server-everything's tools while authorizing"
        );
        last = at;
        click(c, "#auth-continue").await;
    }
    assert!(saw_supported);
    // The button is whole where the eye is, and the long URL is printed once.
    assert_eq!(whole(c, "#auth-open", "#auth-box").await, json!(true));
    let once = js(
        c,
        "return document.getElementById('auth-waiting').innerText.split('code_challenge=').length - 1",
    )
    .await;
    assert_eq!(once, json!(1));
    let waiting = find(c, "#auth-waiting").await.text().await.unwrap();
    assert!(
        waiting.contains("pauses before the token request"),
        "{waiting}"
    );
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("oauth-step-1000.png"), png).unwrap();
    }

    // The callback page does not claim the token is on its way: the flow waits for Continue.
    let ours = c.window().await.unwrap();
    click(c, "#auth-open").await;
    let until = Instant::now() + DEADLINE;
    let page = loop {
        assert!(Instant::now() < until, "no callback page");
        let theirs: Vec<_> = c
            .windows()
            .await
            .unwrap()
            .into_iter()
            .filter(|w| *w != ours)
            .collect();
        if let Some(w) = theirs.first() {
            c.switch_to_window(w.clone()).await.unwrap();
            let text = js(c, "return document.body ? document.body.innerText : ''").await;
            c.switch_to_window(ours.clone()).await.unwrap();
            if text
                .as_str()
                .is_some_and(|t| t.contains("Authorization received"))
            {
                break text.as_str().unwrap().to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        page.contains("pauses before the token request") && page.contains("Continue"),
        "{page}"
    );
    wait_text(c, "#auth-phase", "the token pause", |t| {
        t == "paused before the token"
    })
    .await;
    assert!(step_class(c, "token").await.contains("auth-step-waiting"));
    click(c, "#auth-continue").await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#auth-phase", "authorized", |t| t == "authorized").await;
    crate::daily_ui::item(c, "whoami").await;
    assert_eq!(
        js(c, "return document.querySelectorAll(\"#tool-list button.item[data-item='tool:get-sum']\").length").await,
        json!(0),
        "connected, it lists its own tools only"
    );

    // Forgotten credentials: the badge no longer claims them, no step stays ticked.
    click(c, "#auth-details summary").await;
    click(c, "#auth-forget").await;
    wait_text(c, "#auth-phase", "forgotten", |t| {
        t == "credentials forgotten"
    })
    .await;
    let ticked = js(
        c,
        "return document.querySelectorAll('#auth-steps li.auth-step-done').length",
    )
    .await;
    assert_eq!(ticked, json!(0));
    // Disconnected: no authorization to show at all.
    click(c, "#disconnect").await;
    wait_text(c, "#state", "disconnected", |t| t == "disconnected").await;
    wait_js(
        c,
        "return document.getElementById('auth-box').hidden",
        "the panel gone",
    )
    .await;
    b.close().await;
}
