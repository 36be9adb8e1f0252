//! Replay: a recording run again as a regression check. The plan is read from the recorded
//! frames: our requests in order (not the ones the session makes by itself: the handshake,
//! task polls, the listen stream, input-round retries) with the answers they got, and our
//! answers to the server's requests, by method. The run sends each request in turn on a live
//! session, answers the server's requests as recorded (the responders answer first where they
//! apply), and compares each answer with the recorded one (`diff.rs`). The command (`mcpscope
//! replay`, in `commands/`) and the API (`POST /api/sessions/{id}/replay`) run the same
//! [`run_plan`]. Prints nothing.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};
use tokio::sync::watch;

pub use super::diff;
use super::diff::{Ignore, diff};
use crate::{
    events::{
        Direction, Event, EventBus, FrameType, Stamped,
        observed::{Observation, message_at, observe},
    },
    session::{Answer, ConnectOptions, EraChoice, LocalError, SessionHandle, Target},
    wire::{Outcome, Timeout},
};

/// Requests the session makes by itself; they are not replayed (a fresh session makes its own).
const AUTOMATIC: &[&str] = &[
    "initialize",
    "server/discover",
    "subscriptions/listen",
    "tasks/get",
    "tasks/result",
];

/// One request of ours to send again.
#[derive(Debug)]
pub struct Step {
    pub seq: u64,
    pub method: String,
    pub params: Option<Value>,
    /// The recorded answer (`result` or `error`, no id), and its seq; None when it had none.
    pub recorded: Option<(u64, Value)>,
}

/// What a recording asks of a replay.
#[derive(Debug, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Our recorded answers to the server's requests, by method, in order.
    pub answers: HashMap<String, VecDeque<Result<Value, Value>>>,
    /// The recorded `initialize` answer, compared like any other.
    pub initialize: Option<(u64, Value)>,
    pub client_capabilities: Option<Value>,
    pub protocol_version: Option<String>,
    pub modern: bool,
}

