//! Unit tests of `events`: the bus's records, the ring's bounds, big frames written once.

use super::*;

fn stderr(line: &str) -> Event {
    Event::Stderr { line: line.into() }
}

#[test]
fn a_big_frame_is_written_once_as_a_small_one_would_be() {
    let bus = EventBus::new(RingLimits::default());
    let s1: Arc<str> = "s1".into();
    let text = format!(
        r#"{{"jsonrpc":"2.0","id":1,"result":"{}"}}"#,
        "y".repeat(BIG_FRAME)
    );
    let frame = || FrameEvent {
        direction: Direction::Received,
        message: Some(RawValue::from_string(text.clone()).unwrap()),
        raw: None,
        method: None,
        id: Some(serde_json::json!(1)),
        frame_type: FrameType::Response,
        duration_ms: Some(1.5),
        request_method: Some("tools/call".into()),
        late: None,
        answered_by: None,
        bytes: text.len(),
    };
    let kept = bus.publish_kept(Some(&s1), Event::Frame(frame()));
    let body = serde_json::to_string(&Event::Frame(frame())).unwrap();
    assert!(
        kept.json.starts_with(r#"{"seq":1,"time":""#),
        "{}",
        &kept.json[..80]
    );
    assert!(kept.json.contains(r#"Z","session":"s1","kind":"frame""#));
    assert!(kept.json.ends_with(&body[1..]));
    assert!(kept.json.capacity() - kept.json.len() < 2048);
    let at = kept.message_at().unwrap();
    assert_eq!(&kept.json[at..at + text.len()], text);
    assert_eq!(bus.next_after(0, 1).records[0].json, kept.json);
}

#[test]
fn a_million_small_events_are_kept_when_a_million_are_asked_for() {
    // Regression (issue 30): with --max-events 1000000 the fixed 256 MiB bound kept only
    // about 973k of them.
    let limits = RingLimits::sized(1_000_000, None);
    let bus = EventBus::new(limits);
    let s1: Arc<str> = "s1".into();
    // About 300 bytes each, as the small events of a busy session are.
    let line = "Processing request of type CallToolRequest ".repeat(5);
    for _ in 0..1_000_000 {
        bus.publish_for(Some(&s1), stderr(&line));
    }
    assert_eq!(bus.retained().0, 1_000_000);
    assert_eq!(RingLimits::sized(10, Some(1)).max_bytes, 1 << 20);
    assert_eq!(RingLimits::sized(100_000, None).max_bytes, 256 << 20);
}

#[test]
fn records_carry_seq_time_and_kind() {
    let bus = EventBus::new(RingLimits::default());
    assert_eq!(bus.publish(stderr("a")), 1);
    assert_eq!(bus.publish(stderr("b")), 2);
    let batch = bus.next_after(0, 10);
    assert!(batch.lagged.is_none());
    let v: Value = serde_json::from_str(&batch.records[1].json).unwrap();
    assert_eq!(v["seq"], 2);
    assert_eq!(v["kind"], "stderr");
    assert_eq!(v["line"], "b");
    assert!(v["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn session_events_carry_their_id_and_filter_by_it() {
    let bus = EventBus::new(RingLimits::default());
    let s1: Arc<str> = "s1".into();
    bus.publish_for(Some(&s1), stderr("a"));
    bus.publish(stderr("b"));
    let batch = bus.next_after(0, 10);
    let v: Value = serde_json::from_str(&batch.records[0].json).unwrap();
    assert_eq!(
        (v["session"].as_str(), v["kind"].as_str()),
        (Some("s1"), Some("stderr"))
    );
    assert!(batch.records[0].visible_to(Some("s1")));
    assert!(!batch.records[0].visible_to(Some("s2")));
    assert!(
        batch.records[1].visible_to(Some("s2")),
        "no session: seen by all"
    );
    assert!(!batch.records[1].json.contains("session"));
    // Built in one allocation: no regrowth, which would double what the ring holds.
    let long: Arc<str> = "s123456789".into();
    bus.publish_for(Some(&long), stderr(&"x".repeat(500)));
    let r = &bus.next_after(2, 1).records[0];
    assert!(
        r.json.capacity() - r.json.len() < 64,
        "{} of {}",
        r.json.len(),
        r.json.capacity()
    );
}

#[test]
fn ring_is_bounded_by_count_and_reports_lag() {
    let bus = EventBus::new(RingLimits {
        max_events: 3,
        max_bytes: usize::MAX,
    });
    for i in 0..10 {
        bus.publish(stderr(&i.to_string()));
    }
    assert_eq!(bus.retained().0, 3);
    let batch = bus.next_after(2, 100);
    assert_eq!(batch.lagged, Some((3, 5)));
    assert_eq!(
        batch.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [8, 9, 10]
    );
    assert!(bus.next_after(10, 100).records.is_empty());
}

#[test]
fn ring_is_bounded_by_bytes_but_keeps_the_newest() {
    let bus = EventBus::new(RingLimits {
        max_events: 1000,
        max_bytes: 300,
    });
    for _ in 0..20 {
        bus.publish(stderr(&"x".repeat(50)));
    }
    let (count, bytes) = bus.retained();
    assert!(bytes <= 300 && count < 20, "{count} events, {bytes} bytes");
    bus.publish(stderr(&"y".repeat(10_000)));
    assert_eq!(bus.retained().0, 1);
}

#[test]
fn a_recorded_history_keeps_its_seqs_and_is_not_a_lag() {
    let record = |seq: u64| Record {
        seq,
        session: Some("s2".into()),
        json: format!(r#"{{"seq":{seq},"time":"t","session":"s2","kind":"stderr","line":"x"}}"#),
    };
    let bus = EventBus::with_history(
        RingLimits::default(),
        vec![record(5), record(9), record(12)],
    );
    let batch = bus.next_after(0, 10);
    assert!(batch.lagged.is_none());
    assert_eq!(
        batch.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        [5, 9, 12]
    );
    assert_eq!(bus.next_after(6, 10).records[0].seq, 9);
    assert_eq!(bus.next_after(9, 10).records[0].seq, 12);
    assert_eq!(bus.newest_seq(), 12);
    assert_eq!(bus.publish(stderr("live")), 13);
}

#[test]
fn frame_message_is_embedded_verbatim() {
    let bus = EventBus::new(RingLimits::default());
    let text = r#"{"z":1,"a":  [1.50, 2e3],"jsonrpc":"2.0"}"#;
    bus.publish(Event::Frame(FrameEvent {
        direction: Direction::Received,
        message: Some(RawValue::from_string(text.into()).unwrap()),
        raw: None,
        method: None,
        id: None,
        frame_type: FrameType::Notification,
        duration_ms: None,
        request_method: None,
        late: None,
        answered_by: None,
        bytes: text.len(),
    }));
    assert!(bus.next_after(0, 1).records[0].json.contains(text));
}
