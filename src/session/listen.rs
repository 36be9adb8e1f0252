//! The modern era's `subscriptions/listen`: one long-lived request per session whose response
//! stream carries list changes and resource updates. No deadline applies to it. Its first message
//! acknowledges the subset the server honours; every message names the stream by
//! `_meta["io.modelcontextprotocol/subscriptionId"]` (the listen request's id), and notifications
//! are checked against that. A dropped stream is listened to again with a growing back-off (the
//! spec has no replay, so the state says events may have been missed); a subscribe or unsubscribe
//! opens a new stream with the new filter and closes the old one once the new one is
//! acknowledged. The state (`connecting`, `listening`, `dropped`, `closed`, `failed`, `off`) is
//! part of the session object. [`Listen`] owns the streams; the actor sends and cancels the
//! requests it asks for.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::{
    actor::Actor,
    handle::LocalError,
    inflight::Tag,
    outbox::{Effect, Outbox},
};
use crate::{
    events::{Event, Severity},
    wire::Outcome,
};

pub(super) const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// The notifications that travel on listen streams in the modern era (and nowhere else), with
/// the filter key that asks for each.
const STREAM_METHODS: [(&str, &str); 4] = [
    ("notifications/tools/list_changed", "toolsListChanged"),
    ("notifications/prompts/list_changed", "promptsListChanged"),
    (
        "notifications/resources/list_changed",
        "resourcesListChanged",
    ),
    ("notifications/resources/updated", "resourceSubscriptions"),
];
const ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";

/// Who waits for the next acknowledgement: a subscribe or unsubscribe from the API.
pub(super) type Waiter = oneshot::Sender<Result<Value, LocalError>>;

#[derive(Default)]
pub(super) struct Listen {
    /// What the server can deliver (its discovered capabilities).
    capabilities: Value,
    /// The stream open or opening, and streams it replaces (closed once it is acknowledged).
    current: Option<i64>,
    replacing: Vec<i64>,
    /// The resource URIs the user asked to hear about, in the order asked.
    uris: Vec<String>,
    /// Drops in a row, for the back-off; an acknowledgement resets it.
    drops: u32,
    pub(super) retry_at: Option<Instant>,
    waiting: Vec<Waiter>,
    /// The public view (`listen` in the session object).
    view: Value,
}

/// The filter to listen with: each kind the server declares it can announce, and the resources
/// asked for when it declares `resources.subscribe`. None when there is nothing to listen for.
pub(super) fn filter(capabilities: &Value, uris: &[String]) -> Option<Value> {
    let declared = |pointer: &str| capabilities.pointer(pointer) == Some(&Value::Bool(true));
    let mut f = Map::new();
    for (pointer, key) in [
        ("/tools/listChanged", "toolsListChanged"),
        ("/prompts/listChanged", "promptsListChanged"),
        ("/resources/listChanged", "resourcesListChanged"),
    ] {
        if declared(pointer) {
            f.insert(key.into(), Value::Bool(true));
        }
    }
    if declared("/resources/subscribe") && !uris.is_empty() {
        f.insert("resourceSubscriptions".into(), json!(uris));
    }
    (!f.is_empty()).then_some(Value::Object(f))
}

/// Whether an acknowledged filter admits a stream notification (`uri` for resource updates).
fn admits(acknowledged: &Value, key: &str, uri: Option<&str>) -> bool {
    match key {
        "resourceSubscriptions" => acknowledged
            .get(key)
            .and_then(Value::as_array)
            .zip(uri)
            .is_some_and(|(list, uri)| list.iter().any(|u| u.as_str() == Some(uri))),
        _ => acknowledged.get(key) == Some(&Value::Bool(true)),
    }
}

/// What the actor does to open a stream: send `subscriptions/listen` with this filter, then tell
/// [`Listen::opened`] its id.
pub(super) struct Open {
    pub(super) filter: Value,
}

/// What a `notifications/cancelled` naming one of our listen requests means.
pub(super) enum Cancelled {
    NotOurs,
    /// A stream being replaced: stop waiting for it.
    Replaced(i64),
    /// The stream we listen on: stop waiting for it; it dropped.
    Current(i64),
}

impl Listen {
    /// The modern session is established: what the server can announce.
    pub(super) fn begin(&mut self, capabilities: Value) {
        self.capabilities = capabilities;
    }

    /// A stream with the current filter is due; None (and the view says `off`) when there is
    /// nothing to listen for.
    pub(super) fn open(&mut self, out: &mut Outbox) -> Option<Open> {
        self.retry_at = None;
        let Some(filter) = filter(&self.capabilities, &self.uris) else {
            self.close_replaced(out);
            self.set_view(
                json!({"state": "off", "reason": "the server declares no list changes or subscriptions to listen for"}),
                out,
            );
            self.answer_waiters(Ok(json!({})), out);
            return None;
        };
        if let Some(old) = self.current.take() {
            self.replacing.push(old);
        }
        Some(Open { filter })
    }

