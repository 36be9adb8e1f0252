//! The defects a day of real use found (reloads, calls that outlive their page, validation, lists
//! that belong to another server, switching, keyboard and layout), each with the test that
//! failed before its fix, in a real Chromium against real servers. Elements are found by their
//! visible text, labels and roles.

use fantoccini::Client;
use serde_json::json;

use crate::{
    browser::{click, find, open_ui, wait_text},
    daily_ui::{button, click_path, field, item, js, open_item, wait_js},
    support::*,
};

/// The page shows the server in its server list, connected, with its tools listed.
async fn shows_the_server_and_its_tools(c: &Client, load: usize) {
    wait_text(c, "#server-list", "the server list", |t| {
        t.contains("node index.js") && t.contains("(connected)")
    })
    .await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    item(c, "get-sum").await;
    let count = js(
        c,
        "return document.querySelectorAll('#tool-list button.item').length",
    )
    .await;
    assert!(count.as_u64() > Some(5), "load {load}: {count} tools");
}

#[tokio::test]
async fn sixteen_loads_in_a_row_each_show_the_servers_and_their_tools() {
    // Each open page used to hold an event stream for good; the browser gives a host six
    // connections, shared by all tabs, so the sixth page's requests waited for ever.
    let scope = Scope::start_everything().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    shows_the_server_and_its_tools(c, 0).await;
    let first = c.window().await.unwrap();
    for load in 1..=16 {
        if load % 2 == 0 {
            c.refresh().await.unwrap();
        } else {
            let tab = c.new_window(true).await.unwrap();
            c.switch_to_window(tab.handle).await.unwrap();
            c.goto(&scope.ready_url).await.unwrap();
        }
        shows_the_server_and_its_tools(c, load).await;
    }
    // The first tab, shown again, follows events that happened while it was hidden.
    c.switch_to_window(first).await.unwrap();
    let echoed = scope
        .result(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "while hidden"}}),
        )
        .await;
    assert!(first_text(&echoed).contains("while hidden"));
    wait_js(
        c,
        "return document.getElementById('timeline').textContent.includes('tools/call')",
        "the call made while the tab was hidden",
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_call_made_before_a_reload_shows_its_answer_after_it() {
    // The page's fetch died with the page, and its history said "local: TypeError: Failed to
    // fetch" for good, though the answer arrived.
    let scope = Scope::start_everything().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    open_item(c, "trigger-sampling-request").await;
    let prompt = field(c, "prompt").await;
    prompt.send_keys("asked before the reload").await.unwrap();
    button(c, "Call tool").await.click().await.unwrap();
    let card = "li.pending-card[data-method='sampling/createMessage']";
    wait_text(c, card, "the sampling request", |t| {
        t.contains("asked before the reload")
    })
    .await;
    wait_text(c, "#result", "the call waiting", |t| {
        t.contains("Waiting for the answer")
    })
    .await;

    c.refresh().await.unwrap();
    wait_text(
        c,
        "#result",
        "the call still waiting after the reload",
        |t| t.contains("Waiting for the answer"),
    )
    .await;
    let text = find(c, &format!("{card} textarea.answer-text")).await;
    text.clear().await.unwrap();
    text.send_keys("answered after the reload").await.unwrap();
    click(c, &format!("{card} button.answer-send")).await;
    wait_text(c, "#result", "the answer, under the form", |t| {
        t.contains("answered after the reload")
    })
    .await;
    let meta = wait_text(c, "#result-meta", "what was called", |t| t.contains("ok")).await;
    assert!(
        meta.contains("tools/call trigger-sampling-request"),
        "{meta}"
    );
    let history = find(c, "#history-list").await.text().await.unwrap();
    assert!(!history.contains("error"), "{history}");

    // And once more after the answer: the history keeps it.
    c.refresh().await.unwrap();
    wait_text(c, "#result", "the answer kept", |t| {
        t.contains("answered after the reload")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_call_with_a_ref_outlives_its_caller_and_is_answered_again_by_ref() {
    let scope = Scope::start().await;
    let s = scope.connect(everything_target()).await;
    let id = s["id"].as_str().unwrap().to_owned();
    let mut events = scope.events().await;
    let caller = scope.spawn_request(json!({"method": "tools/call", "ref": "page-1", "params": {
        "name": "trigger-sampling-request", "arguments": {"prompt": "who waits?", "maxTokens": 5}}}));
    events
        .wait_for("the sampling request", kind("pending"))
        .await;
    // The page that asked goes away mid-call.
    caller.abort();
    let _ = caller.await;
    scope
        .answer_next_pending(
            &mut scope.events().await,
            json!({"result": {
            "role": "assistant", "content": {"type": "text", "text": "nobody, then a reload"},
            "model": "by-hand"}}),
        )
        .await;
    let (code, body) = scope.get(&format!("/api/sessions/{id}/calls/page-1")).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        first_text(&body["result"]).contains("nobody, then a reload"),
        "{body}"
    );
    let res = scope
        .http
        .get(scope.url(&format!("/api/sessions/{id}/calls/page-1?wait=false")))
        .bearer_auth(&scope.token)
        .send()
        .await
        .unwrap();
    let ms: u64 = res.headers()["x-mcpscope-duration-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        ms > 0,
        "the call's own duration, from its start to its answer"
    );
    let (code, body) = scope.get(&format!("/api/sessions/{id}/calls/page-2")).await;
    assert_eq!(code, 404, "{body}");
}

#[tokio::test]
async fn one_validator_lists_every_broken_constraint_and_sends_anyway_in_both_modes() {
    // minLength and minimum used to stop the submit with the browser's own bubble (one error,
    // no "Send anyway"), and in raw-JSON mode an invalid hidden field stopped it with no word.
    let scope = Scope::start().await;
    scope.connect(python_target("fastmcp_server.py")).await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    open_item(c, "order").await;
    button(c, "Add item").await.click().await.unwrap();
    field(c, "Sku (sku)").await.send_keys("tea").await.unwrap();
    let qty = field(c, "Qty (qty)").await;
    qty.clear().await.unwrap();
    qty.send_keys("0").await.unwrap();
    let note = field(c, "Note (note)").await;
    note.clear().await.unwrap();
    note.send_keys("ab").await.unwrap();
    button(c, "Call tool").await.click().await.unwrap();
    let errors = wait_text(c, "#arg-errors", "the app's list of errors", |t| {
        t.contains("qty") && t.contains("note")
    })
    .await;
    assert!(errors.contains("/lines/0/qty"), "{errors}");
    button(c, "Send anyway").await;

    // Raw JSON, the hidden form still holding the invalid values: the list, then Send anyway.
    click_path(c, "//label[contains(., 'edit the arguments as raw JSON')]").await;
    button(c, "Call tool").await.click().await.unwrap();
    wait_text(c, "#arg-errors", "the list in raw mode", |t| {
        t.contains("qty")
    })
    .await;
    button(c, "Send anyway").await.click().await.unwrap();
    let answer = wait_text(c, "#result", "the server's own verdict", |t| {
        t.to_lowercase().contains("validation error")
    })
    .await;
    assert!(answer.contains("qty"), "{answer}");
    let sent = scope
        .events()
        .await
        .wait_for("the invalid call on the wire", frame("sent", "tools/call"))
        .await;
    assert_eq!(sent["message"]["params"]["arguments"]["lines"][0]["qty"], 0);
    b.close().await;
}

#[tokio::test]
async fn an_elicitation_warning_goes_once_the_value_is_corrected() {
    let scope = Scope::start_everything().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-elicitation-request", "arguments": {}}}));
    let card = "li.pending-card[data-method='elicitation/create']";
    wait_text(c, card, "the elicitation", |t| {
        t.contains("Please provide inputs")
    })
    .await;
    field(c, "String (name) *")
        .await
        .send_keys("Ada")
        .await
        .unwrap();
    let integer = field(c, "Integer").await;
    integer.clear().await.unwrap();
    integer.send_keys("150").await.unwrap();
    button(c, "Accept").await.click().await.unwrap();
    wait_text(c, card, "the warning", |t| {
        t.contains("above the maximum 100")
    })
    .await;
    button(c, "Accept anyway").await;
    integer.clear().await.unwrap();
    integer.send_keys("50").await.unwrap();
    let now = wait_text(c, card, "the warning gone", |t| {
        !t.contains("above the maximum")
    })
    .await;
    assert!(!now.contains("Invalid"), "{now}");
    button(c, "Accept").await.click().await.unwrap();
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("50"), "{body}");
    b.close().await;
}

/// The tool buttons the lists show, by wire name.
async fn tools_shown(c: &Client) -> Vec<String> {
    let names = js(
        c,
        "return [...document.querySelectorAll('#tool-list button.item')].map(b => b.dataset.item)",
    )
    .await;
    serde_json::from_value(names).unwrap()
}

#[tokio::test]
async fn switching_servers_lists_nothing_again_keeps_each_search_and_shows_only_their_own_tools() {
    let scope = Scope::start().await;
    let mut everything = everything_target();
    everything["name"] = json!("everything");
    scope.post("/api/sessions", everything).await;
    let mut demo = demo_target();
    demo["name"] = json!("demo");
    scope.post("/api/sessions", demo).await;
    let broken = json!({"transport": "stdio", "command": python(), "name": "broken",
        "args": ["-c", "import sys; print('no MCP here', file=sys.stderr); sys.exit(3)"]});
    let (_, failed) = scope.post("/api/sessions", broken).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let b = open_ui(&scope).await;
    let c = &b.client;
    let choose = crate::servers_ui::choose;

    choose(c, "everything").await;
    item(c, "get-sum").await;
    let search = c
        .find(fantoccini::Locator::Css("#item-search"))
        .await
        .unwrap();
    search.send_keys("sum").await.unwrap();
    wait_text(c, "#tools-count", "the filtered count", |t| {
        t.starts_with("(1 of")
    })
    .await;
    let mut settled = 0;
    for round in 0..4 {
        if round == 1 {
            // Every server has been shown once (and listed once): from here on, nothing.
            let mut events = scope.events().await;
            while let Some(e) = events
                .next(std::time::Instant::now() + std::time::Duration::from_millis(300))
                .await
            {
                settled = e["seq"].as_u64().unwrap_or(settled);
            }
        }
        choose(c, "demo").await;
        item(c, "echo").await;
        let shown = tools_shown(c).await;
        assert!(
            !shown.contains(&"tool:get-sum".to_owned()),
            "demo shows only its own: {shown:?}"
        );
        assert_eq!(
            js(c, "return document.getElementById('item-search').value").await,
            json!(""),
            "the search made for everything stays with everything"
        );
        // A failed server shows no lists, least of all the previous server's.
        choose(c, "broken").await;
        wait_text(c, "#state", "failed", |t| t == "failed").await;
        wait_js(
            c,
            "return document.querySelectorAll('#tool-list button.item').length === 0",
            "no tools for the failed server",
        )
        .await;
        choose(c, "everything").await;
        item(c, "get-sum").await;
        assert_eq!(
            js(c, "return document.getElementById('item-search').value").await,
            json!("sum")
        );
        wait_text(c, "#tools-count", "its own search again", |t| {
            t.starts_with("(1 of")
        })
        .await;
    }
    // Nine switches, and the servers were not asked for their lists again.
    let mut events = scope.events_since(settled).await;
    while let Some(e) = events
        .next(std::time::Instant::now() + std::time::Duration::from_millis(500))
        .await
    {
        let method = e["method"].as_str().unwrap_or("");
        assert!(
            !(e["kind"] == "frame" && e["direction"] == "sent" && method.ends_with("/list")),
            "a switch listed again: {e}"
        );
    }
    b.close().await;
}

/// One page through `POST /api/list`: whether it was kept, and the answer (which must be 200).
async fn list_page(scope: &Scope, body: serde_json::Value) -> (bool, serde_json::Value) {
    let res = scope
        .http
        .post(scope.url("/api/list"))
        .bearer_auth(&scope.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let cached = res.headers().get("x-mcpscope-cached").is_some();
    let (status, body) = decode(res).await;
    assert_eq!(status, 200, "{body}");
    (cached, body)
}

#[tokio::test]
async fn lists_are_kept_by_the_session_and_listed_again_on_list_changed_or_refresh() {
    let scope = Scope::start().await;
    scope.connect(python_target("sloppy_server.py")).await;
    let list = |body| list_page(&scope, body);
    let sent = |events: Vec<serde_json::Value>| {
        events
            .iter()
            .filter(|e| frame("sent", "tools/list")(e))
            .count()
    };
    let drain = |mut events: Events| async move {
        let mut all = vec![];
        while let Some(e) = events
            .next(std::time::Instant::now() + std::time::Duration::from_millis(400))
            .await
        {
            all.push(e);
        }
        all
    };
    let events = scope.events_since(0).await;
    // Two at once, then a third: one tools/list on the wire.
    let (a, b) = tokio::join!(
        list(json!({"method": "tools/list"})),
        list(json!({"method": "tools/list"}))
    );
    assert_eq!(a.1, b.1);
    let (cached, c) = list(json!({"method": "tools/list"})).await;
    assert!(cached);
    assert_eq!(c, a.1);
    let seen = drain(events).await;
    assert_eq!(sent(seen.clone()), 1);
    let mark = seen.last().and_then(|e| e["seq"].as_u64()).unwrap();

    // The server says the list changed: the next caller gets a new listing.
    let events = scope.events_since(mark).await;
    scope
        .result("tools/call", json!({"name": "relist", "arguments": {}}))
        .await;
    let (cached, _) = list(json!({"method": "tools/list"})).await;
    assert!(!cached, "listed again after list_changed");
    // Refresh lists again whatever is kept.
    let (cached, _) = list(json!({"method": "tools/list", "refresh": true})).await;
    assert!(!cached);
    let (cached, _) = list(json!({"method": "tools/list"})).await;
    assert!(cached);
    assert_eq!(sent(drain(events).await), 2);
    // Only the four list methods.
    let (code, _) = scope
        .post("/api/list", json!({"method": "tools/call"}))
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn the_palette_finds_servers_puts_the_focus_in_the_form_and_back_and_forward_follow_the_view()
{
    use fantoccini::key::Key;
    let scope = Scope::start_everything().await;
    let mut demo = demo_target();
    demo["name"] = json!("demo");
    scope.post("/api/sessions", demo).await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let choose = crate::servers_ui::choose;
    choose(c, "node index.js").await;
    let palette = |text: &'static str| async move {
        crate::browser::find(c, "body")
            .await
            .send_keys(&(Key::Control + "k"))
            .await
            .unwrap();
        let input = field(c, "Go to a server").await;
        input.send_keys(text).await.unwrap();
        wait_text(c, "#palette-list", "a match", |t| !t.is_empty()).await;
        input.send_keys(&Key::Enter.to_string()).await.unwrap();
    };
    item(c, "get-sum").await;
    palette("get-sum").await;
    wait_js(
        c,
        "const a = document.activeElement; return a.closest('#tool-form') !== null && a.tagName === 'INPUT'",
        "the focus in get-sum's first field, not on the page",
    )
    .await;
    palette("echo").await;
    wait_text(c, "#tool-wire-name", "echo open", |t| t == "echo").await;
    // Servers are destinations too.
    palette("demo").await;
    wait_text(c, "#server-id", "demo shown", |t| t.starts_with("demo")).await;
    item(c, "echo").await;

    // Back: everything's echo, then its get-sum; Forward: echo again, then demo.
    c.back().await.unwrap();
    wait_text(c, "#server-id", "everything again", |t| {
        t.starts_with("node index.js")
    })
    .await;
    wait_text(c, "#tool-wire-name", "echo again", |t| t == "echo").await;
    c.back().await.unwrap();
    wait_text(c, "#tool-wire-name", "get-sum again", |t| t == "get-sum").await;
    c.forward().await.unwrap();
    wait_text(c, "#tool-wire-name", "echo again", |t| t == "echo").await;
    c.forward().await.unwrap();
    wait_text(c, "#server-id", "demo again", |t| t.starts_with("demo")).await;
    // An address edited by hand.
    js(c, "location.hash = '#s=s1&i=tool:get-sum'; return true").await;
    wait_text(c, "#server-id", "the edited address's server", |t| {
        t.starts_with("node index.js")
    })
    .await;
    wait_text(c, "#tool-wire-name", "its item", |t| t == "get-sum").await;
    b.close().await;
}

#[tokio::test]
async fn catalog_cards_say_what_is_connected_and_connect_asks_before_making_a_twin() {
    let dir = std::env::temp_dir().join(format!("mcpscope-twins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mcp.json");
    std::fs::write(
        &file,
        json!({"mcpServers": {
            "rich-build-main": {"command": bin(), "args": ["demo-server"]},
            "rich-build-feature": {"command": bin(), "args": ["demo-server"]},
        }})
        .to_string(),
    )
    .unwrap();
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    crate::browser::click(c, "button[aria-label='Connect rich-build-main']").await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    crate::browser::click(c, "button[aria-label='Connect rich-build-feature']").await;
    wait_text(c, "#server-id", "the second build", |t| {
        t.starts_with("rich-build-feature")
    })
    .await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let card = "li.catalog-row[data-name='rich-build-main']";
    wait_text(c, card, "the card says it is connected", |t| {
        t.contains("connected as s1")
    })
    .await;

    // Connect again: asked, and no second session until the user says so.
    crate::browser::click(c, "button[aria-label='Connect rich-build-main']").await;
    wait_text(c, card, "the question", |t| {
        t.contains("already connected as s1")
    })
    .await;
    button(c, "Show s1").await.click().await.unwrap();
    wait_text(c, "#server-id", "s1 shown", |t| {
        t.starts_with("rich-build-main")
    })
    .await;
    assert_eq!(
        scope.get("/api/sessions").await.1.as_array().unwrap().len(),
        2
    );
    crate::browser::click(c, "button[aria-label='Connect rich-build-main']").await;
    button(c, "Connect another").await.click().await.unwrap();
    wait_text(c, "#server-list", "the twin", |t| t.contains("s3")).await;

    // The all-servers timeline tells the two builds apart.
    crate::browser::find(c, "#timeline-scope")
        .await
        .select_by_value("all")
        .await
        .unwrap();
    let tags = js(c, "return [...new Set([...document.querySelectorAll('#timeline .session-tag')].map(t => t.textContent))]").await;
    let tags: Vec<String> = serde_json::from_value(tags).unwrap();
    assert!(
        tags.iter().any(|t| t.contains("rich-build-main"))
            && tags.iter().any(|t| t.contains("rich-build-feature")),
        "{tags:?}"
    );
    let cut = js(c, "return [...document.querySelectorAll('#timeline .session-tag')].some(t => t.scrollWidth > t.clientWidth)").await;
    assert_eq!(cut, json!(false), "a name is cut: {tags:?}");
    b.close().await;
}

#[tokio::test]
async fn unsaved_mock_rules_say_so_until_saved() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    crate::browser::click(c, "#responders summary").await;
    button(c, "Add rule").await.click().await.unwrap();
    wait_text(c, "#responders-status", "the hint", |t| {
        t.contains("Unsaved")
    })
    .await;
    wait_js(
        c,
        "return !document.getElementById('responders-unsaved').hidden",
        "the heading's mark",
    )
    .await;
    button(c, "Save").await.click().await.unwrap();
    wait_text(c, "#responders-status", "saved", |t| t == "Saved.").await;
    wait_js(
        c,
        "return document.getElementById('responders-unsaved').hidden",
        "the mark gone",
    )
    .await;
    let (_, saved) = scope.get("/api/responders").await;
    assert_eq!(saved["sampling"]["rules"].as_array().unwrap().len(), 1);
    b.close().await;
}

/// Makes the page itself (not the window around it) `w` × `h`.
pub(crate) async fn viewport(c: &Client, w: u32, h: u32) {
    let chrome = js(
        c,
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
    )
    .await;
    let (dw, dh) = (
        chrome[0].as_u64().unwrap() as u32,
        chrome[1].as_u64().unwrap() as u32,
    );
    c.set_window_size(w + dw, h + dh).await.unwrap();
    wait_js(
        c,
        &format!("return window.innerWidth === {w} && window.innerHeight === {h}"),
        "the page size",
    )
    .await;
}

/// Whether the element `css` is whole inside the window and inside `within`.
pub(crate) async fn whole(c: &Client, css: &str, within: &str) -> serde_json::Value {
    js(c, &format!("const e = document.querySelector({css:?}).getBoundingClientRect(); const w = document.querySelector({within:?}).getBoundingClientRect(); return e.width > 0 && e.top >= 0 && e.bottom <= window.innerHeight && e.left >= w.left && e.right <= w.right + 0.5")).await
}

#[tokio::test]
async fn first_start_connect_the_work_area_the_reject_button_and_reconnect_fit_where_people_look() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    viewport(c, 1000, 700).await;
    // First start: Connect is on screen without scrolling.
    c.refresh().await.unwrap();
    button(c, "Connect").await;
    let at = js(c, "return [document.getElementById('connect').getBoundingClientRect().bottom, window.innerHeight]").await;
    assert_eq!(
        whole(c, "#connect", "body").await,
        json!(true),
        "Connect below the fold: {at}"
    );

    scope.connect(everything_target()).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let work = js(
        c,
        "return document.getElementById('work').getBoundingClientRect().height",
    )
    .await;
    // The header takes two lines at 1000 px (the wire name and the era are never left out,
    // see the header test below); the work area keeps the rest.
    assert!(
        work.as_f64().unwrap() >= 400.0,
        "the work area at 1000x700: {work}"
    );

    // The server-request panel at 1400 px: Reject is whole.
    viewport(c, 1400, 900).await;
    let _call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-sampling-request", "arguments": {"prompt": "hi", "maxTokens": 5}}}));
    button(c, "Reject").await;
    assert_eq!(
        whole(c, ".answer-reject", "#pending-panel").await,
        json!(true),
        "Reject cut off"
    );
    button(c, "Reject").await.click().await.unwrap();

    // A clean Disconnect offers a quick Reconnect too.
    button(c, "Disconnect").await.click().await.unwrap();
    wait_text(c, "#state", "disconnected", |t| t == "disconnected").await;
    button(c, "Reconnect").await.click().await.unwrap();
    wait_text(c, "#state", "connected again", |t| t == "connected").await;
    b.close().await;
}

#[tokio::test]
async fn a_big_answer_reaches_its_caller_whole_and_only_the_kept_copy_is_cut() {
    let scope = Scope::start().await;
    let s = scope.connect(demo_target()).await;
    let id = s["id"].as_str().unwrap().to_owned();
    let big = "x".repeat(9 << 20);
    let (code, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "ref": "big", "params": {"name": "echo", "arguments": {"message": big}}}),
        )
        .await;
    assert_eq!(code, 200);
    assert!(
        first_text(&body["result"]).len() >= 9 << 20,
        "the caller got it whole"
    );
    let (code, kept) = scope.get(&format!("/api/sessions/{id}/calls/big")).await;
    assert_eq!(code, 200);
    assert_eq!(
        kept["error"]["kind"],
        "not_kept",
        "{}",
        &kept.to_string()[..200.min(kept.to_string().len())]
    );
}

