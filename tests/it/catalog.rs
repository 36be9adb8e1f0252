//! The catalog: `--config` files of each format (Claude Desktop, Cursor, VS Code with `servers`,
//! `type` and an `${input:…}` placeholder) read, listed and connected as sessions; the catalog
//! file kept private and edited through the API; export → import round trips in every format.

use std::os::unix::fs::PermissionsExt;

use serde_json::{Value, json};

use crate::{remote, support::*};

/// A file of its own for each test (regression: tests running at once wrote one `mcp.json`, and one
/// read the other's servers).
fn temp_file(name: &str, body: &Value) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("mcpscope-cat-{}-{n}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(body).unwrap()).unwrap();
    file
}

async fn connect_entry(scope: &Scope, name: &str, body: Value) -> (reqwest::StatusCode, Value) {
    scope
        .post(&format!("/api/catalog/{}/connect", urlencode(name)), body)
        .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn names(listing: &Value) -> Vec<String> {
    listing["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_claude_desktop_file_lists_every_server_and_connects_any_number() {
    let file = temp_file(
        "claude_desktop_config.json",
        &json!({"mcpServers": {
            "demo": {"command": bin(), "args": ["demo-server"], "env": {"API_KEY": "sk-very-secret"}},
            "everything": everything_target().tap(|t| { t.as_object_mut().unwrap().remove("transport"); }),
        }}),
    );
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let (_, listing) = scope.get("/api/catalog").await;
    assert_eq!(names(&listing), ["demo", "everything"]);
    assert_eq!(listing["servers"][0]["origin"], "config");
    assert_eq!(
        listing["servers"][0]["env"]["API_KEY"], "<redacted>",
        "{listing}"
    );
    assert!(!listing.to_string().contains("sk-very-secret"));
    // Several servers and no --server: listed, none connected.
    assert_eq!(scope.get("/api/sessions").await.1, json!([]));

    let (status, a) = connect_entry(&scope, "demo", json!({})).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = connect_entry(&scope, "everything", json!({})).await;
    assert_eq!(status, 201, "{b}");
    assert_eq!(
        (a["state"].as_str(), b["state"].as_str()),
        (Some("connected"), Some("connected"))
    );
    assert_eq!(
        (a["name"].as_str(), a["catalog"].as_str()),
        (Some("demo"), Some("demo"))
    );
    // The same entry again is a third session.
    let (status, c) = connect_entry(&scope, "demo", json!({"name": "demo again"})).await;
    assert_eq!(
        (status.as_u16(), c["name"].as_str()),
        (201, Some("demo again"))
    );
    let (_, sessions) = scope.get("/api/sessions").await;
    assert_eq!(sessions.as_array().unwrap().len(), 3);

    // Entries of the config file are read-only; a duplicate lands in the catalog, editable.
    let res = scope
        .http
        .delete(scope.url("/api/catalog/demo"))
        .bearer_auth(&scope.token)
        .send()
        .await
        .unwrap();
    let (status, body) = decode(res).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(file.to_str().unwrap()),
        "{body}"
    );
    let (status, copy) = scope.post("/api/catalog/demo/duplicate", json!({})).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(
        (copy["name"].as_str(), copy["origin"].as_str()),
        (Some("demo copy"), Some("catalog"))
    );
    // Edited with the redacted value sent back: the stored secret is kept.
    let mut edited = copy.clone();
    edited["name"] = json!("demo edited");
    edited["args"] = json!(["demo-server"]);
    for k in ["origin", "source", "placeholders", "editable"] {
        edited.as_object_mut().unwrap().remove(k);
    }
    let (status, body) = scope.put("/api/catalog/demo%20copy", edited).await;
    assert_eq!(status, 200, "{body}");
    let path = listing["path"].as_str().unwrap();
    let stored = std::fs::read_to_string(path).unwrap();
    assert!(
        stored.contains("demo edited") && stored.contains("sk-very-secret"),
        "{stored}"
    );
    assert_eq!(
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[tokio::test]
async fn a_cursor_file_with_a_remote_server_connects_over_streamable_http() {
    let peer = remote::fastmcp("streamable-http").await;
    let file = temp_file(
        "mcp.json",
        &json!({"mcpServers": {"fastmcp": {"url": peer.url("/mcp"), "headers": {"X-Custom": "from the file"}}}}),
    );
    // The only server of the file is connected at start.
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let mut events = scope.events().await;
    events.wait_for("connected", state("connected")).await;
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(
        (
            session["name"].as_str(),
            session["target"]["transport"].as_str()
        ),
        (Some("fastmcp"), Some("http"))
    );
    let seen = scope
        .result(
            "tools/call",
            json!({"name": "echo_header", "arguments": {"name": "x-custom"}}),
        )
        .await;
    assert_eq!(first_text(&seen), "from the file");
}

#[tokio::test]
async fn a_vscode_file_with_an_input_placeholder_asks_for_it_and_never_sends_it_as_text() {
    let script = format!(
        "echo token=$DEMO_TOKEN home=$AT_HOME >&2; exec {} demo-server",
        bin()
    );
    let file = temp_file(
        "mcp.json",
        &json!({
            "inputs": [{"type": "promptString", "id": "demo-token", "description": "Demo token", "password": true}],
            "servers": {
                "demo": {"type": "stdio", "command": "sh", "args": ["-c", script],
                          "env": {"DEMO_TOKEN": "${input:demo-token}", "AT_HOME": "${userHome}"}},
                "unset": {"type": "stdio", "command": "sh", "env": {"X": "${env:MCPSCOPE_SURELY_UNSET_VAR}"}},
            },
        }),
    );
    let scope = Scope::start_with(&["--config", file.to_str().unwrap()]).await;
    let (_, listing) = scope.get("/api/catalog").await;
    assert_eq!(
        listing["servers"][0]["placeholders"],
        json!(["userHome", "input:demo-token"])
    );
    assert_eq!(listing["inputs"][0]["description"], "Demo token");

    let (status, body) = connect_entry(&scope, "demo", json!({})).await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("${input:demo-token}") && message.contains("Demo token"),
        "{message}"
    );
    let (status, body) = connect_entry(&scope, "unset", json!({})).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("MCPSCOPE_SURELY_UNSET_VAR"),
        "{body}"
    );
    assert_eq!(
        scope.get("/api/sessions").await.1,
        json!([]),
        "nothing was started"
    );

    let mut events = scope.events().await;
    let (status, session) =
        connect_entry(&scope, "demo", json!({"inputs": {"demo-token": "t0ken"}})).await;
    assert_eq!(
        (status.as_u16(), session["state"].as_str()),
        (201, Some("connected")),
        "{session}"
    );
    let line = events.wait_for("the server's stderr", kind("stderr")).await;
    let home = std::env::var("HOME").unwrap();
    assert_eq!(line["line"], format!("token=t0ken home={home}"));
    assert_eq!(session["target"]["env"]["DEMO_TOKEN"], "<redacted>");
}

#[tokio::test]
async fn export_then_import_round_trips_in_every_format() {
    let source = json!({"mcpServers": {
        "local": {"command": "node", "args": ["server.js", "--flag"], "env": {"API_KEY": "k"}, "cwd": "/srv", "disabled": true},
        "remote": {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer b"}},
        "legacy": {"type": "sse", "url": "http://127.0.0.1:9/events"},
    }});
    let first = Scope::start().await;
    let res = first
        .http
        .post(first.url("/api/catalog/import"))
        .bearer_auth(&first.token)
        .body(source.to_string())
        .send()
        .await
        .unwrap();
    let (status, imported) = decode(res).await;
    assert_eq!(
        (status.as_u16(), imported["imported"].as_u64()),
        (200, Some(3)),
        "{imported}"
    );

    for format in ["claude", "cursor", "windsurf", "vscode"] {
        let export = |scope: &Scope| {
            let req = scope
                .http
                .get(scope.url(&format!(
                    "/api/catalog/export?format={format}&secrets=include"
                )))
                .bearer_auth(&scope.token);
            async move { req.send().await.unwrap().text().await.unwrap() }
        };
        let exported = export(&first).await;
        let second = Scope::start().await;
        let res = second
            .http
            .post(second.url("/api/catalog/import"))
            .bearer_auth(&second.token)
            .body(exported.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{format}: {}", res.text().await.unwrap());
        assert_eq!(export(&second).await, exported, "{format} round trip");
        let (_, listing) = second.get("/api/catalog").await;
        assert_eq!(names(&listing), ["local", "remote", "legacy"], "{format}");
        assert_eq!(listing["servers"][2]["transport"], "sse", "{format}");
        assert_eq!(listing["servers"][0]["extra"]["disabled"], true, "{format}");
    }

    // Without secrets=include the values are redacted, and one entry can be exported alone.
    let (status, one) = first
        .get("/api/catalog/export?format=vscode&name=remote")
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["servers"]["remote"]["type"], "http", "{one}");
    assert_eq!(
        one["servers"]["remote"]["headers"]["Authorization"],
        "<redacted>"
    );
    assert!(one["servers"].get("local").is_none());
}

/// A VS Code file whose servers take a key from `${input:api-key}`.
fn vscode_with_inputs() -> Value {
    json!({
        "inputs": [{"type": "promptString", "id": "api-key", "description": "The API key", "password": true}],
        "servers": {
            "remote": {"type": "http", "url": "http://127.0.0.1:9/mcp",
                "headers": {"Authorization": "Bearer ${input:api-key}", "X-Api-Key": "${input:api-key}"}},
            "local": {"command": "node", "args": ["s.js"], "env": {"TOKEN": "${input:api-key}", "DIR": "${env:HOME}"}},
        },
    })
}

async fn import_text(scope: &Scope, text: String) -> Value {
    let res = scope
        .http
        .post(scope.url("/api/catalog/import"))
        .bearer_auth(&scope.token)
        .body(text)
        .send()
        .await
        .unwrap();
    let (status, body) = decode(res).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_vscode_files_inputs_survive_import_and_export_and_other_formats_say_what_they_lose() {
    let scope = Scope::start().await;
    let imported = import_text(&scope, vscode_with_inputs().to_string()).await;
    // Regression: the answer said "inputs": [] and the declarations were gone.
    assert_eq!(imported["inputs"][0]["id"], "api-key", "{imported}");
    assert_eq!(imported["inputs"][0]["password"], true, "{imported}");
    // Kept in the catalog file, so they outlive this process.
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(imported["path"].as_str().unwrap()).unwrap())
            .unwrap();
    assert_eq!(kept["inputs"][0]["id"], "api-key", "{kept}");

    // A VS Code export carries the declarations its servers use, and a placeholder is no secret.
    let (status, file) = scope.get("/api/catalog/export?format=vscode").await;
    assert_eq!(status, 200);
    assert_eq!(file["inputs"][0]["id"], "api-key", "{file}");
    let headers = &file["servers"]["remote"]["headers"];
    assert_eq!(
        headers["Authorization"], "Bearer ${input:api-key}",
        "{file}"
    );
    assert_eq!(headers["X-Api-Key"], "${input:api-key}", "{file}");
    assert_eq!(file["servers"]["local"]["env"]["TOKEN"], "${input:api-key}");

    // The other clients cannot expand ${input:}: the preview says so, per server.
    for (format, client) in [
        ("claude", "Claude Desktop"),
        ("cursor", "Cursor"),
        ("windsurf", "Windsurf"),
    ] {
        let (status, preview) = scope
            .get(&format!("/api/catalog/export?format={format}&preview=1"))
            .await;
        assert_eq!(status, 200, "{preview}");
        let warnings: Vec<&str> = preview["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("remote: ${input:api-key}")
                    && w.contains(&format!("{client} does not expand it"))),
            "{format}: {warnings:?}"
        );
        // ${env:HOME} works in Cursor and Windsurf, not in Claude Desktop.
        assert_eq!(
            warnings.iter().any(|w| w.contains("${env:HOME}")),
            format == "claude",
            "{format}: {warnings:?}"
        );
        assert!(preview["text"].as_str().unwrap().contains("mcpServers"));
    }
    let (_, preview) = scope
        .get("/api/catalog/export?format=cursor&preview=1")
        .await;
    assert_eq!(preview["fileName"], "mcp.json");
}

#[tokio::test]
async fn the_catalog_imports_a_pasted_file_and_previews_an_export_in_the_browser() {
    use crate::browser::{click, find, open_ui, wait_text};
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    crate::daily_ui::click_path(c, "//details[@id='catalog-import']/summary").await;
    crate::daily_ui::field(c, "or paste it")
        .await
        .send_keys(&vscode_with_inputs().to_string())
        .await
        .unwrap();
    crate::daily_ui::button(c, "Import")
        .await
        .click()
        .await
        .unwrap();
    let said = wait_text(c, "#catalog-import-status", "the import", |t| !t.is_empty()).await;
    assert!(
        said.starts_with("Imported 2 servers") && said.contains("api-key"),
        "{said}"
    );
    wait_text(c, "#catalog-list", "the imported servers", |t| {
        t.contains("remote") && t.contains("local")
    })
    .await;
    // Export all, as Claude Desktop: the file to read first, and what Claude cannot use.
    click(c, "#catalog-export-all details > summary").await;
    let warned = wait_text(
        c,
        "#catalog-export-all .export-warnings",
        "the warnings",
        |t| t.contains("${input:api-key}"),
    )
    .await;
    assert!(
        warned.contains("Claude Desktop does not expand it"),
        "{warned}"
    );
    let shown = find(c, "#catalog-export-all .export-preview")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        shown.contains("\"mcpServers\"") && shown.contains("Bearer ${input:api-key}"),
        "{shown}"
    );
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("catalog-export.png"), png).unwrap();
    }
    b.close().await;
}
