//! One task as a session follows it: what the server last said of it, its outcome once known,
//! when to poll next, and its view for the Tasks tab; the poll interval it may ask for, and
//! which of a result's fields are the task's.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use serde_json::{Map, Value};

use crate::events::{Era, TaskSide, TaskView};

/// When the server names no poll interval.
pub(super) const DEFAULT_POLL: Duration = Duration::from_secs(1);
/// Bounds on the interval we honour: not a flood, and not so slow the task looks stuck.
pub(super) const MIN_POLL: Duration = Duration::from_millis(100);
pub(super) const MAX_POLL: Duration = Duration::from_secs(30);
pub(super) struct Tracked {
    pub(super) seq: u64,
    pub(super) modern: bool,
    pub(super) method: String,
    pub(super) subject: Option<String>,
    /// Our request whose answer created the task.
    pub(super) request_id: i64,
    /// The latest task fields, as the server sent them.
    pub(super) task: Map<String, Value>,
    /// `{"result": …}` or `{"error": …}` once known.
    pub(super) outcome: Option<Value>,
    /// The server no longer knows the task (or would not say), and why.
    pub(super) lost: Option<String>,
    pub(super) next_poll: Option<Instant>,
    pub(super) getting: bool,
    pub(super) fetching: bool,
    /// Modern input keys already routed (each asked once, however often a poll repeats it).
    pub(super) routed: HashSet<String>,
    pub(super) polls: u64,
    pub(super) seen: Instant,
}

pub(in crate::session) fn is_terminal(status: Option<&str>) -> bool {
    matches!(status, Some("completed" | "failed" | "cancelled"))
}

/// The poll interval a task names (`pollInterval` legacy, `pollIntervalMs` modern), bounded.
pub(super) fn poll_interval(task: &Map<String, Value>, modern: bool) -> Duration {
    let key = if modern {
        "pollIntervalMs"
    } else {
        "pollInterval"
    };
    task.get(key)
        .and_then(Value::as_u64)
        .map_or(DEFAULT_POLL, Duration::from_millis)
        .clamp(MIN_POLL, MAX_POLL)
}

/// The task fields of an answer or a status notice: everything but its `_meta` and, in a
/// modern result, what belongs to the envelope or the outcome.
pub(in crate::session) fn task_fields(
    result: &Map<String, Value>,
    modern: bool,
) -> Map<String, Value> {
    result
        .iter()
        .filter(|(k, _)| match k.as_str() {
            "_meta" => false,
            "resultType" | "result" | "error" | "inputRequests" => !modern,
            _ => true,
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

impl Tracked {
    pub(super) fn status(&self) -> Option<&str> {
        self.task.get("status").and_then(Value::as_str)
    }

    /// Nothing more will come: lost, cancelled, or ended with its outcome known.
    pub(super) fn done(&self) -> bool {
        self.lost.is_some()
            || self.status() == Some("cancelled")
            || (is_terminal(self.status()) && self.outcome.is_some())
    }

    pub(super) fn view(&self, id: &str) -> TaskView {
        let ttl = if self.modern { "ttlMs" } else { "ttl" };
        let field = |k: &str| self.task.get(k).cloned();
        TaskView {
            task_id: id.to_owned(),
            side: TaskSide::Server,
            era: if self.modern {
                Era::Modern
            } else {
                Era::Legacy
            },
            method: self.method.clone(),
            subject: self.subject.clone(),
            request_id: Some(self.request_id),
            server_request_id: None,
            status: field("status"),
            status_message: field("statusMessage"),
            created_at: field("createdAt"),
            last_updated_at: field("lastUpdatedAt"),
            ttl_ms: field(ttl),
            poll_interval_ms: poll_interval(&self.task, self.modern).as_millis() as u64,
            task: Value::Object(self.task.clone()),
            outcome: self.outcome.clone(),
            answered_by: None,
            lost: self.lost.clone(),
            polls: self.polls,
            seen_ms: Some(self.seen.elapsed().as_millis() as u64),
        }
    }
}
