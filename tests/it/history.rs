//! `GET …/history`: a session's retained events a page at a time, newest first, the same events
//! the event stream replays, without gaps or overlap, and none of another session's; kept to
//! some kinds, a text or every session. And the page that reads it: a reload replays only the
//! tail of the stream and fetches the rest as it is wanted.

use std::time::Instant;

use fantoccini::{Locator, key::Key};
use serde_json::{Value, json};

use crate::browser::{find, open_ui, wait_text, wait_timeline};
use crate::support::*;

async fn echo(scope: &Scope, session: &str, text: &str) {
    let (status, body) = scope
        .post(
            &format!("/api/sessions/{session}/request"),
            json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": text, "text": text}}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

fn seqs_of(page: &Value) -> Vec<u64> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn history_keeps_the_kinds_the_text_and_the_sessions_asked_for() {
    let scope = Scope::start().await;
    let (_, a) = scope.post("/api/sessions", demo_target()).await;
    let a = a["id"].as_str().unwrap().to_owned();
    let (_, b) = scope.post("/api/sessions", demo_target()).await;
    let b = b["id"].as_str().unwrap().to_owned();
    echo(&scope, &a, "Needle-In-A").await;
    echo(&scope, &b, "needle-in-b").await;
    for i in 0..5 {
        echo(&scope, &a, &format!("hay {i}")).await;
    }
    // The text ignores case, and is searched in the whole event: here the request's arguments
    // and the answer's echo.
    let (status, page) = scope
        .get(&format!(
            "/api/sessions/{a}/history?q=needle-in-a&kind=frame"
        ))
        .await;
    assert_eq!(status, 200, "{page}");
    let found = page["events"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{page:#}");
    assert!(
        found
            .iter()
            .all(|e| e["kind"] == "frame" && e["session"] == a.as_str())
    );
    assert_eq!(found[0]["direction"], "received");
    assert_eq!(found[1]["direction"], "sent");
    // Another session's text only with scope=all.
    let (_, none) = scope
        .get(&format!("/api/sessions/{a}/history?q=needle-in-b"))
        .await;
    assert_eq!(seqs_of(&none), Vec::<u64>::new());
    let (_, all) = scope
        .get(&format!(
            "/api/sessions/{a}/history?q=NEEDLE-IN-B&scope=all"
        ))
        .await;
    assert_eq!(seqs_of(&all).len(), 2, "{all:#}");
    assert!(
        all["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["session"] == b.as_str())
    );
    // Kinds: only state events, newest first, and paging within the filter.
    let (_, states) = scope
        .get(&format!("/api/sessions/{a}/history?kind=state&limit=1"))
        .await;
    assert_eq!(states["events"][0]["kind"], "state");
    assert_eq!(states["more"], true, "connecting, then connected");
    let (_, older) = scope
        .get(&format!(
            "/api/sessions/{a}/history?kind=state&limit=1&before={}",
            states["oldest"]
        ))
        .await;
    assert_eq!(older["events"][0]["kind"], "state");
    assert!(seqs_of(&older)[0] < seqs_of(&states)[0]);
}

#[tokio::test]
async fn a_reload_shows_the_tail_at_once_and_fetches_older_history_as_it_is_wanted() {
    let scope = Scope::start().await;
    let session = scope.connect(everything_target()).await;
    let id = session["id"].as_str().unwrap().to_owned();
    // server-everything's start-up line on stderr, one call to look for later, then enough
    // calls to push both out of the tail a page replays (the newest 1000 events).
    let until = Instant::now() + DEADLINE;
    let stderr = loop {
        let (_, page) = scope
            .get(&format!("/api/sessions/{id}/history?kind=stderr"))
            .await;
        if let Some(e) = page["events"].as_array().unwrap().last() {
            break e["line"].as_str().unwrap().to_owned();
        }
        assert!(
            Instant::now() < until,
            "server-everything wrote nothing on stderr"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    echo(&scope, &id, "needle-far-back").await;
    for i in 0..600 {
        echo(&scope, &id, &format!("filler {i}")).await;
    }
    let (_, all) = scope
        .get(&format!("/api/sessions/{id}/history?limit=5000"))
        .await;
    assert_eq!(all["more"], false);
    let oldest = *seqs_of(&all).last().unwrap();
    let newest = seqs_of(&all)[0];
    let (_, needle) = scope
        .get(&format!(
            "/api/sessions/{id}/history?q=needle-far-back&kind=frame"
        ))
        .await;
    let needle = *seqs_of(&needle).last().unwrap();
    assert!(seqs_of(&all).len() > 1200, "{}", seqs_of(&all).len());
    // The stream says where its tail starts and which event ends it.
    let res = scope
        .http
        .get(scope.url(&format!("/api/events?token={}&tail=3", scope.token)))
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let first = futures_util::StreamExt::next(&mut stream)
        .await
        .unwrap()
        .unwrap();
    let first = String::from_utf8_lossy(&first);
    let start = format!(
        "id: {after}\nevent: start\ndata: {{\"after\":{after},\"newest\":{newest}}}\n\n",
        after = newest - 3
    );
    assert!(first.starts_with(&start), "{first}");
    drop(stream);

    let b = open_ui(&scope).await;
    let c = &b.client;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    // The tail only, the newest call on screen, and the count saying there is more.
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(&format!("#ev-{newest}")))
        .await
        .unwrap();
    let count = wait_text(c, "#timeline-count", "a partial history", |t| {
        t.contains("older on scroll")
    })
    .await;
    let loaded: usize = count.split(' ').next().unwrap().parse().unwrap();
    assert!(loaded <= 1100, "{count}");
    // Nothing older was fetched before the tail was in (regression: rows still on their way made
    // the list look too short to scroll, once in three loads, and a page of 500 came unasked).
    let pages = older_pages_fetched(c).await;
    assert_eq!(pages, json!([]), "{count}");
    // The stderr tab has the start-up line, from before the tail.
    find(c, "#tab-stderr").await.click().await.unwrap();
    wait_text(c, "#stderr-list", "the start-up line", |t| {
        t.contains(&stderr)
    })
    .await;
    // Reloaded with that tab open (the dock keeps it), the timeline, once shown, starts at its
    // newest row, and fetches nothing older (regression: it started at its top, with no height
    // to follow from while hidden, and a page of 500 came unasked).
    c.refresh().await.unwrap();
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#stderr-list", "the start-up line again", |t| {
        t.contains(&stderr)
    })
    .await;
    find(c, "#tab-timeline").await.click().await.unwrap();
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(&format!("#ev-{newest}")))
        .await
        .unwrap();
    wait_text(c, "#timeline-count", "the tail only", |t| {
        t.contains("older on scroll")
    })
    .await;
    let pages = older_pages_fetched(c).await;
    assert_eq!(pages, json!([]));
    // A text filter searches the older history in the backend.
    let found = wait_timeline(c, "needle-far-back", "a match from older history", |t| {
        t.contains("tools/call echo")
    })
    .await;
    assert!(found.starts_with(&format!("{needle}\n")), "{found}");
    // The match opens like any row: the whole request, arguments included.
    find(c, &format!("#ev-{needle}"))
        .await
        .click()
        .await
        .unwrap();
    wait_text(c, "#exchange-body", "the older request", |t| {
        t.contains("needle-far-back")
    })
    .await;
    find(c, "#exchange-close").await.click().await.unwrap();
    // Emptied as a person does, which the page hears (WebDriver's clear fires no input event).
    let search = find(c, "#timeline-search").await;
    search.send_keys(&(Key::Control + "a")).await.unwrap();
    search.send_keys(&Key::Backspace.to_string()).await.unwrap();
    wait_text(c, "#timeline-count", "the filter gone", |t| {
        !t.contains(" of ")
    })
    .await;
    // Going to the top fetches older pages until the session's first event is there.
    let until = Instant::now() + DEADLINE;
    while c
        .find(Locator::Css(&format!("#ev-{oldest}")))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < until,
            "never reached the first event, #{oldest}"
        );
        find(c, "#timeline")
            .await
            .send_keys(&Key::Home.to_string())
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let count = wait_text(c, "#timeline-count", "the whole history", |t| {
        !t.contains("older")
    })
    .await;
    let loaded: usize = count.split(' ').next().unwrap().parse().unwrap();
    assert!(loaded >= seqs_of(&all).len(), "{count}");
}

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
        ("kind=Frame", 400),
        ("kind=frame,%22x", 400),
        ("scope=mine", 400),
        ("before=1", 200),
        ("kind=frame,stderr&q=x&scope=all", 200),
    ] {
        let (status, body) = scope
            .get(&format!("/api/sessions/s1/history?{query}"))
            .await;
        assert_eq!(status, want, "{query}: {body}");
    }
    let (status, body) = scope
        .get(&format!("/api/sessions/s1/history?q={}", "x".repeat(1025)))
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = scope.get("/api/sessions/s9/history").await;
    assert_eq!(status, 404);
    let (_, empty) = scope.get("/api/sessions/s1/history?before=1").await;
    assert_eq!(
        empty,
        json!({"events": [], "more": false, "oldest": null, "newest": empty["newest"].clone()})
    );
    let _: Value = empty;
}

