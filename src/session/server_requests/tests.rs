//! Unit tests of `server_requests`: what a request calls for, and what the queue asks the actor
//! to do, with no actor, transport or bus.

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::responders::{Responders, Settings};

fn responders(settings: Value) -> Responders {
    let settings: Settings = serde_json::from_value(settings).unwrap();
    Responders::new(settings).unwrap()
}

fn route_of(
    caps: Value,
    modern: bool,
    rules: &Responders,
    method: &str,
    params: Value,
) -> (String, Vec<String>) {
    let client = Client {
        capabilities: &caps,
        modern,
        responders: rules,
    };
    let (route, warnings) = decide(&client, method, &params, true);
    let word = match route {
        Route::Answer(a) => format!(
            "answer {} by {}",
            match a.outcome {
                Ok(r) => r.to_string(),
                Err(e) => format!("error {}", e["code"]),
            },
            a.answered_by["responder"].as_str().unwrap_or("a rule")
        ),
        Route::Delay(a) => format!("delay {} ms", a.delay.as_millis()),
        Route::Queue => "queue".into(),
        Route::Model(plan) => format!(
            "model {} review {}",
            plan.model.map_or("default".into(), |m| m.to_string()),
            plan.review
        ),
        Route::ClientTaskRequest => "client task".into(),
        Route::HostTask => "host a task".into(),
    };
    (word, warnings)
}

#[test]
fn a_request_is_answered_as_a_real_client_with_these_capabilities_would() {
    let none = Responders::default();
    let all =
        json!({"sampling": {}, "elicitation": {}, "roots": {"listChanged": true}, "tasks": {}});
    let case = |caps: &Value, modern: bool, method: &str, params: Value| {
        route_of(caps.clone(), modern, &none, method, params).0
    };
    assert_eq!(
        case(&json!({}), false, "ping", json!({})),
        "answer {} by ping"
    );
    // Not declared: "Method not found", as the SDKs answer.
    assert_eq!(
        case(&json!({}), false, "sampling/createMessage", json!({})),
        "answer error -32601 by capabilities"
    );
    assert_eq!(
        case(&all, false, "sampling/createMessage", json!({})),
        "queue"
    );
    assert_eq!(case(&all, false, "elicitation/create", json!({})), "queue");
    assert_eq!(
        case(&all, false, "roots/list", json!({})),
        "answer {\"roots\":[]} by roots"
    );
    assert_eq!(case(&all, false, "tasks/get", json!({})), "client task");
    // The modern era has no client-side tasks.
    assert_eq!(
        case(&all, true, "tasks/get", json!({})),
        "answer error -32601 by capabilities"
    );
    assert_eq!(
        case(&all, false, "x/unknown", json!({})),
        "answer error -32601 by capabilities"
    );
}

#[test]
fn an_undeclared_elicitation_mode_is_refused_and_undeclared_sampling_features_are_warned() {
    let none = Responders::default();
    let (route, warnings) = route_of(
        json!({"elicitation": {}}),
        false,
        &none,
        "elicitation/create",
        json!({"mode": "url", "url": "https://example.com"}),
    );
    assert_eq!(route, "answer error -32602 by capabilities");
    assert_eq!(
        warnings,
        ["elicitation/create in mode \"url\", which the client did not declare"]
    );
    let (route, warnings) = route_of(
        json!({"sampling": {}}),
        false,
        &none,
        "sampling/createMessage",
        json!({"tools": [], "includeContext": "allServers"}),
    );
    assert_eq!(route, "queue", "still shown to a person");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
}

/// How a sampling request with this text is answered under `rules`.
fn sampling_route(rules: &Responders, text: &str) -> String {
    route_of(
        json!({"sampling": {}}),
        false,
        rules,
        "sampling/createMessage",
        json!({"messages": [{"role": "user", "content": {"type": "text", "text": text}}]}),
    )
    .0
}

#[test]
fn a_mock_rule_answers_now_or_after_its_delay() {
    let rules = responders(json!({"sampling": {"mode": "mock", "rules": [
        {"match": "slow", "response": {"model": "m"}, "delayMs": 250},
        {"match": "fast", "response": {"model": "m"}}
    ]}}));
    let ask = |text: &str| sampling_route(&rules, text);
    assert_eq!(ask("slow please"), "delay 250 ms");
    assert!(ask("fast please").starts_with("answer {\"model\":\"m\"}"));
}

#[test]
fn in_llm_mode_a_model_answers_what_no_mock_rule_matches() {
    let rules = responders(
        json!({"sampling": {"mode": "llm", "model": "anthropic:claude-x",
        "review": true, "rules": [{"match": "canned", "response": {"model": "m"}}],
        "default": {"model": "never used in llm mode"}}}),
    );
    let ask = |text: &str| sampling_route(&rules, text);
    assert!(ask("a canned one").starts_with("answer {\"model\":\"m\"}"));
    assert_eq!(ask("anything else"), "model anthropic:claude-x review true");
    assert!(
        Responders::new(serde_json::from_value(json!({"elicitation": {"mode": "llm"}})).unwrap())
            .is_err(),
        "llm is for sampling only"
    );
    assert!(
        Responders::new(
            serde_json::from_value(json!({"sampling": {"mode": "llm", "model": "gpt"}})).unwrap()
        )
        .is_err(),
        "a model is PROVIDER:MODEL"
    );
}

