//! A real headless Chromium (Debian's chromium + chromedriver, driven by fantoccini) using the
//! UI as a person would: open the ready URL, connect the demo server from the form, call a tool,
//! see the frame in the timeline, reload and find the session intact.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    pub client: Client,
    _processes: Processes,
}

/// A chromedriver and the profile its chromium writes, gone on drop: a start that fails half way
/// leaves nothing behind either.
struct Processes {
    driver: Child,
    profile: std::path::PathBuf,
}

impl Browser {
    /// Ends the WebDriver session, as a person closes the window; the processes go on drop.
    pub async fn close(&self) {
        self.client.clone().close().await.unwrap();
    }
}

/// Chromium outlives a chromedriver that is killed (its browser process is re-parented to init,
/// and every browser of a run stayed up, about 1 GB each, with its profile and scoped dirs left in
/// /tmp). So chromedriver leads a process group of its own that chromium joins, the group is
/// killed whole, and the profile, where chromium's temporary files go too, is removed.
impl Drop for Processes {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn browser() -> Browser {
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(path).exists(),
            "{path} is missing: run scripts/install-test-peers.sh (installs Debian's chromium and chromium-driver)"
        );
    }
    // Chromium now and then exits as it starts when the machine is busy with other tests'
    // browsers ("Chrome instance exited"); a person would start it again, and so do we, twice.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match start_browser().await {
            Ok(b) => return b,
            Err(e) if attempt < 3 && e.contains("Chrome instance exited") => continue,
            Err(e) => panic!("a chromium session: {e}"),
        }
    }
}

async fn start_browser() -> Result<Browser, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile =
        std::env::temp_dir().join(format!("mcpscope-chromium-{}-{port}", std::process::id()));
    let tmp = profile.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let driver = Command::new(CHROMEDRIVER)
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
        .env("TMPDIR", &tmp)
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let processes = Processes {
        driver,
        profile: profile.clone(),
    };
    let until = Instant::now() + DEADLINE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < until,
            "chromedriver did not listen on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                "--disable-breakpad", "--disable-crash-reporter",
                format!("--user-data-dir={}", profile.join("data").display()),
            ],
        },
    });
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(Browser {
        client,
        _processes: processes,
    })
}

/// A browser on the ready URL, with the page loaded.
pub async fn open_ui(scope: &Scope) -> Browser {
    let b = browser().await;
    b.client.goto(&scope.ready_url).await.unwrap();
    b.client
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("#connect"))
        .await
        .unwrap();
    b
}

pub async fn find(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// The connect form set to Streamable HTTP at `url`.
pub async fn fill_remote(c: &Client, url: &str) {
    find(c, "#transport")
        .await
        .select_by_value("http")
        .await
        .unwrap();
    find(c, "#url").await.send_keys(url).await.unwrap();
}

pub async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.unwrap();
}

/// Clicks what `locator` finds, looking again when the element went stale between the find and
/// the click: a list redrawn under the pointer (the timeline's virtual rows as events arrive, a
/// tool list reloaded on list_changed) puts a new row there, and a person clicks that one.
pub async fn click_fresh(c: &Client, locator: Locator<'_>, what: &str) {
    let until = Instant::now() + DEADLINE;
    loop {
        let element = c
            .wait()
            .at_most(DEADLINE)
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        match element.click().await {
            Ok(()) => return,
            Err(e) if e.to_string().contains("stale element") && Instant::now() < until => {}
            Err(e) => panic!("clicking {what}: {e}"),
        }
    }
}

/// mcpscope connected to server-everything, and a browser showing it.
pub async fn ui_with_everything() -> (Scope, Browser) {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    scope.connect(everything_target()).await;
    wait_text(&b.client, "#state", "connected", |t| t == "connected").await;
    (scope, b)
}

