//! Server lint: every rule of the table fires on `tests/servers/lint_bad_server.py` (through
//! `mcpscope lint` and through the API), and nothing fires on real servers written by others:
//! server-everything, server-filesystem, server-memory and a FastMCP server.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::*;

async fn lint_cli(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let out = tokio::process::Command::new(bin())
        .args(["lint", "-q", "--format", "json"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (
        out.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rules_found(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn bad_server() -> String {
    root()
        .join("tests/servers/lint_bad_server.py")
        .display()
        .to_string()
}

#[tokio::test]
async fn every_rule_fires_on_a_server_that_breaks_it() {
    let bad = bad_server();
    let (code, report, err) = lint_cli(&["--call-tools", "--", &python(), &bad], &[]).await;
    assert_eq!(code, 1, "errors exit 1: {err}");
    let mut fired = rules_found(&report);
    for f in report["findings"].as_array().unwrap() {
        assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            f["frameSeq"].as_u64().is_some(),
            "each names its frame: {f}"
        );
        if f["rule"] != "wire" {
            assert!(
                f["spec"].as_str().unwrap().starts_with("2025-11-25/"),
                "{f}"
            );
        }
    }
    let says = |rule: &str, part: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == rule && f["message"].as_str().unwrap().contains(part))
    };
    // Regression: the meta-schema's words alone ("not valid under any of the schemas listed
    // in the 'anyOf' keyword") did not say where in the schema.
    assert!(
        says("tool-input-schema", "at properties.x.type"),
        "{report:#}"
    );
    // Regression: a list that failed (code 0, as the Python SDK answers an exception) was silent.
    assert!(
        says(
            "list-failed",
            "resources/list failed with error 0 (\"database is locked\")"
        ),
        "{report:#}"
    );
    assert!(
        says("error-code", "resources/list answered error code 0"),
        "{report:#}"
    );

    // What needs a cancel: a call that times out, answered anyway; seen through the API.
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (status, s) = scope
        .post(
            "/api/sessions",
            // `auto`: the probe is refused and the session falls back to the legacy handshake.
            json!({"transport": "stdio", "command": python(), "args": ["-u", bad], "era": "auto"}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let (status, _) = scope
        .post(
            "/api/sessions/s1/request",
            json!({"method": "tools/call", "params": {"name": "slow", "arguments": {}}, "timeoutMs": 300}),
        )
        .await;
    assert_eq!(status, 504);
    events
        .wait_for("the late answer", |e| {
            e["kind"] == "frame" && e["late"].is_string()
        })
        .await;
    let (status, api) = scope.get("/api/sessions/s1/lint").await;
    assert_eq!(status, 200);
    let via_api = rules_found(&api);
    assert!(via_api.contains("answer-after-cancel"), "{api:#}");
    // Regression: the probe sent made the connection count as modern, and the legacy
    // handshake's rules went quiet.
    assert!(via_api.contains("before-initialized"), "{api:#}");
    fired.extend(via_api);

    // MCP Apps: an app server's views, and what its app called (as the page reports it).
    let scope = Scope::start().await;
    let app_server = python_target("hostile_app_server.py");
    let out = tokio::process::Command::new(bin())
        .arg("lint")
        .arg("--")
        .arg(app_server["command"].as_str().unwrap())
        .args(["-u", app_server["args"][1].as_str().unwrap()])
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for rule in ["app-view-missing", "app-view-mime", "app-view-unlisted"] {
        assert!(text.contains(rule), "{rule} from mcpscope lint: {text}");
        fired.insert(rule.to_owned());
    }
    scope.connect(app_server).await;
    scope
        .post("/api/list", json!({"method": "tools/list"}))
        .await;
    scope
        .post(
            "/api/app",
            json!({"kind": "message", "view": "v1", "direction": "from-app",
                "message": {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "model_only", "arguments": {}}}}),
        )
        .await;
    let (_, api) = scope.get("/api/lint").await;
    fired.extend(rules_found(&api));

    let table: BTreeSet<String> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let silent: Vec<&String> = table.difference(&fired).collect();
    assert!(silent.is_empty(), "rules that never fired: {silent:?}");
}

#[tokio::test]
async fn real_servers_have_no_findings() {
    let everything = everything_target();
    let peers = root().join("tests/peers/node_modules/@modelcontextprotocol");
    let dir = std::env::temp_dir().join(format!("mcpscope-lint-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.txt"), "hello").unwrap();
    let memory = dir.join("memory.json");
    let fs = peers.join("server-filesystem/dist/index.js");
    let mem = peers.join("server-memory/dist/index.js");
    let fastmcp = root().join("tests/servers/fastmcp_server.py");
    let runs: Vec<(&str, Vec<String>)> = vec![
        (
            "server-everything",
            vec![
                "--".into(),
                "node".into(),
                everything["args"][0].as_str().unwrap().into(),
                "stdio".into(),
            ],
        ),
        (
            "server-filesystem",
            vec![
                "--".into(),
                "node".into(),
                fs.display().to_string(),
                dir.display().to_string(),
            ],
        ),
        (
            "server-memory",
            vec![
                "-e".into(),
                format!("MEMORY_FILE_PATH={}", memory.display()),
                "--".into(),
                "node".into(),
                mem.display().to_string(),
            ],
        ),
        (
            "FastMCP",
            vec![
                "--call-tools".into(),
                "--".into(),
                python(),
                fastmcp.display().to_string(),
            ],
        ),
    ];
    for (name, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, report, err) = lint_cli(&args, &[]).await;
        assert_eq!(code, 0, "{name}: {report:#}\n{err}");
        assert_eq!(report["findings"], json!([]), "{name}: {report:#}");
    }
    std::fs::remove_dir_all(dir).ok();
}