impl Plan {
    pub fn read(events: impl IntoIterator<Item = Stamped>) -> Plan {
        let mut plan = Plan::default();
        let observations = observe(events);
        // Our requests that are steps (a retry is its step again), by their place.
        let mut step_of: HashMap<usize, usize> = HashMap::new();
        // Tasks we hosted for the server, by id: the method of the request that created them.
        let mut hosted: HashMap<String, String> = HashMap::new();
        // Calls whose latest answer asked for input (MRTR): the step, and each input key's method.
        let mut asking: Vec<(usize, HashMap<String, String>)> = Vec::new();
        for (at, observation) in observations.iter().enumerate() {
            let m = match observation {
                Observation::Connecting { .. } => {
                    asking.clear();
                    continue;
                }
                Observation::Message(m) if m.id.is_some() => m,
                _ => continue,
            };
            let sent = m.direction == Direction::Sent;
            match (sent, m.kind, m.method.as_deref()) {
                (true, FrameType::Request, Some("initialize")) => {
                    plan.client_capabilities = m.message.pointer("/params/capabilities").cloned();
                    plan.protocol_version = m
                        .message
                        .pointer("/params/protocolVersion")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                (true, FrameType::Request, Some(method)) => {
                    let params = m.message.get("params").cloned();
                    let responses = params.as_ref().and_then(|p| p.get("inputResponses"));
                    if let Some(responses) = responses {
                        // A retry is the same step; what it carries are our answers to the
                        // input requests, which a replay gives again by method.
                        if let Some(found) = asking
                            .iter()
                            .rposition(|(i, _)| plan.steps[*i].method == method)
                        {
                            let (i, keys) = asking.remove(found);
                            step_of.insert(at, i);
                            for (key, response) in responses.as_object().into_iter().flatten() {
                                if let Some(asked) = keys.get(key) {
                                    plan.answers
                                        .entry(asked.clone())
                                        .or_default()
                                        .push_back(Ok(response.clone()));
                                }
                            }
                        }
                    } else if !AUTOMATIC.contains(&method) {
                        step_of.insert(at, plan.steps.len());
                        plan.steps.push(Step {
                            seq: m.seq,
                            method: method.to_owned(),
                            params: params.map(fresh_params),
                            recorded: None,
                        });
                    }
                }
                (false, _, _) if m.is_answer() => {
                    let Some(answered) = &m.answers else { continue };
                    match answered.method.as_str() {
                        "initialize" if plan.initialize.is_none() => {
                            plan.initialize = Some((m.seq, outcome_of(&m.message)));
                        }
                        // Sent is not spoken: an `auto` session that fell back sent it too.
                        "server/discover" => plan.modern |= m.message.get("result").is_some(),
                        _ => {
                            let Some(i) = step_of.remove(&answered.request) else {
                                continue;
                            };
                            // A call that asked for input is recorded by its last round's answer.
                            plan.steps[i].recorded = Some((m.seq, outcome_of(&m.message)));
                            if m.message
                                .pointer("/result/resultType")
                                .and_then(Value::as_str)
                                == Some("input_required")
                            {
                                let keys = m
                                    .message
                                    .pointer("/result/inputRequests")
                                    .and_then(Value::as_object)
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|(k, r)| {
                                        Some((k.clone(), r.get("method")?.as_str()?.to_owned()))
                                    })
                                    .collect();
                                asking.push((i, keys));
                            }
                        }
                    }
                }
                (true, _, _) if m.is_answer() => {
                    let Some(answered) = &m.answers else { continue };
                    let mut method = answered.method.clone();
                    let task = message_at(&observations, answered.request)
                        .and_then(|r| r.message.pointer("/params/taskId"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    let mut answer = match m.message.get("error") {
                        Some(err) => Err(err.clone()),
                        None => Ok(m.message.get("result").cloned().unwrap_or(json!({}))),
                    };
                    // A request we ran as a task was answered with the task; its real answer
                    // is what our `tasks/result` gave, which a replay gives the request again
                    // (a replay hosts the task anew). The other `tasks/*` are answered
                    // in-process.
                    if let Some(task_id) = m
                        .message
                        .pointer("/result/task/taskId")
                        .and_then(Value::as_str)
                    {
                        hosted.insert(task_id.to_owned(), method);
                        continue;
                    }
                    if method.starts_with("tasks/") {
                        let Some(origin) = task
                            .filter(|_| method == "tasks/result")
                            .and_then(|t| hosted.remove(&t))
                        else {
                            continue;
                        };
                        if let Ok(Value::Object(result)) = &mut answer
                            && let Some(Value::Object(meta)) = result.get_mut("_meta")
                        {
                            meta.remove("io.modelcontextprotocol/related-task");
                            if meta.is_empty() {
                                result.remove("_meta");
                            }
                        }
                        method = origin;
                    }
                    plan.answers.entry(method).or_default().push_back(answer);
                }
                _ => {}
            }
        }
        plan
    }

    /// What a replay of this plan sends, as the seal covers it and a person reads it: every
    /// request in order with its params, every answer it gives to the server's requests (by
    /// method), and how it introduces itself.
    pub fn sealed_view(&self) -> Value {
        let answers: std::collections::BTreeMap<&String, Vec<Value>> = self
            .answers
            .iter()
            .map(|(method, queue)| {
                let list = queue
                    .iter()
                    .map(|a| match a {
                        Ok(r) => json!({"result": r}),
                        Err(e) => json!({"error": e}),
                    })
                    .collect();
                (method, list)
            })
            .collect();
        json!({
            "requests": self.steps.iter()
                // A step is sent only when it had an answer: that is part of the plan too.
                .map(|s| json!({"method": s.method, "params": s.params, "sent": s.recorded.is_some()}))
                .collect::<Vec<_>>(),
            "answers": answers,
            "clientCapabilities": self.client_capabilities,
            "protocolVersion": self.protocol_version,
            "modern": self.modern,
        })
    }

    /// The plan for people, in full: each request with its params, then each answer the replay
    /// would give the server (terminal text goes through `term::text` when printed).
    pub fn spelled_out(&self) -> String {
        let mut out = String::from("  requests it sends, in order:\n");
        if self.steps.is_empty() {
            out.push_str("    (none)\n");
        }
        // Methods and params are file text: shown as JSON where they are not plain, so a new
        // line or a bidi control cannot fake or hide a line of the plan.
        let shown = |m: &str| {
            if m.chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-.$".contains(c))
            {
                m.to_owned()
            } else {
                crate::term::json(&Value::String(m.to_owned()).to_string()).into_owned()
            }
        };
        let json_text = |v: &Value| crate::term::json(&v.to_string()).into_owned();
        for (n, s) in self
            .steps
            .iter()
            .filter(|s| s.recorded.is_some())
            .enumerate()
        {
            let params = s.params.as_ref().map_or_else(String::new, json_text);
            out.push_str(&format!("    {}. {} {params}\n", n + 1, shown(&s.method)));
        }
        let mut methods: Vec<_> = self.answers.iter().collect();
        methods.sort_by(|a, b| a.0.cmp(b.0));
        if !methods.is_empty() {
            out.push_str("  answers it gives to the server's requests:\n");
        }
        for (method, queue) in methods {
            for a in queue {
                let (k, v) = match a {
                    Ok(r) => ("result", r),
                    Err(e) => ("error", e),
                };
                out.push_str(&format!("    {} → {k} {}\n", shown(method), json_text(v)));
            }
        }
        out
    }
}

/// Whether this machine sealed this file's target and plan (`seal.rs`): only then may it run
/// without the user having seen what it does.
pub fn sealed_here(header: &super::Header, plan: &Plan) -> bool {
    let covered = super::seal::covered(header.target.as_ref(), plan.sealed_view());
    header
        .seal
        .as_deref()
        .is_some_and(|s| super::seal::is_ours(&covered, s))
}

/// An answer without its envelope: `{"result": …}` or `{"error": …}`, so paths read
/// `$.result.…` and the id (per run) is not compared.
fn outcome_of(message: &Value) -> Value {
    let mut o = Map::new();
    for k in ["result", "error"] {
        if let Some(v) = message.get(k) {
            o.insert(k.into(), v.clone());
        }
    }
    Value::Object(o)
}

/// Recorded params without what the session adds per run: the progress token and the modern
/// era's protocol keys in `_meta` (a fresh session adds its own).
fn fresh_params(mut params: Value) -> Value {
    if let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) {
        meta.retain(|k, _| k != "progressToken" && !k.starts_with("io.modelcontextprotocol/"));
        if meta.is_empty() {
            params.as_object_mut().map(|p| p.remove("_meta"));
        }
    }
    params
}

/// What the user tweaks about a run.
pub struct Settings {
    pub ignore: Vec<Ignore>,
    pub timeout: Timeout,
}

/// Sends the plan's requests on a connected session, answers the server's requests as
/// recorded, and compares. Returns the report; its `seconds` count from `began` (when the
/// connect began: starting a server is most of a short replay), `startSeconds` that part.
pub async fn run_plan(
    plan: Plan,
    handle: &SessionHandle,
    events: &EventBus,
    session: &str,
    settings: &Settings,
    began: std::time::Instant,
) -> Value {
    let started = std::time::Instant::now();
    let start_seconds = started.duration_since(began).as_secs_f64();
    let (stop, stopped) = watch::channel(false);
    let answerer = tokio::spawn(answer_as_recorded(
        plan.answers,
        handle.clone(),
        events.clone(),
        session.to_owned(),
        stopped,
    ));
    let mut items = Vec::new();
    if let Some((seq, recorded)) = &plan.initialize {
        let replayed = observe(super::session_events(events, session))
            .into_iter()
            .find_map(|o| match o {
                Observation::Message(m)
                    if m.direction == Direction::Received
                        && m.answers.as_ref().is_some_and(|a| a.method == "initialize") =>
                {
                    Some((m.seq, outcome_of(&m.message)))
                }
                _ => None,
            });
        items.push(compare(
            "initialize",
            None,
            *seq,
            Some(recorded),
            replayed.as_ref().map(|(s, v)| (*s, v)),
            None,
            settings,
        ));
    }
    let mut ids = Vec::new();
    for step in &plan.steps {
        let label = label(&step.method, step.params.as_ref());
        let Some((_, recorded)) = &step.recorded else {
            items.push(json!({"method": step.method, "label": label, "recordedSeq": step.seq,
                "status": "skipped", "reason": "it had no answer when recorded (cancelled or timed out)"}));
            continue;
        };
        let answer = handle
            .request(step.method.clone(), step.params.clone(), settings.timeout)
            .await;
        let (replayed, reason) = match answer {
            Ok(Answer {
                id,
                outcome: Outcome::Result(raw),
            }) => {
                ids.push((items.len(), id));
                let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                (Some(json!({"result": v})), None)
            }
            Ok(Answer {
                id,
                outcome: Outcome::Error(raw),
            }) => {
                ids.push((items.len(), id));
                let v: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                (Some(json!({"error": v})), None)
            }
            Err(e @ LocalError::Timeout { .. }) => (None, Some(format!("no answer: {e}"))),
            Err(e) => (None, Some(e.to_string())),
        };
        items.push(compare(
            &step.method,
            label,
            step.seq,
            Some(recorded),
            replayed.as_ref().map(|v| (0, v)),
            reason,
            settings,
        ));
    }
    let _ = stop.send(true);
    let answered = answerer.await.unwrap_or(0);
    // The replayed answers' seqs, so the UI can open each frame.
    let seqs: HashMap<i64, u64> = observe(super::session_events(events, session))
        .into_iter()
        .filter_map(|o| match o {
            // Answers only: a server request's id may be any of ours.
            Observation::Message(m) if m.direction == Direction::Received && m.is_answer() => {
                Some((m.id?.as_i64()?, m.seq))
            }
            _ => None,
        })
        .collect();
    for (i, id) in ids {
        if let Some(seq) = seqs.get(&id) {
            items[i]["replayedSeq"] = json!(seq);
        }
    }
    let count = |s: &str| items.iter().filter(|i| i["status"] == s).count();
    let elapsed = started.elapsed().as_secs_f64();
    let sent = plan.steps.iter().filter(|s| s.recorded.is_some()).count();
    let seconds = began.elapsed().as_secs_f64();
    json!({
        "summary": {
            "same": count("same"), "different": count("different"),
            "missing": count("missing"), "skipped": count("skipped"),
            "serverRequestsAnswered": answered,
            "seconds": seconds,
            "startSeconds": start_seconds,
            "requestsPerSecond": if elapsed > 0.0 { sent as f64 / elapsed } else { 0.0 },
        },
        "session": session,
        "items": items,
    })
}

fn compare(
    method: &str,
    label: Option<String>,
    recorded_seq: u64,
    recorded: Option<&Value>,
    replayed: Option<(u64, &Value)>,
    reason: Option<String>,
    settings: &Settings,
) -> Value {
    let mut item = json!({"method": method, "label": label, "recordedSeq": recorded_seq});
    match (recorded, replayed) {
        (Some(a), Some((seq, b))) => {
            let d = diff(a, b, &settings.ignore);
            item["status"] = json!(if d.is_empty() { "same" } else { "different" });
            if !d.is_empty() {
                item["differences"] = json!(d);
            }
            if seq > 0 {
                item["replayedSeq"] = json!(seq);
            }
        }
        _ => {
            item["status"] = json!("missing");
            item["reason"] = json!(reason.unwrap_or_else(|| "no answer".into()));
        }
    }
    item
}

/// What a request acts on, for people: the tool, prompt or resource it names.
fn label(method: &str, params: Option<&Value>) -> Option<String> {
    let p = params?;
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        _ => return p.get("cursor").map(|c| format!("cursor {c}")),
    };
    p.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Answers each server request that reaches the manual queue with the next recorded answer
/// for its method (an error when none is left), until told to stop; returns how many.
async fn answer_as_recorded(
    mut answers: HashMap<String, VecDeque<Result<Value, Value>>>,
    handle: SessionHandle,
    events: EventBus,
    session: String,
    mut stop: watch::Receiver<bool>,
) -> usize {
    let mut newest = events.watch();
    let mut seen = events.newest_seq();
    // A request that arrived before we started following is still in the ring.
    for e in super::session_events(&events, &session) {
        if let Event::Pending(_) = e.event {
            seen = seen.min(e.seq.saturating_sub(1));
        }
    }
    let mut answered = 0;
    loop {
        let batch = events.next_after(seen, 256);
        if let Some(last) = batch.records.last() {
            seen = last.seq;
        }
        for r in batch
            .records
            .iter()
            .filter(|r| r.session.as_deref() == Some(session.as_str()))
        {
            let Ok(Stamped {
                event: Event::Pending(pending),
                ..
            }) = r.read()
            else {
                continue;
            };
            let method = pending.method.as_str();
            let outcome = answers
                .get_mut(method)
                .and_then(VecDeque::pop_front)
                .unwrap_or_else(|| {
                    Err(json!({"code": -32603, "message": format!("replay: no recorded answer to {method}")}))
                });
            if handle.answer_pending(pending.id, outcome).await {
                answered += 1;
            }
        }
        if batch.records.is_empty() {
            if *stop.borrow() {
                return answered;
            }
            tokio::select! {
                _ = newest.changed() => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// The connect options a replay uses: the recorded client capabilities, protocol version and
/// era, so the server sees the same client.
pub fn options(plan: &Plan) -> ConnectOptions {
    let mut o = ConnectOptions::default();
    if let Some(c) = &plan.client_capabilities {
        o.client_capabilities = c.clone();
    }
    if let Some(v) = &plan.protocol_version {
        o.protocol_version = v.clone();
    }
    if plan.modern {
        o.era = EraChoice::Modern;
    }
    o
}

/// The recorded target, when it can be started as it was: none of its values were redacted.
pub fn recorded_target(target: &Value) -> Result<Target, String> {
    let text = target.to_string();
    // A query parameter's marker is percent-encoded in the URL.
    if text.contains(crate::redact::REDACTED) || text.contains("%3Credacted%3E") {
        return Err("the recorded target had secret values (redacted in the file): give the target again (-- COMMAND with -e, or --url with --header)".into());
    }
    Target::from_description(target)
}

/// A recorded target in full, as the file has it: the command line (each word quoted when it
/// needs to be), every environment value and the working directory, or the URL and headers.
pub fn spelled_out(target: &Value) -> String {
    let word = |v: &Value| {
        let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        let plain = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
        if plain {
            s
        } else {
            Value::String(s).to_string()
        }
    };
    let mut lines = Vec::new();
    if target["transport"] == "stdio" {
        let words: Vec<String> = std::iter::once(&target["command"])
            .chain(target["args"].as_array().into_iter().flatten())
            .map(word)
            .collect();
        lines.push(format!("  command: {}", words.join(" ")));
        for (k, v) in target["env"].as_object().into_iter().flatten() {
            lines.push(format!("  env: {}={}", word(&json!(k)), word(v)));
        }
        if !target["cwd"].is_null() {
            lines.push(format!("  cwd: {}", word(&target["cwd"])));
        }
    } else {
        lines.push(format!(
            "  {}: {}",
            word(&target["transport"]),
            word(&target["url"])
        ));
        for (k, v) in target["headers"].as_object().into_iter().flatten() {
            lines.push(format!("  header: {}: {}", word(&json!(k)), word(v)));
        }
    }
    lines.join("\n")
}