    /// The stream was sent as request `id`.
    pub(super) fn opened(&mut self, id: i64, filter: Value, out: &mut Outbox) {
        self.current = Some(id);
        self.set_view(
            json!({"state": "connecting", "requestId": id, "requested": filter}),
            out,
        );
    }

    /// The user subscribes to or unsubscribes from a resource; true when a new stream with the
    /// new filter is due (the reply waits for its acknowledgement).
    pub(super) fn subscribe(&mut self, uri: String, on: bool, reply: Waiter) -> bool {
        if on && self.capabilities.pointer("/resources/subscribe") != Some(&json!(true)) {
            let _ = reply.send(Err(LocalError::Unsupported(
                "the server does not declare resources.subscribe, so a listen stream cannot carry resource updates".into(),
            )));
            return false;
        }
        let at = self.uris.iter().position(|u| *u == uri);
        match (on, at) {
            (true, None) => self.uris.push(uri),
            (false, Some(i)) => {
                self.uris.remove(i);
            }
            // Already as asked: the answer is the next acknowledgement, or the stream as it is.
            _ if self.view_state() == "connecting" => {
                self.waiting.push(reply);
                return false;
            }
            _ => {
                let _ = reply.send(Ok(self.acknowledged()));
                return false;
            }
        }
        self.waiting.push(reply);
        true
    }

    /// The answer that ends a listen request: the server closed the stream on purpose (a
    /// result), or refused it (an error).
    pub(super) fn answer(&mut self, id: i64, outcome: &Outcome, out: &mut Outbox) {
        if self.current != Some(id) {
            self.replacing.retain(|r| *r != id);
            return;
        }
        self.current = None;
        match outcome {
            Outcome::Result(_) => {
                self.set_view(json!({"state": "closed", "requestId": id, "reason": "the server ended the stream (listen again to hear more)"}), out);
                self.answer_waiters(
                    Err(LocalError::Transport(
                        "the server ended the listen stream".into(),
                    )),
                    out,
                );
            }
            Outcome::Error(e) => {
                let why = format!("the server refused subscriptions/listen: {}", e.get());
                self.set_view(
                    json!({"state": "failed", "requestId": id, "reason": why}),
                    out,
                );
                self.answer_waiters(Err(LocalError::Refused(why)), out);
            }
        }
        confirm_subscriptions(&Value::Null, out);
    }

    /// The stream broke without an answer: listen again after a back-off.
    pub(super) fn dropped(&mut self, id: i64, why: &str, now: Instant, out: &mut Outbox) {
        if self.current != Some(id) {
            self.replacing.retain(|r| *r != id);
            return;
        }
        self.current = None;
        self.drops += 1;
        let wait = crate::transport::backoff(self.drops);
        self.retry_at = Some(now + wait);
        self.set_view(
            json!({
                "state": "dropped",
                "requestId": id,
                "reason": format!("{why}; listening again in {} s (notifications sent meanwhile are lost)", wait.as_secs()),
                "drops": self.drops,
            }),
            out,
        );
    }

