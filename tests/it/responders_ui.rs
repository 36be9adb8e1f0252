//! Responder settings per server, in headless Chromium: a mock rule saved from the editor for
//! "this server only" answers that server's sampling request, while another server still follows
//! every server's settings (and asks a person); each server shows its own choice when switched
//! to; dropping the own settings follows every server's again.

use serde_json::json;

use crate::{
    browser::{add_sampling_rule, click, find, open_ui, wait_text},
    servers_ui::choose,
    support::*,
};

#[tokio::test]
async fn one_servers_own_mock_rule_answers_it_and_not_another() {
    let scope = Scope::start().await;
    let mut ids = Vec::new();
    for name in ["alpha", "beta"] {
        let mut target = everything_target();
        target["name"] = json!(name);
        let (status, s) = scope.post("/api/sessions", target).await;
        assert_eq!(status, 201, "{s}");
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    let (a, b) = (&ids[0], &ids[1]);
    let mut events = scope.events().await;
    let br = open_ui(&scope).await;
    let c = &br.client;
    choose(c, "alpha").await;
    click(c, "#responders summary").await;
    wait_text(c, "#responders-own", "alpha's choice", |t| {
        t.contains(&format!("{a} follows"))
    })
    .await;
    for (select, value) in [("#responders-scope", "session"), ("#sampling-mode", "mock")] {
        find(c, select).await.select_by_value(value).await.unwrap();
    }
    add_sampling_rule(
        c,
        "(?i)forecast",
        r#"{"role": "assistant", "content": {"type": "text", "text": "sun"}, "model": "alpha-only"}"#,
    )
    .await;
    click(c, "#responders-save").await;
    wait_text(c, "#responders-status", "saved for alpha", |t| {
        t == format!("Saved for {a} only.")
    })
    .await;
    let (_, own) = scope.get(&format!("/api/sessions/{a}/responders")).await;
    assert_eq!(own["own"], true, "{own}");
    assert_eq!(
        own["settings"]["sampling"]["rules"][0]["match"],
        "(?i)forecast"
    );
    let (_, everyone) = scope.get("/api/responders").await;
    assert_eq!(
        everyone["sampling"]["mode"], "manual",
        "everyone's unchanged"
    );

    // alpha's server gets alpha's rule; beta's asks a person.
    let ask = json!({"method": "tools/call", "params": {"name": "trigger-sampling-request", "arguments": {"prompt": "FORECAST?"}}, "timeoutMs": 3000});
    let (status, hit) = scope
        .post(&format!("/api/sessions/{a}/request"), ask.clone())
        .await;
    assert_eq!(status, 200, "{hit}");
    assert!(first_text(&hit["result"]).contains("alpha-only"), "{hit}");
    let (status, _) = scope.post(&format!("/api/sessions/{b}/request"), ask).await;
    assert_ne!(status, 200, "beta's server waited for a person");
    events
        .wait_for("beta's request for a person", |e| {
            e["kind"] == "pending" && e["session"] == b.as_str()
        })
        .await;

    // Each server shows its own choice; dropping alpha's own settings follows everyone's.
    choose(c, "beta").await;
    wait_text(c, "#responders-own", "beta's choice", |t| {
        t.contains(&format!("{b} follows"))
    })
    .await;
    choose(c, "alpha").await;
    wait_text(c, "#responders-own", "alpha's own", |t| {
        t.contains(&format!("{a} answers with settings of its own"))
    })
    .await;
    assert_eq!(
        find(c, "#responders-scope")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("session")
    );
    click(c, "#responders-drop").await;
    wait_text(c, "#responders-status", "dropped", |t| t.contains("again")).await;
    let (_, own) = scope.get(&format!("/api/sessions/{a}/responders")).await;
    assert_eq!(own["own"], false, "{own}");
}
