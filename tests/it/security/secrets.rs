//! Secrets never leave in an export, the session object or the catalog's answers, however a
//! server spells them back, and mcpscope's own environment goes to a remote server only when
//! the user allowed it.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::{remote, support::*};

/// Non-ASCII, `&`, `<`, `>` and `/`: every escape Python, Go and PHP use.
const SECRET: &str = "pä&s<s>w/ö-rd-7c1f";

fn config_file(tag: &str, config: &Value) -> std::path::PathBuf {
    let file = std::env::temp_dir().join(format!("mcpscope-{tag}-{}.json", std::process::id()));
    std::fs::write(&file, config.to_string()).unwrap();
    file
}

/// Every string in `v`, with the JSON text inside strings opened too (stderr lines, text
/// blocks that hold JSON).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s)
                && !inner.is_string()
            {
                strings(&inner, out);
            }
            out.push(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Attacks: a server echoing a secret in other JSON escapes, percent-encoded, in base64 and in
/// JSON it prints; a `password` input given in stdio args shown in the session object and the
/// export header.
#[tokio::test]
async fn a_secret_echoed_in_any_spelling_stays_out_of_the_export_and_the_session_object() {
    let script = root().join("tests/servers/hostile_server.py");
    let file = config_file(
        "secret-input",
        &json!({
            "inputs": [{"type": "promptString", "id": "api-key", "description": "API key",
                        "password": true}],
            "servers": {"hostile": {"type": "stdio", "command": python(),
                "args": ["-u", script, "stdio", "--key=${input:api-key}"],
                "env": {"SECRET": "${input:api-key}"}}},
        }),
    );
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let (status, s) = scope
        .post(
            "/api/catalog/hostile/connect",
            json!({"inputs": {"api-key": SECRET}}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["state"], "connected", "{s}");
    assert_eq!(s["target"]["args"][3], "--key=<redacted>", "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    let (status, answer) = scope
        .post(
            &format!("/api/sessions/{id}/request"),
            json!({"method": "tools/call", "params": {"name": "echo_secret", "arguments": {}}}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    // The server really did echo it, in every spelling.
    let texts: Vec<&str> = answer["result"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[0], SECRET);
    let export = scope.export(&id).await;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    let base64_middle = &encoded[8..24];
    for (n, line) in export.lines().enumerate() {
        for spelled in [
            "rd-7c1f",
            "p\\u00e4",
            "\\u0026s\\u003cs",
            "w\\/",
            base64_middle,
        ] {
            assert!(!line.contains(spelled), "{spelled} in line {n}: {line}");
        }
        let v: Value = serde_json::from_str(line).unwrap();
        let mut all = Vec::new();
        strings(&v, &mut all);
        for s in all {
            assert!(
                !s.contains("rd-7c1f") && !s.contains(base64_middle),
                "line {n}: {s}"
            );
        }
    }
    assert!(
        export.contains("<redacted>"),
        "the echoes were scrubbed, not lost"
    );
    std::fs::remove_file(file).ok();
}

/// Attack: an imported remote entry whose URL and headers name `${env:…}`, which would send
/// mcpscope's own environment (tokens, cloud keys) to whatever host the file names.
#[tokio::test]
async fn a_remote_entry_gets_mcpscopes_environment_only_for_names_the_user_allowed() {
    let peer = remote::fastmcp("streamable-http").await;
    let leak = "leak-value-4411";
    let file = config_file(
        "env-remote",
        &json!({"mcpServers": {"remote": {
            "url": format!("{}?x=${{env:MCPSCOPE_TEST_LEAK}}", peer.url("/mcp")),
            "headers": {"X-Forwarded-Thing": "${env:MCPSCOPE_TEST_LEAK}"},
        },
        // A second server, so that none is connected at start.
        "other": {"command": "true"}}}),
    );
    let scope = Scope::start_env(
        &["--config", file.to_str().unwrap()],
        &[("MCPSCOPE_TEST_LEAK", leak)],
    )
    .await;
    let (status, refused) = scope.post("/api/catalog/remote/connect", json!({})).await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("MCPSCOPE_TEST_LEAK to 127.0.0.1") && message.contains("allowEnv"),
        "{message}"
    );
    let (_, sessions) = scope.get("/api/sessions").await;
    assert!(
        sessions.as_array().unwrap().is_empty(),
        "nothing connected: {sessions}"
    );

    // Allowed by name, it connects, and the value is a secret wherever it would show.
    let (status, s) = scope
        .post(
            "/api/catalog/remote/connect",
            json!({"allowEnv": ["MCPSCOPE_TEST_LEAK"]}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["state"], "connected", "{s}");
    assert!(!s.to_string().contains(leak), "{s}");
    // Regression: the `http` events showed the URL and headers with the value in them.
    let mut events = scope.events_since(0).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut http = 0;
    while let Some(e) = events.next(until).await {
        assert!(!e.to_string().contains(leak), "{e}");
        http += usize::from(e["kind"] == "http");
    }
    assert!(http > 0, "the exchanges were seen");
    let export = scope.export(s["id"].as_str().unwrap()).await;
    assert!(!export.contains(leak), "{export}");
    std::fs::remove_file(file).ok();
}

/// Attack: read the catalog (or its redacted export) to learn URL passwords, `api_key=` values
/// and credential headers whose names do not say "token".
#[tokio::test]
async fn the_catalogs_answers_hide_url_passwords_query_keys_and_credential_headers() {
    let file = config_file(
        "catalog-creds",
        &json!({"mcpServers": {"creds": {
            "url": "http://me:pw-url-5521@127.0.0.1:9/mcp?api_key=qk-5521&page=2&k=${input:x}",
            "headers": {"X-Auth-Key": "xak-5521", "Ocp-Apim-Subscription-Key": "apim-5521",
                        "X-Title": "shown", "Authorization": "Bearer ${ghp_5521}",
                        "X-Api-Key": "Bearer 5521${input:x}", "X-Token": "Bearer ${input:x}"},
        }}}),
    );
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let (status, listing) = scope.get("/api/catalog").await;
    assert_eq!(status, 200);
    let text = listing.to_string();
    assert!(!text.contains("5521"), "{text}");
    assert!(text.contains("page=2") && text.contains("shown"), "{text}");
    assert!(
        text.contains("k=${input:x}"),
        "a placeholder holds no secret: {text}"
    );
    for format in ["claude", "vscode", "cursor", "windsurf"] {
        let res = scope
            .http
            .get(scope.url(&format!("/api/catalog/export?format={format}")))
            .bearer_auth(&scope.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{format}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("5521"), "{format}: {body}");
        // The preview is the same file: a value that looks like a placeholder but names no
        // source (`${ghp_…}`), or holds text besides one, is still a secret.
        let (status, preview) = scope
            .get(&format!("/api/catalog/export?format={format}&preview=1"))
            .await;
        assert_eq!(status, 200, "{format}");
        let text = preview["text"].as_str().unwrap();
        assert!(!text.contains("5521"), "{format} preview: {text}");
        assert!(
            text.contains("Bearer ${input:x}"),
            "{format} preview: {text}"
        );
    }
    std::fs::remove_file(file).ok();
}

/// The same in the browser: the catalog's Connect asks, naming the variable and the host;
/// declined, nothing connects; accepted, the server connects without the value on show.
#[tokio::test]
async fn the_catalog_asks_before_sending_mcpscopes_environment_to_a_remote_server() {
    use crate::browser::{click, open_ui, wait_question, wait_text};
    let peer = remote::fastmcp("streamable-http").await;
    let leak = "leak-value-7320";
    let file = config_file(
        "env-remote-ui",
        &json!({"mcpServers": {
            "remote": {"url": format!("{}?x=${{env:MCPSCOPE_TEST_LEAK}}", peer.url("/mcp"))},
            "other": {"command": "true"},
        }}),
    );
    let scope = Scope::start_env(
        &["--config", file.to_str().unwrap()],
        &[("MCPSCOPE_TEST_LEAK", leak)],
    )
    .await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    wait_text(c, "#catalog-list", "the entry", |t| t.contains("remote")).await;

    click(c, "button[aria-label='Connect remote']").await;
    let asked = wait_question(c).await;
    assert!(
        asked.contains("MCPSCOPE_TEST_LEAK") && asked.contains("127.0.0.1"),
        "{asked}"
    );
    c.dismiss_alert().await.unwrap();
    wait_text(c, "#catalog-list", "why it did not connect", |t| {
        t.contains("not allowed for 127.0.0.1")
    })
    .await;
    let (_, sessions) = scope.get("/api/sessions").await;
    assert!(sessions.as_array().unwrap().is_empty(), "{sessions}");

    click(c, "button[aria-label='Connect remote']").await;
    wait_question(c).await;
    c.accept_alert().await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    let page = c.source().await.unwrap();
    assert!(!page.contains(leak), "the value is not on the page");
    b.client.clone().close().await.unwrap();
    std::fs::remove_file(file).ok();
}
