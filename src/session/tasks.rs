//! Tasks, in both eras: a call whose answer creates a task (legacy 2025-11-25: a
//! `CreateTaskResult` `{task: {...}}`; the modern extension: a flat result with
//! `resultType: "task"`) is answered to its caller as it came, and the task is then followed here:
//! `tasks/get` at the server's poll interval until it ends, `notifications/tasks/status` taken as
//! a hint, the outcome fetched (legacy `tasks/result`, which is also how a legacy task's input
//! requests arrive) or read inline (modern), the modern `inputRequests` routed like any server
//! request and answered with `tasks/update`, and cancel on request. Each change is a `task` event;
//! `GET /api/tasks` lists them. Every one of these requests is an ordinary frame on the wire.
//! [`Tasks`] owns the tasks followed and asks the actor, through the outbox, for the requests
//! to send, the input requests to route, the events and the replies.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json, value::RawValue};
use tokio::sync::oneshot;

use tracked::{Tracked, poll_interval};
pub(super) use tracked::{is_terminal, task_fields};

use super::{
    actor::Actor,
    handle::{Answer, LocalError, ReplyTo},
    inflight::Tag,
    outbox::{Effect, Outbox},
};
use crate::{
    events::{Event, Severity, TaskView},
    wire::{Outcome, Timeout},
};

/// How long one `tasks/get` or `tasks/cancel` may take.
const TASK_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What one of our task requests was for.
#[derive(Debug)]
pub(super) enum TaskOp {
    Get,
    /// Legacy `tasks/result`: blocks until the task ends; input requests arrive meanwhile.
    Result,
    Cancel(Option<oneshot::Sender<Result<Answer, LocalError>>>),
    /// Modern `tasks/update` carrying these input keys.
    Update(Vec<String>),
}

#[derive(Default)]
pub(super) struct Tasks {
    by_id: HashMap<String, Tracked>,
    seq: u64,
}