#[tokio::test]
async fn a_flooding_session_cannot_evict_a_quiet_sessions_history() {
    let scope = Scope::start_with(&["--max-events", "300"]).await;
    let (status, quiet) = scope.post("/api/sessions", everything_target()).await;
    assert_eq!(status, 201, "{quiet}");
    let quiet = quiet["id"].as_str().unwrap().to_owned();
    for i in 0..3 {
        echo(&scope, &quiet, &format!("quiet {i}")).await;
    }
    let (_, before) = scope
        .get(&format!("/api/sessions/{quiet}/history?limit=5000"))
        .await;
    let kept = seqs_of(&before);
    assert!(kept.len() > 6, "{before:#}");
    let (_, flood) = scope.post("/api/sessions", demo_target()).await;
    let flood = flood["id"].as_str().unwrap().to_owned();
    for i in 0..400 {
        echo(&scope, &flood, &format!("flood {i}")).await;
    }
    // The quiet session's history is whole; the flood kept what is left of the 300.
    let (_, after) = scope
        .get(&format!(
            "/api/sessions/{quiet}/history?limit=5000&before={}",
            kept[0] + 1
        ))
        .await;
    assert_eq!(seqs_of(&after), kept);
    let (_, all) = scope.get("/api/history?limit=5000&scope=all").await;
    assert_eq!(seqs_of(&all).len(), 300);
    let (_, flooded) = scope
        .get(&format!("/api/sessions/{flood}/history?limit=5000"))
        .await;
    assert!(seqs_of(&flooded).len() < 300 - 6);
    // A reader starting now replays both in seq order, and is told of no lag: the flood's
    // oldest events were gone before it came.
    let mut events = scope.events().await;
    let newest = all["newest"].as_u64().unwrap();
    events
        .wait_for("the newest event", |e| e["seq"].as_u64() == Some(newest))
        .await;
    assert!(events.seen.iter().all(|e| e["kind"] != "lagged"));
    let replayed: Vec<u64> = events
        .seen
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert!(replayed.windows(2).all(|w| w[0] < w[1]));
    for seq in &kept {
        assert!(replayed.contains(seq), "#{seq} of the quiet session");
    }
}

