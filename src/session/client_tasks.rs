//! The client as a task receiver (2025-11-25 tasks; the modern era has none, since its tasks
//! extension dropped client-hosted tasks). A server's `sampling/createMessage` or
//! `elicitation/create` carrying `task`, for a method the client declared under
//! `tasks.requests`, gets a CreateTaskResult at once; the request itself then waits for the
//! responders or a person like any other, under [`ReplyTo::ClientTask`]. The server follows it
//! with `tasks/get`, `tasks/result` (held until the task ends, as the spec says), `tasks/list`
//! and `tasks/cancel`. Each change goes to the server as `notifications/tasks/status` and to the
//! Tasks tab as a `task` event with `side: "client"`. [`ClientTasks`] owns the hosted tasks and
//! asks the actor for the rest (answers, notices, routing the request) through the outbox.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};

use super::{
    actor::Actor,
    handle::ReplyTo,
    now_rfc3339,
    outbox::{Effect, Outbox},
};
use crate::events::{Era, Event, TaskSide, TaskView};

/// A task's life when the server asks for none, and the bounds on what it may ask: a task
/// waiting for a person should outlive a coffee, not the day.
const DEFAULT_TTL: Duration = Duration::from_secs(300);
const MIN_TTL: Duration = Duration::from_secs(10);
const MAX_TTL: Duration = Duration::from_secs(3600);
/// How often we suggest the server polls.
const POLL_INTERVAL_MS: u64 = 1000;
/// Tasks held at once per connection; a server asking for more gets an error.
const MAX_TASKS: usize = 256;
const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

struct Hosted {
    seq: u64,
    method: String,
    /// The id of the server's request that created it.
    server_id: Value,
    /// taskId, status, statusMessage, createdAt, lastUpdatedAt, ttl, pollInterval.
    task: Map<String, Value>,
    outcome: Option<Result<Value, Value>>,
    /// The ids of the server's `tasks/result` requests waiting for the end.
    waiters: Vec<Value>,
    expires_at: Instant,
    /// The server's `tasks/get` requests so far.
    polls: u64,
    answered_by: Option<Value>,
}

impl Hosted {
    fn status(&self) -> Option<&str> {
        self.task.get("status").and_then(Value::as_str)
    }

    fn ended(&self) -> bool {
        super::tasks::is_terminal(self.status())
    }

    fn set_status(&mut self, status: &str, message: Option<String>) {
        self.task.insert("status".into(), status.into());
        match message {
            Some(m) => self.task.insert("statusMessage".into(), m.into()),
            None => self.task.remove("statusMessage"),
        };
        self.task
            .insert("lastUpdatedAt".into(), now_rfc3339().into());
    }

    /// As the Tasks tab shows tasks (the server-side ones' shape, plus `side`).
    fn view(&self, id: &str, lost: Option<&str>) -> TaskView {
        let field = |k: &str| self.task.get(k).cloned();
        TaskView {
            task_id: id.to_owned(),
            side: TaskSide::Client,
            era: Era::Legacy,
            method: self.method.clone(),
            subject: Some(self.method.clone()),
            request_id: None,
            server_request_id: Some(self.server_id.clone()),
            status: field("status"),
            status_message: field("statusMessage"),
            created_at: field("createdAt"),
            last_updated_at: field("lastUpdatedAt"),
            ttl_ms: field("ttl"),
            poll_interval_ms: POLL_INTERVAL_MS,
            task: Value::Object(self.task.clone()),
            outcome: self.outcome.as_ref().map(|o| match o {
                Ok(r) => json!({"result": r}),
                Err(e) => json!({"error": e}),
            }),
            // A hosted task's view always says who answered (null until someone has).
            answered_by: Some(self.answered_by.clone().unwrap_or(Value::Null)),
            lost: lost.map(str::to_owned),
            polls: self.polls,
            seen_ms: None,
        }
    }
}

#[derive(Default)]
pub(super) struct ClientTasks {
    by_id: HashMap<String, Hosted>,
    seq: u64,
}

impl ClientTasks {
    /// When the next task outlives its TTL.
    pub(super) fn next_expiry(&self) -> Option<Instant> {
        self.by_id.values().map(|t| t.expires_at).min()
    }
}

fn new_task_id() -> String {
    format!("mcpscope-{}", crate::net::random_hex(16))
}

fn invalid(message: String) -> Value {
    json!({"code": -32602, "message": message})
}

