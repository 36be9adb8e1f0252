//! The server's notifications that change what the session knows: progress (tied back to our
//! request, even one we already gave up on, and extending its deadline), the server withdrawing one of its requests, and the end
//! of a URL elicitation. Every notification is already a `frame` event; the rest only look.

use serde_json::Value;

use super::{actor::Actor, handle::ReplyTo};
use crate::events::{Event, Severity};

impl Actor {
    pub(super) fn notification(&mut self, method: &str, params: Option<Value>, seq: u64) {
        self.lists.changed(method);
        if self.modern && self.stream_notification(method, params.as_ref(), seq) {
            return;
        }
        match method {
            "notifications/progress" => {
                let params = params.unwrap_or(Value::Null);
                let token = params.get("progressToken").cloned().unwrap_or(Value::Null);
                let owner = self.progress(&token, &params);
                if owner.is_none() {
                    self.finding(
                        Severity::Warning,
                        format!(
                            "progress for token {token}, which belongs to no request in flight"
                        ),
                        seq,
                    );
                }
                let after = owner.as_ref().and_then(|o| o.after);
                self.reporter.publish(Event::Progress {
                    request_id: owner.map(|o| Value::from(o.id)),
                    progress_token: token,
                    progress: params.get("progress").cloned().unwrap_or(Value::Null),
                    total: params.get("total").cloned(),
                    message: params.get("message").cloned(),
                    after: after.map(|(how, _)| how),
                    after_ms: after.map(|(_, ms)| ms),
                });
            }
            "notifications/cancelled" => {
                if let Some(id) = params.as_ref().and_then(|p| p.get("requestId"))
                    && !(self.modern && self.listen_cancelled(id))
                {
                    self.withdraw(&ReplyTo::JsonRpc(id.clone()));
                }
            }
            "notifications/tasks/status" => self.task_status(params.as_ref(), seq),
            "notifications/elicitation/complete" => {
                let eid = params
                    .as_ref()
                    .and_then(|p| p.get("elicitationId"))
                    .and_then(Value::as_str);
                let known = eid.is_some_and(|e| self.server_requests.knows_elicitation(e));
                if !known {
                    self.finding(
                        Severity::Warning,
                        format!(
                            "notifications/elicitation/complete for {}, which no URL elicitation of this session used",
                            eid.map_or_else(|| "a missing elicitationId".to_owned(), |e| format!("{e:?}"))
                        ),
                        seq,
                    );
                }
            }
            _ => {}
        }
    }
}
