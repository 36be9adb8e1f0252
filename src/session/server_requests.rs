//! The server's requests to us. [`decide`] says what one calls for, as a real client would
//! decide it: `ping` answered at once, a capability the client did not declare refused, the
//! responders' rules (mock answers, roots), or a person. [`ServerRequests`] owns those not yet
//! answered: the queue for a person, mock answers held back on purpose, and the URL elicitation
//! ids kept for their completion notice; it asks the actor for everything else through the
//! [`Outbox`]. Routing takes a [`ReplyTo`] rather than a JSON-RPC id, so a request that did not
//! arrive as a JSON-RPC request (the modern era's input requests) is served by the same code.

use std::collections::{HashMap, VecDeque};

use serde_json::{Value, json};

use super::{
    PendingRequest,
    actor::Actor,
    handle::{Draft, ReplyTo},
    now_rfc3339,
    outbox::{Auto, Effect, Outbox},
};
use crate::{
    events::{Event, Severity},
    responders::{AutoAnswer, Responders},
};

/// How many URL elicitation ids we remember to match `notifications/elicitation/complete`.
const ELICITATION_MEMORY: usize = 256;

/// What a server request calls for.
#[derive(Debug)]
pub(super) enum Route {
    /// An answer now (`ping`, roots, a refusal as a real client makes it, a mock answer).
    Answer(AutoAnswer),
    /// A mock answer, held back for its delay.
    Delay(AutoAnswer),
    /// A person (or script) answers.
    Queue,
    /// A model answers (sampling in the responders' `llm` mode).
    Model(crate::responders::LlmPlan),
    /// The server asks about a task this client hosts (`tasks/*`, legacy era).
    ClientTaskRequest,
    /// The request asks to run as a task the client hosts: answered with the task at once,
    /// the request itself routed again to end it.
    HostTask,
}

/// What the client declared and how it answers: the inputs of [`decide`].
pub(super) struct Client<'a> {
    pub(super) capabilities: &'a Value,
    pub(super) modern: bool,
    pub(super) responders: &'a Responders,
}

impl Client<'_> {
    fn declared(&self, capability: &str) -> bool {
        self.capabilities.get(capability).is_some()
    }

    /// Whether a request asks to run as a task the client hosts: legacy era, a `task` in its
    /// params, and the method declared under `tasks.requests`.
    fn hosts_as_task(&self, method: &str, params: &Value) -> bool {
        let path = match method {
            "sampling/createMessage" => "/tasks/requests/sampling/createMessage",
            "elicitation/create" => "/tasks/requests/elicitation/create",
            _ => return false,
        };
        let capability = method.split('/').next().unwrap_or_default();
        !self.modern
            && self.declared(capability)
            && params.get("task").is_some_and(Value::is_object)
            && self.capabilities.pointer(path).is_some()
    }
}

fn now(outcome: Result<Value, Value>, responder: &str) -> Route {
    Route::Answer(AutoAnswer {
        outcome,
        delay: std::time::Duration::ZERO,
        answered_by: json!({"responder": responder}),
    })
}

/// What `method` calls for, and the warnings a real client would have about it (shown, not
/// refused: seeing what the server sends is the point). `json_rpc`: it came as a JSON-RPC
/// request (not as a modern input request), so it may ask to run as a task.
pub(super) fn decide(
    client: &Client<'_>,
    method: &str,
    params: &Value,
    json_rpc: bool,
) -> (Route, Vec<String>) {
    let mut warnings = Vec::new();
    // An elicitation in a mode the client did not declare is refused at once, before any task
    // is made for it.
    if method == "elicitation/create"
        && client.declared("elicitation")
        && let Err(message) = check_elicitation(client.capabilities, params)
    {
        warnings.push(message.clone());
        let refusal = Err(json!({"code": -32602, "message": message}));
        return (now(refusal, "capabilities"), warnings);
    }
    if json_rpc && client.hosts_as_task(method, params) {
        return (Route::HostTask, warnings);
    }
    let route = match method {
        "ping" => now(Ok(json!({})), "ping"),
        "elicitation/create" if client.declared("elicitation") => {
            match client.responders.elicitation_answer(params) {
                Some(mut answer) => {
                    crate::responders::apply_elicitation_defaults(params, &mut answer);
                    held(answer)
                }
                None => Route::Queue,
            }
        }
        "sampling/createMessage" if client.declared("sampling") => {
            warnings.extend(check_sampling(client.capabilities, params));
            match client.responders.sampling_answer(params) {
                Some(answer) => held(answer),
                None => client
                    .responders
                    .sampling_model()
                    .map_or(Route::Queue, Route::Model),
            }
        }
        "tasks/get" | "tasks/result" | "tasks/list" | "tasks/cancel"
            if client.declared("tasks") && !client.modern =>
        {
            Route::ClientTaskRequest
        }
        "roots/list" if client.declared("roots") => {
            now(Ok(client.responders.roots_result()), "roots")
        }
        _ => now(
            Err(json!({"code": -32601, "message": format!("Method not found: {method}")})),
            "capabilities",
        ),
    };
    (route, warnings)
}

