//! Input rounds (MRTR, the modern era). An `input_required` result's input requests are served
//! exactly like the legacy server→client requests (responders first, else the manual queue),
//! and once every key has its answer the call is retried with a new id, the original params,
//! `inputResponses` and the server's `requestState` untouched. One API call stays one call
//! across its rounds. [`Rounds`] owns the calls waiting for their answers and asks the actor
//! for the rest (round events, the caller's reply) through the [`Outbox`]; the actor routes the
//! input requests and sends the retry.

use std::{collections::HashMap, time::Instant};

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

use super::{
    actor::Actor,
    era::modern,
    handle::{Answer, LocalError, ReplyTo},
    inflight::{Round, Tag},
    outbox::{Effect, Outbox},
};
use crate::{
    events::{Event, RoundEvent, RoundStep, Severity},
    wire::Timeout,
};

/// A call whose latest result asked for input.
#[derive(Debug)]
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
#[derive(Debug)]
pub(super) struct Conversation {
    call: Call,
    request_state: Option<Value>,
    asked: Vec<String>,
    answers: Map<String, Value>,
    since: Instant,
}

/// A conversation whose every input request has its answer: what the next round sends.
pub(super) struct Retry {
    pub(super) call: Call,
    pub(super) params: Value,
}

/// What the actor does after a result asked for input.
pub(super) enum Begun {
    /// Serve these input requests (the conversation waits for their answers).
    Serve(Vec<(ReplyTo, String, Value)>),
    /// Nothing to ask: retry at once.
    Retry(u64),
    /// The call ended (too many rounds, a malformed result); its caller has the reason.
    Ended,
}

/// What one input request's answer leads to.
pub(super) enum Next {
    Wait,
    Retry(u64),
    /// The call ended; drop the input requests still waiting for this conversation.
    Ended(u64),
}

fn publish_round(call: &Call, step: RoundStep, out: &mut Outbox) {
    out.push(Effect::Publish(Event::Round(RoundEvent {
        step,
        request_id: call.request_id,
        origin_request_id: call.round.origin_id,
        round: call.round.number,
        method: call.method.clone(),
    })));
}

/// The call stops asking: its caller gets why.
fn end_call(call: Call, why: String, out: &mut Outbox) {
    publish_round(
        &call,
        RoundStep::Ended {
            reason: why.clone(),
        },
        out,
    );
    out.push(Effect::Reply {
        to: call.reply,
        result: Err(LocalError::Refused(why)),
    });
}

/// The calls waiting for the answers to their input requests.
#[derive(Debug, Default)]
pub(super) struct Rounds {
    seq: u64,
    conversations: HashMap<u64, Conversation>,
}

