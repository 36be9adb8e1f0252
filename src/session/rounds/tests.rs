//! Unit tests of `rounds`: a call's input rounds as the concern runs them, with no actor,
//! transport or bus: what it serves, what it publishes, what the caller gets.

use serde_json::json;
use tokio::sync::oneshot;

use super::*;

fn call(round: u32) -> (Call, oneshot::Receiver<Result<Answer, LocalError>>) {
    let (reply, rx) = oneshot::channel();
    (
        Call {
            reply,
            subject: Some("echo".into()),
            method: "tools/call".into(),
            original: Some(json!({"name": "echo", "arguments": {"x": 1}})),
            timeout: None,
            request_id: 5,
            round: Round {
                origin_id: 4,
                number: round,
            },
        },
        rx,
    )
}

/// The round events the outbox holds, as "phase" words.
fn phases(out: &Outbox) -> Vec<String> {
    out.effects()
        .iter()
        .filter_map(|e| match e {
            Effect::Publish(Event::Round(r)) => Some(match &r.step {
                RoundStep::InputRequired { keys, .. } => format!("input_required {keys:?}"),
                RoundStep::Answered { key, .. } => format!("answered {key}"),
                RoundStep::Retry { .. } => "retry".into(),
                RoundStep::Ended { reason } => format!("ended: {reason}"),
            }),
            Effect::Publish(Event::Finding { message, .. }) => Some(format!("finding: {message}")),
            _ => None,
        })
        .collect()
}

fn replied(out: Outbox) -> Option<Result<Answer, LocalError>> {
    out.into_effects().into_iter().find_map(|e| match e {
        Effect::Reply { result, .. } => Some(result),
        _ => None,
    })
}

#[test]
fn every_key_answered_retries_with_the_answers_and_the_state() {
    let mut rounds = Rounds::default();
    let (c, _rx) = call(1);
    let mut out = Outbox::default();
    let result = json!({"resultType": "input_required", "requestState": "opaque",
    "inputRequests": {
        "a": {"method": "elicitation/create", "params": {"message": "?"}},
        "b": {"method": "roots/list"}
    }});
    let Begun::Serve(targets) = rounds.begin(c, &result, 8, 9, &mut out) else {
        panic!("serves its input requests");
    };
    assert_eq!(phases(&out), ["input_required [\"a\", \"b\"]"]);
    let methods: Vec<&str> = targets.iter().map(|(_, m, _)| m.as_str()).collect();
    assert_eq!(methods, ["elicitation/create", "roots/list"]);
    assert_eq!(
        rounds.waiting_for_input()[0]["waitingFor"],
        json!(["a", "b"])
    );

    let mut out = Outbox::default();
    let (a, b) = (&targets[0].0, &targets[1].0);
    assert!(matches!(
        rounds.answered(
            a,
            Ok(&json!({"action": "accept"})),
            json!({"responder": "manual"}),
            &mut out
        ),
        Next::Wait
    ));
    let Next::Retry(id) = rounds.answered(
        b,
        Ok(&json!({"roots": []})),
        json!({"responder": "roots"}),
        &mut out,
    ) else {
        panic!("the last answer retries");
    };
    assert_eq!(phases(&out), ["answered a", "answered b"]);
    let retry = rounds.retry(id).expect("once");
    assert_eq!(
        retry.params["arguments"],
        json!({"x": 1}),
        "the original params"
    );
    assert_eq!(retry.params["requestState"], "opaque");
    assert_eq!(
        retry.params["inputResponses"]["a"],
        json!({"action": "accept"})
    );
    assert!(rounds.retry(id).is_none(), "the conversation is gone");
    assert!(rounds.waiting_for_input().is_empty());
}

#[test]
fn an_error_answer_ends_the_call_since_a_modern_request_cannot_carry_one_back() {
    let mut rounds = Rounds::default();
    let (c, _rx) = call(1);
    let mut out = Outbox::default();
    let result = json!({"inputRequests": {"a": {"method": "sampling/createMessage"}}});
    let Begun::Serve(targets) = rounds.begin(c, &result, 8, 9, &mut out) else {
        panic!("serves");
    };
    let mut out = Outbox::default();
    let next = rounds.answered(
        &targets[0].0,
        Err(&json!({"code": -1, "message": "no"})),
        json!({}),
        &mut out,
    );
    assert!(matches!(next, Next::Ended(_)));
    assert!(phases(&out)[0].starts_with("ended: input request \"a\" was answered with an error"));
    assert!(matches!(replied(out), Some(Err(LocalError::Refused(_)))));
}

#[test]
fn a_malformed_result_or_too_many_rounds_ends_the_call_with_the_reason() {
    let mut rounds = Rounds::default();
    for (result, round, why) in [
        (
            json!({"inputRequests": [1]}),
            1,
            "inputRequests must be an object",
        ),
        (
            json!({"inputRequests": {"k": {"params": {}}}}),
            1,
            "input request \"k\" has no method",
        ),
        (
            json!({"inputRequests": {}}),
            8,
            "the server asked for input 8 times in a row",
        ),
    ] {
        let (c, _rx) = call(round);
        let mut out = Outbox::default();
        assert!(matches!(
            rounds.begin(c, &result, 8, 9, &mut out),
            Begun::Ended
        ));
        assert!(
            phases(&out).iter().any(|p| p.contains(why)),
            "{:?}",
            phases(&out)
        );
        assert!(matches!(replied(out), Some(Err(LocalError::Refused(_)))));
    }
    // No input requests at all: retry at once.
    let (c, _rx) = call(1);
    let mut out = Outbox::default();
    assert!(matches!(
        rounds.begin(c, &json!({}), 8, 9, &mut out),
        Begun::Retry(_)
    ));
}

#[test]
fn a_call_between_rounds_is_cancelled_by_its_first_or_latest_request_id() {
    let mut rounds = Rounds::default();
    for id in [4, 5] {
        let (c, _rx) = call(1);
        let mut out = Outbox::default();
        rounds.begin(
            c,
            &json!({"inputRequests": {"a": {"method": "roots/list"}}}),
            8,
            9,
            &mut out,
        );
        let mut out = Outbox::default();
        assert!(rounds.cancel(id, Some("enough".into()), &mut out).is_some());
        assert_eq!(phases(&out), ["ended: cancelled: enough"]);
        assert!(
            matches!(replied(out), Some(Err(LocalError::Cancelled { request_id, .. })) if request_id == id)
        );
    }
    let mut out = Outbox::default();
    assert!(
        rounds.cancel(4, None, &mut out).is_none(),
        "nothing left to cancel"
    );
}
