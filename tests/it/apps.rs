//! MCP Apps, hosted as a person sees them in a real headless Chromium: the example apps of the
//! ext-apps project (vanilla JS and React, from npm) render under their tool's result, from the
//! apps origin; their handshake, tool input and result, the calls they make and what they say
//! are `app` events in the timeline; a fetch the view's policy blocks is a finding that names
//! the key that would allow it. The hostile app's attacks are in the security module.

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::{browser::*, support::*};

fn app_server(package: &str) -> Value {
    let script = root().join(format!(
        "tests/peers/node_modules/@modelcontextprotocol/{package}/dist/index.js"
    ));
    assert!(
        script.exists(),
        "{} is missing: run scripts/install-test-peers.sh",
        script.display()
    );
    json!({"transport": "stdio", "command": "node", "args": [script, "--stdio"]})
}

/// An `app` event of this direction and method.
pub fn app(direction: &'static str, method: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "app" && e["direction"] == direction && e["message"]["method"] == method
}

/// A finding whose text holds every one of `parts`.
pub fn finding_with(parts: &'static [&'static str]) -> impl Fn(&Value) -> bool {
    move |e| {
        e["kind"] == "finding"
            && parts
                .iter()
                .all(|p| e["message"].as_str().unwrap_or("").contains(p))
    }
}

/// Opens tool `name` in the list and calls it with its form as it is.
pub async fn call_tool(c: &Client, name: &str) {
    click_fresh(
        c,
        Locator::Css(&format!("button.item[data-item='tool:{name}']")),
        name,
    )
    .await;
    wait_text(c, "#tool-wire-name", "the open tool", |t| t == name).await;
    click(c, "#tool-form-box button[type=submit]").await;
}

/// Into the app's view (the iframe inside the sandbox iframe).
pub async fn enter_view(c: &Client) {
    let outer = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("#app-box .app-frame iframe"))
        .await
        .expect("the app's sandbox");
    outer.enter_frame().await.unwrap();
    let inner = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("iframe"))
        .await
        .expect("the view inside the sandbox");
    inner.enter_frame().await.unwrap();
}

pub async fn leave_view(c: &Client) {
    c.enter_parent_frame().await.unwrap();
    c.enter_parent_frame().await.unwrap();
}

