//! The modern era's results: the `resultType` check every answer gets, the tools' `x-mcp-header`
//! parameters learnt from `tools/list` (and the tools excluded for invalid ones), and input rounds
//! (MRTR). An `input_required` result's input requests are served exactly like the legacy
//! server→client requests — responders first, else the manual queue — and once every key has its
//! answer the call is retried with a new id, the original params, `inputResponses` and the
//! server's `requestState` untouched. One API call stays one call across its rounds.

use std::time::Instant;

use serde::Deserialize;
use serde_json::{Map, Value, json, value::RawValue};
use tokio::sync::oneshot;

use super::{
    actor::Actor,
    era::modern::{self, ResultKind},
    handle::{Answer, LocalError, ReplyTo},
    inflight::{Round, Tag},
};
use crate::{
    events::{Event, RoundEvent, RoundStep, Severity},
    wire::Timeout,
};

/// A call whose latest result asked for input.
pub(super) struct Call {
    pub reply: oneshot::Sender<Result<Answer, LocalError>>,
    pub subject: Option<String>,
    pub method: String,
    pub original: Option<Value>,
    pub timeout: Option<Timeout>,
    /// The request whose result asked, and which round of which first request it was.
    pub request_id: i64,
    pub round: Round,
}

/// A call waiting for the answers to its input requests.
pub(super) struct Conversation {
    call: Call,
    request_state: Option<Value>,
    asked: Vec<String>,
    answers: Map<String, Value>,
    since: Instant,
}

/// What a modern result asks of us besides being answered.
pub(super) enum Next {
    /// Input rounds (MRTR): the result, parsed.
    Input(Value),
    /// A task was created: its fields, and whether it is the modern extension's.
    Task(Map<String, Value>, bool),
}

/// Only what the `resultType` check needs, so a complete result is not parsed twice over.
#[derive(Deserialize)]
struct Peek {
    #[serde(rename = "resultType")]
    result_type: Option<Value>,
}

