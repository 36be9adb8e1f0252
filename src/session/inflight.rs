//! Our requests in flight: why each was sent, the progress token we add, the one deadline per
//! request (idle time without answer or progress, capped by a hard maximum), cancel, the
//! in-flight view (naming what each request acts on), and the tokens of requests we gave up on,
//! whose progress may still be on its way. Long-lived requests (tasks, listen streams) will live
//! here too.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant, SystemTime},
};

use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::{
    actor::Actor,
    handle::{Answer, LocalError},
    results::Next,
};
use crate::{
    events::Ended,
    wire::{Outcome, Outstanding, Timeout},
};

/// How many requests we gave up on are remembered for the progress that races the end.
const ENDED_MEMORY: usize = 256;

/// Why we sent a request: the API waits for it, or it is part of establishing the session.
#[derive(Debug)]
pub(super) enum Tag {
    Api {
        reply: oneshot::Sender<Result<Answer, LocalError>>,
        /// What the request acts on (a tool, a prompt, a resource), for the in-flight view.
        subject: Option<String>,
        /// Modern era only: the params as the caller gave them, which a retry after input
        /// rounds must repeat, and which round of which first request this is.
        original: Option<Value>,
        round: Option<Round>,
    },
    /// The legacy `initialize`.
    Handshake,
    /// The modern `server/discover` probe; `retried` once the server named a version we share.
    Discover { retried: bool },
    /// The modern `subscriptions/listen` stream: no deadline, ends only when it breaks.
    Listen,
    /// Following a task: `tasks/get`, `tasks/result`, `tasks/cancel`, `tasks/update`.
    Task {
        task_id: String,
        op: super::tasks::TaskOp,
    },
}

/// Which round of a call this request is: the first request's id, and its number (2 = the first
/// retry).
#[derive(Debug, Clone, Copy)]
pub(super) struct Round {
    pub origin_id: i64,
    pub number: u32,
}

/// Whose progress a notification is: a request in flight, or one we gave up on (`after`: how,
/// and how many milliseconds ago).
pub(super) struct ProgressOwner {
    pub(super) id: i64,
    pub(super) after: Option<(Ended, u64)>,
}

/// What we keep of our requests besides the engine's pending map (which owns the requests,
/// their tags and deadlines): the latest progress of each, for the in-flight view, and the
/// tokens of those we gave up on.
#[derive(Default)]
pub(super) struct InFlight {
    progress: HashMap<i64, Value>,
    ended: EndedTokens,
}

impl InFlight {
    /// Progress arrived for request `id`.
    pub(super) fn progressed(&mut self, id: i64, params: &Value) {
        self.progress.insert(id, params.clone());
    }

    /// Request `id` got its answer or failed: nothing more to show of its progress.
    pub(super) fn finished(&mut self, id: i64) {
        self.progress.remove(&id);
    }

    /// We gave up on request `id` (`how`): its progress may still come, and is still its.
    pub(super) fn gave_up(&mut self, id: i64, token: Option<Value>, how: Ended, now: Instant) {
        self.progress.remove(&id);
        self.ended.remember(token, id, how, now);
    }

    /// Whose progress a token is, among the requests we gave up on.
    pub(super) fn late_owner(&self, token: &Value, now: Instant) -> Option<ProgressOwner> {
        self.ended.owner(token, now)
    }

    pub(super) fn progress_of(&self, id: i64) -> Option<&Value> {
        self.progress.get(&id)
    }

    /// The connection is over.
    pub(super) fn clear(&mut self) {
        self.progress.clear();
    }
}

/// The progress tokens of the last [`ENDED_MEMORY`] requests we cancelled or let time out. The
/// spec lets progress race a cancel, so such progress belongs to its request, not to no one.
#[derive(Default)]
struct EndedTokens(VecDeque<EndedRequest>);

struct EndedRequest {
    token: Value,
    id: i64,
    how: Ended,
    at: Instant,
}

impl EndedTokens {
    fn remember(&mut self, token: Option<Value>, id: i64, how: Ended, at: Instant) {
        let Some(token) = token else {
            return;
        };
        if self.0.len() == ENDED_MEMORY {
            self.0.pop_front();
        }
        self.0.push_back(EndedRequest { token, id, how, at });
    }