impl ClientTasks {
    /// Creates the task, answers the server with it at once, then routes the request itself
    /// (responders, delay, or a person) to end the task.
    pub(super) fn host(
        &mut self,
        reply_to: ReplyTo,
        method: String,
        params: Value,
        seq: u64,
        now: Instant,
        out: &mut Outbox,
    ) {
        if self.by_id.len() >= MAX_TASKS {
            self.drop_ended_tasks();
        }
        if self.by_id.len() >= MAX_TASKS {
            let error = json!({"code": -32603, "message": format!("the client already holds {MAX_TASKS} tasks")});
            out.push(Effect::Answer {
                reply_to,
                outcome: Err(error),
                answered_by: json!({"responder": "tasks"}),
            });
            return;
        }
        let ReplyTo::JsonRpc(server_id) = &reply_to else {
            return;
        };
        let ttl = params
            .pointer("/task/ttl")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_TTL, Duration::from_millis)
            .clamp(MIN_TTL, MAX_TTL);
        let id = new_task_id();
        let stamp = now_rfc3339();
        let task = json!({
            "taskId": id, "status": "working", "createdAt": stamp, "lastUpdatedAt": stamp,
            "ttl": ttl.as_millis() as u64, "pollInterval": POLL_INTERVAL_MS,
        });
        self.seq += 1;
        let hosted = Hosted {
            seq: self.seq,
            method: method.clone(),
            server_id: server_id.clone(),
            task: task.as_object().cloned().unwrap_or_default(),
            outcome: None,
            waiters: Vec::new(),
            expires_at: now + ttl,
            polls: 0,
            answered_by: None,
        };
        self.by_id.insert(id.clone(), hosted);
        // The CreateTaskResult goes out before anything can end the task (a rule with no delay
        // answers within the route below).
        out.push(Effect::Answer {
            reply_to,
            outcome: Ok(json!({"task": task})),
            answered_by: json!({"responder": "tasks", "taskId": id}),
        });
        self.changed(&id, false, out);
        out.push(Effect::Route {
            reply_to: ReplyTo::ClientTask { task_id: id },
            method,
            params,
            seq,
        });
    }

    /// The answer to a hosted task's request: the task ends with it.
    pub(super) fn answered(
        &mut self,
        task_id: &str,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
        out: &mut Outbox,
    ) {
        let Some(t) = self.by_id.get_mut(task_id) else {
            return;
        };
        if t.ended() {
            return;
        }
        match outcome {
            Ok(result) => {
                t.set_status("completed", None);
                t.outcome = Some(Ok(result.clone()));
            }
            Err(error) => {
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                t.set_status("failed", message);
                t.outcome = Some(Err(error.clone()));
            }
        }
        t.answered_by = Some(answered_by);
        self.release_waiters(task_id, out);
        self.changed(task_id, true, out);
    }

    /// The server's `tasks/*` requests about the tasks we host.
    pub(super) fn request(
        &mut self,
        reply_to: ReplyTo,
        method: &str,
        params: &Value,
        out: &mut Outbox,
    ) {
        let answered_by = json!({"responder": "tasks"});
        if method == "tasks/list" {
            let outcome = if params.get("cursor").is_some() {
                Err(invalid(
                    "tasks/list: unknown cursor (the list has one page)".into(),
                ))
            } else {
                let mut tasks: Vec<&Hosted> = self.by_id.values().collect();
                tasks.sort_by_key(|t| t.seq);
                Ok(json!({"tasks": tasks.iter().map(|t| &t.task).collect::<Vec<_>>()}))
            };
            out.push(Effect::Answer {
                reply_to,
                outcome,
                answered_by,
            });
            return;
        }
        let id = params.get("taskId").and_then(Value::as_str).unwrap_or("");
        let Some(t) = self.by_id.get_mut(id) else {
            out.push(Effect::Answer {
                reply_to,
                outcome: Err(invalid(format!(
                    "{method}: no task {id:?} (unknown or expired)"
                ))),
                answered_by,
            });
            return;
        };
        match method {
            "tasks/get" => {
                t.polls += 1;
                out.push(Effect::Answer {
                    reply_to,
                    outcome: Ok(Value::Object(t.task.clone())),
                    answered_by,
                });
                self.changed(id, false, out);
            }
            "tasks/result" => {
                let ReplyTo::JsonRpc(server_id) = reply_to else {
                    return;
                };
                t.waiters.push(server_id);
                if t.ended() {
                    self.release_waiters(id, out);
                }
            }
            "tasks/cancel" => {
                if t.ended() {
                    let error = invalid(format!(
                        "tasks/cancel: task {id} already {}",
                        t.status().unwrap_or_default()
                    ));
                    out.push(Effect::Answer {
                        reply_to,
                        outcome: Err(error),
                        answered_by,
                    });
                    return;
                }
                t.set_status("cancelled", Some("cancelled by the server".into()));
                t.outcome = Some(Err(
                    json!({"code": -32603, "message": "the task was cancelled"}),
                ));
                out.push(Effect::Answer {
                    reply_to,
                    outcome: Ok(Value::Object(t.task.clone())),
                    answered_by,
                });
                out.push(Effect::Withdraw(ReplyTo::ClientTask {
                    task_id: id.to_owned(),
                }));
                self.release_waiters(id, out);
                self.changed(id, true, out);
            }
            _ => {}
        }
    }

    /// Answers every held `tasks/result` of an ended task: the request's own outcome, with the
    /// related-task `_meta` the spec asks for on a result (a JSON-RPC error has no `_meta`; it
    /// answers the very request that named the task, so it needs none).
    fn release_waiters(&mut self, task_id: &str, out: &mut Outbox) {
        let Some(t) = self.by_id.get_mut(task_id) else {
            return;
        };
        let Some(outcome) = t.outcome.clone() else {
            return;
        };
        let waiters = std::mem::take(&mut t.waiters);
        let outcome = outcome.map(|mut result| {
            if let Some(obj) = result.as_object_mut() {
                let meta = obj.entry("_meta").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    meta.insert(RELATED_TASK.into(), json!({"taskId": task_id}));
                }
            }
            result
        });
        for id in waiters {
            out.push(Effect::Answer {
                reply_to: ReplyTo::JsonRpc(id),
                outcome: outcome.clone(),
                answered_by: json!({"responder": "tasks", "taskId": task_id}),
            });
        }
    }

    /// The server gave up on a held `tasks/result`.
    pub(super) fn withdraw_waiter(&mut self, server_id: &Value) {
        for t in self.by_id.values_mut() {
            t.waiters.retain(|w| w != server_id);
        }
    }

    /// Tasks past their TTL are gone: their request leaves the queue, a held `tasks/result`
    /// is told, and the Tasks tab shows them lost.
    pub(super) fn expire(&mut self, now: Instant, out: &mut Outbox) {
        let expired: Vec<String> = self
            .by_id
            .iter()
            .filter(|(_, t)| t.expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            out.push(Effect::Withdraw(ReplyTo::ClientTask {
                task_id: id.clone(),
            }));
            let Some(t) = self.by_id.remove(&id) else {
                continue;
            };
            // An ended task is simply forgotten: the tab keeps its outcome, not "lost".
            if t.ended() {
                continue;
            }
            let error = invalid(format!("tasks/result: task {id} expired (its ttl passed)"));
            for w in &t.waiters {
                out.push(Effect::Answer {
                    reply_to: ReplyTo::JsonRpc(w.clone()),
                    outcome: Err(error.clone()),
                    answered_by: json!({"responder": "tasks"}),
                });
            }
            out.push(Effect::Publish(Event::Task(Box::new(
                t.view(&id, Some("expired: its ttl passed")),
            ))));
        }
    }

    /// Room for new tasks: ended ones go, oldest first, until a quarter is free.
    fn drop_ended_tasks(&mut self) {
        let mut ended: Vec<(u64, String)> = self
            .by_id
            .iter()
            .filter(|(_, t)| t.ended())
            .map(|(id, t)| (t.seq, id.clone()))
            .collect();
        ended.sort();
        for (_, id) in ended.into_iter().take(MAX_TASKS / 4) {
            self.by_id.remove(&id);
        }
    }

    /// Publishes the task's view; `notify` also tells the server (its status changed).
    fn changed(&self, id: &str, notify: bool, out: &mut Outbox) {
        let Some(t) = self.by_id.get(id) else {
            return;
        };
        if notify {
            out.push(Effect::Notify {
                method: "notifications/tasks/status",
                params: Value::Object(t.task.clone()),
            });
        }
        out.push(Effect::Publish(Event::Task(Box::new(t.view(id, None)))));
    }

    /// The hosted tasks as the Tasks tab lists them, newest first.
    pub(super) fn view(&self) -> Vec<TaskView> {
        let mut list: Vec<(&String, &Hosted)> = self.by_id.iter().collect();
        list.sort_by_key(|(_, t)| std::cmp::Reverse(t.seq));
        list.into_iter().map(|(id, t)| t.view(id, None)).collect()
    }
}

