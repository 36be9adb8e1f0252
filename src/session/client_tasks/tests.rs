//! Unit tests of `client_tasks`: the client hosting a server's request as a task, with no actor,
//! transport or bus.

use serde_json::json;

use super::*;

fn words(out: &Outbox) -> Vec<String> {
    out.effects()
        .iter()
        .map(|e| match e {
            Effect::Answer {
                reply_to, outcome, ..
            } => format!(
                "answer {reply_to:?} {}",
                match outcome {
                    Ok(r) if r.get("task").is_some() => "with the task".to_owned(),
                    Ok(r) => format!(
                        "ok {}",
                        r.get("status").or(r.get("text")).unwrap_or(&Value::Null)
                    ),
                    Err(e) => format!("error {}", e["code"]),
                }
            ),
            Effect::Route { method, .. } => format!("route {method}"),
            Effect::Notify { method, params } => format!("notify {method} {}", params["status"]),
            Effect::Publish(Event::Task(t)) => {
                format!("task {}", t.status.as_ref().unwrap_or(&Value::Null))
            }
            Effect::Withdraw(r) => format!("withdraw {r:?}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn host(tasks: &mut ClientTasks, server_id: i64) -> String {
    let mut out = Outbox::default();
    tasks.host(
        ReplyTo::JsonRpc(json!(server_id)),
        "sampling/createMessage".into(),
        json!({"task": {"ttl": 60000}, "messages": []}),
        1,
        Instant::now(),
        &mut out,
    );
    let w = words(&out);
    assert_eq!(
        w[0],
        format!("answer JsonRpc(Number({server_id})) with the task")
    );
    assert_eq!(w[1], "task \"working\"");
    assert_eq!(
        w[2], "route sampling/createMessage",
        "the request itself waits next"
    );
    tasks.view()[0].task_id.clone()
}

#[test]
fn a_held_result_is_answered_when_the_request_is_with_the_related_task() {
    let mut tasks = ClientTasks::default();
    let id = host(&mut tasks, 7);
    let mut out = Outbox::default();
    tasks.request(
        ReplyTo::JsonRpc(json!(8)),
        "tasks/result",
        &json!({"taskId": id}),
        &mut out,
    );
    assert!(words(&out).is_empty(), "held until the task ends");

    let mut out = Outbox::default();
    tasks.answered(
        &id,
        Ok(&json!({"text": "hi"})),
        json!({"responder": "manual"}),
        &mut out,
    );
    let w = words(&out);
    assert_eq!(w[0], "answer JsonRpc(Number(8)) ok \"hi\"");
    assert_eq!(w[1], "notify notifications/tasks/status \"completed\"");
    assert_eq!(w[2], "task \"completed\"");
    let Effect::Answer {
        outcome: Ok(result),
        ..
    } = &out.effects()[0]
    else {
        panic!("a result");
    };
    assert_eq!(result["_meta"][RELATED_TASK]["taskId"], json!(id));

    // Answered once: a second answer changes nothing.
    let mut out = Outbox::default();
    tasks.answered(&id, Ok(&json!({})), json!({}), &mut out);
    assert!(out.effects().is_empty());
}

#[test]
fn the_server_cancels_gets_and_lists_and_an_unknown_task_is_an_error() {
    let mut tasks = ClientTasks::default();
    let id = host(&mut tasks, 1);
    let mut out = Outbox::default();
    tasks.request(
        ReplyTo::JsonRpc(json!(2)),
        "tasks/get",
        &json!({"taskId": id}),
        &mut out,
    );
    tasks.request(
        ReplyTo::JsonRpc(json!(3)),
        "tasks/list",
        &json!({}),
        &mut out,
    );
    tasks.request(
        ReplyTo::JsonRpc(json!(4)),
        "tasks/get",
        &json!({"taskId": "nope"}),
        &mut out,
    );
    let w = words(&out);
    assert_eq!(w[0], "answer JsonRpc(Number(2)) ok \"working\"");
    assert!(w[2].starts_with("answer JsonRpc(Number(3)) ok"));
    assert_eq!(w[3], "answer JsonRpc(Number(4)) error -32602");
    assert_eq!(tasks.view()[0].polls, 1);

    let mut out = Outbox::default();
    tasks.request(
        ReplyTo::JsonRpc(json!(5)),
        "tasks/cancel",
        &json!({"taskId": id}),
        &mut out,
    );
    let w = words(&out);
    assert_eq!(w[0], "answer JsonRpc(Number(5)) ok \"cancelled\"");
    assert!(
        w[1].starts_with("withdraw ClientTask"),
        "the person's queue no longer holds it"
    );
    let mut out = Outbox::default();
    tasks.request(
        ReplyTo::JsonRpc(json!(6)),
        "tasks/cancel",
        &json!({"taskId": id}),
        &mut out,
    );
    assert_eq!(
        words(&out),
        ["answer JsonRpc(Number(6)) error -32602"],
        "already cancelled"
    );
}

#[test]
fn a_task_past_its_ttl_is_lost_and_its_held_result_told() {
    let mut tasks = ClientTasks::default();
    let id = host(&mut tasks, 1);
    let mut out = Outbox::default();
    tasks.request(
        ReplyTo::JsonRpc(json!(2)),
        "tasks/result",
        &json!({"taskId": id}),
        &mut out,
    );
    let expiry = tasks.next_expiry().unwrap();
    let mut out = Outbox::default();
    tasks.expire(expiry - Duration::from_millis(1), &mut out);
    assert!(out.effects().is_empty(), "not yet");
    tasks.expire(expiry, &mut out);
    let w = words(&out);
    assert!(w[0].starts_with("withdraw ClientTask"));
    assert_eq!(w[1], "answer JsonRpc(Number(2)) error -32602");
    assert_eq!(w[2], "task \"working\"", "shown lost, as it stood");
    assert!(tasks.view().is_empty());
}
