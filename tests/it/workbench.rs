//! The workbench in a real browser against server-everything (and a FastMCP server for
//! completion paging): a generated form, an image result, a completion dropdown driven by the
//! keyboard, a resource template read through its form, a subscription's update mark, and a
//! reload that keeps the session.

use fantoccini::{Locator, key::Key};

use crate::{browser::*, support::*};

async fn tool(c: &fantoccini::Client, name: &str) {
    let css = format!("button.item[data-item='tool:{name}']");
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(&css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn get_sum_from_its_form_and_the_tiny_image_as_an_image() {
    let (_scope, b) = ui_with_everything().await;
    let c = &b.client;
    tool(c, "get-sum").await;
    let a = find(c, "#tool-form [data-field='a'] input").await;
    a.send_keys("19").await.unwrap();
    // b is required: the violation shows beside the field, and nothing is sent yet.
    click(c, "#call-tool").await;
    let error = wait_text(
        c,
        "#tool-form [data-field='b'] .field-error",
        "the inline error",
        |t| t.contains("required"),
    )
    .await;
    assert!(error.contains("\"b\""), "{error}");
    assert!(find(c, "#call-anyway").await.is_displayed().await.unwrap());
    find(c, "#tool-form [data-field='b'] input")
        .await
        .send_keys("23")
        .await
        .unwrap();
    // The form and the raw JSON agree.
    let raw = find(c, "#tool-args")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let raw: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(raw, serde_json::json!({"a": 19, "b": 23}));
    click(c, "#call-tool").await;
    wait_text(c, "#result", "the sum", |t| t.contains("42")).await;
    wait_text(c, "#result-meta", "the call's details", |t| {
        t.contains("tools/call") && t.contains("ms")
    })
    .await;

    tool(c, "get-tiny-image").await;
    click(c, "#call-tool").await;
    let img = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("#result img.content-image"))
        .await
        .unwrap();
    let src = img.attr("src").await.unwrap().unwrap();
    assert!(src.starts_with("data:image/png;base64,"), "{}", &src[..40]);

    // The last arguments are remembered across a reload.
    c.refresh().await.unwrap();
    wait_text(c, "#state", "connected after reload", |t| t == "connected").await;
    tool(c, "get-sum").await;
    let a = find(c, "#tool-form [data-field='a'] input").await;
    assert_eq!(a.prop("value").await.unwrap().as_deref(), Some("19"));
    b.close().await;
}

#[tokio::test]
async fn completable_prompt_department_is_picked_with_the_keyboard() {
    let (_scope, b) = ui_with_everything().await;
    let c = &b.client;
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(
            "button.item[data-item='prompt:completable-prompt']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = find(c, "input[data-arg='department']").await;
    input.click().await.unwrap();
    input.send_keys("E").await.unwrap();
    let option = wait_text(c, "li[role='option']", "the suggestion", |t| {
        t == "Engineering"
    })
    .await;
    assert_eq!(option, "Engineering");
    input.send_keys(&Key::Down.to_string()).await.unwrap();
    input.send_keys(&Key::Enter.to_string()).await.unwrap();
    let until = std::time::Instant::now() + DEADLINE;
    while input.prop("value").await.unwrap().as_deref() != Some("Engineering") {
        assert!(std::time::Instant::now() < until, "Enter picks the option");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        input.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    b.close().await;
}

#[tokio::test]
async fn a_resource_template_is_read_through_its_form() {
    let (_scope, b) = ui_with_everything().await;
    let c = &b.client;
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(
            "button.item[data-item='template:demo://resource/dynamic/text/{resourceId}']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    find(c, "input[data-var='resourceId']")
        .await
        .send_keys("7")
        .await
        .unwrap();
    wait_text(c, "#template-uri", "the expanded URI", |t| {
        t == "demo://resource/dynamic/text/7"
    })
    .await;
    click(c, "#read-template").await;
    wait_text(c, "#result", "the resource text", |t| {
        t.contains("Resource 7: This is a plaintext resource")
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn a_subscribed_resource_gets_an_update_mark() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    let first = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.resource"))
        .await
        .unwrap();
    first.click().await.unwrap();
    click(c, "#subscribe-resource").await;
    wait_text(c, "#subscribe-resource", "subscribed", |t| {
        t == "Unsubscribe"
    })
    .await;
    let toggled = scope
        .result(
            "tools/call",
            serde_json::json!({"name": "toggle-subscriber-updates", "arguments": {}}),
        )
        .await;
    assert!(first_text(&toggled).contains("Started"), "{toggled}");
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.resource.updated"))
        .await
        .expect("an update mark");
    wait_text(c, "#resource-updated", "the open resource's mark", |t| {
        t == "updated"
    })
    .await;
    b.close().await;
}

#[tokio::test]
async fn completion_shows_total_and_has_more_from_a_python_server() {
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    scope.connect(python_target("fastmcp_server.py")).await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css("button.item[data-item='prompt:pick_city']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let input = find(c, "input[data-arg='city']").await;
    input.click().await.unwrap();
    input.send_keys("B").await.unwrap();
    let status = wait_text(c, ".completion-status", "the count", |t| {
        t.contains("more available")
    })
    .await;
    assert_eq!(status, "3 of 10, more available");
    let options = c.find_all(Locator::Css("li[role='option']")).await.unwrap();
    let mut names = Vec::new();
    for o in options {
        names.push(o.text().await.unwrap());
    }
    assert_eq!(names, ["Berlin", "Bern", "Bogota"]);
    // Typing on narrows it; the newest answer wins.
    input.send_keys("ru").await.unwrap();
    wait_text(c, ".completion-status", "the narrower count", |t| {
        t == "1 of 1"
    })
    .await;
    wait_text(c, "li[role='option']", "Brussels", |t| t == "Brussels").await;
    b.close().await;
}

#[tokio::test]
async fn log_messages_land_in_the_log_panel_with_a_level_filter() {
    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    click(c, "#tab-logs").await;
    find(c, "#log-level")
        .await
        .select_by_value("debug")
        .await
        .unwrap();
    wait_text(c, "#log-level-note", "the level set", |t| {
        t == "level set to debug"
    })
    .await;
    scope
        .result(
            "tools/call",
            serde_json::json!({"name": "toggle-simulated-logging", "arguments": {}}),
        )
        .await;
    // Other entries may come first (server-everything logs its roots sync at info).
    wait_text(c, "#log-list", "a simulated log entry", |t| {
        t.contains("-level message") || t.contains("level-message")
    })
    .await;
    find(c, "#log-min")
        .await
        .select_by_value("emergency")
        .await
        .unwrap();
    for li in c.find_all(Locator::Css("#log-list li.log")).await.unwrap() {
        let level = li.attr("data-level").await.unwrap().unwrap();
        assert_eq!(
            li.is_displayed().await.unwrap(),
            level == "emergency",
            "{level}"
        );
    }
    b.close().await;
}
