//! A model in the loop: the chat and models routes without the token or from another origin,
//! the key never in `GET /api/models`; an eval file that is huge, or whose case names and the
//! model's words carry terminal escapes and XML, in the text and JUnit reports.

use reqwest::StatusCode;
use serde_json::json;

use crate::{
    model::{KEY, calls_then_says, fake},
    remote::free_port,
    support::*,
};

#[tokio::test]
async fn the_chat_and_models_routes_are_guarded_and_never_show_the_key() {
    let (peer, _log) = fake(json!([])).await;
    let s = Scope::start_env(
        &["--model", "openai:fake-model-1"],
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &peer.url("/v1")),
        ],
    )
    .await;
    let body = json!({"messages": [{"role": "user", "content": "hi"}]});
    let res = s
        .http
        .post(s.url("/api/chat"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = s
        .http
        .post(s.url("/api/chat"))
        .bearer_auth(&s.token)
        .header("Origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (code, models) = s.get("/api/models").await;
    assert_eq!(code, 200);
    assert_eq!(
        models,
        json!({"providers": ["openai"], "default": "openai:fake-model-1"})
    );
    assert!(!models.to_string().contains(KEY));
    // A model that is not PROVIDER:MODEL, and unknown fields, are refused.
    let (code, _) = s
        .post(
            "/api/chat",
            json!({"messages": [{"role": "user", "content": "x"}], "model": "gpt"}),
        )
        .await;
    assert_eq!(code, 400);
    let (code, _) = s
        .post("/api/chat", json!({"messages": [], "shell": "rm -rf /"}))
        .await;
    assert_eq!(code, 400);
}

#[tokio::test]
async fn a_hostile_eval_file_is_refused_or_reported_as_text_only() {
    let dir = std::env::temp_dir().join(format!("mcpscope-eval-attack-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    // Over 4 MiB: refused before it is parsed.
    let huge = dir.join("huge.json");
    std::fs::write(&huge, " ".repeat(5 << 20)).unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["eval", huge.to_str().unwrap(), "--model", "openai:m"])
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Escapes and markup in a case name and in what the model says.
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J</failure><x a=\"";
    let [a, b] = calls_then_says("echo", json!({"message": "m"}), &format!("done {hostile}"));
    let (peer, _log) = fake(json!([a, b])).await;
    let everything = everything_target();
    let file = dir.join("evil.json");
    std::fs::write(
        &file,
        json!({
            "mcpServers": {"everything": {"command": everything["command"], "args": everything["args"]}},
            "cases": [{"name": format!("case {hostile}"), "prompt": "p",
                "expect": {"toolCalls": [{"name": "get-sum"}]}}],
        })
        .to_string(),
    )
    .unwrap();
    for format in ["text", "junit"] {
        let out = tokio::process::Command::new(bin())
            .args([
                "eval",
                file.to_str().unwrap(),
                "--model",
                "openai:fake-model-1",
                "--format",
                format,
            ])
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_BASE_URL", peer.url("/v1"))
            .output()
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{format}: {text}");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{format}: raw escapes in {text:?}"
        );
        if format == "junit" {
            assert!(
                !text.contains("</failure><x"),
                "markup passed through: {text}"
            );
            assert!(text.contains("&lt;/failure&gt;&lt;x a=&quot;"), "{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
