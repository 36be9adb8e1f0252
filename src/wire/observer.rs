//! The engine's passive side, for a tapped connection: a real client and a real server talk,
//! and we only watch. Both peers' lines are read with the checks the engine makes of a server's
//! (`read_line`, `parse_message`); what differs is pairing, which here runs both ways on ids
//! that are neither peer's ours: the client's requests with the server's answers, the server's
//! requests with the client's. Times come from where the traffic was seen (the tap), not from
//! when the report reached us.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Value, value::RawValue};

use super::{Outcome, Parsed, message::parse_message, read_line};
use crate::events::{Direction, FrameEvent, Late, Severity};

/// How many answered ids per side we remember, to name a duplicate answer as one.
const ANSWERED_MEMORY: usize = 4096;
/// How many requests per side we follow at once; past this the oldest are let go (a peer that
/// never answers must not grow our memory).
const WAITING_MAX: usize = 8192;

/// One side's requests waiting for the other side's answer.
#[derive(Default)]
struct Side {
    waiting: HashMap<String, Asked>,
    /// The requests in the order they came, each with its number: an id used again is a new
    /// request, and only the entry with the live number stands for it.
    waiting_order: VecDeque<(String, u64)>,
    asked: u64,
    answered: HashSet<String>,
    answered_order: VecDeque<String>,
    /// Requests this side cancelled (`notifications/cancelled`) before their answer came.
    cancelled: HashSet<String>,
    cancelled_order: VecDeque<String>,
    /// Whether the finding about letting requests go was made (once is enough).
    let_go: bool,
}

struct Asked {
    method: String,
    at_us: u64,
    /// Its number among this side's requests.
    n: u64,
}

/// Remembers `key` in a set bounded by [`ANSWERED_MEMORY`], oldest forgotten first.
fn remember(set: &mut HashSet<String>, order: &mut VecDeque<String>, key: String) {
    if set.insert(key.clone()) {
        order.push_back(key);
        while order.len() > ANSWERED_MEMORY {
            if let Some(old) = order.pop_front() {
                set.remove(&old);
            }
        }
    }
}

impl Side {
    fn answered(&mut self, key: String) {
        remember(&mut self.answered, &mut self.answered_order, key);
    }

    /// Follows a new request; true the first time the oldest had to be let go to make room.
    fn ask(&mut self, key: String, mut asked: Asked) -> bool {
        self.asked += 1;
        asked.n = self.asked;
        self.waiting_order.push_back((key.clone(), asked.n));
        self.waiting.insert(key, asked);
        let live = |waiting: &HashMap<String, Asked>, (k, n): &(String, u64)| {
            waiting.get(k).is_some_and(|a| a.n == *n)
        };
        let mut dropped = false;
        while self.waiting.len() > WAITING_MAX {
            let Some(old) = self.waiting_order.pop_front() else {
                break;
            };
            if live(&self.waiting, &old) {
                self.waiting.remove(&old.0);
                dropped = true;
            }
        }
        // Entries of requests answered (or asked again) since stay until they reach the front;
        // past twice the bound they are swept, so the order holds at most one per live request
        // after a sweep.
        if self.waiting_order.len() > 2 * WAITING_MAX {
            let waiting = &self.waiting;
            self.waiting_order.retain(|entry| live(waiting, entry));
        }
        let first = dropped && !self.let_go;
        self.let_go |= dropped;
        first
    }

    fn cancel(&mut self, key: String) {
        if self.waiting.remove(&key).is_some() {
            remember(&mut self.cancelled, &mut self.cancelled_order, key);
        }
    }
}

/// What one watched line was.
pub struct Seen {
    pub frame: FrameEvent,
    pub findings: Vec<(Severity, String)>,
    /// The requests and notifications it held: method and params.
    pub calls: Vec<(String, Option<Value>)>,
    /// The answers it held: the method of the request each answers, and the outcome as sent.
    pub answers: Vec<(String, Outcome)>,
}

/// Watches one connection between a client and a server. `Sent` is the client's direction,
/// `Received` the server's, as in a session of our own.
#[derive(Default)]
pub struct Observer {
    client: Side,
    server: Side,
    /// JSON-RPC batches exist only in protocol 2025-03-26.
    pub batches_allowed: bool,
}