fn pending_keys(out: &Outbox) -> Vec<String> {
    out.effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Queued(r) => Some(format!("+{}", r.key)),
            Effect::Dequeued(k) => Some(format!("-{k}")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_queued_request_is_published_then_answered_once() {
    let mut requests = ServerRequests::default();
    let mut out = Outbox::default();
    requests.queue(
        ReplyTo::JsonRpc(json!("srv-1")),
        "sampling/createMessage".into(),
        json!({"messages": []}),
        &mut out,
    );
    assert!(matches!(
        &out.effects()[0],
        Effect::Publish(Event::Pending(p)) if p.id == "1" && p.server_id == Some(json!("srv-1"))
    ));
    assert_eq!(pending_keys(&out), ["+1"]);

    let mut out = Outbox::default();
    assert!(requests.answer("1", Ok(json!({"model": "m"})), &mut out));
    assert_eq!(pending_keys(&out), ["-1"]);
    let answer = out.effects().iter().find_map(|e| match e {
        Effect::Answer {
            reply_to,
            outcome,
            answered_by,
        } => Some((reply_to.clone(), outcome.clone(), answered_by.clone())),
        _ => None,
    });
    assert_eq!(
        answer,
        Some((
            ReplyTo::JsonRpc(json!("srv-1")),
            Ok(json!({"model": "m"})),
            json!({"responder": "manual", "pending": "1"})
        ))
    );
    let mut out = Outbox::default();
    assert!(
        !requests.answer("1", Ok(json!({})), &mut out),
        "answered once"
    );
    assert!(
        !out.effects()
            .iter()
            .any(|e| matches!(e, Effect::Answer { .. }))
    );
}

#[test]
fn a_held_back_answer_goes_when_due_unless_the_server_withdrew_the_request() {
    let mut requests = ServerRequests::default();
    let answer = || crate::responders::AutoAnswer {
        outcome: Ok(json!({"action": "accept"})),
        delay: Duration::from_millis(500),
        answered_by: json!({"responder": "mock"}),
    };
    let mut out = Outbox::default();
    requests.delay(
        ReplyTo::JsonRpc(json!(7)),
        "elicitation/create".into(),
        json!({}),
        answer(),
        &mut out,
    );
    assert!(matches!(
        out.effects(),
        [Effect::Timer { key, delay }] if key == "1" && delay.as_millis() == 500
    ));
    assert!(
        pending_keys(&out).is_empty(),
        "not in the public queue: no person answers it"
    );
    let mut out = Outbox::default();
    requests.due("1", &mut out);
    assert!(
        matches!(out.effects(), [Effect::Answer { reply_to: ReplyTo::JsonRpc(id), .. }] if id == &json!(7))
    );

    let mut out = Outbox::default();
    requests.delay(
        ReplyTo::JsonRpc(json!(8)),
        "elicitation/create".into(),
        json!({}),
        answer(),
        &mut out,
    );
    requests.withdraw(&ReplyTo::JsonRpc(json!(8)), &mut out);
    let mut out = Outbox::default();
    requests.due("2", &mut out);
    assert!(out.effects().is_empty(), "withdrawn: nothing is sent");
}

#[test]
fn url_elicitation_ids_are_remembered_within_a_bound() {
    let mut requests = ServerRequests::default();
    let mut out = Outbox::default();
    for n in 0..(ELICITATION_MEMORY + 1) {
        requests.queue(
            ReplyTo::JsonRpc(json!(n)),
            "elicitation/create".into(),
            json!({"mode": "url", "elicitationId": format!("e{n}")}),
            &mut out,
        );
    }
    assert!(!requests.knows_elicitation("e0"), "the oldest is forgotten");
    assert!(requests.knows_elicitation("e1"));
    assert!(requests.knows_elicitation(&format!("e{ELICITATION_MEMORY}")));
    assert!(!requests.knows_elicitation("never"));
}

#[test]
fn a_request_asking_for_a_task_is_hosted_unless_refused_first_or_modern() {
    let none = Responders::default();
    let caps = json!({"sampling": {}, "elicitation": {"form": {}},
        "tasks": {"requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}}}});
    let task = json!({"task": {"ttl": 60000}, "messages": []});
    assert_eq!(
        route_of(
            caps.clone(),
            false,
            &none,
            "sampling/createMessage",
            task.clone()
        )
        .0,
        "host a task"
    );
    assert_eq!(
        route_of(caps.clone(), true, &none, "sampling/createMessage", task).0,
        "queue"
    );
    // A mode the client did not declare is refused before any task is made.
    let url = json!({"task": {}, "mode": "url", "url": "https://example.com"});
    assert_eq!(
        route_of(caps.clone(), false, &none, "elicitation/create", url).0,
        "answer error -32602 by capabilities"
    );
    // Without tasks.requests for the method, the request is answered as itself.
    assert_eq!(
        route_of(
            json!({"sampling": {}, "tasks": {}}),
            false,
            &none,
            "sampling/createMessage",
            json!({"task": {}})
        )
        .0,
        "queue"
    );
}