/// How many of the shown server's events the history holds now.
async fn history_len(scope: &Scope, session: &str) -> usize {
    let (_, all) = scope
        .get(&format!("/api/sessions/{session}/history?limit=5000"))
        .await;
    assert_eq!(all["more"], false);
    seqs_of(&all).len()
}

#[tokio::test]
async fn reloads_and_switches_mid_load_never_lose_or_repeat_a_row() {
    let scope = Scope::start().await;
    let a = scope.connect(everything_target()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, b) = scope.post("/api/sessions", demo_target()).await;
    let b = b["id"].as_str().unwrap().to_owned();
    for i in 0..700 {
        echo(
            &scope,
            if i % 3 == 0 { &b } else { &a },
            &format!("call {i}"),
        )
        .await;
    }
    let br = open_ui(&scope).await;
    let c = &br.client;
    for round in 0..6 {
        // Reload, sometimes switching servers before the first load is in.
        c.refresh().await.unwrap();
        if round % 2 == 1 {
            crate::servers_ui::choose(c, "mcpscope demo-server").await;
            crate::servers_ui::choose(c, "node index.js").await;
        }
        wait_text(c, "#state", "connected", |t| t == "connected").await;
        // Every event of the shown server, scrolled for until the history is whole: then the
        // list holds each of them once (a repeat or a gap would change the count), from the
        // server's first event.
        let before = history_len(&scope, &a).await;
        let until = Instant::now() + DEADLINE;
        let count = loop {
            let count = find(c, "#timeline-count").await.text().await.unwrap();
            if !count.contains("older") {
                break count;
            }
            assert!(
                Instant::now() < until,
                "round {round}: never whole: {count}"
            );
            find(c, "#timeline")
                .await
                .send_keys(&Key::Home.to_string())
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        let after = history_len(&scope, &a).await;
        let shown: usize = count.split(' ').next().unwrap().parse().unwrap();
        assert!(
            (before..=after).contains(&shown),
            "round {round}: {count}, the history holds {before}..{after}"
        );
        find(c, "#timeline")
            .await
            .send_keys(&Key::Home.to_string())
            .await
            .unwrap();
        c.wait()
            .at_most(DEADLINE)
            .for_element(Locator::Css("#ev-1"))
            .await
            .unwrap_or_else(|e| panic!("round {round}: the first event: {e}"));
    }
}

#[tokio::test]
async fn a_big_frame_comes_without_its_message_until_it_is_opened() {
    let scope = Scope::start().await;
    let id = scope.connect(python_target("sloppy_server.py")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": {"name": "big", "arguments": {"mb": 2}}}),
        )
        .await;
    assert_eq!(status, 200);
    // The stream and a history page, asked to elide, give the row's facts without the message.
    let (_, page) = scope
        .get(&format!(
            "/api/sessions/{id}/history?limit=1&kind=frame&elide=1048576"
        ))
        .await;
    let row = &page["events"][0];
    assert_eq!(row["elided"], true, "{row}");
    assert_eq!(row["message"], Value::Null);
    assert_eq!(row["requestMethod"], "tools/call");
    assert!(row["bytes"].as_u64().unwrap() > 2 << 20);
    let seq = row["seq"].as_u64().unwrap();
    let mut events = scope.events_since(seq - 1).await;
    let res = scope
        .http
        .get(scope.url(&format!(
            "/api/events?token={}&since={}&elide=1048576",
            scope.token,
            seq - 1
        )))
        .send()
        .await
        .unwrap();
    let mut elided = Events::from_response(res);
    let streamed = elided
        .wait_for("the big frame", |e| e["seq"].as_u64() == Some(seq))
        .await;
    assert_eq!(streamed["elided"], true);
    assert_eq!(streamed["message"], Value::Null);
    let whole = events
        .wait_for("the big frame whole", |e| e["seq"].as_u64() == Some(seq))
        .await;
    assert!(whole.get("elided").is_none(), "not asked to elide");
    // Opened: the whole event, as the ring holds it.
    let (status, full) = scope.get(&format!("/api/sessions/{id}/events/{seq}")).await;
    assert_eq!(status, 200);
    assert_eq!(full, whole);
    // Small events are never elided, another session's seq or a word is refused.
    let (_, small) = scope
        .get(&format!(
            "/api/sessions/{id}/history?limit=3&elide=1&before={seq}"
        ))
        .await;
    assert!(
        small["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e.get("elided").is_none())
    );
    let (other, _) = scope.post("/api/sessions", demo_target()).await;
    assert_eq!(other, 201);
    let (status, _) = scope.get(&format!("/api/sessions/s2/events/{seq}")).await;
    assert_eq!(status, 404);
    let (status, _) = scope.get(&format!("/api/sessions/{id}/events/x")).await;
    assert_eq!(status, 400);

    // In the page: the row says so, and the exchange shows it only when asked.
    let b = open_ui(&scope).await;
    let c = &b.client;
    let row = wait_timeline(c, "opened on demand", "the big frame's row", |t| {
        t.contains("MiB: opened on demand")
    })
    .await;
    assert!(row.contains("2.0 MiB"), "{row}");
    find(c, &format!("#ev-{seq}")).await.click().await.unwrap();
    let show = c
        .wait()
        .at_most(DEADLINE)
        .for_element(Locator::XPath(
            "//section[@id='exchange']//button[starts-with(normalize-space(.), 'Show (2.0 MiB)')]",
        ))
        .await
        .unwrap();
    show.click().await.unwrap();
    wait_text(c, "#exchange-body", "the whole answer", |t| {
        t.contains("xxxxxxxxxx")
    })
    .await;
}

/// The pages of 500 older events the page has fetched since it loaded (the browser's
/// Performance API).
async fn older_pages_fetched(c: &fantoccini::Client) -> Value {
    c.execute(
        "return performance.getEntriesByType('resource').map((r) => r.name).filter((n) => n.includes('/history') && n.includes('limit=500'))",
        vec![],
    )
    .await
    .unwrap()
}