impl Observer {
    /// Reads one line `direction`'s peer sent, seen at `at_us` microseconds on the tap's clock.
    pub fn see(&mut self, direction: Direction, line: &[u8], at_us: u64) -> Seen {
        let mut calls = Vec::new();
        let mut answers = Vec::new();
        let (mut frame, findings) =
            read_line(line, self.batches_allowed, |raw, _, frame, findings| {
                self.classify(
                    direction,
                    raw,
                    at_us,
                    frame,
                    findings,
                    &mut calls,
                    &mut answers,
                )
            });
        frame.direction = direction;
        // The engine's words are for a server's stdout; a client writes the server's stdin.
        let findings = match direction {
            Direction::Received => findings,
            Direction::Sent => findings
                .into_iter()
                .map(|(severity, text)| (severity, client_words(text)))
                .collect(),
        };
        Seen {
            frame,
            findings,
            calls,
            answers,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn classify(
        &mut self,
        direction: Direction,
        raw: &RawValue,
        at_us: u64,
        frame: &mut FrameEvent,
        findings: &mut Vec<(Severity, String)>,
        calls: &mut Vec<(String, Option<Value>)>,
        answers: &mut Vec<(String, Outcome)>,
    ) {
        let (asker, answerer, who, other) = match direction {
            Direction::Sent => (&mut self.client, &mut self.server, "client", "server"),
            Direction::Received => (&mut self.server, &mut self.client, "server", "client"),
        };
        match parse_message(raw, frame, findings) {
            None => {}
            Some(Parsed::Call { id, method, params }) => {
                if let Some(id) = id {
                    let key = id.to_string();
                    if asker.waiting.contains_key(&key) {
                        findings.push((
                            Severity::Error,
                            format!(
                                "the {who} reused request id {id} while its earlier request with that id still waited for an answer"
                            ),
                        ));
                    }
                    asker.answered.remove(&key);
                    asker.cancelled.remove(&key);
                    let asked = Asked {
                        method: method.clone(),
                        at_us,
                        n: 0,
                    };
                    if asker.ask(key, asked) {
                        findings.push((
                            Severity::Warning,
                            format!(
                                "the {who} has more than {WAITING_MAX} requests without an answer: the oldest are no longer followed"
                            ),
                        ));
                    }
                } else if method == "notifications/cancelled"
                    && let Some(rid) = params.as_ref().and_then(|p| p.get("requestId"))
                {
                    // A peer cancels its own request: its answer may still come, late.
                    asker.cancel(rid.to_string());
                }
                calls.push((method, params));
            }
            Some(Parsed::Answer { id, outcome }) => {
                // An answer goes to the other side's request.
                let key = id.to_string();
                match answerer.waiting.remove(&key) {
                    Some(asked) => {
                        frame.duration_ms = Some(at_us.saturating_sub(asked.at_us) as f64 / 1000.0);
                        frame.request_method = Some(asked.method.clone());
                        answerer.answered(key);
                        answers.push((asked.method, outcome));
                    }
                    None if answerer.cancelled.contains(&key) => {
                        frame.late = Some(Late::AfterCancel);
                        findings.push((
                            Severity::Info,
                            format!("response to the {other}'s request {id}, which it had cancelled: arrived after cancel"),
                        ));
                    }
                    None if answerer.answered.contains(&key) => findings.push((
                        Severity::Error,
                        format!("duplicate response: the {other}'s request {id} was already answered"),
                    )),
                    None => findings.push((
                        Severity::Error,
                        format!(
                            "response to id {id}, which the {other} never sent (or not on this connection)"
                        ),
                    )),
                }
            }
        }
    }
}

/// A finding about a line the client wrote, in words about the client.
fn client_words(text: String) -> String {
    if text.starts_with("empty line on stdout") {
        return "empty line from the client: only JSON-RPC messages may be written to a server"
            .into();
    }
    match text.split_once("): stdout must carry only JSON-RPC messages") {
        Some((head, _)) => format!("{head}): the client must write only JSON-RPC messages"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::FrameType;

    #[test]
    fn both_peers_requests_are_paired_with_the_other_peers_answers() {
        let mut o = Observer::default();
        let req = o.see(
            Direction::Sent,
            br#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#,
            1_000,
        );
        assert_eq!(req.frame.frame_type, FrameType::Request);
        assert_eq!(req.frame.direction, Direction::Sent);
        // The server asks the client something while the client's request waits.
        let ask = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":"a","method":"roots/list"}"#,
            1_500,
        );
        assert!(ask.findings.is_empty(), "{:?}", ask.findings);
        let answer = o.see(
            Direction::Sent,
            br#"{"jsonrpc":"2.0","id":"a","result":{"roots":[]}}"#,
            1_700,
        );
        assert_eq!(answer.frame.request_method.as_deref(), Some("roots/list"));
        assert!(answer.findings.is_empty());
        let result = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":"a","result":{"tools":[]}}"#,
            3_000,
        );
        assert_eq!(result.frame.request_method.as_deref(), Some("tools/list"));
        assert_eq!(result.frame.duration_ms, Some(2.0));
        assert_eq!(result.answers.len(), 1);
        // Again: a duplicate; an id nobody sent: a stray.
        let dup = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":"a","result":{}}"#,
            3_100,
        );
        assert!(
            dup.findings[0].1.contains("duplicate"),
            "{:?}",
            dup.findings
        );
        let stray = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":9,"result":{}}"#,
            3_200,
        );
        assert!(
            stray.findings[0].1.contains("never sent"),
            "{:?}",
            stray.findings
        );
    }