/// Waits until nothing matches `css`.
async fn wait_gone(c: &Client, css: &str, what: &str) {
    let until = Instant::now() + DEADLINE;
    while c.find(Locator::Css(css)).await.is_ok() {
        assert!(Instant::now() < until, "{css}: waited for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens the `echo` tool, calls it with `message` as raw JSON, and waits for the result;
/// returns the result's text.
pub async fn call_echo(c: &Client, message: &str) -> String {
    let echo = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.item[data-item='tool:echo']"))
        .await
        .unwrap();
    echo.click().await.unwrap();
    if find(c, "#raw-mode")
        .await
        .prop("checked")
        .await
        .unwrap()
        .as_deref()
        != Some("true")
    {
        click(c, "#raw-mode").await;
    }
    let args = find(c, "#tool-args").await;
    args.clear().await.unwrap();
    args.send_keys(&json!({"message": message}).to_string())
        .await
        .unwrap();
    click(c, "#call-tool").await;
    wait_text(c, "#result", "the echo", |t| t.contains(message)).await
}

/// Adds a sampling rule in the responders editor (open): its regex and its answer.
pub async fn add_sampling_rule(c: &Client, pattern: &str, answer: &str) {
    click(c, "#sampling-add-rule").await;
    let rule = find(c, "#sampling-rules li.rule:last-child").await;
    rule.find(Locator::Css(".rule-match"))
        .await
        .unwrap()
        .send_keys(pattern)
        .await
        .unwrap();
    let response = rule.find(Locator::Css(".rule-response")).await.unwrap();
    response.clear().await.unwrap();
    response.send_keys(answer).await.unwrap();
}

/// Waits until the element's text satisfies `pred`, with a deadline.
/// Types `filter` into the timeline's filter box, as a person looking for something would (the
/// timeline only draws the rows on screen), then waits for its rows to satisfy `pred`.
pub async fn wait_timeline(
    c: &Client,
    filter: &str,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let input = find(c, "#timeline-search").await;
    input.clear().await.unwrap();
    input.send_keys(filter).await.unwrap();
    wait_text(c, "#timeline", what, pred).await
}

pub async fn wait_text(c: &Client, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
    let until = Instant::now() + DEADLINE;
    let mut last = String::new();
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(text) = el.text().await
        {
            if pred(&text) {
                return text;
            }
            last = text;
        }
        assert!(
            Instant::now() < until,
            "{css}: waited for {what}, last text {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The text of the question (`window.confirm`) the page asks, once it asks.
pub async fn wait_question(c: &Client) -> String {
    let until = Instant::now() + DEADLINE;
    loop {
        match c.get_alert_text().await {
            Ok(t) => return t,
            Err(e) => assert!(Instant::now() < until, "no question: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn connect_the_demo_from_the_form_call_a_tool_and_see_the_frame() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let connect = find(c, "#connect").await;
    let url = c.current_url().await.unwrap();
    assert!(
        !url.as_str().contains("token"),
        "the token leaves the address bar: {url}"
    );

    // The form comes prefilled with this binary's demo server.
    let command = find(c, "#command").await;
    assert_eq!(command.prop("value").await.unwrap().as_deref(), Some(bin()));
    connect.click().await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#server-name", "the server's title", |t| {
        t == "mcpscope demo server"
    })
    .await;

    let result = call_echo(c, "<b>hello from chromium</b>").await;
    assert!(
        result.contains("<b>"),
        "server strings are shown as text, not markup: {result}"
    );
    assert!(
        c.find(Locator::Css("#result b")).await.is_err(),
        "no element was injected"
    );

    wait_timeline(c, "tools/call", "the tools/call frames", |t| {
        t.contains("→ request tools/call")
            && t.contains("← response #")
            && t.contains("(tools/call)")
            && t.contains("⇢ answered in")
    })
    .await;

    // Screenshots help a person review the UI; failures do not depend on them.
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(root().join("target/ui-connected.png"), png);
    }

    // The session lives in the backend: a reload loses nothing.
    c.refresh().await.unwrap();
    wait_text(c, "#state", "still connected after reload", |t| {
        t == "connected"
    })
    .await;
    wait_timeline(c, "tools/call", "the history replayed", |t| {
        t.contains("→ request tools/call")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn findings_from_a_sloppy_server_are_highlighted_in_the_timeline() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let command = find(c, "#command").await;
    command.clear().await.unwrap();
    command.send_keys(&python()).await.unwrap();
    let args = find(c, "#args").await;
    args.clear().await.unwrap();
    let script = root().join("tests/servers/sloppy_server.py");
    args.send_keys(&format!("-u\n{}", script.display()))
        .await
        .unwrap();
    click(c, "#connect").await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let finding = wait_text(
        c,
        ".event-line.kind-finding.severity-error",
        "a highlighted finding",
        |t| t.contains("not JSON"),
    )
    .await;
    assert!(finding.contains("error"), "{finding}");
    wait_timeline(c, "sloppy server starting", "the junk line itself", |t| {
        t.contains("sloppy server starting")
    })
    .await;
    b.close().await;
}

/// Waits until the attribute of the first element matching `css` satisfies `pred`.
async fn wait_attr(
    c: &Client,
    css: &str,
    attr: &str,
    what: &str,
    pred: impl Fn(&str) -> bool,
) -> String {
    let until = Instant::now() + DEADLINE;
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await
            && let Ok(Some(value)) = el.attr(attr).await
            && pred(&value)
        {
            return value;
        }
        assert!(Instant::now() < until, "{css}[{attr}]: waited for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_sampling_request_is_answered_by_hand_from_the_panel() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    let call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-sampling-request", "arguments": {"prompt": "<i>what now?</i>"}}}));

    let card = "li.pending-card[data-method='sampling/createMessage']";
    let shown = wait_text(c, card, "the sampling request", |t| {
        t.contains("You are a helpful test server.")
    })
    .await;
    assert!(shown.contains("<i>what now?</i>"), "shown as text: {shown}");
    wait_text(c, "#pending-badge", "the badge", |t| {
        t.contains("1 server request")
    })
    .await;
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(root().join("target/ui-sampling.png"), png);
    }

    let text = find(c, &format!("{card} textarea.answer-text")).await;
    text.clear().await.unwrap();
    text.send_keys("typed in the browser").await.unwrap();
    click(c, &format!("{card} button.answer-send")).await;
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let result = first_text(&body["result"]);
    assert!(
        result.contains("typed in the browser") && result.contains("mcpscope-manual"),
        "{result}"
    );
    wait_timeline(c, "answered by hand", "the answer marked as manual", |t| {
        t.contains("answered by hand")
    })
    .await;
    wait_gone(c, card, "the answered card goes away").await;
    b.close().await;
}

#[tokio::test]
async fn a_progress_bar_moves_and_cancel_stops_the_call() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    let call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-long-running-operation", "arguments": {"duration": 60, "steps": 120}}}));

    let bar = "li.inflight-item progress.bar";
    let first: f64 = wait_attr(c, bar, "data-progress", "some progress", |v| {
        v.parse::<f64>().is_ok_and(|p| p >= 1.0)
    })
    .await
    .parse()
    .unwrap();
    wait_attr(c, bar, "data-progress", "the bar to move", |v| {
        v.parse::<f64>().is_ok_and(|p| p > first)
    })
    .await;
    assert_eq!(
        c.find(Locator::Css(bar))
            .await
            .unwrap()
            .attr("max")
            .await
            .unwrap()
            .as_deref(),
        Some("120")
    );
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(root().join("target/ui-inflight.png"), png);
    }

    click(c, "li.inflight-item button.cancel-request").await;
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status.as_u16(), 499, "{body}");
    wait_gone(
        c,
        "li.inflight-item",
        "the cancelled request leaves the list",
    )
    .await;
    wait_timeline(
        c,
        "notifications/cancelled",
        "the cancel on the wire",
        |t| t.contains("notifications/cancelled"),
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn mock_rules_and_roots_are_edited_in_the_ui_and_answer_the_server() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    click(c, "#responders summary").await;
    c.find(Locator::Css("#sampling-mode"))
        .await
        .unwrap()
        .select_by_value("mock")
        .await
        .unwrap();
    add_sampling_rule(
        c,
        "(?i)forecast",
        r#"{"role": "assistant", "content": {"type": "text", "text": "rain"}, "model": "ui-rule"}"#,
    )
    .await;
    click(c, "#roots-add").await;
    let uri = find(c, "#roots-list .root-uri").await;
    uri.clear().await.unwrap();
    uri.send_keys("file:///from/the/ui").await.unwrap();
    click(c, "#responders-save").await;
    wait_text(c, "#responders-status", "saved", |t| t == "Saved.").await;

    let (_, settings) = scope.get("/api/responders").await;
    assert_eq!(settings["sampling"]["mode"], "mock");
    assert_eq!(settings["sampling"]["rules"][0]["match"], "(?i)forecast");
    assert_eq!(settings["roots"], json!([{"uri": "file:///from/the/ui"}]));

    // A bad regex is refused with the field named, and nothing changes.
    let m = find(c, "#sampling-rules .rule-match").await;
    m.send_keys("(").await.unwrap();
    click(c, "#responders-save").await;
    wait_text(c, "#responders-status", "the refusal", |t| {
        t.contains("sampling.rules[0].match")
    })
    .await;

    scope.connect(everything_target()).await;
    let hit = scope
        .result(
            "tools/call",
            json!({"name": "trigger-sampling-request", "arguments": {"prompt": "FORECAST?"}}),
        )
        .await;
    assert!(first_text(&hit).contains("ui-rule"), "{hit}");
    wait_timeline(c, "mocked", "the mocked answer marked", |t| {
        t.contains("mocked: rule 0")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn an_elicitation_form_is_validated_then_accepted() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    let call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-elicitation-request", "arguments": {}}}));
    let card = "li.pending-card[data-method='elicitation/create']";
    wait_text(c, card, "the form", |t| t.contains("Your full, legal name")).await;
    // Defaults are prefilled, legacy enumNames titled, and an array of choices is checkboxes
    // with its default ticked.
    let first_line = find(c, &format!("{card} [data-field='firstLine'] input")).await;
    assert_eq!(
        first_line.prop("value").await.unwrap().as_deref(),
        Some("It was a dark and stormy night.")
    );
    let pets = find(c, &format!("{card} [data-field='legacyTitledEnum']")).await;
    assert!(pets.text().await.unwrap().contains("Cats (pet-1)"));
    let guitar = find(
        c,
        &format!("{card} [data-field='untitledMultipleSelectEnum'] input[type='checkbox']"),
    )
    .await;
    assert_eq!(
        guitar.prop("checked").await.unwrap().as_deref(),
        Some("true")
    );

    let accept = format!("{card} button.answer-accept");
    let email = find(c, &format!("{card} [data-field='email'] input")).await;
    email.send_keys("not-an-email").await.unwrap();
    click(c, &accept).await;
    let status = wait_text(c, &format!("{card} .answer-status"), "the problems", |t| {
        t.contains("Invalid")
    })
    .await;
    assert!(
        status.contains("name: required") && status.contains("email: not an email address"),
        "{status}"
    );
    email.clear().await.unwrap();
    email.send_keys("grace@example.com").await.unwrap();
    c.find(Locator::Css(&format!("{card} [data-field='name'] input")))
        .await
        .unwrap()
        .send_keys("Grace Hopper")
        .await
        .unwrap();
    click(c, &accept).await;
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let text = body["result"]["content"][1]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("Grace Hopper") && text.contains("grace@example.com") && text.contains("42"),
        "{body}"
    );
    b.close().await;
}

#[tokio::test]
async fn a_url_elicitation_shows_the_real_host_and_never_opens_by_itself() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    // A lookalike of apple.com in punycode, with a user-info part that imitates a host.
    let url = "https://apple.com@xn--pple-43d.com/login";
    let call = scope.spawn_request(json!({"method": "tools/call", "params": {
        "name": "trigger-url-elicitation", "arguments": {"url": url, "elicitationId": "look-1"}}}));
    let card = "li.pending-card[data-method='elicitation/create']";
    let text = wait_text(c, card, "the URL view", |t| t.contains("punycode")).await;
    assert!(text.contains("the host is xn--pple-43d.com"), "{text}");
    let host = find(c, &format!("{card} .url-host")).await;
    assert_eq!(host.text().await.unwrap(), "xn--pple-43d.com");
    let link = find(c, &format!("{card} a.open-url")).await;
    assert_eq!(
        link.attr("target").await.unwrap().as_deref(),
        Some("_blank")
    );
    assert_eq!(
        link.attr("rel").await.unwrap().as_deref(),
        Some("noopener noreferrer")
    );
    // Only one tab: nothing was opened without a click.
    assert_eq!(c.windows().await.unwrap().len(), 1);
    click(c, &format!("{card} button.answer-decline")).await;
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert!(first_text(&body["result"]).contains("declined"), "{body}");
    b.close().await;
}

#[tokio::test]
async fn a_streamable_http_server_is_connected_from_the_form_with_a_hidden_token() {
    let peer = crate::remote::everything("streamableHttp").await;
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    fill_remote(c, &peer.url("/mcp")).await;
    find(c, "#bearer")
        .await
        .send_keys("browser-secret-991")
        .await
        .unwrap();
    click(c, "#add-header").await;
    find(c, "#header-rows .header-name")
        .await
        .send_keys("X-From")
        .await
        .unwrap();
    find(c, "#header-rows .header-value")
        .await
        .send_keys("chromium")
        .await
        .unwrap();
    click(c, "#connect").await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    assert!(
        !find(c, "#session-error-box")
            .await
            .is_displayed()
            .await
            .unwrap(),
        "no error box while all is well"
    );
    wait_timeline(c, "initialize", "the HTTP exchanges", |t| {
        t.contains("POST /mcp → 200") && t.contains("[initialize #")
    })
    .await;
    // Open the first exchange: its detail shows the headers, the token redacted.
    click_fresh(
        c,
        Locator::Css(".event-line.kind-http"),
        "the first exchange",
    )
    .await;
    let detail = wait_text(c, "#exchange-body", "the detail", |t| {
        t.contains("requestHeaders")
    })
    .await;
    assert!(detail.contains("\"x-from\": \"chromium\""), "{detail}");
    assert!(
        detail.contains("\"authorization\": \"<redacted>\""),
        "{detail}"
    );
    let page = find(c, "body").await.text().await.unwrap();
    assert!(
        !page.contains("browser-secret-991"),
        "the token is on the page"
    );
    b.close().await;
}