impl Rounds {
    /// A result asked for input (`result` is the whole result, parsed).
    pub(super) fn begin(
        &mut self,
        call: Call,
        result: &Value,
        max_rounds: u32,
        seq: u64,
        out: &mut Outbox,
    ) -> Begun {
        let number = call.round.number;
        if number >= max_rounds {
            let why = format!(
                "the server asked for input {number} times in a row; mcpscope stops at {max_rounds} rounds"
            );
            end_call(call, why, out);
            return Begun::Ended;
        }
        let finding = |why: &str, out: &mut Outbox| {
            out.push(Effect::Publish(Event::Finding {
                severity: Severity::Error,
                message: why.to_owned(),
                frame_seq: Some(seq),
            }));
        };
        let requests = match result.get("inputRequests") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                let why = format!("inputRequests must be an object, not {other}");
                finding(&why, out);
                end_call(call, why, out);
                return Begun::Ended;
            }
        };
        if let Some(key) = requests
            .iter()
            .find(|(_, r)| r.get("method").and_then(Value::as_str).is_none())
            .map(|(k, _)| k)
        {
            let why = format!("input request {key:?} has no method");
            finding(&why, out);
            end_call(call, why, out);
            return Begun::Ended;
        }
        let asked: Vec<String> = requests.keys().cloned().collect();
        self.seq += 1;
        let id = self.seq;
        publish_round(
            &call,
            RoundStep::InputRequired {
                keys: asked.clone(),
                request_state: result.get("requestState").is_some(),
            },
            out,
        );
        let targets: Vec<(ReplyTo, String, Value)> = requests
            .iter()
            .map(|(key, req)| {
                let reply_to = ReplyTo::Input {
                    conversation: id,
                    request_id: call.request_id,
                    origin_id: call.round.origin_id,
                    round: number,
                    key: key.clone(),
                };
                (
                    reply_to,
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
            Begun::Retry(id)
        } else {
            Begun::Serve(targets)
        }
    }

    /// One input request's answer (from a person, a mock rule or the roots list).
    pub(super) fn answered(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
        out: &mut Outbox,
    ) -> Next {
        let ReplyTo::Input {
            conversation, key, ..
        } = reply_to
        else {
            return Next::Wait;
        };
        let Some(conv) = self.conversations.get_mut(conversation) else {
            return Next::Wait; // cancelled meanwhile
        };
        match outcome {
            Ok(result) => {
                conv.answers.insert(key.clone(), result.clone());
                let done = conv.answers.len() == conv.asked.len();
                let step = RoundStep::Answered {
                    key: key.clone(),
                    answered_by,
                };
                publish_round(&conv.call, step, out);
                if done {
                    Next::Retry(*conversation)
                } else {
                    Next::Wait
                }
            }
            Err(error) => {
                let conv = self.conversations.remove(conversation).expect("present");
                let why = format!(
                    "input request {key:?} was answered with an error ({error}); a modern request cannot carry an error back, so mcpscope did not retry"
                );
                end_call(conv.call, why, out);
                Next::Ended(*conversation)
            }
        }
    }

    /// Every input request of `conversation` has its answer: the call and the next round's
    /// params, the conversation gone.
    pub(super) fn retry(&mut self, conversation: u64) -> Option<Retry> {
        let conv = self.conversations.remove(&conversation)?;
        let params = modern::retry_params(
            conv.call.original.as_ref(),
            conv.answers,
            conv.request_state.as_ref(),
        );
        Some(Retry {
            call: conv.call,
            params,
        })
    }

    /// A cancel for a call that is between rounds (its last request was answered): the
    /// conversation it ended, if there was one.
    pub(super) fn cancel(
        &mut self,
        request_id: i64,
        reason: Option<String>,
        out: &mut Outbox,
    ) -> Option<u64> {
        let id = self
            .conversations
            .iter()
            .find(|(_, c)| c.call.request_id == request_id || c.call.round.origin_id == request_id)
            .map(|(id, _)| *id)?;
        let conv = self.conversations.remove(&id).expect("found");
        let reason = reason.unwrap_or_else(|| "cancelled by the user".into());
        publish_round(
            &conv.call,
            RoundStep::Ended {
                reason: format!("cancelled: {reason}"),
            },
            out,
        );
        out.push(Effect::Reply {
            to: conv.call.reply,
            result: Err(LocalError::Cancelled {
                reason,
                request_id,
                elapsed_ms: conv.since.elapsed().as_millis() as u64,
            }),
        });
        Some(id)
    }

    /// The connection ended: calls waiting for input fail too. The conversations it ended.
    pub(super) fn fail_all(&mut self, message: &str, out: &mut Outbox) -> Vec<u64> {
        let mut ids: Vec<u64> = self.conversations.keys().copied().collect();
        ids.sort_unstable();
        for id in &ids {
            let conv = self.conversations.remove(id).expect("listed");
            out.push(Effect::Reply {
                to: conv.call.reply,
                result: Err(LocalError::Transport(format!(
                    "{message} while {} waited for input",
                    conv.call.method
                ))),
            });
        }
        ids
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

impl Actor {
    /// A result asked for input: serve each input request, then retry.
    pub(super) fn input_required(&mut self, call: Call, result: Value, seq: u64) {
        let max_rounds = self.options.max_rounds;
        let begun = self.through(|a, out| a.rounds.begin(call, &result, max_rounds, seq, out));
        match begun {
            Begun::Serve(targets) => {
                // The conversation is in place first: a responder may answer at once, from
                // inside `route`.
                for (reply_to, method, params) in targets {
                    self.route(reply_to, method, params, seq);
                }
            }
            Begun::Retry(id) => self.retry(id),
            Begun::Ended => {}
        }
    }

    /// One input request's answer (from a person, a mock rule or the roots list).
    pub(super) fn input_answered(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
    ) {
        let mut out = Outbox::default();
        let next = self
            .rounds
            .answered(reply_to, outcome, answered_by, &mut out);
        if let Next::Ended(id) = next {
            self.drop_input_requests(id);
        }
        self.apply(out);
        if let Next::Retry(id) = next {
            self.retry(id);
        }
    }

    /// The input requests of a conversation that ended, wherever they wait.
    fn drop_input_requests(&mut self, conversation: u64) {
        self.take_pending_where(
            |r| matches!(&r.reply_to, ReplyTo::Input { conversation: c, .. } if *c == conversation),
        );
    }

    /// Every input request has its answer: the next round goes out with a new id.
    fn retry(&mut self, conversation: u64) {
        let Some(Retry { call, params }) = self.rounds.retry(conversation) else {
            return;
        };
        self.drop_input_requests(conversation);
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

    /// A cancel for a call that is between rounds (its last request was answered).
    pub(super) fn cancel_conversation(&mut self, request_id: i64, reason: Option<String>) -> bool {
        let mut out = Outbox::default();
        let ended = self.rounds.cancel(request_id, reason, &mut out);
        if let Some(id) = ended {
            self.drop_input_requests(id);
        }
        self.apply(out);
        ended.is_some()
    }

    /// The connection ended: calls waiting for input fail too.
    pub(super) fn fail_conversations(&mut self, message: &str) {
        let mut out = Outbox::default();
        for id in self.rounds.fail_all(message, &mut out) {
            self.drop_input_requests(id);
        }
        self.apply(out);
    }
}

#[cfg(test)]
mod tests;