    #[test]
    fn a_line_that_is_not_json_is_kept_as_text_with_a_finding() {
        let mut o = Observer::default();
        let seen = o.see(Direction::Received, b"Starting server...", 0);
        assert_eq!(seen.frame.raw.as_deref(), Some("Starting server..."));
        assert_eq!(seen.frame.direction, Direction::Received);
        assert_eq!(seen.findings.len(), 1);
        let reused = {
            o.see(
                Direction::Sent,
                br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                0,
            );
            o.see(
                Direction::Sent,
                br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                0,
            )
        };
        assert!(
            reused.findings[0].1.contains("reused"),
            "{:?}",
            reused.findings
        );
    }

    #[test]
    fn a_clients_bad_line_is_named_as_the_clients() {
        let mut o = Observer::default();
        let seen = o.see(Direction::Sent, b"oops", 0);
        assert!(
            seen.findings[0].1.contains("the client must write"),
            "{:?}",
            seen.findings
        );
        assert!(!seen.findings[0].1.contains("stdout"));
        let seen = o.see(Direction::Received, b"oops", 0);
        assert!(seen.findings[0].1.contains("stdout"), "{:?}", seen.findings);
    }

    #[test]
    fn a_cancelled_request_answered_anyway_is_late_not_stray() {
        let mut o = Observer::default();
        o.see(
            Direction::Sent,
            br#"{"jsonrpc":"2.0","id":4,"method":"tools/call"}"#,
            0,
        );
        o.see(
            Direction::Sent,
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}}"#,
            1,
        );
        let late = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":4,"result":{}}"#,
            2,
        );
        assert_eq!(late.frame.late, Some(Late::AfterCancel));
        assert_eq!(late.findings[0].0, Severity::Info, "{:?}", late.findings);
    }

    #[test]
    fn a_peer_that_never_answers_does_not_grow_what_is_followed() {
        let mut o = Observer::default();
        let mut warned = 0;
        for i in 0..(WAITING_MAX + 10) {
            let line = format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"ping"}}"#);
            warned += o.see(Direction::Sent, line.as_bytes(), 0).findings.len();
        }
        assert_eq!(o.client.waiting.len(), WAITING_MAX);
        assert!(o.client.waiting_order.len() <= 2 * WAITING_MAX);
        assert_eq!(warned, 1, "said once");
    }

    #[test]
    fn a_client_that_uses_one_id_again_and_again_does_not_grow_what_is_followed() {
        // Regression (review): every copy of a reused id stayed in the order list, and an old
        // copy reaching its front let the live request go.
        let mut o = Observer::default();
        for i in 0..(3 * WAITING_MAX) {
            o.see(
                Direction::Sent,
                br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
                i as u64,
            );
            o.see(
                Direction::Received,
                br#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
                i as u64,
            );
        }
        assert!(o.client.waiting_order.len() <= 2 * WAITING_MAX + 1);
        let ask = o.see(
            Direction::Sent,
            br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            0,
        );
        assert!(ask.findings.is_empty(), "{:?}", ask.findings);
        let answer = o.see(
            Direction::Received,
            br#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            0,
        );
        assert_eq!(answer.frame.request_method.as_deref(), Some("ping"));
    }
}
