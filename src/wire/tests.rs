//! Unit tests of `wire`.

use serde_json::json;

use super::*;

#[test]
fn outgoing_frames_have_exactly_the_members_they_need() {
    assert_eq!(
        request_text(7, "tools/call", Some(&json!({"name": "x"}))),
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#
    );
    assert_eq!(
        request_text(8, "ping", None),
        r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#
    );
    assert_eq!(
        notification("notifications/initialized", None),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
    );
    assert_eq!(
        response(&json!("s-1"), Ok(&json!({}))),
        r#"{"jsonrpc":"2.0","id":"s-1","result":{}}"#
    );
    assert_eq!(
        response(&json!(0), Err(&json!({"code": -32601, "message": "no"}))),
        r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"no"}}"#
    );
}

#[test]
fn answers_tells_a_response_to_our_id_from_anything_else() {
    let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"no"}}"#;
    assert_eq!(answers(err, 1), Some(Answered::Error));
    assert_eq!(
        answers(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, 1),
        Some(Answered::Result)
    );
    assert_eq!(answers(err, 2), None);
    assert_eq!(
        answers(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, 1),
        None
    );
    assert_eq!(
        answers(br#"{"jsonrpc":"2.0","id":"1","result":{}}"#, 1),
        None
    );
    assert_eq!(answers(b"Bad Request", 1), None);
}

fn engine() -> Engine<&'static str> {
    Engine::default()
}