impl Tasks {
    /// A task was created by our request `request_id`: follow it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn created(
        &mut self,
        method: &str,
        subject: Option<String>,
        request_id: i64,
        task: Map<String, Value>,
        modern: bool,
        seq: u64,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(id) = task
            .get("taskId")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            finding(
                out,
                Severity::Error,
                format!("the {method} answer creates a task without a string taskId"),
                seq,
            );
            return;
        };
        self.seq += 1;
        let tracked = Tracked {
            seq: self.seq,
            modern,
            method: method.to_owned(),
            subject,
            request_id,
            next_poll: Some(now + poll_interval(&task, modern)),
            task,
            outcome: None,
            lost: None,
            getting: false,
            fetching: false,
            routed: HashSet::new(),
            polls: 0,
            seen: now,
        };
        if self.by_id.insert(id.clone(), tracked).is_some() {
            finding(
                out,
                Severity::Warning,
                format!("task {id:?} was created again: the server reused a taskId"),
                seq,
            );
        }
        self.changed(&id, out);
    }

    /// When the next `tasks/get` is due.
    pub(super) fn next_poll(&self) -> Option<Instant> {
        self.by_id
            .values()
            .filter(|t| !t.getting)
            .filter_map(|t| t.next_poll)
            .min()
    }

    /// Sends `tasks/get` for every task whose poll is due.
    pub(super) fn poll(&mut self, now: Instant, out: &mut Outbox) {
        let due: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, t)| !t.getting && t.next_poll.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            self.request("tasks/get", &id, TaskOp::Get, None, out);
        }
    }

    fn request(
        &mut self,
        method: &'static str,
        id: &str,
        op: TaskOp,
        extra: Option<(&str, Value)>,
        out: &mut Outbox,
    ) {
        let Some(t) = self.by_id.get_mut(id) else {
            return;
        };
        let timeout = match op {
            TaskOp::Get => {
                t.getting = true;
                t.next_poll = None;
                t.polls += 1;
                Some(Timeout::fixed(TASK_REQUEST_TIMEOUT))
            }
            // It blocks until the task ends, which may take as long as the task's TTL.
            TaskOp::Result => {
                t.fetching = true;
                None
            }
            TaskOp::Cancel(_) | TaskOp::Update(_) => Some(Timeout::fixed(TASK_REQUEST_TIMEOUT)),
        };
        let mut params = json!({ "taskId": id });
        if let Some((key, value)) = extra {
            params[key] = value;
        }
        out.push(Effect::TaskRequest {
            method,
            params,
            timeout,
            tag: Tag::Task {
                task_id: id.to_owned(),
                op,
            },
        });
    }

    /// The answer to one of our task requests.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn answer(
        &mut self,
        request_id: i64,
        id: String,
        op: TaskOp,
        outcome: Outcome,
        seq: u64,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(t) = self.by_id.get_mut(&id) else {
            if let TaskOp::Cancel(Some(reply)) = op {
                out.push(Effect::Reply {
                    to: reply,
                    result: Err(LocalError::NotConnected),
                });
            }
            return;
        };
        let modern = t.modern;
        match op {
            TaskOp::Get => {
                t.getting = false;
                let raw = match &outcome {
                    Outcome::Result(raw) => raw,
                    Outcome::Error(e) => {
                        t.lost = Some(format!("tasks/get answered an error: {}", e.get()));
                        t.next_poll = None;
                        return self.changed(&id, out);
                    }
                };
                let Ok(Value::Object(result)) = serde_json::from_str(raw.get()) else {
                    t.lost = Some("tasks/get answered something that is not an object".into());
                    return self.changed(&id, out);
                };
                t.task.extend(task_fields(&result, modern));
                if modern {
                    if let Some(r) = result.get("result") {
                        t.outcome = Some(json!({ "result": r }));
                    } else if let Some(e) = result.get("error") {
                        t.outcome = Some(json!({ "error": e }));
                    }
                }
                self.after_status(&id, modern.then_some(&result), seq, now, out);
            }
            TaskOp::Result => {
                t.fetching = false;
                let parse = |raw: &RawValue| {
                    serde_json::from_str::<Value>(raw.get()).unwrap_or(Value::Null)
                };
                t.outcome = Some(match &outcome {
                    Outcome::Result(r) => json!({ "result": parse(r) }),
                    Outcome::Error(e) => json!({ "error": parse(e) }),
                });
                // The outcome is there; one more look tells the final status.
                if !is_terminal(t.status()) && !t.getting {
                    t.next_poll = Some(now);
                }
                self.changed(&id, out);
            }
            TaskOp::Cancel(reply) => {
                if let Outcome::Result(raw) = &outcome
                    && !modern
                    && let Ok(Value::Object(task)) = serde_json::from_str::<Value>(raw.get())
                {
                    t.task.extend(task_fields(&task, false));
                }
                // Cooperative in the modern era (and worth confirming in both): look again soon.
                if !t.getting && !t.done() {
                    t.next_poll = Some(now);
                }
                if let Some(reply) = reply {
                    out.push(Effect::Reply {
                        to: reply,
                        result: Ok(Answer {
                            id: request_id,
                            outcome,
                        }),
                    });
                }
                self.after_status(&id, None, seq, now, out);
            }
            TaskOp::Update(keys) => {
                if let Outcome::Error(e) = &outcome {
                    let message = format!(
                        "tasks/update for task {id:?} (keys {keys:?}) was refused: {}",
                        e.get()
                    );
                    for key in keys {
                        t.routed.remove(&key);
                    }
                    finding(out, Severity::Warning, message, seq);
                }
            }
        }
    }

    /// What a new status asks of us: fetch the outcome (legacy), route input requests (modern),
    /// or keep polling.
    fn after_status(
        &mut self,
        id: &str,
        modern_result: Option<&Map<String, Value>>,
        seq: u64,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(t) = self.by_id.get_mut(id) else {
            return;
        };
        let status = t.status().map(str::to_owned);
        let terminal = is_terminal(status.as_deref());
        let mut fetch = false;
        let mut inputs = Vec::new();
        let mut missing = None;
        if t.modern {
            if status.as_deref() == Some("input_required")
                && let Some(Value::Object(requests)) =
                    modern_result.and_then(|r| r.get("inputRequests"))
            {
                for (key, req) in requests {
                    if t.routed.insert(key.clone()) {
                        inputs.push((key.clone(), req.clone()));
                    }
                }
            }
            if modern_result.is_some() && !t.done() && terminal {
                missing = Some(format!(
                    "tasks/get says task {id:?} is {} but carries no {}",
                    status.as_deref().unwrap_or("?"),
                    if status.as_deref() == Some("failed") {
                        "error"
                    } else {
                        "result"
                    }
                ));
            }
        } else if matches!(
            status.as_deref(),
            Some("completed" | "failed" | "input_required")
        ) && t.outcome.is_none()
            && !t.fetching
        {
            // The spec's way to a legacy task's outcome, and to the requests it waits on.
            fetch = true;
        }
        // A poll already due stays due: status notices arrive about as often as polls, and
        // each one pushing the next poll back would starve polling (the spec says keep polling).
        if !terminal && !t.getting && t.next_poll.is_none() {
            t.next_poll = Some(now + poll_interval(&t.task, t.modern));
        } else if terminal {
            t.next_poll = None;
        }
        self.changed(id, out);
        if let Some(message) = missing {
            finding(out, Severity::Warning, message, seq);
        }
        if fetch {
            self.request("tasks/result", id, TaskOp::Result, None, out);
        }
        for (key, req) in inputs {
            let Some(method) = req.get("method").and_then(Value::as_str) else {
                finding(
                    out,
                    Severity::Error,
                    format!("task {id:?}: input request {key:?} has no method"),
                    seq,
                );
                continue;
            };
            let params = req.get("params").cloned().unwrap_or_else(|| json!({}));
            let reply_to = ReplyTo::TaskInput {
                task_id: id.to_owned(),
                key,
            };
            out.push(Effect::Route {
                reply_to,
                method: method.to_owned(),
                params,
                seq,
            });
        }
    }

    /// A modern task's input request got its answer: `tasks/update` carries it.
    pub(super) fn input_answered(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        out: &mut Outbox,
    ) {
        let ReplyTo::TaskInput { task_id, key } = reply_to else {
            return;
        };
        match outcome {
            Ok(result) => {
                let responses = json!({ key.clone(): result });
                self.request(
                    "tasks/update",
                    task_id,
                    TaskOp::Update(vec![key.clone()]),
                    Some(("inputResponses", responses)),
                    out,
                );
            }
            Err(error) => {
                if let Some(t) = self.by_id.get_mut(task_id) {
                    // Asked again at the next poll, so a person can answer it properly.
                    t.routed.remove(key);
                }
                out.push(Effect::Publish(Event::Finding {
                    severity: Severity::Warning,
                    message: format!(
                        "input request {key:?} of task {task_id:?} was answered with an error ({error}); tasks/update cannot carry an error, so nothing was sent"
                    ),
                    frame_seq: None,
                }));
            }
        }
    }

    /// `notifications/tasks/status` (legacy): a hint, never relied on; the next poll confirms.
    pub(super) fn status_notice(
        &mut self,
        params: Option<&Value>,
        seq: u64,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(Value::Object(fields)) = params else {
            return;
        };
        let Some(id) = fields.get("taskId").and_then(Value::as_str) else {
            return;
        };
        // A task's first status notice may arrive before the answer that creates it (the
        // server sends both at once), so an unknown task is no finding: the notice is in the
        // timeline, and the poll that follows the creation reads the same status.
        let Some(t) = self.by_id.get_mut(id) else {
            return;
        };
        t.task.extend(task_fields(fields, false));
        let id = id.to_owned();
        self.after_status(&id, None, seq, now, out);
    }

    /// `tasks/cancel` for a task we follow; the caller gets the server's answer.
    pub(super) fn cancel(
        &mut self,
        id: &str,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
        out: &mut Outbox,
    ) {
        if !self.by_id.contains_key(id) {
            out.push(Effect::Reply {
                to: reply,
                result: Err(LocalError::Unsupported(format!(
                    "task {id:?} is not one this session follows"
                ))),
            });
            return;
        }
        self.request("tasks/cancel", id, TaskOp::Cancel(Some(reply)), None, out);
    }

    /// A task request of ours timed out or never got through.
    pub(super) fn request_failed(
        &mut self,
        id: &str,
        op: TaskOp,
        why: String,
        now: Instant,
        out: &mut Outbox,
    ) {
        let Some(t) = self.by_id.get_mut(id) else {
            return;
        };
        match op {
            TaskOp::Get => {
                t.getting = false;
                t.next_poll = Some(now + poll_interval(&t.task, t.modern));
            }
            TaskOp::Result => t.fetching = false,
            TaskOp::Cancel(reply) => {
                if let Some(reply) = reply {
                    out.push(Effect::Reply {
                        to: reply,
                        result: Err(LocalError::Transport(why)),
                    });
                }
            }
            TaskOp::Update(keys) => {
                for key in keys {
                    t.routed.remove(&key);
                }
            }
        }
    }

    /// Every task this connection follows, newest first.
    pub(super) fn view(&self) -> Vec<TaskView> {
        let mut list: Vec<(&String, &Tracked)> = self.by_id.iter().collect();
        list.sort_by_key(|(_, t)| std::cmp::Reverse(t.seq));
        list.into_iter().map(|(id, t)| t.view(id)).collect()
    }

    fn changed(&self, id: &str, out: &mut Outbox) {
        if let Some(t) = self.by_id.get(id) {
            out.push(Effect::Publish(Event::Task(Box::new(t.view(id)))));
        }
    }
}