    /// The newest ended request with this token (a caller may reuse its own tokens).
    fn owner(&self, token: &Value, now: Instant) -> Option<ProgressOwner> {
        let e = self.0.iter().rev().find(|e| e.token == *token)?;
        Some(ProgressOwner {
            id: e.id,
            after: Some((e.how, millis(now.saturating_duration_since(e.at)))),
        })
    }
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
        let subject = subject(&method, params.as_ref());
        if method == "tools/call"
            && let Some(why) = subject.as_ref().and_then(|t| self.tool_headers.excluded(t))
        {
            let _ = reply.send(Err(LocalError::Refused(why)));
            return;
        }
        let (params, token) = with_progress_token(params, self.engine.peek_id());
        let original = if self.modern { params.clone() } else { None };
        self.send_request(
            &method,
            params,
            Some(timeout),
            token,
            Tag::Api {
                reply,
                subject,
                original,
                round: None,
            },
        );
    }

    /// The answer to one of our requests, delivered to whoever waits for it.
    pub(super) fn response(
        &mut self,
        id: i64,
        outcome: Outcome,
        request: Outstanding<Tag>,
        seq: u64,
    ) {
        match request.tag {
            Tag::Api {
                reply: tx,
                subject,
                original,
                round,
            } => {
                self.inflight.finished(id);
                let next = match &outcome {
                    Outcome::Result(result) if self.modern => {
                        self.modern_result(&request.method, result, seq)
                    }
                    Outcome::Result(result) => self
                        .legacy_task(&request.method, result)
                        .map(|task| Next::Task(task, false)),
                    Outcome::Error(_) => None,
                };
                // The task's creation is the call's answer, as it came; the task is followed
                // from here on.
                if let Some(Next::Task(task, modern)) = next {
                    let subject = subject.clone();
                    self.task_created(&request.method, subject, id, task, modern, seq);
                } else if let Some(Next::Input(asked)) = next {
                    let call = super::rounds::Call {
                        reply: tx,
                        subject,
                        method: request.method,
                        original,
                        timeout: request.timeout,
                        request_id: id,
                        round: round.unwrap_or(Round {
                            origin_id: id,
                            number: 1,
                        }),
                    };
                    return self.input_required(call, asked, seq);
                }
                if let (Outcome::Result(_), Some(uri)) = (&outcome, subject) {
                    self.subscription_confirmed(&request.method, uri);
                }
                let _ = tx.send(Ok(Answer { id, outcome }));
            }
            Tag::Handshake => self.handshake_answer(outcome, seq),
            Tag::Discover { retried } => self.discover_answer(outcome, seq, retried),
            Tag::Listen => self.listen_answer(id, &outcome),
            Tag::Task { task_id, op } => self.task_answer(id, task_id, op, outcome, seq),
        }
    }

    /// Progress for one of our requests restarts its idle limit; the caller publishes it. A
    /// token of a request we gave up on still names it; None means no request of ours.
    pub(super) fn progress(&mut self, token: &Value, params: &Value) -> Option<ProgressOwner> {
        let now = Instant::now();
        let Some(id) = self.engine.request_for_progress(token) else {
            return self.inflight.late_owner(token, now);
        };
        self.engine.touch(id, now);
        self.inflight.progressed(id, params);
        Some(ProgressOwner { id, after: None })
    }

    /// Cancels one of our requests (or a call waiting for its input rounds); false if it was
    /// not waiting.
    pub(super) fn cancel(&mut self, request_id: i64, reason: Option<String>) -> bool {
        let Some(req) = self.engine.cancel(request_id) else {
            return self.cancel_conversation(request_id, reason);
        };
        let now = Instant::now();
        self.inflight
            .gave_up(request_id, req.progress_token, Ended::Cancelled, now);
        let reason = reason.unwrap_or_else(|| "cancelled by the user".into());
        self.send_cancelled(request_id, &reason);
        if let Tag::Api { reply: tx, .. } = req.tag {
            let _ = tx.send(Err(LocalError::Cancelled {
                reason,
                request_id,
                elapsed_ms: millis(now - req.sent_at),
            }));
        }
        true
    }

    pub(super) fn inflight(&self) -> Vec<Value> {
        let now = Instant::now();
        let wall = SystemTime::now();
        self.engine
            .outstanding()
            .into_iter()
            .filter_map(|(id, o)| match &o.tag {
                Tag::Api { subject, .. } => Some((id, o, subject)),
                Tag::Handshake | Tag::Discover { .. } | Tag::Listen | Tag::Task { .. } => None,
            })
            .map(|(id, o, subject)| {
                let elapsed = now - o.sent_at;
                json!({
                    "requestId": id,
                    "method": o.method,
                    "subject": subject,
                    "progressToken": o.progress_token,
                    "sentAt": humantime::format_rfc3339_micros(wall - elapsed).to_string(),
                    "elapsedMs": millis(elapsed),
                    "timeoutMs": o.timeout.map(|t| t.idle.as_millis() as u64),
                    "maxTotalMs": o.timeout.map(|t| t.max_total.as_millis() as u64),
                    "deadlineInMs": o.deadline.map(|d| d.saturating_duration_since(now).as_millis() as u64),
                    "progress": self.inflight.progress_of(id),
                })
            })
            .chain(self.rounds.waiting_for_input())
            .collect()
    }

    pub(super) fn expire(&mut self) {
        let now = Instant::now();
        for (id, req) in self.engine.expire(now) {
            self.inflight
                .gave_up(id, req.progress_token.clone(), Ended::Timeout, now);
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
                Tag::Api { reply: tx, .. } => {
                    let _ = tx.send(Err(LocalError::Timeout {
                        message: why,
                        request_id: id,
                        elapsed_ms: millis(now - req.sent_at),
                    }));
                }
                Tag::Handshake => self.fail(format!(
                    "the server did not answer initialize within {ms} ms{}",
                    self.stderr_hint()
                )),
                Tag::Discover { .. } => {
                    self.not_modern(format!("no answer to server/discover within {ms} ms"));
                }
                Tag::Listen => {}
                Tag::Task { task_id, op } => self.task_request_failed(&task_id, op, why),
            }
        }
    }

    /// One message of ours never reached the server (or its answer was lost): only its caller
    /// fails.
    pub(super) fn send_failed(&mut self, id: i64, message: String) {
        if let Some(req) = self.engine.fail(id) {
            self.inflight.finished(id);
            match req.tag {
                Tag::Api { reply: tx, .. } => {
                    let _ = tx.send(Err(LocalError::Transport(message)));
                }
                Tag::Handshake => self.fail(message),
                Tag::Discover { .. } => self.not_modern(message),
                Tag::Listen => self.listen_dropped(id, &message),
                Tag::Task { task_id, op } => self.task_request_failed(&task_id, op, message),
            }
        }
    }

    /// The connection is over: every waiting call fails with why.
    pub(super) fn fail_all_inflight(&mut self, message: &str) {
        self.inflight.clear();
        self.fail_conversations(message);
        for (_, req) in self.engine.fail_all() {
            if let Tag::Api { reply: tx, .. } = req.tag {
                let _ = tx.send(Err(LocalError::Transport(format!(
                    "{message} before answering {}",
                    req.method
                ))));
            }
        }
    }
}