/// A mock answer: now, or held back for its delay.
fn held(answer: AutoAnswer) -> Route {
    if answer.delay.is_zero() {
        Route::Answer(answer)
    } else {
        Route::Delay(answer)
    }
}

/// Sampling that uses what the client did not declare.
fn check_sampling(caps: &Value, params: &Value) -> Vec<String> {
    let mut warnings = Vec::new();
    if params.get("tools").is_some() && caps.pointer("/sampling/tools").is_none() {
        warnings.push(
            "sampling/createMessage carries tools, but the client did not declare sampling.tools"
                .into(),
        );
    }
    let context = params.get("includeContext").and_then(Value::as_str);
    if matches!(context, Some("thisServer" | "allServers"))
        && caps.pointer("/sampling/context").is_none()
    {
        warnings.push(format!(
            "sampling/createMessage asks for includeContext {:?}, but the client did not declare sampling.context",
            context.unwrap_or_default()
        ));
    }
    warnings
}

/// An elicitation in a mode the client did not declare is refused, as a real client would.
fn check_elicitation(caps: &Value, params: &Value) -> Result<(), String> {
    let caps = caps.get("elicitation").and_then(Value::as_object);
    let mode = params.get("mode").and_then(Value::as_str).unwrap_or("form");
    // `elicitation: {}` means form only.
    let declared = caps.is_some_and(|c| match mode {
        "form" => c.is_empty() || c.contains_key("form"),
        "url" => c.contains_key("url"),
        _ => false,
    });
    if declared {
        Ok(())
    } else {
        Err(format!(
            "elicitation/create in mode {mode:?}, which the client did not declare"
        ))
    }
}

/// The server's requests not yet answered.
#[derive(Debug, Default)]
pub(super) struct ServerRequests {
    seq: u64,
    /// Those waiting for a person, and those whose mock answer is held back.
    waiting: HashMap<String, PendingRequest>,
    delayed: HashMap<String, AutoAnswer>,
    /// Recent URL elicitation ids, to tell whether a completion notice matches one.
    elicitations: VecDeque<String>,
}

impl ServerRequests {
    fn request(&mut self, reply_to: ReplyTo, method: String, params: Value) -> PendingRequest {
        self.seq += 1;
        PendingRequest {
            key: self.seq.to_string(),
            reply_to,
            method,
            params,
            received_at: now_rfc3339(),
            draft: None,
        }
    }

    /// Holds a request back for its mock answer's delay (still withdrawable by the server, so
    /// it waits here, not in the public queue).
    pub(super) fn delay(
        &mut self,
        reply_to: ReplyTo,
        method: String,
        params: Value,
        answer: AutoAnswer,
        out: &mut Outbox,
    ) {
        let req = self.request(reply_to, method, params);
        out.push(Effect::Timer {
            key: req.key.clone(),
            delay: answer.delay,
        });
        self.delayed.insert(req.key.clone(), answer);
        self.waiting.insert(req.key.clone(), req);
    }

    /// Holds a request while a model drafts its answer (still withdrawable by the server).
    pub(super) fn model(
        &mut self,
        reply_to: ReplyTo,
        method: String,
        params: Value,
        plan: crate::responders::LlmPlan,
        out: &mut Outbox,
    ) {
        let req = self.request(reply_to, method, params.clone());
        out.push(Effect::Model {
            key: req.key.clone(),
            params,
            plan,
        });
        self.waiting.insert(req.key.clone(), req);
    }

