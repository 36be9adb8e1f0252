//! The mock against a small recording written by hand: matching, the handshake, refusals that
//! name the closest request, the server's own messages in order, progress tokens.

use serde_json::{Value, json};

use super::*;

fn recording(frames: &[(&str, Value)]) -> Recording {
    let mut text = String::from(
        r#"{"mcpscopeRecording":1,"version":"0","target":null,"era":"legacy","startedAt":null,"session":"s1"}"#,
    );
    text.push('\n');
    text.push_str(r#"{"seq":1,"time":"2026-12-05T00:00:00Z","session":"s1","kind":"state","state":"connecting"}"#);
    text.push('\n');
    for (i, (direction, message)) in frames.iter().enumerate() {
        let frame_type = if message.get("method").is_some() {
            if message.get("id").is_some() {
                "request"
            } else {
                "notification"
            }
        } else if message.get("error").is_some() {
            "error"
        } else {
            "response"
        };
        let mut e = json!({
            "seq": i + 2, "time": "2026-12-05T00:00:01Z", "session": "s1", "kind": "frame",
            "direction": direction, "message": message, "frameType": frame_type, "bytes": 1,
        });
        if let Some(m) = message.get("method") {
            e["method"] = m.clone();
        }
        if let Some(id) = message.get("id") {
            e["id"] = id.clone();
        }
        text.push_str(&e.to_string());
        text.push('\n');
    }
    Recording::parse(&text).unwrap()
}

fn script() -> Arc<Script> {
    Arc::new(Script::from_recording(&recording(&[
        ("sent", json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}})),
        ("received", json!({"jsonrpc": "2.0", "id": 1, "result": {"protocolVersion": "2025-11-25", "serverInfo": {"name": "rec"}, "capabilities": {}}})),
        ("sent", json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
        ("received", json!({"jsonrpc": "2.0", "id": "r1", "method": "roots/list"})),
        ("sent", json!({"jsonrpc": "2.0", "id": "r1", "result": {"roots": []}})),
        ("sent", json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}, "_meta": {"progressToken": 7}}})),
        ("received", json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 7, "progress": 1}})),
        ("received", json!({"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "Echo: hi"}]}})),
        ("sent", json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}})),
        ("received", json!({"jsonrpc": "2.0", "id": 3, "result": {"content": [{"type": "text", "text": "Echo: hi again"}]}})),
    ]))
    .unwrap())
}

fn lines(outs: &[Out]) -> Vec<Value> {
    outs.iter()
        .map(|o| match o {
            Out::Send(l) | Out::Answer(l) | Out::Ask { line: l, .. } => {
                serde_json::from_str(l).unwrap()
            }
        })
        .collect()
}

#[test]
fn any_handshake_gets_the_recorded_one_and_the_servers_own_messages_follow_in_order() {
    let s = script();
    let mut m = Mock::new(s.clone(), Vec::new());
    let (outs, _) = m.on_line(br#"{"jsonrpc":"2.0","id":"x","method":"initialize","params":{"protocolVersion":"2025-06-18","clientInfo":{"name":"other"}}}"#);
    let sent = lines(&outs);
    assert_eq!(sent[0]["id"], "x");
    assert_eq!(sent[0]["result"]["serverInfo"]["name"], "rec");
    let (outs, _) = m.on_line(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_eq!(
        outs,
        vec![Out::Ask {
            id: json!("r1"),
            line: json!({"jsonrpc": "2.0", "id": "r1", "method": "roots/list"}).to_string()
        }]
    );
    // The client's answer to it is handed back to the caller.
    let (outs, answered) = m.on_line(br#"{"jsonrpc":"2.0","id":"r1","result":{"roots":[]}}"#);
    assert!(outs.is_empty());
    assert_eq!(answered, vec![json!("r1")]);
}

#[test]
fn a_call_gets_its_recorded_answers_in_order_with_progress_for_its_own_token() {
    let s = script();
    let mut m = Mock::new(s.clone(), Vec::new());
    let call = |id: u32, token: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"_meta":{{"progressToken":"{token}"}},"arguments":{{"message":"hi"}},"name":"echo"}}}}"#
        )
    };
    let sent = lines(&m.on_line(call(10, "tok-a").as_bytes()).0);
    assert_eq!(sent[0]["params"]["progressToken"], "tok-a");
    assert_eq!(sent[1]["id"], 10);
    assert_eq!(sent[1]["result"]["content"][0]["text"], "Echo: hi");
    let sent = lines(&m.on_line(call(11, "tok-b").as_bytes()).0);
    assert_eq!(sent[0]["result"]["content"][0]["text"], "Echo: hi again");
    // Once every recorded answer was given, the last one again.
    let sent = lines(&m.on_line(call(12, "tok-c").as_bytes()).0);
    assert_eq!(sent[0]["result"]["content"][0]["text"], "Echo: hi again");
}

#[test]
fn an_unrecorded_request_is_refused_naming_the_closest_recorded_one() {
    let s = script();
    let mut m = Mock::new(s.clone(), Vec::new());
    let sent = lines(&m.on_line(br#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bye"}}}"#).0);
    assert_eq!(sent[0]["error"]["code"], -32602);
    let message = sent[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(r#""message":"hi""#) && message.contains("$.arguments.message"),
        "{message}"
    );
    let sent = lines(
        &m.on_line(br#"{"jsonrpc":"2.0","id":6,"method":"prompts/list"}"#)
            .0,
    );
    assert_eq!(sent[0]["error"]["code"], -32601);
    assert!(
        sent[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tools/call")
    );
    // ping always; --ignore makes the differing argument match.
    let sent = lines(&m.on_line(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#).0);
    assert_eq!(sent[0]["result"], json!({}));
    let mut m = Mock::new(
        s.clone(),
        vec![diff::Ignore::parse("$.arguments.message").unwrap()],
    );
    let sent = lines(&m.on_line(br#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bye"}}}"#).0);
    assert_eq!(
        sent.last().unwrap()["result"]["content"][0]["text"],
        "Echo: hi"
    );
}

#[test]
fn a_line_that_is_not_json_rpc_gets_a_parse_error() {
    let s = script();
    let mut m = Mock::new(s.clone(), Vec::new());
    let sent = lines(&m.on_line(b"hello?").0);
    assert_eq!(sent[0]["error"]["code"], -32700);
    assert_eq!(sent[0]["id"], Value::Null);
    assert!(m.on_line(b"  ").0.is_empty());
}

#[test]
fn a_recording_with_nothing_answered_is_refused() {
    let r = recording(&[(
        "sent",
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize"}),
    )]);
    assert!(Script::from_recording(&r).is_err());
}
