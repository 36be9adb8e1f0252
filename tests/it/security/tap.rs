//! The tap: `POST /api/tap` without the token, from another origin, with a body that is not a
//! report, a hello with unknown fields or a huge name, a record over its length limit; a hostile
//! "server" line that is not JSON, not UTF-8 or full of terminal escapes; a tapped session asked
//! to send; a tap told to report off this machine; a token file that is a symlink or readable by
//! others (the tap then reports nothing, and the traffic still passes).

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::*;

fn record(tag: &str, at: u64, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{tag} {} {at}\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out.push(b'\n');
    out
}

fn hello(extra: Value) -> Vec<u8> {
    let mut h = json!({"transport": "stdio", "command": "srv", "pid": 1});
    h.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    record("hello", 0, h.to_string().as_bytes())
}

async fn post(s: &Scope, body: Vec<u8>) -> (StatusCode, Value) {
    decode(
        s.http
            .post(s.url("/api/tap"))
            .bearer_auth(&s.token)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_tap_route_is_guarded_and_reads_only_reports() {
    let s = Scope::start().await;
    let body = hello(json!({}));
    let res = s
        .http
        .post(s.url("/api/tap"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s
        .http
        .post(s.url("/api/tap"))
        .bearer_auth(&s.token)
        .header("Origin", "http://evil.example")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for (what, bad) in [
        ("not a report", b"GET / HTTP/1.1\r\n\r\n".to_vec()),
        ("a frame before hello", record("s", 0, b"{}")),
        ("unknown hello fields", hello(json!({"exec": "rm -rf /"}))),
        ("a huge name", hello(json!({"name": "n".repeat(5000)}))),
        ("a record over its limit", b"c 999999999999 0\n".to_vec()),
        ("nothing", Vec::new()),
    ] {
        let (status, answer) = post(&s, bad).await;
        assert_eq!(status, 400, "{what}: {answer}");
    }
    // None of them made a session.
    let (_, sessions) = s.get("/api/sessions").await;
    assert_eq!(sessions, json!([]));
}

#[tokio::test]
async fn hostile_tapped_lines_become_findings_and_text_and_the_session_sends_nothing() {
    let s = Scope::start().await;
    let mut body = hello(json!({
        "name": "\u{1b}]0;owned\u{7}\u{1b}[2Jevil",
        "args": ["--api-key", "sk-tapped-secret-999"],
        "secrets": ["sk-tapped-secret-999"],
    }));
    body.extend(record(
        "c",
        1,
        br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
    ));
    body.extend(record("s", 2, b"\x1b[31mnot json\xff"));
    body.extend(record("s", 3, br#"{"jsonrpc":"2.0","id":77,"result":{}}"#));
    body.extend(record("e", 4, b"\x1b]52;c;aGk=\x07clipboard"));
    body.extend(record("drop", 0, b"5"));
    let (status, answer) = post(&s, body).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer["session"].as_str().unwrap();
    let (_, session) = s.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(session["tapped"], true);
    assert_eq!(session["state"], "disconnected");
    // The name is kept as text (the page renders it with textContent).
    assert!(session["name"].as_str().unwrap().ends_with("evil"));
    // A secret the server was given is hidden in the session object as in a target of ours.
    assert_eq!(session["target"]["args"][1], "<redacted>", "{session}");
    let text: String = crate::tap::export_lines(&s, id)
        .await
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(text.contains("not JSON"), "{text}");
    assert!(text.contains("invalid UTF-8"), "{text}");
    assert!(text.contains("which the client never sent"), "{text}");
    assert!(text.contains("could not report 5 records"), "{text}");
    for path in ["request", "notify", "connect", "pending/x"] {
        let (status, _) = s
            .post(
                &format!("/api/sessions/{id}/{path}"),
                json!({"method": "ping"}),
            )
            .await;
        assert!(
            status == 409 || status == 400 || status == 404,
            "{path}: {status}"
        );
        assert_ne!(status, 200);
    }
    let (status, _) = s
        .post(
            &format!("/api/sessions/{id}/request"),
            json!({"method": "tools/call", "params": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, 409);
    // Nor does it take answering rules: it answers nothing.
    let (status, _) = s
        .put(
            &format!("/api/sessions/{id}/responders"),
            json!({"roots": []}),
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_tap_reports_only_on_this_machine_and_only_with_a_private_token_file() {
    let status = Command::new(bin())
        .args(["tap", "--to", "http://example.com:6274", "--", "true"])
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    assert_eq!(status.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&status.stderr).contains("this machine"));

    // A token file planted as a symlink, and one others may read: neither is used.
    let s = Scope::start().await;
    let runtime = std::env::temp_dir().join(format!("mcpscope-tap-rt-{}", s.port));
    let dir = runtime.join("run");
    std::fs::create_dir_all(&dir).unwrap();
    let real = runtime.join("real-token");
    std::fs::write(&real, &s.token).unwrap();
    let token_file = dir.join(format!("{}.token", s.port));
    for plant in ["symlink", "world-readable"] {
        let _ = std::fs::remove_file(&token_file);
        if plant == "symlink" {
            std::os::unix::fs::symlink(&real, &token_file).unwrap();
        } else {
            std::fs::write(&token_file, &s.token).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let out = Command::new(bin())
            .args(["tap", "--to", &s.base, "--", "sh", "-c", "cat"])
            .env_remove("MCPSCOPE_TOKEN")
            .env("MCPSCOPE_RUN_DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = out;
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n")
            .await
            .unwrap();
        drop(stdin);
        let done = tokio::time::timeout(DEADLINE, child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        // The traffic passed...
        assert_eq!(
            done.stdout, b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n",
            "{plant}"
        );
        // ...and nothing was reported with a token from a file anyone could have planted.
        let (_, sessions) = s.get("/api/sessions").await;
        assert_eq!(sessions, json!([]), "{plant}");
    }
    std::fs::remove_dir_all(&runtime).unwrap();
}

#[tokio::test]
async fn the_proxy_relays_only_for_this_machine() {
    let server = crate::remote::everything("streamableHttp").await;
    let s = Scope::start().await;
    let (_proxy, url) = crate::proxy::proxy(&server.url("/mcp"), &s, &[]).await;
    let http = test_client();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
    // DNS rebinding: a page of another site that resolved its name to 127.0.0.1.
    let res = http
        .post(&url)
        .header("host", "evil.example")
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Another site, and another local origin (an MCP App view's, another dev server's).
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:1",
        "http://localhost:3000",
    ] {
        let res = http
            .post(&url)
            .header("origin", origin)
            .json(&init)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    // Nothing reached the server, so nothing was reported.
    let (_, sessions) = s.get("/api/sessions").await;
    assert_eq!(sessions, json!([]));
    for (flags, why) in [
        (
            [
                "--upstream",
                "file:///etc/passwd",
                "--to",
                "http://127.0.0.1:9",
            ],
            "http(s)",
        ),
        (
            [
                "--upstream",
                "http://127.0.0.1:9/mcp",
                "--to",
                "http://192.0.2.1:6274",
            ],
            "this machine",
        ),
    ] {
        let out = Command::new(bin())
            .args(["proxy", "--listen", "0"])
            .args(flags)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{flags:?}"
        );
    }
}

#[tokio::test]
async fn an_otlp_url_that_is_not_http_is_refused_at_start() {
    let out = Command::new(bin())
        .args(["--port", "0", "--no-open", "--otlp", "file:///etc/passwd"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no ready line");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--otlp"));
}
