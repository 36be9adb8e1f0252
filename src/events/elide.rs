//! Frames too big for a page: the same event without the server's bytes (`"elided": true`), made
//! once when the frame is published (or when a recording is opened) and kept beside the ring
//! until the frame is evicted, so a reader that asks for it pays a lookup, never a parse of a
//! 100 MB message.

use std::sync::Arc;

use super::{Event, EventBus, FrameEvent, Record};

/// Only frames at least this long (their event's text) get a summary.
pub(super) const SUMMARISED_FROM: usize = 64 * 1024;
/// How much of a line that was not JSON a summary keeps.
const RAW_KEPT: usize = 1024;

/// The event's own fields for its summary (`{"kind":"frame",…,"elided":true}`): every fact of
/// the frame but its message, and the start of a line that was not JSON.
pub(super) fn summary_body(event: &Event) -> Option<String> {
    let Event::Frame(f) = event else {
        return None;
    };
    let short = FrameEvent {
        direction: f.direction,
        message: None,
        raw: f.raw.as_ref().map(|r| r.chars().take(RAW_KEPT).collect()),
        method: f.method.clone(),
        id: f.id.clone(),
        frame_type: f.frame_type,
        duration_ms: f.duration_ms,
        request_method: f.request_method.clone(),
        late: f.late,
        answered_by: f.answered_by.clone(),
        bytes: f.bytes,
    };
    let mut body = serde_json::to_string(&Event::Frame(short)).ok()?;
    body.pop();
    body.push_str(",\"elided\":true}");
    Some(body)
}

impl Record {
    /// A frame's summary read from its text, for records the bus did not publish (an opened
    /// recording's lines, kept as they were written): the message replaced by `null`.
    pub(super) fn summary_by_reading(&self) -> Option<String> {
        if self.json.len() < SUMMARISED_FROM || self.kind() != "frame" {
            return None;
        }
        let key = self.message_at()?;
        let mut rest = serde_json::Deserializer::from_str(&self.json[key..]);
        let message =
            <&serde_json::value::RawValue as serde::Deserialize>::deserialize(&mut rest).ok()?;
        // Where the value lies, whatever whitespace the line had around it.
        let start = message.get().as_ptr() as usize - self.json.as_ptr() as usize;
        let end = start + message.get().len();
        let tail = self.json[end..].trim_end().strip_suffix('}')?;
        let mut out = String::with_capacity(start + tail.len() + 32);
        out.push_str(&self.json[..start]);
        out.push_str("null");
        out.push_str(tail);
        out.push_str(",\"elided\":true}");
        Some(out)
    }
}

impl EventBus {
    /// `record`'s summary when its text is longer than `above` bytes and it has one (a frame
    /// of at least 64 KiB); `None`: send it whole.
    pub fn elided(&self, record: &Record, above: usize) -> Option<Arc<str>> {
        if record.json.len() <= above || record.json.len() < SUMMARISED_FROM {
            return None;
        }
        self.inner.ring.lock().unwrap().summary(record.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Direction, FrameType, RingLimits};

    #[test]
    fn a_big_frame_is_elided_to_its_facts_and_nothing_else_is() {
        let big = format!(
            r#"{{"seq":9,"time":"t","session":"s1","kind":"frame","direction":"received","message":{{"jsonrpc":"2.0","id":3,"result":{{"t":"{}"}}}},"id":3,"frameType":"response","bytes":99}}"#,
            "x".repeat(70_000)
        );
        let record = Record {
            seq: 9,
            session: Some("s1".into()),
            json: big.clone(),
        };
        let short: serde_json::Value =
            serde_json::from_str(&record.summary_by_reading().unwrap()).unwrap();
        assert_eq!(
            short,
            serde_json::json!({"seq": 9, "time": "t", "session": "s1", "kind": "frame", "direction": "received", "message": null, "id": 3, "frameType": "response", "bytes": 99, "elided": true})
        );
        let other = Record {
            seq: 1,
            session: None,
            json: format!(
                r#"{{"seq":1,"time":"t","kind":"stderr","line":"{}"}}"#,
                "y".repeat(70_000)
            ),
        };
        assert_eq!(other.summary_by_reading(), None, "only frames");
    }

    #[test]
    fn a_line_written_with_spaces_is_summarised_as_valid_json() {
        let record = Record {
            seq: 2,
            session: None,
            json: format!(
                "{{\"seq\":2,\"time\":\"t\",\"kind\":\"frame\",\"direction\":\"sent\",\"message\": {{\"a\":\"{}\"}} , \"bytes\":1 }}  ",
                "z".repeat(70_000)
            ),
        };
        let short: serde_json::Value =
            serde_json::from_str(&record.summary_by_reading().unwrap()).unwrap();
        assert_eq!(short["message"], serde_json::Value::Null);
        assert_eq!(short["bytes"], 1);
        assert_eq!(short["elided"], true);
    }

    #[test]
    fn the_bus_summarises_a_big_frame_once_and_forgets_it_with_the_frame() {
        let bus = EventBus::new(RingLimits {
            max_events: 2,
            max_bytes: usize::MAX,
        });
        let text = format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":"{}"}}"#,
            "w".repeat(SUMMARISED_FROM)
        );
        let frame = FrameEvent {
            direction: Direction::Received,
            message: Some(serde_json::value::RawValue::from_string(text.clone()).unwrap()),
            raw: None,
            method: None,
            id: Some(serde_json::json!(1)),
            frame_type: FrameType::Response,
            duration_ms: None,
            request_method: Some("tools/call".into()),
            late: None,
            answered_by: None,
            bytes: text.len(),
        };
        let kept = bus.publish_kept(None, Event::Frame(frame));
        let short = bus.elided(&kept, 1 << 10).unwrap();
        let v: serde_json::Value = serde_json::from_str(&short).unwrap();
        assert_eq!(v["seq"], kept.seq);
        assert_eq!(v["requestMethod"], "tools/call");
        assert_eq!(v["elided"], true);
        assert!(v.get("message").is_none());
        assert!(
            bus.elided(&kept, kept.json.len()).is_none(),
            "not over the limit"
        );
        for line in ["a", "b"] {
            bus.publish(Event::Stderr { line: line.into() });
        }
        assert!(
            bus.elided(&kept, 1 << 10).is_none(),
            "evicted with its frame"
        );
    }
}
