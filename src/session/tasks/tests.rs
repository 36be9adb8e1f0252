//! Unit tests of `tasks`.

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn the_poll_interval_is_the_servers_within_bounds() {
    assert_eq!(
        poll_interval(&obj(json!({"pollInterval": 1500})), false),
        Duration::from_millis(1500)
    );
    assert_eq!(
        poll_interval(&obj(json!({"pollIntervalMs": 250})), true),
        Duration::from_millis(250)
    );
    assert_eq!(
        poll_interval(&obj(json!({"pollInterval": 250})), true),
        DEFAULT_POLL,
        "the modern name only"
    );
    assert_eq!(
        poll_interval(&obj(json!({"pollInterval": 1})), false),
        MIN_POLL
    );
    assert_eq!(
        poll_interval(&obj(json!({"pollInterval": 3_600_000})), false),
        MAX_POLL
    );
    assert_eq!(
        poll_interval(&obj(json!({"pollInterval": "soon"})), false),
        DEFAULT_POLL
    );
}

#[test]
fn task_fields_leave_the_envelope_and_the_modern_outcome_out() {
    let r = obj(
        json!({"resultType": "complete", "taskId": "t", "status": "completed",
        "ttlMs": 5, "result": {"content": []}, "inputRequests": {}, "_meta": {}}),
    );
    assert_eq!(
        Value::Object(task_fields(&r, true)),
        json!({"taskId": "t", "status": "completed", "ttlMs": 5})
    );
    // A legacy answer or status notice only loses its `_meta`.
    let legacy = obj(json!({"taskId": "t", "status": "working", "ttl": 5, "_meta": {}}));
    assert_eq!(
        Value::Object(task_fields(&legacy, false)),
        json!({"taskId": "t", "status": "working", "ttl": 5})
    );
}

#[test]
fn terminal_statuses() {
    for s in ["completed", "failed", "cancelled"] {
        assert!(is_terminal(Some(s)));
    }
    for s in [Some("working"), Some("input_required"), Some("done"), None] {
        assert!(!is_terminal(s));
    }
}