#[test]
fn responses_match_in_any_order_and_ids_are_ours() {
    let mut e = engine();
    let (a, text) = e.start_request("tools/list", None, None, None, "a");
    let (b, _) = e.start_request("ping", Some(&json!({})), None, None, "b");
    assert_eq!(text, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{b},"result":{{}}}}"#).as_bytes());
    assert!(r.findings.is_empty());
    assert!(
        matches!(&r.messages[..], [Inbound::Response { id, request, .. }] if *id == b && request.tag == "b")
    );
    let r =
        e.receive(format!(r#"{{"jsonrpc":"2.0","id":{a},"result":{{"z":1,"a":2}}}}"#).as_bytes());
    let Inbound::Response {
        outcome: Outcome::Result(raw),
        ..
    } = &r.messages[0]
    else {
        panic!("{r:?}")
    };
    assert_eq!(raw.get(), r#"{"z":1,"a":2}"#, "result kept byte for byte");
    assert_eq!(r.frame.request_method.as_deref(), Some("tools/list"));
    assert_eq!(e.pending_count(), 0);
}

#[test]
fn server_request_ids_are_a_separate_space() {
    let mut e = engine();
    e.start_request("tools/call", None, None, None, "ours");
    // The server's own request with id 1 must not be taken for an answer to our id 1.
    let r = e.receive(br#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#);
    assert!(
        matches!(&r.messages[..], [Inbound::Request { id, method, .. }] if *id == json!(1) && method == "roots/list")
    );
    assert_eq!(e.pending_count(), 1);
}

#[test]
fn junk_invalid_utf8_and_wrong_shapes_become_findings() {
    let mut e = engine();
    let r = e.receive(b"Server started on stdio");
    assert_eq!(r.frame.raw.as_deref(), Some("Server started on stdio"));
    assert_eq!(r.findings[0].0, Severity::Error);
    assert!(r.messages.is_empty());

    let r = e.receive(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"\xff\"}}");
    assert!(r.findings[0].1.contains("UTF-8"));
    assert!(matches!(&r.messages[..], [Inbound::Notification { .. }]));

    for bad in [
        &b"[1,2]"[..],
        b"42",
        br#"{"jsonrpc":"2.0"}"#,
        br#"{"id":7,"result":1}"#,
    ] {
        let r = e.receive(bad);
        assert!(!r.findings.is_empty(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn stray_duplicate_and_late_responses_are_named() {
    let mut e = engine();
    let r = e.receive(br#"{"jsonrpc":"2.0","id":99,"result":{}}"#);
    assert!(r.findings[0].1.contains("never sent"), "{:?}", r.findings);

    let (id, _) = e.start_request("ping", None, None, None, "p");
    let line = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#);
    assert_eq!(e.receive(line.as_bytes()).messages.len(), 1);
    let r = e.receive(line.as_bytes());
    assert!(r.findings[0].1.contains("duplicate"));

    let (id, _) = e.start_request("tools/call", None, None, None, "c");
    assert!(e.cancel(id).is_some());
    let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#).as_bytes());
    assert_eq!(r.frame.late, Some(Late::AfterCancel));
    assert!(r.messages.is_empty());
}

#[test]
fn held_deadlines_do_not_expire_and_restart_on_release() {
    let mut e = engine();
    let (id, _) = e.start_request(
        "slow",
        None,
        Some(Timeout::fixed(Duration::from_secs(5))),
        None,
        "s",
    );
    e.hold_deadlines();
    assert_eq!(e.next_deadline(), None);
    assert!(
        e.expire(Instant::now() + Duration::from_secs(60))
            .is_empty()
    );
    let later = Instant::now() + Duration::from_secs(60);
    e.release_deadlines(later);
    assert_eq!(e.next_deadline(), Some(later + Duration::from_secs(5)));
    assert!(e.expire(later + Duration::from_secs(4)).is_empty());
    assert_eq!(e.expire(later + Duration::from_secs(5))[0].0, id);
}

#[test]
fn deadlines_expire_and_progress_tokens_map_back() {
    let mut e = engine();
    let (id, _) = e.start_request(
        "slow",
        None,
        Some(Timeout::fixed(Duration::ZERO)),
        Some(json!("tok")),
        "s",
    );
    e.start_request("forever", None, None, None, "f");
    assert_eq!(e.request_for_progress(&json!("tok")), Some(id));
    assert!(e.next_deadline().is_some());
    let expired = e.expire(Instant::now());
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, id);
    assert_eq!(e.fail_all().len(), 1);
}

#[test]
fn null_result_and_error_responses_are_kept() {
    let mut e = engine();
    let (a, _) = e.start_request("x", None, None, None, "x");
    let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{a},"result":null}}"#).as_bytes());
    assert!(
        matches!(&r.messages[..], [Inbound::Response { outcome: Outcome::Result(v), .. }] if v.get() == "null")
    );
    let (b, _) = e.start_request("y", None, None, None, "y");
    let r = e.receive(
        format!(r#"{{"jsonrpc":"2.0","id":{b},"error":{{"code":-32601,"message":"nope"}}}}"#)
            .as_bytes(),
    );
    assert!(r.findings.is_empty());
    assert_eq!(r.frame.frame_type, FrameType::Error);
}

#[test]
fn batches_are_split_and_flagged_outside_2025_03_26() {
    let mut e = engine();
    let r = e.receive(br#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]"#);
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.findings.len(), 1);
}

#[test]
fn progress_extends_the_idle_limit_but_never_past_the_hard_maximum() {
    let mut e = engine();
    let t = Timeout {
        idle: Duration::from_secs(10),
        max_total: Duration::from_secs(25),
    };
    let (id, _) = e.start_request("long", None, Some(t), Some(json!("p")), "l");
    let sent = e.outstanding()[0].1.sent_at;
    assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(10)));
    e.touch(id, sent + Duration::from_secs(8));
    assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(18)));
    assert!(!e.outstanding()[0].1.at_hard_maximum());
    e.touch(id, sent + Duration::from_secs(20));
    assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(25)));
    assert!(e.outstanding()[0].1.at_hard_maximum());
    assert!(e.expire(sent + Duration::from_secs(24)).is_empty());
    assert_eq!(e.expire(sent + Duration::from_secs(25)).len(), 1);
}