impl Actor {
    /// A task was created by our request `request_id`: follow it.
    pub(super) fn task_created(
        &mut self,
        method: &str,
        subject: Option<String>,
        request_id: i64,
        task: Map<String, Value>,
        modern: bool,
        seq: u64,
    ) {
        self.through(|a, out| {
            a.tasks.created(
                method,
                subject,
                request_id,
                task,
                modern,
                seq,
                Instant::now(),
                out,
            )
        });
    }

    /// When the next `tasks/get` is due.
    pub(super) fn next_task_poll(&self) -> Option<Instant> {
        self.tasks.next_poll()
    }

    /// Sends `tasks/get` for every task whose poll is due.
    pub(super) fn poll_tasks(&mut self) {
        self.through(|a, out| a.tasks.poll(Instant::now(), out));
    }

    /// The answer to one of our task requests.
    pub(super) fn task_answer(
        &mut self,
        request_id: i64,
        id: String,
        op: TaskOp,
        outcome: Outcome,
        seq: u64,
    ) {
        self.through(|a, out| {
            a.tasks
                .answer(request_id, id, op, outcome, seq, Instant::now(), out)
        });
    }

    /// A modern task's input request got its answer: `tasks/update` carries it.
    pub(super) fn task_input_answered(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
    ) {
        self.through(|a, out| a.tasks.input_answered(reply_to, outcome, out));
    }

    /// `notifications/tasks/status` (legacy): a hint, never relied on; the next poll confirms.
    pub(super) fn task_status(&mut self, params: Option<&Value>, seq: u64) {
        self.through(|a, out| a.tasks.status_notice(params, seq, Instant::now(), out));
    }

    /// `tasks/cancel` for a task we follow; the caller gets the server's answer.
    pub(super) fn cancel_task(
        &mut self,
        id: &str,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
    ) {
        self.through(|a, out| a.tasks.cancel(id, reply, out));
    }

    /// A task request of ours timed out or never got through.
    pub(super) fn task_request_failed(&mut self, id: &str, op: TaskOp, why: String) {
        self.through(|a, out| a.tasks.request_failed(id, op, why, Instant::now(), out));
    }

    /// Every task this connection follows, newest first.
    pub(super) fn tasks_view(&self) -> Vec<TaskView> {
        self.tasks.view()
    }
}

/// A finding about the frame `seq`, published through the outbox.
fn finding(out: &mut Outbox, severity: Severity, message: String, seq: u64) {
    out.push(Effect::Publish(Event::Finding {
        severity,
        message,
        frame_seq: Some(seq),
    }));
}

mod tracked;

#[cfg(test)]
mod tests;
