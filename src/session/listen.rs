//! The modern era's `subscriptions/listen`: one long-lived request per session whose response
//! stream carries list changes and resource updates. No deadline applies to it. Its first message
//! acknowledges the subset the server honours; every message names the stream by
//! `_meta["io.modelcontextprotocol/subscriptionId"]` (the listen request's id), and notifications
//! are checked against that. A dropped stream is listened to again with a growing back-off (the
//! spec has no replay, so the state says events may have been missed); a subscribe or unsubscribe
//! opens a new stream with the new filter and closes the old one once the new one is
//! acknowledged. The state (`connecting`, `listening`, `dropped`, `closed`, `failed`, `off`) is
//! part of the session object.

use std::time::Instant;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::{actor::Actor, handle::LocalError, inflight::Tag};
use crate::{events::Severity, wire::Outcome};

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
type Waiter = oneshot::Sender<Result<Value, LocalError>>;

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

impl Actor {
    /// The modern session is established: listen for what the server can announce.
    pub(super) fn begin_listening(&mut self, capabilities: Value) {
        self.listen.capabilities = capabilities;
        self.listen_now();
    }

    /// Opens a stream with the current filter (a stream already open is closed once the new one
    /// is acknowledged).
    pub(super) fn listen_now(&mut self) {
        self.listen.retry_at = None;
        let Some(filter) = filter(&self.listen.capabilities, &self.listen.uris) else {
            self.replace_streams();
            self.listen_view(json!({"state": "off", "reason": "the server declares no list changes or subscriptions to listen for"}));
            self.answer_waiters(Ok(json!({})));
            return;
        };
        if let Some(old) = self.listen.current.take() {
            self.listen.replacing.push(old);
        }
        let id = self.send_request(
            "subscriptions/listen",
            Some(json!({"notifications": filter})),
            None,
            None,
            Tag::Listen,
        );
        self.listen.current = Some(id);
        self.listen_view(json!({"state": "connecting", "requestId": id, "requested": filter}));
    }

    /// The user subscribes to or unsubscribes from a resource: a new stream with the new filter.
    pub(super) fn listen_for(&mut self, uri: String, on: bool, reply: Waiter) {
        if on && self.listen.capabilities.pointer("/resources/subscribe") != Some(&json!(true)) {
            let _ = reply.send(Err(LocalError::Unsupported(
                "the server does not declare resources.subscribe, so a listen stream cannot carry resource updates".into(),
            )));
            return;
        }
        let at = self.listen.uris.iter().position(|u| *u == uri);
        match (on, at) {
            (true, None) => self.listen.uris.push(uri),
            (false, Some(i)) => {
                self.listen.uris.remove(i);
            }
            // Already as asked: the answer is the next acknowledgement, or the stream as it is.
            _ if self.view_state() == "connecting" => return self.listen.waiting.push(reply),
            _ => {
                let _ = reply.send(Ok(self.acknowledged()));
                return;
            }
        }
        self.listen.waiting.push(reply);
        self.listen_now();
    }

    /// The answer that ends a listen request: the server closed the stream on purpose (a
    /// result), or refused it (an error).
    pub(super) fn listen_answer(&mut self, id: i64, outcome: &Outcome) {
        if self.listen.current != Some(id) {
            self.listen.replacing.retain(|r| *r != id);
            return;
        }
        self.listen.current = None;
        match outcome {
            Outcome::Result(_) => {
                self.listen_view(json!({"state": "closed", "requestId": id, "reason": "the server ended the stream (listen again to hear more)"}));
                self.answer_waiters(Err(LocalError::Transport(
                    "the server ended the listen stream".into(),
                )));
            }
            Outcome::Error(e) => {
                let why = format!("the server refused subscriptions/listen: {}", e.get());
                self.listen_view(json!({"state": "failed", "requestId": id, "reason": why}));
                self.answer_waiters(Err(LocalError::Refused(why)));
            }
        }
        self.confirm_subscriptions(&Value::Null);
    }

    /// The stream broke without an answer: listen again after a back-off.
    pub(super) fn listen_dropped(&mut self, id: i64, why: &str) {
        if self.listen.current != Some(id) {
            self.listen.replacing.retain(|r| *r != id);
            return;
        }
        self.listen.current = None;
        self.listen.drops += 1;
        let wait = crate::transport::backoff(self.listen.drops);
        self.listen.retry_at = Some(Instant::now() + wait);
        self.listen_view(json!({
            "state": "dropped",
            "requestId": id,
            "reason": format!("{why}; listening again in {} s (notifications sent meanwhile are lost)", wait.as_secs()),
            "drops": self.listen.drops,
        }));
    }