impl Actor {
    /// Checks a modern result; says what it asks of us (input rounds, a task to follow).
    pub(super) fn modern_result(
        &mut self,
        method: &str,
        result: &RawValue,
        seq: u64,
    ) -> Option<Next> {
        let peek: Peek = serde_json::from_str(result.get()).unwrap_or(Peek { result_type: None });
        if let Some(w) = modern::result_type_warning(peek.result_type.as_ref(), method) {
            self.finding(Severity::Warning, w, seq);
        }
        if method == "tools/list" {
            self.learn_tools(result, seq);
        }
        match modern::result_kind(peek.result_type.as_ref()) {
            ResultKind::InputRequired => serde_json::from_str(result.get()).ok().map(Next::Input),
            ResultKind::Task => match serde_json::from_str(result.get()) {
                Ok(Value::Object(fields)) => {
                    Some(Next::Task(super::tasks::task_fields(&fields, true), true))
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Reads each listed tool's `x-mcp-header` parameters. A tool with invalid ones is excluded
    /// over HTTP (the spec: clients MUST drop it) and shown as such, with why.
    fn learn_tools(&mut self, result: &RawValue, seq: u64) {
        #[derive(Deserialize)]
        struct Tools {
            #[serde(default)]
            tools: Vec<Value>,
        }
        let Ok(list) = serde_json::from_str::<Tools>(result.get()) else {
            return;
        };
        let mut changed = false;
        for tool in &list.tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            match modern::tool_param_headers(tool) {
                Ok(headers) => {
                    changed |= self.excluded_tools.remove(name).is_some();
                    if headers.is_empty() {
                        self.tool_headers.remove(name);
                    } else {
                        self.tool_headers.insert(name.to_owned(), headers);
                    }
                }
                Err(why) => {
                    self.tool_headers.remove(name);
                    let effect = if self.remote {
                        "excluded: mcpscope will not call it over HTTP"
                    } else {
                        "it would be excluded by an HTTP client"
                    };
                    self.finding(
                        Severity::Warning,
                        format!("tool {name:?} has an invalid x-mcp-header ({why}); {effect}"),
                        seq,
                    );
                    if self.remote {
                        changed |= self.excluded_tools.insert(name.to_owned(), why).is_none();
                    }
                }
            }
        }
        if changed {
            let excluded: Vec<Value> = self
                .excluded_tools
                .iter()
                .map(|(name, why)| json!({"name": name, "reason": why}))
                .collect();
            self.reporter
                .update(|cur| cur.info.excluded_tools = excluded);
        }
    }

    /// Why a tool may not be called, if it was excluded.
    pub(super) fn excluded(&self, tool: &str) -> Option<String> {
        self.excluded_tools.get(tool).map(|why| {
            format!("tool {tool:?} is excluded because of an invalid x-mcp-header ({why}); an HTTP client must not call it")
        })
    }

    /// A result asked for input: serve each input request, then retry.
    pub(super) fn input_required(&mut self, call: Call, result: Value, seq: u64) {
        let number = call.round.number;
        if number >= self.options.max_rounds {
            let why = format!(
                "the server asked for input {number} times in a row; mcpscope stops at {} rounds",
                self.options.max_rounds
            );
            return self.end_call(call, why);
        }
        let requests = match result.get("inputRequests") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                let why = format!("inputRequests must be an object, not {other}");
                self.finding(Severity::Error, why.clone(), seq);
                return self.end_call(call, why);
            }
        };
        let mut asked = Vec::new();
        for (key, req) in &requests {
            if req.get("method").and_then(Value::as_str).is_none() {
                let why = format!("input request {key:?} has no method");
                self.finding(Severity::Error, why.clone(), seq);
                return self.end_call(call, why);
            }
            asked.push(key.clone());
        }
        self.conversation_seq += 1;
        let id = self.conversation_seq;
        self.publish_round(
            &call,
            RoundStep::InputRequired {
                keys: asked.clone(),
                request_state: result.get("requestState").is_some(),
            },
        );
        let reply_to = |key: &str| ReplyTo::Input {
            conversation: id,
            request_id: call.request_id,
            origin_id: call.round.origin_id,
            round: number,
            key: key.to_owned(),
        };
        let targets: Vec<(ReplyTo, String, Value)> = requests
            .iter()
            .map(|(key, req)| {
                (
                    reply_to(key),
                    req["method"].as_str().unwrap_or_default().to_owned(),
                    req.get("params").cloned().unwrap_or_else(|| json!({})),
                )
            })
            .collect();
        self.conversations.insert(
            id,
            Conversation {
                call,
                request_state: result.get("requestState").cloned(),
                asked,
                answers: Map::new(),
                since: Instant::now(),
            },
        );
        if targets.is_empty() {
            return self.retry(id);
        }
        // Inserted first: a responder may answer at once, from inside `route`.
        for (reply_to, method, params) in targets {
            self.route(reply_to, method, params, seq);
        }
    }

    /// One input request's answer (from a person, a mock rule or the roots list).
    pub(super) fn input_answered(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
    ) {
        let ReplyTo::Input {
            conversation, key, ..
        } = reply_to
        else {
            return;
        };
        let Some(conv) = self.conversations.get_mut(conversation) else {
            return; // cancelled meanwhile
        };
        match outcome {
            Ok(result) => {
                conv.answers.insert(key.clone(), result.clone());
                let done = conv.answers.len() == conv.asked.len();
                let round = RoundStep::Answered {
                    key: key.clone(),
                    answered_by,
                };
                let call = &self.conversations[conversation].call;
                self.publish_round(call, round);
                if done {
                    self.retry(*conversation);
                }
            }
            Err(error) => {
                let conv = self.take_conversation(*conversation).expect("present");
                let why = format!(
                    "input request {key:?} was answered with an error ({error}); a modern request cannot carry an error back, so mcpscope did not retry"
                );
                self.end_call(conv.call, why);
            }
        }
    }

    /// Every input request has its answer: the next round goes out with a new id.
    fn retry(&mut self, conversation: u64) {
        let Some(conv) = self.take_conversation(conversation) else {
            return;
        };
        let call = conv.call;
        let params = modern::retry_params(
            call.original.as_ref(),
            conv.answers,
            conv.request_state.as_ref(),
        );
        let token = params.pointer("/_meta/progressToken").cloned();
        let round = Round {
            origin_id: call.round.origin_id,
            number: call.round.number + 1,
        };
        let timeout = Some(
            call.timeout
                .unwrap_or(Timeout::fixed(super::DEFAULT_TIMEOUT)),
        );
        let previous = call.request_id;
        let method = call.method.clone();
        let new_id = self.send_request(
            &method,
            Some(params),
            timeout,
            token,
            Tag::Api {
                reply: call.reply,
                subject: call.subject,
                original: call.original,
                round: Some(round),
            },
        );
        self.reporter.publish(Event::Round(RoundEvent {
            step: RoundStep::Retry {
                previous_request_id: previous,
            },
            request_id: new_id,
            origin_request_id: round.origin_id,
            round: round.number,
            method,
        }));
    }

    /// The call stops asking: its caller gets why.
    fn end_call(&mut self, call: Call, why: String) {
        self.publish_round(
            &call,
            RoundStep::Ended {
                reason: why.clone(),
            },
        );
        let _ = call.reply.send(Err(LocalError::Refused(why)));
    }

    fn publish_round(&self, call: &Call, step: RoundStep) {
        self.reporter.publish(Event::Round(RoundEvent {
            step,
            request_id: call.request_id,
            origin_request_id: call.round.origin_id,
            round: call.round.number,
            method: call.method.clone(),
        }));
    }

    /// Removes a conversation and every input request of it still waiting.
    fn take_conversation(&mut self, conversation: u64) -> Option<Conversation> {
        let conv = self.conversations.remove(&conversation)?;
        self.take_pending_where(
            |r| matches!(&r.reply_to, ReplyTo::Input { conversation: c, .. } if *c == conversation),
        );
        Some(conv)
    }

    /// A cancel for a call that is between rounds (its last request was answered).
    pub(super) fn cancel_conversation(&mut self, request_id: i64, reason: Option<String>) -> bool {
        let Some(id) = self
            .conversations
            .iter()
            .find(|(_, c)| c.call.request_id == request_id || c.call.round.origin_id == request_id)
            .map(|(id, _)| *id)
        else {
            return false;
        };
        let conv = self.take_conversation(id).expect("found");
        let reason = reason.unwrap_or_else(|| "cancelled by the user".into());
        self.publish_round(
            &conv.call,
            RoundStep::Ended {
                reason: format!("cancelled: {reason}"),
            },
        );
        let _ = conv.call.reply.send(Err(LocalError::Cancelled {
            reason,
            request_id,
            elapsed_ms: conv.since.elapsed().as_millis() as u64,
        }));
        true
    }

    /// The connection ended: calls waiting for input fail too.
    pub(super) fn fail_conversations(&mut self, message: &str) {
        let ids: Vec<u64> = self.conversations.keys().copied().collect();
        for id in ids {
            if let Some(conv) = self.take_conversation(id) {
                let _ = conv.call.reply.send(Err(LocalError::Transport(format!(
                    "{message} while {} waited for input",
                    conv.call.method
                ))));
            }
        }
    }

    /// Calls between rounds, for the in-flight view.
    pub(super) fn waiting_for_input(&self) -> Vec<Value> {
        self.conversations
            .values()
            .map(|c| {
                json!({
                    "requestId": c.call.request_id,
                    "originRequestId": c.call.round.origin_id,
                    "method": c.call.method,
                    "subject": c.call.subject,
                    "round": c.call.round.number,
                    "waitingFor": c.asked.iter().filter(|k| !c.answers.contains_key(*k)).collect::<Vec<_>>(),
                    "elapsedMs": c.since.elapsed().as_millis() as u64,
                })
            })
            .collect()
    }
}
