//! The server's requests to us: `ping` answered at once, capability checks as a real client makes
//! them, the responders (mock rules, roots), delayed mock answers, and the manual queue. Routing
//! takes a [`ReplyTo`] rather than a JSON-RPC id, so a request that did not arrive as a JSON-RPC
//! request (the modern era's input requests) can be served by the same code.

use serde_json::{Value, json};

use super::{PendingRequest, actor::Actor, handle::ReplyTo, now_rfc3339};
use crate::events::{Event, Severity};

/// How many URL elicitation ids we remember to match `notifications/elicitation/complete`.
const ELICITATION_MEMORY: usize = 256;

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
        // An elicitation in a mode the client did not declare is refused at once, as a real
        // client would, before any task is made for it.
        if method == "elicitation/create"
            && self.declared("elicitation")
            && let Err(message) = self.check_elicitation(&params)
        {
            self.finding(Severity::Warning, message.clone(), seq);
            let error = json!({"code": -32602, "message": message});
            self.send_answer(&reply_to, Err(&error), json!({"responder": "capabilities"}));
            return;
        }
        if self.hosts_as_task(&reply_to, &method, &params) {
            return self.host_task(reply_to, method, params, seq);
        }
        let responders = self.responders.get();
        let auto = match method.as_str() {
            "ping" => {
                self.send_answer(&reply_to, Ok(&json!({})), json!({"responder": "ping"}));
                return;
            }
            "sampling/createMessage" if self.declared("sampling") => {
                self.check_sampling(&params, seq);
                responders.sampling_answer(&params)
            }
            "elicitation/create" if self.declared("elicitation") => {
                responders.elicitation_answer(&params).map(|mut answer| {
                    crate::responders::apply_elicitation_defaults(&params, &mut answer);
                    answer
                })
            }
            "tasks/get" | "tasks/result" | "tasks/list" | "tasks/cancel"
                if self.declared("tasks") && !self.modern =>
            {
                self.client_task_request(reply_to, &method, &params);
                return;
            }
            "roots/list" if self.declared("roots") => {
                let result = responders.roots_result();
                self.send_answer(&reply_to, Ok(&result), json!({"responder": "roots"}));
                return;
            }
            _ => {
                let error =
                    json!({"code": -32601, "message": format!("Method not found: {method}")});
                self.send_answer(&reply_to, Err(&error), json!({"responder": "capabilities"}));
                return;
            }
        };
        match auto {
            Some(answer) if answer.delay.is_zero() => {
                self.send_answer(&reply_to, answer.outcome.as_ref(), answer.answered_by);
            }
            Some(answer) => {
                // Held back on purpose (to test the server's timeout); still cancellable by the
                // server, so it waits in the actor's table, not in the public queue.
                self.pending_seq += 1;
                let key = self.pending_seq.to_string();
                let tx = self.auto_tx.clone();
                let (delay, timer_key) = (answer.delay, key.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(timer_key);
                });
                self.pending.insert(
                    key.clone(),
                    PendingRequest {
                        key: key.clone(),
                        reply_to,
                        method,
                        params,
                        received_at: now_rfc3339(),
                    },
                );
                self.delayed.insert(key, answer);
            }
            None => self.queue(reply_to, method, params),
        }
    }

    /// A person's (or script's) answer to a queued request; false if it is not waiting.
    pub(super) fn answer_pending(&mut self, key: &str, outcome: Result<Value, Value>) -> bool {
        let Some(req) = self.take_pending(key) else {
            return false;
        };
        self.send_answer(
            &req.reply_to,
            outcome.as_ref(),
            json!({"responder": "manual", "pending": key}),
        );
        true
    }

    /// The server withdrew one of its requests (`notifications/cancelled`).
    pub(super) fn withdraw(&mut self, reply_to: &ReplyTo) {
        if let ReplyTo::JsonRpc(id) = reply_to {
            self.withdraw_task_waiter(id);
        }
        let keys: Vec<String> = self
            .pending
            .values()
            .filter(|r| &r.reply_to == reply_to)
            .map(|r| r.key.clone())
            .collect();
        for key in keys {
            self.take_pending(&key);
        }
    }

    /// Removes a server request from every place it waits: the actor's table, a delayed mock
    /// answer, and the public queue.
    pub(super) fn take_pending(&mut self, key: &str) -> Option<PendingRequest> {
        self.delayed.remove(key);
        self.reporter.set_pending(|p| p.retain(|r| r.key != key));
        self.pending.remove(key)
    }

    pub(super) fn delayed_answer(&mut self, key: &str) {
        if let (Some(answer), Some(req)) = (self.delayed.remove(key), self.pending.remove(key)) {
            self.send_answer(&req.reply_to, answer.outcome.as_ref(), answer.answered_by);
        }
    }

    /// Puts a server request in the public queue for a person or script.
    fn queue(&mut self, reply_to: ReplyTo, method: String, params: Value) {
        if method == "elicitation/create"
            && let Some(eid) = params.get("elicitationId").and_then(Value::as_str)
        {
            if self.elicitations.len() == ELICITATION_MEMORY {
                self.elicitations.pop_front();
            }
            self.elicitations.push_back(eid.to_owned());
        }
        self.pending_seq += 1;
        let req = PendingRequest {
            key: self.pending_seq.to_string(),
            reply_to,
            method,
            params,
            received_at: now_rfc3339(),
        };
        self.reporter.publish(Event::Pending(req.view()));
        let copy = req.clone();
        self.reporter.set_pending(|p| p.push(copy));
        self.pending.insert(req.key.clone(), req);
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

    /// Flags sampling requests that use what the client did not declare; the request is still
    /// shown, since seeing what the server sends is the point.
    fn check_sampling(&self, params: &Value, seq: u64) {
        let caps = &self.options.client_capabilities;
        if params.get("tools").is_some() && caps.pointer("/sampling/tools").is_none() {
            self.finding(
                Severity::Warning,
                "sampling/createMessage carries tools, but the client did not declare sampling.tools".into(),
                seq,
            );
        }
        let context = params.get("includeContext").and_then(Value::as_str);
        if matches!(context, Some("thisServer" | "allServers"))
            && caps.pointer("/sampling/context").is_none()
        {
            self.finding(
                Severity::Warning,
                format!(
                    "sampling/createMessage asks for includeContext {:?}, but the client did not declare sampling.context",
                    context.unwrap_or_default()
                ),
                seq,
            );
        }
    }

    /// An elicitation in a mode the client did not declare is refused, as a real client would.
    fn check_elicitation(&self, params: &Value) -> Result<(), String> {
        let caps = self
            .options
            .client_capabilities
            .get("elicitation")
            .and_then(Value::as_object);
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

    fn declared(&self, capability: &str) -> bool {
        self.options.client_capabilities.get(capability).is_some()
    }
}