/// What a request acts on, as the in-flight view names it: the tool or prompt, or the resource.
fn subject(method: &str, params: Option<&Value>) -> Option<String> {
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        _ => return None,
    };
    params?.get(key)?.as_str().map(str::to_owned)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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

    #[test]
    fn the_subject_is_the_tool_prompt_or_resource() {
        let named = json!({"name": "echo", "uri": "file:///x"});
        assert_eq!(subject("tools/call", Some(&named)).as_deref(), Some("echo"));
        assert_eq!(
            subject("prompts/get", Some(&named)).as_deref(),
            Some("echo")
        );
        for method in [
            "resources/read",
            "resources/subscribe",
            "resources/unsubscribe",
        ] {
            assert_eq!(subject(method, Some(&named)).as_deref(), Some("file:///x"));
        }
        assert_eq!(subject("tools/list", Some(&named)), None);
        assert_eq!(subject("tools/call", Some(&json!({"name": 7}))), None);
        assert_eq!(subject("resources/read", None), None);
    }

    #[test]
    fn ended_tokens_are_bounded_and_the_newest_owner_wins() {
        let mut ended = EndedTokens::default();
        let t0 = Instant::now();
        ended.remember(None, 1, Ended::Cancelled, t0);
        ended.remember(Some(json!("a")), 2, Ended::Timeout, t0);
        ended.remember(Some(json!("a")), 3, Ended::Cancelled, t0);
        let later = t0 + Duration::from_millis(40);
        let owner = ended.owner(&json!("a"), later).unwrap();
        assert_eq!(owner.id, 3);
        assert_eq!(owner.after, Some((Ended::Cancelled, 40)));
        assert!(ended.owner(&json!("never"), later).is_none());
        for id in 10..10 + ENDED_MEMORY as i64 {
            ended.remember(Some(json!(id)), id, Ended::Timeout, t0);
        }
        assert_eq!(ended.0.len(), ENDED_MEMORY);
        assert!(ended.owner(&json!("a"), later).is_none(), "the oldest went");
        assert!(ended.owner(&json!(10), later).is_some());
    }

    #[test]
    fn progress_is_kept_while_a_request_runs_and_names_it_after_we_gave_up() {
        let mut inflight = InFlight::default();
        let t0 = Instant::now();
        inflight.progressed(5, &json!({"progress": 1}));
        assert_eq!(inflight.progress_of(5), Some(&json!({"progress": 1})));
        inflight.gave_up(5, Some(json!("tok")), Ended::Timeout, t0);
        assert_eq!(
            inflight.progress_of(5),
            None,
            "a request given up shows no progress"
        );
        let late = inflight
            .late_owner(&json!("tok"), t0 + Duration::from_millis(7))
            .unwrap();
        assert_eq!((late.id, late.after), (5, Some((Ended::Timeout, 7))));
        inflight.progressed(6, &json!({}));
        inflight.finished(6);
        assert_eq!(inflight.progress_of(6), None);
        inflight.progressed(7, &json!({}));
        inflight.clear();
        assert_eq!(inflight.progress_of(7), None);
    }
}
