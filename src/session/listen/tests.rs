//! Unit tests of `listen`: the streams as the concern runs them, with no actor.

use super::*;

#[test]
fn the_filter_asks_only_for_what_the_server_declares() {
    let caps = json!({"tools": {"listChanged": true}, "prompts": {"listChanged": false}, "resources": {"subscribe": true, "listChanged": true}});
    assert_eq!(
        filter(&caps, &[]).unwrap(),
        json!({"toolsListChanged": true, "resourcesListChanged": true})
    );
    assert_eq!(
        filter(&caps, &["memo://a".into()]).unwrap()["resourceSubscriptions"],
        json!(["memo://a"])
    );
    let no_subscribe = json!({"resources": {"listChanged": "yes"}});
    assert_eq!(filter(&no_subscribe, &["memo://a".into()]), None);
    assert_eq!(filter(&json!({}), &[]), None);
}

#[test]
fn only_acknowledged_kinds_are_admitted() {
    let ack = json!({"toolsListChanged": true, "resourceSubscriptions": ["memo://a"]});
    assert!(admits(&ack, "toolsListChanged", None));
    assert!(!admits(&ack, "promptsListChanged", None));
    assert!(admits(&ack, "resourceSubscriptions", Some("memo://a")));
    assert!(!admits(&ack, "resourceSubscriptions", Some("memo://b")));
    assert!(!admits(&ack, "resourceSubscriptions", None));
}

fn words(out: &Outbox) -> Vec<String> {
    out.effects()
        .iter()
        .map(|e| match e {
            Effect::ListenView(v) => format!("view {}", v["state"].as_str().unwrap_or("")),
            Effect::Subscriptions(uris) => format!("subscriptions {uris:?}"),
            Effect::CloseListen(id) => format!("close {id}"),
            Effect::Acknowledge { result, .. } => format!("acknowledge {}", result.is_ok()),
            Effect::Publish(Event::Finding { message, .. }) => format!("finding {message}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn acknowledgement(stream: i64, filter: Value) -> Value {
    json!({"notifications": filter, "_meta": {SUBSCRIPTION_ID: stream}})
}

#[test]
fn a_subscribe_opens_a_new_stream_and_the_old_one_closes_once_the_new_one_is_acknowledged() {
    let mut listen = Listen::default();
    listen.begin(json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}}));
    let mut out = Outbox::default();
    let open = listen.open(&mut out).expect("something to listen for");
    listen.opened(1, open.filter, &mut out);
    assert_eq!(words(&out), ["view connecting"]);
    let mut out = Outbox::default();
    assert!(listen.notification(
        ACKNOWLEDGED,
        Some(&acknowledgement(1, json!({"toolsListChanged": true}))),
        3,
        &mut out
    ));
    assert_eq!(words(&out), ["view listening", "subscriptions []"]);

    let (tx, _rx) = oneshot::channel();
    assert!(
        listen.subscribe("memo://a".into(), true, tx),
        "a new stream is due"
    );
    let mut out = Outbox::default();
    let open = listen.open(&mut out).unwrap();
    assert_eq!(open.filter["resourceSubscriptions"], json!(["memo://a"]));
    listen.opened(2, open.filter, &mut out);
    // The old stream still delivers until the new one is acknowledged.
    let mut out = Outbox::default();
    assert!(listen.notification(
        "notifications/tools/list_changed",
        Some(&json!({"_meta": {SUBSCRIPTION_ID: 1}})),
        4,
        &mut out
    ));
    assert!(words(&out).is_empty(), "{:?}", words(&out));
    let mut out = Outbox::default();
    listen.notification(
        ACKNOWLEDGED,
        Some(&acknowledgement(
            2,
            json!({"resourceSubscriptions": ["memo://a"]}),
        )),
        5,
        &mut out,
    );
    assert_eq!(
        words(&out),
        [
            "view listening",
            "close 1",
            "subscriptions [\"memo://a\"]",
            "acknowledge true"
        ]
    );
}

#[test]
fn a_notification_off_the_stream_or_outside_its_filter_is_a_finding() {
    let mut listen = Listen::default();
    listen.begin(json!({"tools": {"listChanged": true}, "prompts": {"listChanged": true}}));
    let mut out = Outbox::default();
    let open = listen.open(&mut out).unwrap();
    listen.opened(7, open.filter, &mut out);
    listen.notification(
        ACKNOWLEDGED,
        Some(&acknowledgement(7, json!({"toolsListChanged": true}))),
        1,
        &mut out,
    );
    let mut out = Outbox::default();
    listen.notification("notifications/tools/list_changed", None, 2, &mut out);
    listen.notification(
        "notifications/prompts/list_changed",
        Some(&json!({"_meta": {SUBSCRIPTION_ID: 7}})),
        3,
        &mut out,
    );
    listen.notification(
        "notifications/tools/list_changed",
        Some(&json!({"_meta": {SUBSCRIPTION_ID: 9}})),
        4,
        &mut out,
    );
    let w = words(&out);
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("arrived with no subscriptionId"));
    assert!(w[1].contains("did not acknowledge promptsListChanged"));
    assert!(w[2].contains("subscriptionId 9, which is no listen stream of ours"));
    assert!(
        !listen.notification("notifications/message", None, 5, &mut out),
        "not a stream notification"
    );
}

#[test]
fn a_dropped_stream_is_listened_to_again_after_a_growing_back_off() {
    let mut listen = Listen::default();
    listen.begin(json!({"tools": {"listChanged": true}}));
    let now = Instant::now();
    let mut waits = Vec::new();
    for id in 1..=3 {
        let mut out = Outbox::default();
        let open = listen.open(&mut out).unwrap();
        listen.opened(id, open.filter, &mut out);
        listen.dropped(id, "the stream broke", now, &mut out);
        assert!(words(&out).ends_with(&["view dropped".to_owned()]));
        waits.push(listen.retry_at.unwrap() - now);
    }
    assert!(waits[0] < waits[1] && waits[1] < waits[2], "{waits:?}");
    // A drop of a stream that is not the current one changes nothing.
    let mut out = Outbox::default();
    listen.dropped(99, "old", now, &mut out);
    assert!(words(&out).is_empty());
}

#[test]
fn nothing_to_listen_for_is_off_and_a_subscribe_the_server_cannot_carry_is_refused() {
    let mut listen = Listen::default();
    listen.begin(json!({}));
    let mut out = Outbox::default();
    assert!(listen.open(&mut out).is_none());
    assert_eq!(words(&out), ["view off"]);
    let (tx, mut rx) = oneshot::channel();
    assert!(!listen.subscribe("memo://a".into(), true, tx));
    assert!(matches!(rx.try_recv(), Ok(Err(LocalError::Unsupported(_)))));
}
