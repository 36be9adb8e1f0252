//! The UI with several servers, in headless Chromium: two servers connected from the catalog
//! (a `--config` file), switched between by their names in the server list, each keeping its own
//! result and timeline; a sampling request from the server in the background is announced; a
//! reload keeps everything.

use fantoccini::{Client, Locator};
use serde_json::json;

use crate::{
    browser::{call_echo, click, find, open_ui, wait_text, wait_timeline},
    support::*,
};

async fn js_bool(c: &Client, script: &str) -> bool {
    c.execute(script, vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

/// Chooses a server in the server list by its visible name.
pub(crate) async fn choose(c: &Client, name: &str) {
    // The list fills once the page has loaded the sessions: wait for the row, with a deadline.
    let found = c
        .wait()
        .at_most(crate::support::DEADLINE)
        .for_element(Locator::XPath(&format!(
            "//ul[@id='server-list']//button[.//span[normalize-space()='{name}']]"
        )))
        .await;
    let row = match found {
        Ok(row) => row,
        Err(e) => {
            // What the page showed instead, so a failure says why.
            let seen = c
                .execute(
                    "return JSON.stringify({url: location.href, list: document.getElementById('server-list')?.innerText, state: document.getElementById('state')?.textContent, notice: document.getElementById('notice')?.textContent})",
                    vec![],
                )
                .await
                .map(|v| v.to_string())
                .unwrap_or_default();
            panic!("no server {name} in the list: {e}; the page showed {seen}")
        }
    };
    row.click()
        .await
        .unwrap_or_else(|e| panic!("the row of {name} was replaced under the click: {e}"));
    // By its text, shown or not: a narrow header leaves the session label to the server list.
    crate::daily_ui::wait_js(
        c,
        &format!(
            "return document.getElementById('server-id').textContent.startsWith({})",
            serde_json::to_string(name).unwrap()
        ),
        "the header names it",
    )
    .await;
}

/// Every timeline row on show belongs to `session` (or to no session).
async fn timeline_shows_only(c: &Client, session: &str) -> bool {
    js_bool(
        c,
        &format!("return [...document.querySelectorAll('#timeline .event-line')].every(li => !li.dataset.session || li.dataset.session === '{session}')"),
    )
    .await
}

#[tokio::test]
async fn two_servers_from_the_catalog_keep_their_own_results_and_timelines() {
    let dir = std::env::temp_dir().join(format!("mcpscope-ui-cat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("claude_desktop_config.json");
    let everything = everything_target();
    std::fs::write(
        &file,
        json!({"mcpServers": {
            "demo": {"command": bin(), "args": ["demo-server"]},
            "everything": {"command": everything["command"], "args": everything["args"]},
        }})
        .to_string(),
    )
    .unwrap();
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let b = open_ui(&scope).await;
    let c = &b.client;

    // Both servers are listed in the catalog; the file's path and our catalog's are shown.
    wait_text(c, "#catalog-list", "both entries", |t| {
        t.contains("demo") && t.contains("everything")
    })
    .await;
    let where_ = find(c, ".catalog-where").await.text().await.unwrap();
    assert!(where_.contains(file.to_str().unwrap()), "{where_}");

    click(c, "button[aria-label='Connect demo']").await;
    wait_text(c, "#server-id", "demo shown", |t| t.starts_with("demo")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    call_echo(c, "hello from demo").await;

    click(c, "button[aria-label='Connect everything']").await;
    wait_text(c, "#server-id", "everything shown", |t| {
        t.starts_with("everything")
    })
    .await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    assert!(
        find(c, "#result-box")
            .await
            .attr("hidden")
            .await
            .unwrap()
            .is_some(),
        "everything has no result yet"
    );
    call_echo(c, "hello from everything").await;
    wait_text(c, "#server-list", "both sessions listed", |t| {
        t.contains("demo") && t.contains("everything")
    })
    .await;

    // Back to demo: its own result, its own timeline.
    choose(c, "demo").await;
    wait_text(c, "#result", "demo's result again", |t| {
        t.contains("hello from demo")
    })
    .await;
    assert!(
        !find(c, "#result")
            .await
            .text()
            .await
            .unwrap()
            .contains("hello from everything")
    );
    assert!(
        timeline_shows_only(c, "s1").await,
        "the timeline shows demo's rows only"
    );
    // All servers: rows of both, each tagged.
    find(c, "#timeline-scope")
        .await
        .select_by_label("all servers")
        .await
        .unwrap();
    wait_timeline(c, "initialize", "both sessions' rows, tagged", |t| {
        t.contains("everything") && t.contains("demo")
    })
    .await;
    find(c, "#timeline-scope")
        .await
        .select_by_label("this server")
        .await
        .unwrap();

    // A sampling request from everything, in the background, is announced.
    let call = {
        let req = scope
            .http
            .post(scope.url("/api/sessions/s2/request"))
            .bearer_auth(&scope.token)
            .json(&json!({"method": "tools/call", "params": {"name": "trigger-sampling-request", "arguments": {"prompt": "from the background", "maxTokens": 5}}}));
        tokio::spawn(async move { req.send().await.unwrap() })
    };
    wait_text(c, "#announce", "the announcement", |t| {
        t.contains("everything (s2) asks: sampling/createMessage")
    })
    .await;
    wait_text(c, "#server-list", "a waiting badge on everything", |t| {
        t.contains("1 waiting")
    })
    .await;
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(root().join("target/ui-two-servers.png"), png);
    }

    // A reload keeps both sessions, the one shown, and the waiting request.
    c.refresh().await.unwrap();
    wait_text(c, "#server-id", "demo still shown", |t| {
        t.starts_with("demo")
    })
    .await;
    wait_text(c, "#server-list", "both sessions", |t| {
        t.contains("demo") && t.contains("everything") && t.contains("1 waiting")
    })
    .await;
    click(c, "#pending-badge").await;
    wait_text(
        c,
        "#pending-list",
        "the request, tagged with its server",
        |t| t.contains("sampling/createMessage") && t.contains("everything"),
    )
    .await;
    choose(c, "everything").await;
    wait_timeline(c, "tools/call", "everything's history replayed", |t| {
        t.contains("tools/call")
    })
    .await;
    assert!(timeline_shows_only(c, "s2").await);
    call.abort();
    b.close().await;
}

/// A target that writes `lines` lines on stderr, then serves as the demo server.
fn noisy_target(name: &str, lines: usize, word: &str) -> serde_json::Value {
    let script = format!(
        "i=0; while [ $i -lt {lines} ]; do echo {word} $i >&2; i=$((i+1)); done; exec {} demo-server",
        bin()
    );
    json!({"transport": "stdio", "command": "sh", "args": ["-c", script], "name": name})
}

#[tokio::test]
async fn another_servers_flood_of_stderr_keeps_the_shown_servers_lines() {
    let scope = Scope::start().await;
    scope.connect(noisy_target("quiet", 1, "quiet-line")).await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    click(c, "#tab-stderr").await;
    wait_text(c, "#stderr-list", "the quiet server's line", |t| {
        t.contains("quiet-line 0")
    })
    .await;
    // Another server writes more lines than a list keeps, while this one is shown (regression:
    // the lists kept the newest 2000 entries of every server together, and the flood pushed the
    // shown server's line out).
    let (status, noisy) = scope
        .post("/api/sessions", noisy_target("noisy", 2500, "flood"))
        .await;
    assert_eq!(status, 201, "{noisy}");
    let noisy = noisy["id"].as_str().unwrap().to_owned();
    let held = format!(
        "return document.querySelectorAll('#stderr-list li[data-session=\"{noisy}\"]').length === 2000 && document.getElementById('stderr-list').textContent.includes('flood 2499')"
    );
    crate::daily_ui::wait_js(c, &held, "the flood reaching the page").await;
    choose(c, "quiet").await;
    click(c, "#tab-stderr").await;
    wait_text(
        c,
        "#stderr-list",
        "the quiet server's line still there",
        |t| t.contains("quiet-line 0"),
    )
    .await;
    // And the noisy server's newest 2000, in order, once it is shown.
    choose(c, "noisy").await;
    let text = wait_text(c, "#stderr-list", "the flood's newest lines", |t| {
        t.contains("flood 2499")
    })
    .await;
    assert!(!text.contains("quiet-line"), "{text}");
    assert!(
        !text.contains("flood 499\n"),
        "the oldest 500 went: {text:.200}"
    );
    assert!(text.contains("flood 500"), "{text:.200}");
    b.close().await;
}

/// A switch takes the other server's lists away at once: until the chosen server's own have
/// come, nothing of the other's can be opened and called on it (regression: they stayed until
/// the new server's state was in, and the other's late list answers could still fill them; the
/// screenshot script opened a tool from them and lost its call, twice in 30 loads).
#[tokio::test]
async fn a_switch_never_leaves_the_other_servers_items_to_open() {
    let scope = Scope::start().await;
    let mut sloppy = python_target("sloppy_server.py");
    sloppy["name"] = json!("sloppy");
    scope.connect(sloppy).await;
    let (status, demo) = scope.post("/api/sessions", demo_target()).await;
    assert_eq!(status, 201, "{demo}");
    let b = open_ui(&scope).await;
    let c = &b.client;
    choose(c, "sloppy").await;
    crate::daily_ui::item(c, "junk").await;
    // The click and a look at the lists in one go, before the page can hear from the backend.
    let demo = demo["id"].as_str().unwrap();
    let left = c
        .execute(
            &format!(
                "document.querySelector('#server-list button[data-session=\"{demo}\"]').click();
                 return [...document.querySelectorAll('button.item')].map((b) => b.dataset.item).filter((i) => /^(tool|resource|template|prompt):/.test(i))"
            ),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        left,
        json!([]),
        "the other server's items, still there to open"
    );
    // The chosen server's own list then comes.
    wait_text(c, "#server-id", "the demo server", |t| t.ends_with(demo)).await;
    crate::daily_ui::wait_js(
        c,
        "return document.querySelectorAll(\"button.item[data-item^='tool:']\").length > 0 && !document.querySelector(\"button.item[data-item='tool:junk']\")",
        "the demo server's own list",
    )
    .await;
    b.close().await;
}