    /// A notification that belongs on a listen stream (true when it was one, checked).
    pub(super) fn notification(
        &mut self,
        method: &str,
        params: Option<&Value>,
        seq: u64,
        out: &mut Outbox,
    ) -> bool {
        let key = if method == ACKNOWLEDGED {
            None
        } else {
            match STREAM_METHODS.iter().find(|(m, _)| *m == method) {
                Some((_, key)) => Some(*key),
                None => return false,
            }
        };
        let finding = |message: String, out: &mut Outbox| {
            out.push(Effect::Publish(Event::Finding {
                severity: Severity::Warning,
                message,
                frame_seq: Some(seq),
            }));
        };
        let sid = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(SUBSCRIPTION_ID))
            .cloned();
        let ours = |id: i64| sid.as_ref().and_then(Value::as_i64) == Some(id);
        let stream = self
            .current
            .filter(|id| ours(*id))
            .or_else(|| self.replacing.iter().copied().find(|id| ours(*id)));
        let Some(stream) = stream else {
            let what = match &sid {
                None => "no subscriptionId".to_owned(),
                Some(v) => format!("subscriptionId {v}, which is no listen stream of ours"),
            };
            finding(
                format!(
                    "{method} arrived with {what}; the modern era sends it only on a subscriptions/listen stream"
                ),
                out,
            );
            return true;
        };
        match key {
            None if Some(stream) == self.current => {
                let acknowledged = params
                    .and_then(|p| p.get("notifications"))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                self.drops = 0;
                let mut view = self.view.clone();
                view["state"] = json!("listening");
                view["acknowledged"] = acknowledged.clone();
                if let Some(v) = view.as_object_mut() {
                    v.remove("reason");
                }
                self.set_view(view, out);
                self.close_replaced(out);
                confirm_subscriptions(&acknowledged, out);
                self.answer_waiters(Ok(acknowledged), out);
            }
            None => {}
            Some(key) => {
                let acknowledged = if Some(stream) == self.current {
                    self.acknowledged()
                } else {
                    Value::Null
                };
                let uri = params.and_then(|p| p.get("uri")).and_then(Value::as_str);
                if !acknowledged.is_null() && !admits(&acknowledged, key, uri) {
                    finding(
                        format!(
                            "{method} on listen stream {stream}, which did not acknowledge {key}{}",
                            uri.map_or_else(String::new, |u| format!(" for {u}"))
                        ),
                        out,
                    );
                }
            }
        }
        true
    }

    /// The server ended a stdio listen with `notifications/cancelled` (the only request of ours
    /// it may cancel).
    pub(super) fn cancelled(&mut self, request_id: &Value) -> Cancelled {
        let Some(id) = request_id.as_i64() else {
            return Cancelled::NotOurs;
        };
        if self.replacing.contains(&id) {
            self.replacing.retain(|r| *r != id);
            return Cancelled::Replaced(id);
        }
        if self.current != Some(id) {
            return Cancelled::NotOurs;
        }
        Cancelled::Current(id)
    }

    fn acknowledged(&self) -> Value {
        self.view
            .get("acknowledged")
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn view_state(&self) -> &str {
        self.view.get("state").and_then(Value::as_str).unwrap_or("")
    }

    /// Closes the streams the current one replaces.
    fn close_replaced(&mut self, out: &mut Outbox) {
        for old in std::mem::take(&mut self.replacing) {
            out.push(Effect::CloseListen(old));
        }
    }

    fn answer_waiters(&mut self, answer: Result<Value, LocalError>, out: &mut Outbox) {
        for to in self.waiting.drain(..) {
            out.push(Effect::Acknowledge {
                to,
                result: answer.clone(),
            });
        }
    }

    fn set_view(&mut self, view: Value, out: &mut Outbox) {
        self.view = view.clone();
        out.push(Effect::ListenView(view));
    }
}

/// The session's subscriptions are the resources the stream acknowledged.
fn confirm_subscriptions(acknowledged: &Value, out: &mut Outbox) {
    let uris: Vec<String> = acknowledged
        .get("resourceSubscriptions")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    out.push(Effect::Subscriptions(uris));
}

impl Actor {
    /// The modern session is established: listen for what the server can announce.
    pub(super) fn begin_listening(&mut self, capabilities: Value) {
        self.listen.begin(capabilities);
        self.listen_now();
    }

    /// Opens a stream with the current filter (a stream already open is closed once the new one
    /// is acknowledged).
    pub(super) fn listen_now(&mut self) {
        let mut out = Outbox::default();
        if let Some(Open { filter }) = self.listen.open(&mut out) {
            let id = self.send_request(
                "subscriptions/listen",
                Some(json!({"notifications": filter})),
                None,
                None,
                Tag::Listen,
            );
            self.listen.opened(id, filter, &mut out);
        }
        self.apply(out);
    }

    /// The user subscribes to or unsubscribes from a resource: a new stream with the new filter.
    pub(super) fn listen_for(&mut self, uri: String, on: bool, reply: Waiter) {
        if self.listen.subscribe(uri, on, reply) {
            self.listen_now();
        }
    }

    pub(super) fn listen_answer(&mut self, id: i64, outcome: &Outcome) {
        self.through(|a, out| a.listen.answer(id, outcome, out));
    }

    pub(super) fn listen_dropped(&mut self, id: i64, why: &str) {
        self.through(|a, out| a.listen.dropped(id, why, Instant::now(), out));
    }

    pub(super) fn stream_notification(
        &mut self,
        method: &str,
        params: Option<&Value>,
        seq: u64,
    ) -> bool {
        self.through(|a, out| a.listen.notification(method, params, seq, out))
    }

    /// True when the server's `notifications/cancelled` named one of our listen requests.
    pub(super) fn listen_cancelled(&mut self, request_id: &Value) -> bool {
        match self.listen.cancelled(request_id) {
            Cancelled::NotOurs => false,
            Cancelled::Replaced(id) => {
                self.engine.cancel(id);
                true
            }
            Cancelled::Current(id) => {
                self.engine.cancel(id);
                self.listen_dropped(id, "the server cancelled the listen stream");
                true
            }
        }
    }

    /// A stream replaced by a newer one: cancelled, if it was still open.
    pub(super) fn close_listen(&mut self, id: i64) {
        if self.engine.cancel(id).is_some() {
            self.send_cancelled(id, "replaced by a new subscriptions/listen");
        }
    }
}

#[cfg(test)]
mod tests;
