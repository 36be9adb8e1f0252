//! The defects a day of real use found (reloads, calls that outlive their page, validation, lists
//! that belong to another server, switching, keyboard and layout), each with the test that
//! failed before its fix, in a real Chromium against real servers. Elements are found by their
//! visible text, labels and roles.

use fantoccini::Client;
use serde_json::json;

use crate::{
    browser::{open_ui, wait_text},
    daily_ui::{item, js, wait_js},
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
    b.client.close().await.unwrap();
}