    /// A notification that belongs on a listen stream (true when it was one, checked).
    pub(super) fn stream_notification(
        &mut self,
        method: &str,
        params: Option<&Value>,
        seq: u64,
    ) -> bool {
        let key = if method == ACKNOWLEDGED {
            None
        } else {
            match STREAM_METHODS.iter().find(|(m, _)| *m == method) {
                Some((_, key)) => Some(*key),
                None => return false,
            }
        };
        let sid = params
            .and_then(|p| p.get("_meta"))
            .and_then(|m| m.get(SUBSCRIPTION_ID))
            .cloned();
        let ours = |id: i64| sid.as_ref().and_then(Value::as_i64) == Some(id);
        let stream = self
            .listen
            .current
            .filter(|id| ours(*id))
            .or_else(|| self.listen.replacing.iter().copied().find(|id| ours(*id)));
        let Some(stream) = stream else {
            let what = match &sid {
                None => "no subscriptionId".to_owned(),
                Some(v) => format!("subscriptionId {v}, which is no listen stream of ours"),
            };
            self.finding(
                Severity::Warning,
                format!("{method} arrived with {what}; the modern era sends it only on a subscriptions/listen stream"),
                seq,
            );
            return true;
        };
        match key {
            None if Some(stream) == self.listen.current => {
                let acknowledged = params
                    .and_then(|p| p.get("notifications"))
                    .cloned()
                    .unwrap_or_else(|| json!({}));
                self.listen.drops = 0;
                let mut view = self.listen.view.clone();
                view["state"] = json!("listening");
                view["acknowledged"] = acknowledged.clone();
                if let Some(v) = view.as_object_mut() {
                    v.remove("reason");
                }
                self.listen_view(view);
                self.replace_streams();
                self.confirm_subscriptions(&acknowledged);
                self.answer_waiters(Ok(acknowledged));
            }
            None => {}
            Some(key) => {
                let acknowledged = if Some(stream) == self.listen.current {
                    self.acknowledged()
                } else {
                    Value::Null
                };
                let uri = params.and_then(|p| p.get("uri")).and_then(Value::as_str);
                if !acknowledged.is_null() && !admits(&acknowledged, key, uri) {
                    self.finding(
                        Severity::Warning,
                        format!(
                            "{method} on listen stream {stream}, which did not acknowledge {key}{}",
                            uri.map_or_else(String::new, |u| format!(" for {u}"))
                        ),
                        seq,
                    );
                }
            }
        }
        true
    }

    /// The server ended a stdio listen with `notifications/cancelled` (the only request of ours
    /// it may cancel); true when that is what this was.
    pub(super) fn listen_cancelled(&mut self, request_id: &Value) -> bool {
        let Some(id) = request_id.as_i64() else {
            return false;
        };
        if self.listen.replacing.contains(&id) {
            self.engine.cancel(id);
            self.listen.replacing.retain(|r| *r != id);
            return true;
        }
        if self.listen.current != Some(id) {
            return false;
        }
        self.engine.cancel(id);
        self.listen_dropped(id, "the server cancelled the listen stream");
        true
    }

    fn acknowledged(&self) -> Value {
        self.listen
            .view
            .get("acknowledged")
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn view_state(&self) -> &str {
        self.listen
            .view
            .get("state")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// Closes the streams the current one replaces.
    fn replace_streams(&mut self) {
        for old in std::mem::take(&mut self.listen.replacing) {
            if self.engine.cancel(old).is_some() {
                self.send_cancelled(old, "replaced by a new subscriptions/listen");
            }
        }
    }

    fn answer_waiters(&mut self, answer: Result<Value, LocalError>) {
        for w in self.listen.waiting.drain(..) {
            let _ = w.send(answer.clone());
        }
    }

    fn listen_view(&mut self, view: Value) {
        self.listen.view = view.clone();
        self.reporter.update(|cur| cur.info.listen = Some(view));
    }

    /// The session's subscriptions are the resources the stream acknowledged.
    fn confirm_subscriptions(&self, acknowledged: &Value) {
        let uris: Vec<String> = acknowledged
            .get("resourceSubscriptions")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        self.reporter.update_if(|cur| {
            let changed = cur.info.subscriptions != uris;
            cur.info.subscriptions = uris;
            changed
        });
    }
}

#[cfg(test)]
mod tests {
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
}
