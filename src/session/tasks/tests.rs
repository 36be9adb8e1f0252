//! Unit tests of `tasks`.

use super::tracked::{DEFAULT_POLL, MAX_POLL, MIN_POLL};
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

/// What the concern asked for, in words.
fn asked(out: &Outbox) -> Vec<String> {
    out.effects()
        .iter()
        .map(|e| match e {
            Effect::TaskRequest { method, params, .. } => format!("{method} {}", params["taskId"]),
            Effect::Route {
                method, reply_to, ..
            } => format!("route {method} for {reply_to:?}"),
            Effect::Publish(Event::Task(t)) => format!(
                "task {} {}",
                t.status.as_ref().and_then(Value::as_str).unwrap_or("?"),
                t.outcome.as_ref().map_or("no outcome", |_| "with outcome")
            ),
            Effect::Publish(Event::Finding { message, .. }) => format!("finding {message}"),
            Effect::Reply { result, .. } => format!("reply ok={}", result.is_ok()),
            other => format!("{other:?}"),
        })
        .collect()
}

fn raw(v: Value) -> Outcome {
    Outcome::Result(serde_json::value::RawValue::from_string(v.to_string()).unwrap())
}

#[test]
fn a_legacy_task_is_polled_at_its_interval_then_its_outcome_fetched_once() {
    let mut tasks = Tasks::default();
    let start = Instant::now();
    let mut out = Outbox::default();
    tasks.created(
        "tools/call",
        Some("slow".into()),
        3,
        obj(json!({"taskId": "t1", "status": "working", "pollInterval": 500})),
        false,
        9,
        start,
        &mut out,
    );
    assert_eq!(asked(&out), ["task working no outcome"]);
    assert_eq!(tasks.next_poll(), Some(start + Duration::from_millis(500)));

    let mut out = Outbox::default();
    tasks.poll(start + Duration::from_millis(100), &mut out);
    assert!(asked(&out).is_empty(), "not due yet");
    tasks.poll(start + Duration::from_millis(500), &mut out);
    assert_eq!(asked(&out), ["tasks/get \"t1\""]);
    assert_eq!(tasks.next_poll(), None, "one get at a time");

    let later = start + Duration::from_millis(600);
    let mut out = Outbox::default();
    tasks.answer(
        10,
        "t1".into(),
        TaskOp::Get,
        raw(json!({"taskId": "t1", "status": "completed"})),
        11,
        later,
        &mut out,
    );
    assert_eq!(
        asked(&out),
        ["task completed no outcome", "tasks/result \"t1\""]
    );
    // A status notice repeating the status does not fetch twice.
    let mut out = Outbox::default();
    tasks.status_notice(
        Some(&json!({"taskId": "t1", "status": "completed"})),
        12,
        later,
        &mut out,
    );
    assert_eq!(asked(&out), ["task completed no outcome"]);

    let mut out = Outbox::default();
    tasks.answer(
        12,
        "t1".into(),
        TaskOp::Result,
        raw(json!({"content": []})),
        13,
        later,
        &mut out,
    );
    assert_eq!(asked(&out), ["task completed with outcome"]);
    assert_eq!(tasks.next_poll(), None, "ended: no more polls");
    assert_eq!(tasks.view()[0].polls, 1);
}

#[test]
fn a_modern_tasks_input_requests_are_routed_once_and_answered_with_tasks_update() {
    let mut tasks = Tasks::default();
    let now = Instant::now();
    let mut out = Outbox::default();
    tasks.created(
        "tools/call",
        None,
        3,
        obj(json!({"taskId": "m1", "status": "working"})),
        true,
        9,
        now,
        &mut out,
    );
    let poll = json!({"taskId": "m1", "status": "input_required",
        "inputRequests": {"k": {"method": "elicitation/create", "params": {"message": "?"}}}});
    let mut routes = Vec::new();
    for _ in 0..2 {
        let mut out = Outbox::default();
        tasks.poll(now + Duration::from_secs(60), &mut out);
        tasks.answer(
            4,
            "m1".into(),
            TaskOp::Get,
            raw(poll.clone()),
            5,
            now,
            &mut out,
        );
        routes.extend(asked(&out).into_iter().filter(|w| w.starts_with("route")));
    }
    assert_eq!(
        routes.len(),
        1,
        "asked once however often a poll repeats it: {routes:?}"
    );
    assert!(routes[0].starts_with("route elicitation/create"));
    let mut out = Outbox::default();
    tasks.input_answered(
        &ReplyTo::TaskInput {
            task_id: "m1".into(),
            key: "k".into(),
        },
        Ok(&json!({"action": "accept"})),
        &mut out,
    );
    assert!(matches!(
        out.effects(),
        [Effect::TaskRequest { method: "tasks/update", params, .. }] if params["inputResponses"]["k"]["action"] == "accept"
    ));
}

#[test]
fn cancelling_an_unknown_task_is_refused_and_a_failed_get_polls_again_later() {
    let mut tasks = Tasks::default();
    let (tx, _rx) = oneshot::channel();
    let mut out = Outbox::default();
    tasks.cancel("nope", tx, &mut out);
    assert_eq!(asked(&out), ["reply ok=false"]);

    let now = Instant::now();
    tasks.created(
        "tools/call",
        None,
        3,
        obj(json!({"taskId": "t", "status": "working"})),
        false,
        9,
        now,
        &mut out,
    );
    let mut out = Outbox::default();
    tasks.poll(now + Duration::from_secs(5), &mut out);
    tasks.request_failed("t", TaskOp::Get, "timed out".into(), now, &mut out);
    assert_eq!(tasks.next_poll(), Some(now + DEFAULT_POLL));
}
