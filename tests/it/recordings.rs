//! Recordings: a session exported as NDJSON (header, its own events only, secrets scrubbed even
//! where a server echoes them back), opened again with `mcpscope open FILE` as a read-only
//! session whose events keep their seq, time and session, and exported again byte for byte.

use serde_json::{Value, json};

use crate::{remote, support::*};

impl Scope {
    /// `GET …/export` as text, with its status and content type.
    pub async fn export(&self, id: &str) -> String {
        let res = self
            .http
            .get(self.url(&format!("/api/sessions/{id}/export")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/x-ndjson"
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".ndjson")
        );
        res.text().await.unwrap()
    }
}

pub fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

const ENV_SECRET: &str = "sk-env-2f9c41d07b";
const HEADER_SECRET: &str = "hdr-secret-71ad93";
const OAUTH_SECRET: &str = "oauth-secret-5e0b27";

#[tokio::test]
async fn an_export_holds_one_session_with_no_secret_and_opens_again_read_only() {
    let peer = remote::fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut everything = everything_target();
    everything["env"] = json!({"API_KEY": ENV_SECRET});
    everything["name"] = json!("everything");
    let (status, a) = scope.post("/api/sessions", everything).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = scope
        .post(
            "/api/sessions",
            json!({"name": "remote", "url": peer.url("/mcp"),
                   "headers": {"X-Api-Key": HEADER_SECRET},
                   "oauth": {"clientId": "given", "clientSecret": OAUTH_SECRET}}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    // server-everything's get-env prints its environment: the secret comes back in a frame.
    let (status, body) = scope
        .post(
            "/api/sessions/s1/request",
            json!({"method": "tools/call", "params": {"name": "get-env", "arguments": {}}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.to_string().contains(ENV_SECRET), "the tool echoes it");
    scope
        .post("/api/sessions/s2/request", json!({"method": "tools/list"}))
        .await;

    let text = scope.export("s1").await;
    let all = lines(&text);
    let header = &all[0];
    assert_eq!(header["mcpscopeRecording"], 1);
    assert_eq!(header["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["session"], "s1");
    assert_eq!(header["era"], "legacy");
    assert_eq!(header["target"]["transport"], "stdio");
    assert_eq!(header["target"]["env"]["API_KEY"], "<redacted>");
    assert!(header["startedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(header["startedAt"], all[1]["time"]);
    assert!(
        all[1..].iter().all(|e| e["session"] == "s1"),
        "only s1's events"
    );
    assert!(
        all[1..]
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );
    assert!(
        all.iter()
            .any(|e| e["kind"] == "frame" && e["requestMethod"] == "tools/call")
    );
    assert!(
        !text.contains(ENV_SECRET),
        "the echoed env value is scrubbed"
    );
    let remote_text = scope.export("s2").await;
    for secret in [HEADER_SECRET, OAUTH_SECRET] {
        assert!(!remote_text.contains(secret), "{secret} in the export");
    }
    assert!(lines(&remote_text)[1..].iter().any(|e| e["kind"] == "http"));

    // Opened again: the same events, read-only, and the same file when exported again.
    let file = std::env::temp_dir().join(format!("mcpscope-rec-{}.ndjson", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let opened = Scope::start_with(&["open", file.to_str().unwrap()]).await;
    let (_, sessions) = opened.get("/api/sessions").await;
    let s = &sessions[0];
    assert_eq!(
        (s["id"].as_str(), s["state"].as_str(), s["name"].as_str()),
        (Some("s1"), Some("recorded"), Some("everything")),
        "{s:#}"
    );
    assert_eq!(s["serverInfo"]["name"], "mcp-servers/everything");
    assert_eq!(s["recording"]["events"], all.len() - 1);
    let mut events = opened.events().await;
    let first = events.wait_for("the first recorded event", |_| true).await;
    assert_eq!(
        first, all[1],
        "the event stream replays the file's events as written"
    );
    assert_eq!(
        opened.export("s1").await,
        text,
        "exported again byte for byte"
    );
    let (status, body) = opened
        .post("/api/sessions/s1/request", json!({"method": "tools/list"}))
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    let (status, _) = opened
        .post("/api/sessions/s1/connect", everything_target())
        .await;
    assert_eq!(status, 409);
    // Other sessions are numbered after the recording's.
    let (status, c) = opened.post("/api/sessions", demo_target()).await;
    assert_eq!((status.as_u16(), c["id"].as_str()), (201, Some("s2")));
    std::fs::remove_file(file).ok();
}

#[tokio::test]
async fn open_refuses_a_file_that_is_not_a_recording() {
    let file = std::env::temp_dir().join(format!("mcpscope-notrec-{}.json", std::process::id()));
    std::fs::write(&file, "{\"mcpServers\": {}}\n").unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["--port", "0", "--no-open", "open"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an mcpscope recording header"), "{err}");
    std::fs::remove_file(file).ok();
}