#[tokio::test]
async fn a_resumed_event_stream_starts_after_its_last_event_id_whatever_its_url_says() {
    let scope = Scope::start().await;
    scope.connect(demo_target()).await;
    // The URL the page first opened (since=0), and the header of the browser's own retry.
    let res = scope
        .http
        .get(scope.url(&format!("/api/events?since=0&token={}", scope.token)))
        .header("Last-Event-ID", "3")
        .send()
        .await
        .unwrap();
    let mut events = Events::from_response(res);
    let first = events
        .next(std::time::Instant::now() + DEADLINE)
        .await
        .expect("an event");
    assert_eq!(first["seq"], 4, "{first}");
}

#[tokio::test]
async fn listing_the_first_page_again_drops_the_later_pages_of_the_old_listing() {
    let scope = Scope::start().await;
    // A server whose tools come in two pages (its cursor repeats, a finding of its own).
    scope.connect(python_target("lint_bad_server.py")).await;
    let list = |body| list_page(&scope, body);
    let (_, first) = list(json!({"method": "tools/list"})).await;
    let cursor = first["result"]["nextCursor"].clone();
    assert!(cursor.is_string(), "two pages: {first}");
    let page2 = json!({"method": "tools/list", "cursor": cursor});
    assert!(!list(page2.clone()).await.0);
    assert!(list(page2.clone()).await.0, "the second page is kept");
    assert!(
        !list(json!({"method": "tools/list", "refresh": true}))
            .await
            .0
    );
    assert!(
        !list(page2).await.0,
        "a refresh drops the old listing's later pages too"
    );
}