impl Actor {
    /// Creates the task, answers the server with it at once, then routes the request itself
    /// (responders, delay, or a person) to end the task.
    pub(super) fn host_task(&mut self, reply_to: ReplyTo, method: String, params: Value, seq: u64) {
        self.through(|a, out| {
            a.client_tasks
                .host(reply_to, method, params, seq, Instant::now(), out)
        });
    }

    /// The answer to a hosted task's request: the task ends with it.
    pub(super) fn client_task_answered(
        &mut self,
        task_id: &str,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
    ) {
        self.through(|a, out| a.client_tasks.answered(task_id, outcome, answered_by, out));
    }

    /// The server's `tasks/*` requests about the tasks we host.
    pub(super) fn client_task_request(&mut self, reply_to: ReplyTo, method: &str, params: &Value) {
        self.through(|a, out| a.client_tasks.request(reply_to, method, params, out));
    }

    /// The server gave up on a held `tasks/result`.
    pub(super) fn withdraw_task_waiter(&mut self, server_id: &Value) {
        self.client_tasks.withdraw_waiter(server_id);
    }

    /// Tasks past their TTL are gone.
    pub(super) fn expire_client_tasks(&mut self) {
        self.through(|a, out| a.client_tasks.expire(Instant::now(), out));
    }

    /// The hosted tasks as the Tasks tab lists them, newest first.
    pub(super) fn client_tasks_view(&self) -> Vec<TaskView> {
        self.client_tasks.view()
    }
}

#[cfg(test)]
mod tests;
