//! What a concern of the session (the server's requests, …) asks the actor to do. A concern owns
//! its state and changes only that; everything else it wants (an event published, an answer
//! sent, the public queue changed, a timer) it puts in an [`Outbox`], and the actor carries the
//! effects out in order. So a concern is tested by what it asks for, with no actor, transport
//! or bus.

use std::time::Duration;

use serde_json::Value;

use tokio::sync::oneshot;

use super::{
    PendingRequest,
    actor::Actor,
    handle::{Answer, LocalError, ReplyTo},
    inflight::Tag,
};
use crate::events::Event;
use crate::wire::Timeout;

/// What comes back to the actor from work it started off its loop.
#[derive(Debug)]
pub(super) enum Auto {
    /// A held-back mock answer is due.
    Due(String),
    /// A model's draft for the request under `key`.
    Drafted {
        key: String,
        outcome: Result<crate::model::Drafted, String>,
        model: Option<String>,
        review: bool,
    },
}

#[derive(Debug)]
pub(super) enum Effect {
    Publish(Event),
    /// Our answer to a server request, and who chose it.
    Answer {
        reply_to: ReplyTo,
        outcome: Result<Value, Value>,
        answered_by: Value,
    },
    /// A request joins the public queue (what `GET /api/pending` lists).
    Queued(PendingRequest),
    /// A request leaves the public queue.
    Dequeued(String),
    /// The actor hears `key` again after `delay` (a mock answer held back on purpose).
    Timer {
        key: String,
        delay: Duration,
    },
    /// A model drafts the answer to the request under `key` (answered through [`Auto::Drafted`]).
    Model {
        key: String,
        params: Value,
        plan: crate::responders::LlmPlan,
    },
    /// The session object's `listen` view changed.
    ListenView(Value),
    /// The session's subscriptions are these (a `state` event only if they changed).
    Subscriptions(Vec<String>),
    /// A listen stream replaced by a newer one is closed.
    CloseListen(i64),
    /// A subscribe or unsubscribe waiting for the stream's acknowledgement gets it.
    Acknowledge {
        to: oneshot::Sender<Result<Value, LocalError>>,
        result: Result<Value, LocalError>,
    },
    /// A request of ours about a task (`tasks/get`, `tasks/result`, `tasks/cancel`,
    /// `tasks/update`).
    TaskRequest {
        method: &'static str,
        params: Value,
        timeout: Option<Timeout>,
        tag: Tag,
    },
    /// A request the server asks through something else (a task's input request) is served
    /// like one of its own.
    Route {
        reply_to: ReplyTo,
        method: String,
        params: Value,
        seq: u64,
    },
    /// A notification of ours.
    Notify {
        method: &'static str,
        params: Value,
    },
    /// The requests waiting whose answer goes to `reply_to` leave every place they wait.
    Withdraw(ReplyTo),
    /// The caller of an API request gets its outcome.
    Reply {
        to: oneshot::Sender<Result<Answer, LocalError>>,
        result: Result<Answer, LocalError>,
    },
}

#[derive(Debug, Default)]
pub(super) struct Outbox {
    effects: Vec<Effect>,
}

impl Outbox {
    pub(super) fn push(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    #[cfg(test)]
    pub(super) fn effects(&self) -> &[Effect] {
        &self.effects
    }

    #[cfg(test)]
    pub(super) fn into_effects(self) -> Vec<Effect> {
        self.effects
    }
}

impl Actor {
    /// Runs `f` with a fresh outbox, then carries out what it asked for; `f`'s result.
    pub(super) fn through<R>(&mut self, f: impl FnOnce(&mut Actor, &mut Outbox) -> R) -> R {
        let mut out = Outbox::default();
        let result = f(self, &mut out);
        self.apply(out);
        result
    }

    /// Carries out what a concern asked for, in the order it asked.
    pub(super) fn apply(&mut self, out: Outbox) {
        for effect in out.effects {
            match effect {
                Effect::Publish(event) => {
                    self.reporter.publish(event);
                }
                Effect::Answer {
                    reply_to,
                    outcome,
                    answered_by,
                } => self.send_answer(&reply_to, outcome.as_ref(), answered_by),
                Effect::Queued(request) => self.reporter.set_pending(|p| p.push(request)),
                Effect::Dequeued(key) => self.reporter.set_pending(|p| p.retain(|r| r.key != key)),
                Effect::ListenView(view) => {
                    self.reporter.update(|cur| cur.info.listen = Some(view));
                }
                Effect::Subscriptions(uris) => self.reporter.update_if(|cur| {
                    let changed = cur.info.subscriptions != uris;
                    cur.info.subscriptions = uris;
                    changed
                }),
                Effect::CloseListen(id) => self.close_listen(id),
                Effect::Acknowledge { to, result } => {
                    let _ = to.send(result);
                }
                Effect::TaskRequest {
                    method,
                    params,
                    timeout,
                    tag,
                } => {
                    self.send_request(method, Some(params), timeout, None, tag);
                }
                Effect::Route {
                    reply_to,
                    method,
                    params,
                    seq,
                } => self.route(reply_to, method, params, seq),
                Effect::Notify { method, params } => self.send_notification(method, Some(&params)),
                Effect::Withdraw(reply_to) => self.withdraw(&reply_to),
                Effect::Reply { to, result } => {
                    let _ = to.send(result);
                }
                Effect::Timer { key, delay } => {
                    let tx = self.auto_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = tx.send(Auto::Due(key));
                    });
                }
                Effect::Model { key, params, plan } => self.draft(key, params, plan),
            }
        }
    }
}