#[test]
fn a_big_outcome_is_left_in_its_message_and_taken_exactly_from_the_kept_text() {
    let mut e = engine();
    let big = format!(r#"{{ "text" : "{}" }}"#, "é".repeat(LEAVE_ABOVE));
    for (key, is_error) in [("result", false), ("error", true)] {
        let (id, _) = e.start_request("tools/call", None, None, None, "x");
        let line = format!(r#"  {{"jsonrpc":"2.0","id":{id},"{key}":{big}}}"#);
        let r = e.receive(line.clone().into_bytes());
        let Inbound::Response {
            outcome, within, ..
        } = r.messages.into_iter().next().unwrap()
        else {
            panic!("not an answer")
        };
        let within = within.expect("left in place");
        // The text the ring keeps holds the message as it crossed (trimmed), at some offset.
        let message = r.frame.message.as_ref().unwrap().get();
        assert_eq!(message, line.trim());
        let kept = format!(r#"{{"seq":1,"kind":"frame","message":{message},"bytes":1}}"#);
        let at = kept.find(r#""message":"#).unwrap() + 10;
        match (outcome.taken_from(&kept, at, &within).unwrap(), is_error) {
            (Outcome::Result(r), false) | (Outcome::Error(r), true) => assert_eq!(r.get(), big),
            _ => panic!("the wrong kind of outcome"),
        }
    }
    // A batch item's outcome is never left: it is not the whole line.
    let (id, _) = e.start_request("ping", None, None, None, "b");
    let r = e.receive(format!(r#"[{{"jsonrpc":"2.0","id":{id},"result":{big}}}]"#).into_bytes());
    assert!(
        matches!(&r.messages[..], [Inbound::Response { within: None, outcome: Outcome::Result(v), .. }] if v.get() == big)
    );
}

#[test]
fn the_id_of_a_frame_too_long_to_read_is_found_in_its_first_bytes() {
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","id":42,"result":{"content":[{"text":"xxx"#),
        Some(42)
    );
    assert_eq!(answer_id_in_head(br#"{ "id" : 7 , "result": "#), Some(7));
    // Nested ids, a string that looks like a key, a request, an id after the payload: none.
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","result":{"id":3,"text":"xx"#),
        None
    );
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","result":"\"id\":5 xx"#),
        None
    );
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","method":"x","id":9,"params":"#),
        None
    );
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","id":9,"method":"x","params":"#),
        None
    );
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","id":9,"params":{"a":"#),
        None
    );
    assert_eq!(answer_id_in_head(b"not json at all"), None);
    // An id cut off by the end of the head, a fraction, an exponent, a line that is not JSON.
    assert_eq!(
        answer_id_in_head(br#"{"jsonrpc":"2.0","result":{},"id":12"#),
        None
    );
    assert_eq!(answer_id_in_head(br#"{"id":5.5,"result":"#), None);
    assert_eq!(answer_id_in_head(br#"{"id":5e2,"result":"#), None);
    assert_eq!(answer_id_in_head(br#"log: {"id":3,"result":"#), None);
    // A string that holds an integer, as the engine accepts it.
    assert_eq!(answer_id_in_head(br#"{"id":"5","result":"#), Some(5));
}

#[test]
fn a_big_outcome_is_taken_from_the_record_the_bus_keeps() {
    use crate::events::{Event, EventBus, RingLimits};
    let bus = EventBus::new(RingLimits::default());
    let mut e = engine();
    let (id, _) = e.start_request("tools/call", None, None, None, "x");
    // Leading whitespace and a byte that is not UTF-8 (replaced in what is kept and read).
    let result = format!(r#"{{"text":"{}"}}"#, "z".repeat(LEAVE_ABOVE));
    let mut line = format!(r#"   {{"jsonrpc":"2.0","id":{id},"note":"#).into_bytes();
    line.extend_from_slice(b"\"\xff\",\"result\":");
    line.extend_from_slice(result.as_bytes());
    line.extend_from_slice(b"}  ");
    let r = e.receive(line);
    let session: std::sync::Arc<str> = "s1".into();
    let record = bus.publish_kept(Some(&session), Event::Frame(r.frame));
    let Some(Inbound::Response {
        outcome,
        within: Some(within),
        ..
    }) = r.messages.into_iter().next()
    else {
        panic!("not left in place")
    };
    let taken = outcome
        .taken_from(&record.json, record.message_at().unwrap(), &within)
        .unwrap();
    assert!(matches!(taken, Outcome::Result(ref v) if v.get() == result));
    // Anywhere else in the text, nothing is taken.
    assert!(
        Outcome::Result(RawValue::from_string("null".into()).unwrap())
            .taken_from(&record.json, 0, &within)
            .is_none()
    );
}
