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

struct Browser {
    client: Client,
    _driver: Child,
    _profile: std::path::PathBuf,
}

async fn browser() -> Browser {
    for path in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            std::path::Path::new(path).exists(),
            "{path} is missing: run scripts/install-test-peers.sh (installs Debian's chromium and chromium-driver)"
        );
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Command::new(CHROMEDRIVER)
        .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
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
    let profile =
        std::env::temp_dir().join(format!("mcpscope-chromium-{}-{port}", std::process::id()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a chromium session");
    Browser {
        client,
        _driver: driver,
        _profile: profile,
    }
}

/// A browser on the ready URL, with the page loaded.
async fn open_ui(scope: &Scope) -> Browser {
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

/// Waits until the element's text satisfies `pred`, with a deadline.
async fn wait_text(c: &Client, css: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
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

#[tokio::test]
async fn connect_the_demo_from_the_form_call_a_tool_and_see_the_frame() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let connect = c.find(Locator::Css("#connect")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert!(
        !url.as_str().contains("token"),
        "the token leaves the address bar: {url}"
    );

    // The form comes prefilled with this binary's demo server.
    let command = c.find(Locator::Css("#command")).await.unwrap();
    assert_eq!(command.prop("value").await.unwrap().as_deref(), Some(bin()));
    connect.click().await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#server-name", "the server's title", |t| {
        t == "mcpscope demo server"
    })
    .await;

    let echo = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.tool[data-tool='echo']"))
        .await
        .unwrap();
    echo.click().await.unwrap();
    let args = c.find(Locator::Css("#tool-args")).await.unwrap();
    args.clear().await.unwrap();
    args.send_keys(r#"{"message": "<b>hello from chromium</b>"}"#)
        .await
        .unwrap();
    c.find(Locator::Css("#call-tool"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = wait_text(c, "#result", "the echo", |t| {
        t.contains("hello from chromium")
    })
    .await;
    assert!(
        result.contains("<b>"),
        "server strings are shown as text, not markup: {result}"
    );
    assert!(
        c.find(Locator::Css("#result b")).await.is_err(),
        "no element was injected"
    );

    wait_text(c, "#timeline", "the tools/call frames", |t| {
        t.contains("→ request tools/call")
            && t.contains("← response #")
            && t.contains("(tools/call)")
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
    wait_text(c, "#timeline", "the history replayed", |t| {
        t.contains("→ request tools/call")
    })
    .await;
    b.client.close().await.unwrap();
}

#[tokio::test]
async fn findings_from_a_sloppy_server_are_highlighted_in_the_timeline() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    let command = c.find(Locator::Css("#command")).await.unwrap();
    command.clear().await.unwrap();
    command.send_keys(&python()).await.unwrap();
    let args = c.find(Locator::Css("#args")).await.unwrap();
    args.clear().await.unwrap();
    let script = root().join("tests/servers/sloppy_server.py");
    args.send_keys(&format!("-u\n{}", script.display()))
        .await
        .unwrap();
    c.find(Locator::Css("#connect"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let finding = wait_text(
        c,
        "li.kind-finding.severity-error",
        "a highlighted finding",
        |t| t.contains("not JSON"),
    )
    .await;
    assert!(finding.contains("error"), "{finding}");
    wait_text(c, "#timeline", "the junk line itself", |t| {
        t.contains("sloppy server starting")
    })
    .await;
    b.client.close().await.unwrap();
}