    /// A model's draft came: sent as the answer, or (under review, or when the model could not
    /// answer a request under review) put in the public queue with the draft beside it. A draft
    /// for a request the server withdrew meanwhile is dropped.
    pub(super) fn drafted(&mut self, key: &str, draft: Draft, review: bool, out: &mut Outbox) {
        let Some(mut req) = self.waiting.remove(key) else {
            return;
        };
        match (&draft.result, review) {
            (Some(result), false) => out.push(Effect::Answer {
                reply_to: req.reply_to,
                outcome: Ok(result.clone()),
                answered_by: draft.by,
            }),
            (None, false) => out.push(Effect::Answer {
                reply_to: req.reply_to,
                outcome: Err(json!({
                    "code": -32603,
                    // The provider's own words (its account, its URL) stay with the user's
                    // finding; the server learns only that the model gave no answer.
                    "message": "the model could not answer",
                })),
                answered_by: draft.by,
            }),
            (_, true) => {
                req.draft = Some(draft);
                out.push(Effect::Publish(Event::Pending(req.view())));
                out.push(Effect::Queued(req.clone()));
                self.waiting.insert(req.key.clone(), req);
            }
        }
    }

    /// Puts a request in the public queue for a person or script.
    pub(super) fn queue(
        &mut self,
        reply_to: ReplyTo,
        method: String,
        params: Value,
        out: &mut Outbox,
    ) {
        if method == "elicitation/create"
            && let Some(eid) = params.get("elicitationId").and_then(Value::as_str)
        {
            if self.elicitations.len() == ELICITATION_MEMORY {
                self.elicitations.pop_front();
            }
            self.elicitations.push_back(eid.to_owned());
        }
        let req = self.request(reply_to, method, params);
        out.push(Effect::Publish(Event::Pending(req.view())));
        out.push(Effect::Queued(req.clone()));
        self.waiting.insert(req.key.clone(), req);
    }

    /// A person's (or script's) answer to a queued request; false if it is not waiting.
    pub(super) fn answer(
        &mut self,
        key: &str,
        outcome: Result<Value, Value>,
        out: &mut Outbox,
    ) -> bool {
        let Some(req) = self.take(key, out) else {
            return false;
        };
        out.push(Effect::Answer {
            reply_to: req.reply_to,
            outcome,
            answered_by: json!({"responder": "manual", "pending": key}),
        });
        true
    }

    /// A held-back mock answer is due.
    pub(super) fn due(&mut self, key: &str, out: &mut Outbox) {
        if let (Some(answer), Some(req)) = (self.delayed.remove(key), self.waiting.remove(key)) {
            out.push(Effect::Answer {
                reply_to: req.reply_to,
                outcome: answer.outcome,
                answered_by: answer.answered_by,
            });
        }
    }

    /// Removes a request from every place it waits: here, a held-back answer, the public queue.
    pub(super) fn take(&mut self, key: &str, out: &mut Outbox) -> Option<PendingRequest> {
        self.delayed.remove(key);
        out.push(Effect::Dequeued(key.to_owned()));
        self.waiting.remove(key)
    }

    /// Every request waiting whose answer goes to `reply_to` (the server withdrew it).
    pub(super) fn withdraw(&mut self, reply_to: &ReplyTo, out: &mut Outbox) {
        let keys = self.keys_where(|r| &r.reply_to == reply_to);
        for key in keys {
            self.take(&key, out);
        }
    }