#[tokio::test]
async fn the_tab_title_counts_the_server_requests_waiting() {
    let scope = Scope::start_everything().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let ours = c.window().await.unwrap();
    let other = c.new_window(true).await.unwrap();
    c.switch_to_window(other.handle).await.unwrap();
    let _call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-sampling-request", "arguments": {"prompt": "anyone?", "maxTokens": 5}}}));
    scope
        .events()
        .await
        .wait_for("the sampling request", kind("pending"))
        .await;
    c.switch_to_window(ours).await.unwrap();
    // (WebDriver reads only the window in front, so this cannot tell whether the count came
    // from the hidden page's own polling or from the stream once shown.)
    wait_js(
        c,
        "return document.title === '(1) mcpscope'",
        "the title counting the request",
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_long_remote_name_and_a_waiting_request_hide_nothing_in_the_header() {
    let scope = Scope::start().await;
    let mut target = everything_target();
    target["name"] = json!("Protected research server at http://127.0.0.1:51473/mcp (staging)");
    scope.connect(target).await;
    // A sampling request waits for a person: the header's badge says so.
    let call = scope.post(
        "/api/request",
        json!({"method": "tools/call", "params":
            {"name": "trigger-sampling-request", "arguments": {"prompt": "hi"}}}),
    );
    let ui = async {
        let b = open_ui(&scope).await;
        let c = &b.client;
        for (w, h) in [(1400, 900), (1000, 700)] {
            viewport(c, w, h).await;
            wait_js(
                c,
                "return !document.getElementById('pending-badge').hidden",
                "the waiting-request badge",
            )
            .await;
            wait_js(
                c,
                "return document.getElementById('protocol').textContent.endsWith('legacy era')",
                "the era",
            )
            .await;
            // Regression: the title was cut to "Every…", and the era hid under the badge.
            let header = js(
            c,
            "const box = document.querySelector('.server').getBoundingClientRect();
             const actions = document.querySelector('.top-actions').getBoundingClientRect();
             const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
             return ['state', 'server-name', 'server-wire-name', 'server-version', 'protocol'].map((id) => {
               const e = document.getElementById(id); const r = e.getBoundingClientRect();
               // Narrow windows keep one line: an item may drop out whole (onto the hidden row).
               const dropped = r.top >= box.bottom - 0.5;
               return [id, dropped || (r.left >= box.left && r.right <= box.right + 0.5 && r.top >= box.top && r.bottom <= box.bottom + 0.5),
                       e.scrollWidth <= e.clientWidth + 1, dropped || !overlap(r, actions), dropped];
             })",
        )
        .await;
            for item in header.as_array().unwrap() {
                let item = item.as_array().unwrap();
                assert_eq!(
                    item[1..4],
                    [json!(true), json!(true), json!(true)],
                    "{w}x{h}: {item:?} (whole, not cut, not under the actions)"
                );
                // Nothing is left out here (narrow, the session label and chips may be).
                {
                    assert_eq!(item[4], json!(false), "{w}x{h}: {item:?} left out");
                }
            }
        }
        b.close().await;
        let (_, pending) = scope.get("/api/pending").await;
        let id = pending[0]["id"].as_str().unwrap().to_owned();
        scope
            .post(
                &format!("/api/pending/{id}"),
                json!({"error": {"code": -1, "message": "no"}}),
            )
            .await;
    };
    let ((status, _), ()) = tokio::join!(call, ui);
    assert_eq!(status, 200);
}
