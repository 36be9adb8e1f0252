//! Our requests in flight: why each was sent, the progress token we add, the one deadline per
//! request (idle time without answer or progress, capped by a hard maximum), cancel, and the
//! in-flight view. Long-lived requests (tasks, listen streams) will live here too.

use std::time::{Instant, SystemTime};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{
    actor::Actor,
    handle::{Answer, LocalError},
};
use crate::wire::{Outcome, Timeout};

/// Why we sent a request: the API waits for it, or it is part of the handshake.
pub(super) enum Tag {
    Api(oneshot::Sender<Result<Answer, LocalError>>),
    Handshake,
}

impl Actor {
    pub(super) fn api_request(
        &mut self,
        method: String,
        params: Option<Value>,
        timeout: Timeout,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
    ) {
        if !self.connected {
            let _ = reply.send(Err(LocalError::NotConnected));
            return;
        }
        let (params, token) = with_progress_token(params, self.engine.peek_id());
        self.send_request(&method, params, timeout, token, Tag::Api(reply));
    }

    /// The answer to one of our requests, delivered to whoever waits for it.
    pub(super) fn response(&mut self, id: i64, outcome: Outcome, tag: Tag, seq: u64) {
        match tag {
            Tag::Api(tx) => {
                self.last_progress.remove(&id);
                let _ = tx.send(Ok(Answer { id, outcome }));
            }
            Tag::Handshake => self.handshake_answer(outcome, seq),
        }
    }

    /// Progress for one of our requests restarts its idle limit; the caller publishes it.
    pub(super) fn progress(&mut self, token: &Value, params: &Value) -> Option<i64> {
        let id = self.engine.request_for_progress(token)?;
        self.engine.touch(id, Instant::now());
        self.last_progress.insert(id, params.clone());
        Some(id)
    }

    /// Cancels one of our requests; false if it was not waiting.
    pub(super) fn cancel(&mut self, request_id: i64, reason: Option<String>) -> bool {
        let Some(req) = self.engine.cancel(request_id) else {
            return false;
        };
        self.last_progress.remove(&request_id);
        let reason = reason.unwrap_or_else(|| "cancelled by the user".into());
        self.send_cancelled(request_id, &reason);
        if let Tag::Api(tx) = req.tag {
            let _ = tx.send(Err(LocalError::Cancelled(reason)));
        }
        true
    }

    pub(super) fn inflight(&self) -> Vec<Value> {
        let now = Instant::now();
        let wall = SystemTime::now();
        self.engine
            .outstanding()
            .into_iter()
            .filter(|(_, o)| matches!(o.tag, Tag::Api(_)))
            .map(|(id, o)| {
                let elapsed = now - o.sent_at;
                json!({
                    "requestId": id,
                    "method": o.method,
                    "progressToken": o.progress_token,
                    "sentAt": humantime::format_rfc3339_micros(wall - elapsed).to_string(),
                    "elapsedMs": elapsed.as_millis() as u64,
                    "timeoutMs": o.timeout.map(|t| t.idle.as_millis() as u64),
                    "maxTotalMs": o.timeout.map(|t| t.max_total.as_millis() as u64),
                    "deadlineInMs": o.deadline.map(|d| d.saturating_duration_since(now).as_millis() as u64),
                    "progress": self.last_progress.get(&id),
                })
            })
            .collect()
    }

    pub(super) fn expire(&mut self) {
        for (id, req) in self.engine.expire(Instant::now()) {
            self.last_progress.remove(&id);
            let ms = req.deadline.map_or(0, |d| (d - req.sent_at).as_millis());
            let extendable = req.timeout.is_some_and(|t| t.max_total > t.idle);
            let why = if req.at_hard_maximum() && extendable {
                format!("still running after the {ms} ms maximum")
            } else {
                let idle = req.timeout.map_or(ms, |t| t.idle.as_millis());
                if ms > idle {
                    format!("no answer or progress for {idle} ms ({ms} ms in all)")
                } else {
                    format!("no answer within {ms} ms")
                }
            };
            self.send_cancelled(id, &format!("mcpscope: {why}"));
            match req.tag {
                Tag::Api(tx) => {
                    let _ = tx.send(Err(LocalError::Timeout(why)));
                }
                Tag::Handshake => self.fail(format!(
                    "the server did not answer initialize within {ms} ms{}",
                    self.stderr_hint()
                )),
            }
        }
    }

    /// One message of ours never reached the server (or its answer was lost): only its caller
    /// fails.
    pub(super) fn send_failed(&mut self, id: i64, message: String) {
        if let Some(req) = self.engine.fail(id) {
            self.last_progress.remove(&id);
            match req.tag {
                Tag::Api(tx) => {
                    let _ = tx.send(Err(LocalError::Transport(message)));
                }
                Tag::Handshake => self.fail(message),
            }
        }
    }

    /// The connection is over: every waiting call fails with why.
    pub(super) fn fail_all_inflight(&mut self, message: &str) {
        self.last_progress.clear();
        for (_, req) in self.engine.fail_all() {
            if let Tag::Api(tx) = req.tag {
                let _ = tx.send(Err(LocalError::Transport(format!(
                    "{message} before answering {}",
                    req.method
                ))));
            }
        }
    }
}

/// Adds `_meta.progressToken` unless the caller set one, so progress always shows.
fn with_progress_token(params: Option<Value>, id: i64) -> (Option<Value>, Option<Value>) {
    let mut params = params.unwrap_or_else(|| json!({}));
    let Some(obj) = params.as_object_mut() else {
        return (Some(params), None);
    };
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return (Some(params), None);
    };
    let token = meta
        .entry("progressToken")
        .or_insert_with(|| json!(format!("mcpscope-{id}")))
        .clone();
    (Some(params), Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_token_is_added_only_when_absent() {
        let (p, t) = with_progress_token(None, 3);
        assert_eq!(t, Some(json!("mcpscope-3")));
        assert_eq!(p.unwrap()["_meta"]["progressToken"], "mcpscope-3");
        let (p, t) = with_progress_token(Some(json!({"name":"x","_meta":{"progressToken":7}})), 4);
        assert_eq!(t, Some(json!(7)));
        assert_eq!(p.unwrap()["name"], "x");
    }
}