    /// The keys of the requests waiting that `f` picks.
    pub(super) fn keys_where(&self, f: impl Fn(&PendingRequest) -> bool) -> Vec<String> {
        let mut keys: Vec<String> = self
            .waiting
            .values()
            .filter(|r| f(r))
            .map(|r| r.key.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Whether a URL elicitation of this session used `id`.
    pub(super) fn knows_elicitation(&self, id: &str) -> bool {
        self.elicitations.iter().any(|k| k == id)
    }
}

impl Actor {
    /// A JSON-RPC request from the server.
    pub(super) fn server_request(
        &mut self,
        id: Value,
        method: String,
        params: Option<Value>,
        seq: u64,
    ) {
        self.route(
            ReplyTo::JsonRpc(id),
            method,
            params.unwrap_or_else(|| json!({})),
            seq,
        );
    }

    /// Answers a server request now, by rule, or queues it for a person.
    pub(super) fn route(&mut self, reply_to: ReplyTo, method: String, params: Value, seq: u64) {
        let responders = self.responders.get();
        let client = Client {
            capabilities: &self.options.client_capabilities,
            modern: self.modern,
            responders: &responders,
        };
        let json_rpc = matches!(reply_to, ReplyTo::JsonRpc(_));
        let (route, warnings) = decide(&client, &method, &params, json_rpc);
        for warning in warnings {
            self.finding(Severity::Warning, warning, seq);
        }
        let mut out = Outbox::default();
        match route {
            Route::Answer(answer) => out.push(Effect::Answer {
                reply_to,
                outcome: answer.outcome,
                answered_by: answer.answered_by,
            }),
            Route::Delay(answer) => self
                .server_requests
                .delay(reply_to, method, params, answer, &mut out),
            Route::Queue => self
                .server_requests
                .queue(reply_to, method, params, &mut out),
            Route::Model(plan) => self
                .server_requests
                .model(reply_to, method, params, plan, &mut out),
            Route::ClientTaskRequest => {
                return self.client_task_request(reply_to, &method, &params);
            }
            Route::HostTask => return self.host_task(reply_to, method, params, seq),
        }
        self.apply(out);
    }

    /// A person's (or script's) answer to a queued request; false if it is not waiting.
    pub(super) fn answer_pending(&mut self, key: &str, outcome: Result<Value, Value>) -> bool {
        self.through(|a, out| a.server_requests.answer(key, outcome, out))
    }

    /// The server withdrew one of its requests (`notifications/cancelled`).
    pub(super) fn withdraw(&mut self, reply_to: &ReplyTo) {
        if let ReplyTo::JsonRpc(id) = reply_to {
            self.withdraw_task_waiter(id);
        }
        self.through(|a, out| a.server_requests.withdraw(reply_to, out));
    }

    /// Removes the server requests `f` picks from every place they wait.
    pub(super) fn take_pending_where(&mut self, f: impl Fn(&PendingRequest) -> bool) {
        let mut out = Outbox::default();
        for key in self.server_requests.keys_where(f) {
            self.server_requests.take(&key, &mut out);
        }
        self.apply(out);
    }

    /// Work started off the loop came back: a held answer is due, or a model's draft came.
    pub(super) fn auto(&mut self, auto: Auto) {
        match auto {
            Auto::Due(key) => self.through(|a, out| a.server_requests.due(&key, out)),
            Auto::Drafted {
                key,
                outcome,
                model,
                review,
            } => {
                let mut by = json!({"responder": "llm", "model": model});
                let draft = match outcome {
                    Ok(d) => {
                        if let Some((input, output)) = d.usage {
                            by["usage"] = json!({"inputTokens": input, "outputTokens": output});
                        }
                        Draft {
                            result: Some(d.result),
                            error: None,
                            by,
                        }
                    }
                    Err(why) => {
                        self.reporter.publish(Event::Finding {
                            severity: Severity::Warning,
                            message: format!(
                                "sampling by {}: {why}",
                                model.as_deref().unwrap_or("no model")
                            ),
                            frame_seq: None,
                        });
                        Draft {
                            result: None,
                            error: Some(why),
                            by,
                        }
                    }
                };
                self.through(|a, out| a.server_requests.drafted(&key, draft, review, out));
            }
        }
    }

    /// Asks the model for a draft, off the loop; each provider exchange is an `http` event.
    pub(super) fn draft(&self, key: String, params: Value, plan: crate::responders::LlmPlan) {
        let models = self.models.clone();
        let reporter = self.reporter.clone();
        let tx = self.auto_tx.clone();
        tokio::spawn(async move {
            let picked = models.pick(plan.model.as_ref(), &params);
            let outcome = match &picked {
                None => Err(
                    "no model: pass --model PROVIDER:MODEL or set the responders' sampling.model"
                        .to_owned(),
                ),
                Some(m) => {
                    let mut report = |e: crate::events::HttpEvent| {
                        reporter.publish(Event::Http(Box::new(e)));
                    };
                    models
                        .create_message(m, &params, &mut report)
                        .await
                        .map_err(|e| e.to_string())
                }
            };
            let _ = tx.send(Auto::Drafted {
                key,
                outcome,
                model: picked.map(|m| m.to_string()),
                review: plan.review,
            });
        });
    }

    /// The roots changed: a client that declared `roots.listChanged` says so.
    pub(super) fn roots_changed(&self) {
        let declared = self
            .options
            .client_capabilities
            .pointer("/roots/listChanged")
            .is_some_and(|v| v == &json!(true));
        if self.connected && declared {
            self.send_notification("notifications/roots/list_changed", None);
        }
    }
}

#[cfg(test)]
mod tests;
