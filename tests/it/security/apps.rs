//! MCP Apps: a server's own code running in the user's browser. The hostile app (a view that
//! reaches for the top page, the UI's token and API, opens windows, runs a javascript: link,
//! calls a tool apps may not call, floods size changes, declares a policy meant to widen
//! itself) in a real Chromium; the apps origin attacked over HTTP (another site's page, DNS
//! rebinding, writes without an Origin, a huge view, the UI's routes looked for there); the
//! page's report route from another origin, on a recording, and with hostile text.

use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    apps::{app, call_tool, enter_view, finding_with, leave_view},
    browser::*,
    support::*,
};

/// The apps origin's port, as the served page names it.
async fn apps_port(s: &Scope) -> u16 {
    let page = s
        .http
        .get(s.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = page
        .find("data-apps-port=\"")
        .expect("the page names the apps port")
        + 16;
    let port: u16 = page[at..at + page[at..].find('"').unwrap()]
        .parse()
        .unwrap();
    assert!(port > 0 && port != s.port);
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_app_reaches_nothing_of_the_ui_and_what_it_tries_is_reported() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(python_target("hostile_app_server.py")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#tool-list", "visibility badges", |t| {
        t.contains("model-only")
    })
    .await;
    let title = c.title().await.unwrap();
    call_tool(c, "hostile_view").await;

    // Its policy cannot widen itself: "*" and a keyword are dropped and named.
    let ignored = events
        .wait_seen(
            "the ignored entries",
            finding_with(&["not applied", "\"*\"", "'unsafe-eval'"]),
        )
        .await;
    assert_eq!(ignored["severity"], "warning");
    let policy = events
        .wait_seen(
            "the policy",
            finding_with(&["runs under Content-Security-Policy"]),
        )
        .await;
    let text = policy["message"].as_str().unwrap();
    assert!(text.contains("connect-src https://ok.example;"), "{text}");
    assert!(!text.contains("unsafe-eval"), "{text}");

    // A tool apps may not call is refused by the host and never reaches the server.
    let refused = events
        .wait_seen("the refusal", |e| {
            e["kind"] == "app"
                && e["direction"] == "to-app"
                && e["message"]["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("not visible to apps"))
        })
        .await;
    assert_eq!(refused["message"]["error"]["code"], -32000);
    // Its fetch of the UI's own API is blocked by its policy, and reported with the fix.
    events
        .wait_seen(
            "the blocked fetch",
            finding_with(&["connect-src", "/api/session"]),
        )
        .await;
    // The flood is one finding, not thousands of events.
    events
        .wait_seen(
            "the flood",
            finding_with(&["ui/notifications/size-changed", "resize loop"]),
        )
        .await;

    enter_view(c).await;
    let until = std::time::Instant::now() + DEADLINE;
    let results = loop {
        let r = c
            .execute("return window.hostileResults || {}", vec![])
            .await
            .unwrap();
        if r["done"] == "yes" && r["fetchUi"].is_string() {
            break r;
        }
        assert!(
            std::time::Instant::now() < until,
            "the view's attempts: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        results["topDocument"], "blocked: SecurityError",
        "{results}"
    );
    assert_eq!(results["topStorage"], "blocked: SecurityError", "{results}");
    assert_eq!(results["ownStorage"], "null", "{results}");
    assert_eq!(
        results["open"], "null",
        "no popup from the sandbox: {results}"
    );
    assert_eq!(results["fetchUi"], "blocked: TypeError", "{results}");
    assert_eq!(results["widen"], "403", "one view per sandbox: {results}");
    assert_eq!(results["uiOrigin"], scope.base, "{results}");
    // A javascript: link runs, if at all, in the view, never against the top page.
    c.find(Locator::Css("#js"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    leave_view(c).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(c.title().await.unwrap(), title, "the top page is untouched");
    // The flooding view is held to the pane's limit, and the page still answers.
    let height: f64 = c
        .execute(
            "return document.querySelector('#app-box .app-frame iframe').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(height <= 2000.0, "{height}");
    wait_text(c, "#state", "still connected", |t| t == "connected").await;
    let panel = find(c, "#app-box").await.text().await.unwrap();
    assert!(
        !panel.contains("paste your token"),
        "the view wrote as the host: {panel}"
    );
    let sent_model_only = events
        .seen
        .iter()
        .any(|e| frame("sent", "tools/call")(e) && e["message"]["params"]["name"] == "model_only");
    assert!(!sent_model_only, "the refused call never went out");
    let sizes = events
        .seen
        .iter()
        .filter(|e| app("from-app", "ui/notifications/size-changed")(e))
        .count();
    assert!(sizes <= 45, "{sizes} size-changed events recorded");

    // A view that never starts the handshake: a finding says so, and why that looks blank.
    call_tool(c, "silent_view").await;
    let stalled = events
        .wait_for(
            "the stalled handshake",
            finding_with(&["handshake incomplete", "never sent ui/initialize"]),
        )
        .await;
    assert_eq!(stalled["severity"], "error");
    assert!(
        stalled["message"].as_str().unwrap().contains("silent_view"),
        "{stalled}"
    );

    // Lint reads the same story from the session's events.
    let (code, report) = scope.get("/api/lint").await;
    assert_eq!(code, 200, "{report}");
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    for rule in ["app-tool-visibility", "app-view-mime", "app-view-unlisted"] {
        assert!(rules.contains(&rule), "{rule} in {rules:?}");
    }
}

/// The slot a sandbox page was served with.
fn slot_of(page: &str) -> String {
    const AT: &str = "name=\"mcpscope-slot\" content=\"";
    let at = page.find(AT).unwrap_or_else(|| panic!("no slot in {page}")) + AT.len();
    page[at..at + 32].to_owned()
}

#[tokio::test]
async fn the_apps_origin_serves_views_and_nothing_else_to_no_one_else() {
    let s = Scope::start().await;
    let port = apps_port(&s).await;
    let apps = format!("http://127.0.0.1:{port}");
    let http = &s.http;
    // A view's origin, as the page names it (`*.localhost` is loopback without DNS; the test
    // client reaches it on 127.0.0.1 with that Host).
    let (a, b) = (
        format!("v-aaaa.localhost:{port}"),
        format!("v-bbbb.localhost:{port}"),
    );
    let get = |host: &str, path: &str| http.get(format!("{apps}{path}")).header("Host", host);

    // The UI frames view origins and nothing else; a sandbox is framed by the UI only.
    let page = http.get(s.url("/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.ends_with(&format!("frame-src http://*.localhost:{port}")),
        "{csp}"
    );
    let sandbox = get(&a, "/sandbox").send().await.unwrap();
    assert_eq!(sandbox.status(), 200);
    let policy = sandbox.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        policy.ends_with(&format!(
            "frame-ancestors http://127.0.0.1:{0} http://localhost:{0} http://[::1]:{0}",
            s.port
        )),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
    let page = sandbox.text().await.unwrap();
    let slot = slot_of(&page);

    // DNS rebinding: another name for this address; a label of another port or depth.
    for host in [
        format!("evil.example:{port}"),
        format!("a.b.localhost:{port}"),
        "v-a.localhost:1".into(),
    ] {
        let res = get(&host, "/sandbox").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{host}");
    }
    // Another site's page, the UI, or another view's origin storing a view; a write with no
    // Origin at all.
    let view = json!({"slot": slot, "html": "<p>x</p>",
        "csp": {"connectDomains": ["https://ok.example", format!("http://127.0.0.1:{}", s.port)]}});
    for origin in [
        Some("http://evil.example".to_owned()),
        Some(format!("http://127.0.0.1:{}", s.port)),
        Some(format!("http://{b}")),
        None,
    ] {
        let mut req = http
            .post(format!("{apps}/views"))
            .header("Host", &a)
            .json(&view);
        if let Some(o) = &origin {
            req = req.header("Origin", o);
        }
        assert_eq!(
            req.send().await.unwrap().status(),
            StatusCode::FORBIDDEN,
            "{origin:?}"
        );
    }
    let store = |body: &Value| {
        http.post(format!("{apps}/views"))
            .header("Host", &a)
            .header("Origin", format!("http://{a}"))
            .json(body)
    };
    // Without its page's slot, or with another origin's, nothing is stored.
    let mut forged = view.clone();
    forged["slot"] = json!("0".repeat(32));
    assert_eq!(
        store(&forged).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // The sandbox's own write: the view is served under its policy, with the probe first, to
    // its own origin only; mcpscope's own listeners cannot be declared.
    let stored: Value = store(&view).send().await.unwrap().json().await.unwrap();
    assert!(
        stored["ignored"][0]
            .as_str()
            .unwrap()
            .contains("could reach mcpscope itself"),
        "{stored}"
    );
    let url = stored["url"].as_str().unwrap();
    let served = get(&a, url).send().await.unwrap();
    let policy = served.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(policy, stored["csp"].as_str().unwrap());
    assert!(policy.starts_with("default-src 'none'; "), "{policy}");
    assert!(
        policy.contains("connect-src https://ok.example;"),
        "{policy}"
    );
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        served.text().await.unwrap(),
        "<script src=\"/probe.js\"></script><p>x</p>"
    );
    assert_eq!(
        get(&b, url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // The slot is spent: the view (which can script its sandbox page) cannot store a second
    // view under a wider policy.
    let mut wider = view.clone();
    wider["csp"] = json!({"connectDomains": ["https://evil.example"]});
    assert_eq!(
        store(&wider).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A huge view is refused; an unknown view is not found.
    let page = get(&a, "/sandbox")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let huge = json!({"slot": slot_of(&page), "html": "x".repeat(17 << 20)});
    assert_eq!(
        store(&huge).send().await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let res = get(&a, "/views/0123").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Nothing of the UI is there, with or without the token.
    for path in ["/api/session", "/", "/static/js/api.js", "/api/events"] {
        let res = get(&a, path).bearer_auth(&s.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn the_app_report_route_is_guarded_and_its_text_made_safe() {
    let s = Scope::start().await;
    s.connect(demo_target()).await;
    let mut events = s.events().await;
    // Another origin, with the token.
    let res = s
        .http
        .post(s.url("/api/app"))
        .bearer_auth(&s.token)
        .header("Origin", "http://evil.example")
        .json(&json!({"kind": "error", "view": "v1", "message": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // An unknown kind is refused; hostile text becomes a cut, escape-free finding.
    let (code, _) = s
        .post("/api/app", json!({"kind": "exec", "view": "v1"}))
        .await;
    assert_eq!(code, 400);
    let (code, body) = s
        .post(
            "/api/app",
            json!({"kind": "error", "view": "v1\u{1b}]52;c;ZXZpbA==\u{7}", "message": "\u{1b}[2J".repeat(1000)}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let f = events.wait_for("the finding", kind("finding")).await;
    let m = f["message"].as_str().unwrap();
    assert!(!m.contains('\u{1b}') && !m.contains('\u{7}'), "{m}");
    assert!(m.chars().count() < 700, "{}", m.len());
}
