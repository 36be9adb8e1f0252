//! Recordings are files people share: what a replay sends is the file's choice only when this
//! machine sealed the file as it is.

use serde_json::{Value, json};

use crate::{
    recordings::{opened, record_everything, replay_cli},
    support::*,
};

/// The export with its echo call turned into another tool, header and seal kept: what a bug
/// report from someone else could hold.
fn edit_requests(text: &str) -> String {
    let edited: String = text
        .lines()
        .map(|l| {
            if l.contains(r#""direction":"sent""#) {
                l.replace(
                    r#""name":"echo","arguments":{"message":"hi"}"#,
                    r#""name":"get-env","arguments":{}"#,
                )
            } else {
                l.to_owned()
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(edited, text, "the export has the echo call");
    edited
}

/// Attack: edit the requests of a sealed export, replay it with no terminal to ask on.
#[tokio::test]
async fn an_edited_sealed_recording_sends_nothing_until_its_requests_are_accepted() {
    let scope = Scope::start().await;
    let text = record_everything(&scope).await;
    let edited = edit_requests(&text);
    let file = std::env::temp_dir().join(format!("mcpscope-edited-{}.ndjson", std::process::id()));
    std::fs::write(&file, &edited).unwrap();

    // Its own (sealed, unedited) target, and a target the user gives: refused either way, with
    // every request it would send shown.
    let mut theirs = vec!["--".to_owned()];
    let t = everything_target();
    theirs.push(t["command"].as_str().unwrap().into());
    theirs.extend(
        t["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned()),
    );
    for extra in [vec![], theirs.clone()] {
        let (code, out, err) = replay_cli(&file, &extra).await;
        assert_eq!(code, 1, "{out}\n{err}");
        assert!(out.is_empty(), "nothing ran: {out}");
        let line: Value = serde_json::from_str(err.trim()).unwrap();
        let message = line["error"]["message"].as_str().unwrap();
        assert!(message.contains("--accept-requests"), "{message}");
        assert!(
            message.contains(r#"tools/call {"name":"get-env","arguments":{}}"#),
            "{message}"
        );
        assert!(!err.contains("starting the recorded target"), "{err}");
        assert_eq!(
            line["error"]["plan"]["requests"][1]["params"]["name"], "get-env",
            "{line}"
        );
    }
    // Accepted, it runs (the changed request answers differently from the recording).
    let mut accepted = vec!["--accept-requests".to_owned()];
    accepted.extend(theirs);
    let (code, out, err) = replay_cli(&file, &accepted).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("different tools/call get-env"), "{out}");

    // Opened, the API says what it would send and refuses to send it unasked, whatever target
    // or session it is replayed against.
    let (_, opened_scope) = opened("edited-api", &edited).await;
    let (status, plan) = opened_scope.get("/api/sessions/s1/replay").await;
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["sealed"], false);
    assert!(plan["text"].as_str().unwrap().contains("get-env"), "{plan}");
    let (status, mine) = opened_scope
        .post("/api/sessions", everything_target())
        .await;
    assert_eq!(status, 201, "{mine}");
    let mine = mine["id"].as_str().unwrap().to_owned();
    for body in [
        json!({"against": mine}),
        json!({"target": everything_target()}),
    ] {
        let (status, answer) = opened_scope.post("/api/sessions/s1/replay", body).await;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("acceptRequests"),
            "{answer}"
        );
    }
    let (_, sessions) = opened_scope.get("/api/sessions").await;
    assert_eq!(
        sessions.as_array().unwrap().len(),
        2,
        "no replay session: {sessions}"
    );
    let (status, report) = opened_scope
        .post(
            "/api/sessions/s1/replay",
            json!({"against": mine, "acceptRequests": true}),
        )
        .await;
    assert_eq!(status, 200, "{report}");

    // The unedited export, opened: sealed here, so it replays against a session unasked.
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(header["seal"].is_string(), "{header}");
    let (_, clean) = opened("sealed-api", &text).await;
    let (_, plan) = clean.get("/api/sessions/s1/replay").await;
    assert_eq!(plan["sealed"], true, "{plan}");
    std::fs::remove_file(file).ok();
}

/// Attack: a recording's `startedAt` holding characters a file name cannot (a multibyte one
/// used to slip past the 19-byte cut whole into `Content-Disposition`).
#[tokio::test]
async fn a_recordings_start_time_reaches_the_download_name_as_file_name_characters_only() {
    let header = json!({"mcpscopeRecording": 1, "version": "0.1.0", "target": null,
        "era": "legacy", "startedAt": "2026-01-01T00:00:0€\"; filename=evil.sh", "session": "s1"});
    let event =
        r#"{"seq":1,"time":"2026-01-01T00:00:00Z","session":"s1","kind":"stderr","line":"a"}"#;
    let (file, s) = opened("disposition", &format!("{header}\n{event}\n")).await;
    let res = s
        .http
        .get(s.url("/api/sessions/s1/export"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"mcpscope-")
            && disposition.ends_with("-2026-01-01T00000.ndjson\"")
            && disposition.matches('"').count() == 2,
        "{disposition}"
    );
    std::fs::remove_file(file).ok();
}
