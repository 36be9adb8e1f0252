//! `GET …/history`: a session's retained events a page at a time, newest first, the same events
//! the event stream replays, without gaps or overlap, and none of another session's.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn history_pages_back_through_a_sessions_events_newest_first() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let mut a = demo_target();
    a["name"] = json!("a");
    let (_, a) = scope.post("/api/sessions", a).await;
    let a = a["id"].as_str().unwrap().to_owned();
    let mut b = demo_target();
    b["name"] = json!("b");
    let (_, b) = scope.post("/api/sessions", b).await;
    let b = b["id"].as_str().unwrap().to_owned();
    for i in 0..20 {
        for id in [&a, &b] {
            let (status, _) = scope
                .post(
                    &format!("/api/sessions/{id}/request"),
                    json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"text": format!("{i}")}}}),
                )
                .await;
            assert_eq!(status, 200);
        }
    }
    // What the stream replays for session a, to compare with.
    let (_, newest) = scope
        .get(&format!("/api/sessions/{a}/history?limit=1"))
        .await;
    let newest = newest["newest"].as_u64().unwrap();
    events
        .wait_for("every event so far", |e| e["seq"].as_u64() == Some(newest))
        .await;
    let streamed: Vec<u64> = events
        .seen
        .iter()
        .filter(|e| e["session"].is_null() || e["session"] == a.as_str())
        .filter_map(|e| e["seq"].as_u64())
        .filter(|s| *s <= newest)
        .collect();

    let mut paged: Vec<u64> = Vec::new();
    let mut before = String::new();
    loop {
        let (status, page) = scope
            .get(&format!("/api/sessions/{a}/history?limit=7{before}"))
            .await;
        assert_eq!(status, 200, "{page}");
        let seqs: Vec<u64> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(e["session"].is_null() || e["session"] == a.as_str(), "{e}");
                e["seq"].as_u64().unwrap()
            })
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] > w[1]),
            "newest first: {seqs:?}"
        );
        assert!(seqs.len() <= 7);
        paged.extend(&seqs);
        if page["more"] == false {
            break;
        }
        before = format!("&before={}", page["oldest"]);
    }
    paged.retain(|s| *s <= newest);
    paged.reverse();
    assert_eq!(
        paged, streamed,
        "the pages hold what the stream replays, once each"
    );
    // The selected session's form of the route answers the same way.
    let (status, page) = scope.get("/api/history?limit=2").await;
    assert_eq!(status, 200);
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn history_refuses_what_it_cannot_answer() {
    let scope = Scope::start().await;
    let (status, _) = scope.post("/api/sessions", demo_target()).await;
    assert_eq!(status, 201);
    for (query, want) in [
        ("limit=0", 400),
        ("limit=5001", 400),
        ("limit=x", 400),
        ("before=-1", 400),
        ("since=3", 400),
        ("before=1", 200),
    ] {
        let (status, body) = scope
            .get(&format!("/api/sessions/s1/history?{query}"))
            .await;
        assert_eq!(status, want, "{query}: {body}");
    }
    let (status, _) = scope.get("/api/sessions/s9/history").await;
    assert_eq!(status, 404);
    let (_, empty) = scope.get("/api/sessions/s1/history?before=1").await;
    assert_eq!(
        empty,
        json!({"events": [], "more": false, "oldest": null, "newest": empty["newest"].clone()})
    );
    let _: Value = empty;
}