/// Opens a `<details>` by clicking its summary, as a person would, clicking again while the
/// app above it is still changing size and moves the summary from under the pointer.
async fn open_details(c: &Client, css: &str) {
    let until = std::time::Instant::now() + DEADLINE;
    loop {
        if let Ok(summary) = c.find(Locator::Css(&format!("{css} > summary"))).await {
            let _ = summary.click().await;
        }
        let open = c
            .execute(
                &format!("return document.querySelector('{css}')?.open === true"),
                vec![],
            )
            .await
            .unwrap();
        if open == Value::Bool(true) {
            return;
        }
        assert!(std::time::Instant::now() < until, "{css} did not open");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn button(c: &Client, text: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::XPath(&format!(
            "//button[normalize-space()=\"{text}\"]"
        )))
        .await
        .unwrap_or_else(|e| panic!("button {text}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vanilla_example_app_renders_on_its_own_origin_and_its_bridge_is_in_the_timeline() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(app_server("server-basic-vanillajs")).await;
    let init = events
        .wait_for("initialize", frame("sent", "initialize"))
        .await;
    assert_eq!(
        init["message"]["params"]["capabilities"]["extensions"]["io.modelcontextprotocol/ui"],
        json!({"mimeTypes": ["text/html;profile=mcp-app"]}),
        "{init}"
    );
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#tool-list", "the app badge", |t| t.contains("app view")).await;
    call_tool(c, "get-time").await;

    // The handshake, in the spec's order: the view asks, is answered, says it is ready; only
    // then the tool's input and result go to it.
    events
        .wait_for("ui/initialize", app("from-app", "ui/initialize"))
        .await;
    events
        .wait_for(
            "initialized",
            app("from-app", "ui/notifications/initialized"),
        )
        .await;
    let input = events
        .wait_for("tool input", app("to-app", "ui/notifications/tool-input"))
        .await;
    assert_eq!(
        input["message"]["params"]["arguments"],
        json!({}),
        "{input}"
    );
    assert_eq!(input["tool"], "get-time");
    let result = events
        .wait_seen("tool result", app("to-app", "ui/notifications/tool-result"))
        .await;
    assert!(
        result["message"]["params"]["structuredContent"]["time"].is_string(),
        "{result}"
    );
    assert!(
        result["requestId"].is_number(),
        "tied to its call: {result}"
    );
    wait_text(c, "#app-box", "the app's name", |t| {
        t.contains("Get Time App")
    })
    .await;

    // The sandbox is on another origin than the UI's.
    let src = find(c, "#app-box .app-frame iframe")
        .await
        .attr("src")
        .await
        .unwrap()
        .unwrap();
    let apps = url::Url::parse(&src).unwrap();
    // Its own origin: a label of localhost, another site than the UI's 127.0.0.1.
    let host = apps.host_str().unwrap();
    assert!(
        host.starts_with("v-") && host.ends_with(".localhost"),
        "{src}"
    );
    assert_ne!(apps.port(), Some(scope.port), "{src}");
    assert_eq!(apps.path(), "/sandbox");

    // Inside the view: nothing of the UI is reachable; its buttons work through the host.
    enter_view(c).await;
    let reach = c
        .execute(
            "const r = {}; \
             try { r.top = top.document.title; } catch (e) { r.top = 'blocked ' + e.name; } \
             r.token = sessionStorage.getItem('mcpscope-token'); \
             r.origin = location.origin; return r;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(reach["top"], "blocked SecurityError", "{reach}");
    assert_eq!(reach["token"], Value::Null, "{reach}");
    assert_eq!(
        reach["origin"],
        format!("http://{host}:{}", apps.port().unwrap())
    );
    button(c, "Get Server Time").await.click().await.unwrap();
    let asked = events
        .wait_for("the app's tools/call", app("from-app", "tools/call"))
        .await;
    assert_eq!(asked["message"]["params"]["name"], "get-time");
    let sent = events
        .wait_seen("its frame", |e| {
            frame("sent", "tools/call")(e) && e["seq"].as_u64() > asked["seq"].as_u64()
        })
        .await;
    assert_eq!(sent["message"]["params"]["name"], "get-time", "{sent}");
    button(c, "Send Message").await.click().await.unwrap();
    events
        .wait_for("ui/message", app("from-app", "ui/message"))
        .await;
    button(c, "Send Log").await.click().await.unwrap();
    events
        .wait_for("the app's log", app("from-app", "notifications/message"))
        .await;
    // A fetch the view's policy does not declare is blocked (before any traffic) and reported.
    c.execute(
        "fetch('http://127.0.0.1:9/data').catch(() => {}); return 1;",
        vec![],
    )
    .await
    .unwrap();
    let blocked = events
        .wait_seen(
            "the violation",
            finding_with(&["127.0.0.1:9", "connect-src"]),
        )
        .await;
    assert!(
        blocked["message"].as_str().unwrap().contains(
            "declare \"http://127.0.0.1:9\" in the resource's _meta.ui.csp.connectDomains"
        ),
        "{blocked}"
    );
    button(c, "Open Link").await.click().await.unwrap();
    leave_view(c).await;

    // The link waits for a person; refused here (no traffic leaves this machine).
    wait_text(c, "#app-box", "the link request", |t| {
        t.contains("The app asks to open https://modelcontextprotocol.io/")
    })
    .await;
    wait_text(c, "#app-box", "the message", |t| {
        t.contains("This is message text.")
    })
    .await;
    click_fresh(
        c,
        Locator::XPath("//div[@id='app-box']//button[normalize-space()='Refuse']"),
        "Refuse",
    )
    .await;
    let refused = events
        .wait_seen("the refusal", |e| {
            e["kind"] == "app"
                && e["direction"] == "to-app"
                && e["message"]["error"]["message"] == "Link opening denied by user"
        })
        .await;
    assert_eq!(refused["message"]["error"]["code"], -32000);

    // The host context, switched live.
    open_details(c, "#app-box details.app-context").await;
    find(c, "#app-box select[aria-label='Theme']")
        .await
        .select_by_value("dark")
        .await
        .unwrap();
    let changed = events
        .wait_for(
            "the change",
            app("to-app", "ui/notifications/host-context-changed"),
        )
        .await;
    assert_eq!(changed["message"]["params"]["theme"], "dark", "{changed}");

    // The app events are in the timeline, under their own filter.
    wait_timeline(
        c,
        "ui/notifications/initialized",
        "the handshake row",
        |t| t.contains("ui/notifications/initialized"),
    )
    .await;
    // An app row opens with the tools/call that opened the app.
    click_fresh(c, Locator::Css(".event-line.kind-app"), "the app row").await;
    let title = wait_text(c, "#exchange-title", "the exchange", |t| {
        t.contains("tools/call")
    })
    .await;
    assert!(title.starts_with("Our tools/call #"), "{title}");
    let body = find(c, "#exchange-body").await.text().await.unwrap();
    assert!(
        body.contains("App bridge message (view v1, from-app)"),
        "{body}"
    );
    assert!(body.contains("bridge message(s) in view v1"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_react_example_app_completes_its_handshake_and_gets_its_result() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(app_server("server-basic-react")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#tool-list", "the app badge", |t| t.contains("app view")).await;
    call_tool(c, "get-time").await;
    events
        .wait_for(
            "initialized",
            app("from-app", "ui/notifications/initialized"),
        )
        .await;
    events
        .wait_seen("tool result", app("to-app", "ui/notifications/tool-result"))
        .await;
    enter_view(c).await;
    button(c, "Get Server Time").await.click().await.unwrap();
    events
        .wait_for("the app's tools/call", app("from-app", "tools/call"))
        .await;
    leave_view(c).await;
    // Closing the app asks the view first (ui/resource-teardown), then removes it.
    click_fresh(
        c,
        Locator::XPath("//div[@id='app-box']//button[normalize-space()='Close app']"),
        "Close app",
    )
    .await;
    events
        .wait_for("teardown", app("to-app", "ui/resource-teardown"))
        .await;
    let answered = events
        .wait_for("its answer", |e| {
            e["kind"] == "app"
                && e["direction"] == "from-app"
                && e["message"]["result"].is_object()
                && e["message"]["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("host-"))
        })
        .await;
    assert!(answered["message"]["result"].is_object());
}

#[tokio::test]
async fn the_extension_is_declared_in_both_eras_unless_the_connect_body_turns_it_off() {
    const UI: &str = "io.modelcontextprotocol/ui";
    // Legacy, turned off: the server sees a host without apps.
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let mut off = app_server("server-basic-vanillajs");
    off["apps"] = json!(false);
    let info = scope.connect(off).await;
    assert_eq!(info["state"], "connected", "{info}");
    assert!(
        info["clientCapabilities"]["extensions"].get(UI).is_none(),
        "{info}"
    );
    let init = events
        .wait_for("initialize", frame("sent", "initialize"))
        .await;
    let caps = &init["message"]["params"]["capabilities"];
    assert!(
        caps.get("extensions").is_none_or(|e| e.get(UI).is_none()),
        "{init}"
    );
    // Modern (the Python SDK 2.x): every request's _meta declares it, beside tasks.
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let mut modern = crate::eras::modern_stdio();
    modern["era"] = json!("modern");
    let info = scope.connect(modern).await;
    assert_eq!(info["state"], "connected", "{info}");
    let discover = events
        .wait_for("server/discover", frame("sent", "server/discover"))
        .await;
    let declared =
        &discover["message"]["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"];
    assert_eq!(
        declared["extensions"][UI],
        json!({"mimeTypes": ["text/html;profile=mcp-app"]}),
        "{discover}"
    );
    assert!(declared["extensions"]["io.modelcontextprotocol/tasks"].is_object());
}

#[tokio::test]
async fn a_recording_carries_the_app_events_and_lint_reads_them_from_the_file() {
    let scope = Scope::start().await;
    let info = scope.connect(python_target("hostile_app_server.py")).await;
    assert_eq!(info["state"], "connected", "{info}");
    let (code, _) = scope
        .post("/api/list", json!({"method": "tools/list"}))
        .await;
    assert_eq!(code, 200);
    // What the page reports when an app calls a tool it may not (the host refused it).
    let (code, body) = scope
        .post(
            "/api/app",
            json!({"kind": "message", "view": "v1", "tool": "hostile_view", "requestId": 2,
                "uri": "ui://hostile/view.html", "direction": "from-app",
                "message": {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "model_only", "arguments": {}}}}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let text = scope.export("s1").await;
    let recorded = crate::recordings::lines(&text);
    let app_event = recorded
        .iter()
        .find(|e| e["kind"] == "app")
        .expect("the app event is in the export");
    assert_eq!(app_event["message"]["params"]["name"], "model_only");

    let file = std::env::temp_dir().join(format!("mcpscope-apps-{}.ndjson", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let opened = Scope::start_with(&["open", file.to_str().unwrap()]).await;
    let (code, report) = opened.get("/api/sessions/s1/lint").await;
    assert_eq!(code, 200, "{report}");
    let hit = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "app-tool-visibility")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(hit["frameSeq"], app_event["seq"]);
    // An opened recording hosts no app.
    let (code, _) = opened
        .post(
            "/api/sessions/s1/app",
            json!({"kind": "error", "view": "v9", "message": "x"}),
        )
        .await;
    assert_eq!(code, 409);
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tools_an_app_exposes_are_listed_and_called_through_the_bridge() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(app_server("server-budget-allocator")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    call_tool(c, "get-budget-data").await;
    let init = events
        .wait_for("ui/initialize", app("from-app", "ui/initialize"))
        .await;
    assert!(
        init["message"]["params"]["appCapabilities"]["tools"].is_object(),
        "the example declares its tools: {init}"
    );
    events
        .wait_seen("tool result", app("to-app", "ui/notifications/tool-result"))
        .await;
    open_details(c, "#app-box details.app-tools-box").await;
    button(c, "List the app's tools (tools/list)")
        .await
        .click()
        .await
        .unwrap();
    let listed = events
        .wait_for("the app's tool list", |e| {
            e["kind"] == "app"
                && e["direction"] == "from-app"
                && e["message"]["result"]["tools"].is_array()
        })
        .await;
    assert!(
        listed["message"]["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "get-allocations"),
        "{listed}"
    );
    button(c, "Call get-allocations")
        .await
        .click()
        .await
        .unwrap();
    let asked = events
        .wait_for("the call to the app", app("to-app", "tools/call"))
        .await;
    assert_eq!(asked["message"]["params"]["name"], "get-allocations");
    wait_text(c, "#app-box .app-tool-result", "the app's answer", |t| {
        t.contains("totalBudget")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reloads_and_server_switches_bring_the_app_back_once_each_time() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(app_server("server-basic-vanillajs")).await;
    let (code, other) = scope
        .post("/api/sessions", app_server("server-basic-react"))
        .await;
    assert_eq!(code, 201, "{other}");
    c.goto(&format!("{}/#s=s1", scope.base)).await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    call_tool(c, "get-time").await;
    let initialized = app("from-app", "ui/notifications/initialized");
    events.wait_for("the first handshake", &initialized).await;
    // One app, rendered again after each reload (the call is in the page's history) and after
    // each switch back from the other server: never two at once.
    for round in 0..4 {
        let mark = events
            .seen
            .last()
            .and_then(|e| e["seq"].as_u64())
            .unwrap_or(0);
        if round % 2 == 0 {
            c.refresh().await.unwrap();
        } else {
            c.goto(&format!("{}/#s=s2", scope.base)).await.unwrap();
            wait_text(c, "#server-name", "the other server", |t| {
                t.contains("React")
            })
            .await;
            c.goto(&format!("{}/#s=s1&i=tool%3Aget-time", scope.base))
                .await
                .unwrap();
        }
        events
            .wait_for("the app again", |e| {
                initialized(e) && e["seq"].as_u64().is_some_and(|s| s > mark)
            })
            .await;
        let frames = c
            .execute(
                "return document.querySelectorAll('#app-box .app-frame iframe').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(frames, 1, "round {round}");
        assert_eq!(
            c.execute(
                "return document.querySelectorAll('#app-box .app-panel').length",
                vec![]
            )
            .await
            .unwrap(),
            1,
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn axe_finds_nothing_serious_in_the_app_panel_in_light_and_dark() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let mut events = scope.events().await;
    scope.connect(app_server("server-basic-vanillajs")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    call_tool(c, "get-time").await;
    events
        .wait_for(
            "the handshake",
            app("from-app", "ui/notifications/initialized"),
        )
        .await;
    c.execute(
        "document.querySelectorAll('#app-box details').forEach((d) => d.open = true)",
        vec![],
    )
    .await
    .unwrap();
    let source =
        std::fs::read_to_string(root().join("tests/peers/node_modules/axe-core/axe.min.js"))
            .expect("axe-core is installed by scripts/install-test-peers.sh");
    c.execute(&source, vec![]).await.unwrap();
    let mut problems = Vec::new();
    for theme in ["light", "dark"] {
        find(c, "#theme")
            .await
            .select_by_value(theme)
            .await
            .unwrap();
        // The panel is ours; the view inside it is the server's, and not judged here.
        let found = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document.getElementById('app-box'), {iframes: false, resultTypes: ['violations']})
                   .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))));",
                vec![],
            )
            .await
            .unwrap();
        for v in found.as_array().unwrap() {
            problems.push(format!("{theme}: {}", v.as_str().unwrap()));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
