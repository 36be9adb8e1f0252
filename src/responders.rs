//! Responder settings: how mcpscope answers the server's own requests when no person does.
//! Sampling and elicitation each have a mode (manual, or mock with ordered regex rules and an
//! optional default); roots are a list answered as-is. Settings are validated and compiled once
//! when set (`PUT /api/responders`, or the `--responders` file at start), then shared read-only
//! with the session actor, which asks [`Responders::sampling_answer`] and friends per request.

mod store;

use std::time::Duration;

pub use store::{ResponderStore, SessionResponders};

use regex_lite::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A rule may delay its answer (to test a server's timeouts), but not forever.
pub const MAX_RULE_DELAY: Duration = Duration::from_secs(600);
/// Compiled-size cap per pattern, so one pasted monster regex cannot eat the process.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The settings as the API and the file show them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub sampling: RuleSet,
    #[serde(default)]
    pub elicitation: RuleSet,
    #[serde(default)]
    pub roots: Vec<Root>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleSet {
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The answer for requests no rule matches; `null` sends them to a person.
    #[serde(default)]
    pub default: Option<Value>,
    /// Mode `llm`: the model that answers (`PROVIDER:MODEL`; default: `--model`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Mode `llm`: the model's draft waits for a person to send, edit or reject.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub review: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Manual,
    Mock,
    /// Sampling only: a model answers what no mock rule matches.
    Llm,
}

/// How a model answers a sampling request no rule matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmPlan {
    pub model: Option<crate::model::ModelRef>,
    pub review: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    /// A regex searched for in the request's text (unanchored).
    #[serde(rename = "match")]
    pub pattern: String,
    /// The result sent back: a CreateMessageResult or an ElicitResult.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    /// Or a JSON-RPC error instead (`{"code", "message", "data"?}`), to test the server's
    /// handling of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Root {
    pub uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An answer chosen without a person: the result, how long to wait, and which rule chose it
/// (shown in the timeline as the sent frame's `answeredBy`).
#[derive(Debug, Clone, PartialEq)]
pub struct AutoAnswer {
    /// The result, or the JSON-RPC error, to send.
    pub outcome: Result<Value, Value>,
    pub delay: Duration,
    pub answered_by: Value,
}

/// Settings plus their compiled patterns.
#[derive(Debug, Default)]
pub struct Responders {
    settings: Settings,
    sampling: Vec<Regex>,
    elicitation: Vec<Regex>,
}

impl Responders {
    /// Validates and compiles; the error names the offending field.
    pub fn new(settings: Settings) -> Result<Self, String> {
        let sampling = compile("sampling", &settings.sampling)?;
        let elicitation = compile("elicitation", &settings.elicitation)?;
        for (i, root) in settings.roots.iter().enumerate() {
            if root.uri.trim().is_empty() {
                return Err(format!("roots[{i}].uri must not be empty"));
            }
        }
        Ok(Responders {
            settings,
            sampling,
            elicitation,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// How to answer a `sampling/createMessage` with these params, if not by hand.
    pub fn sampling_answer(&self, params: &Value) -> Option<AutoAnswer> {
        choose(
            &self.settings.sampling,
            &self.sampling,
            &sampling_text(params),
        )
    }

    /// Whether a model answers the sampling requests no rule matched, and how.
    pub fn sampling_model(&self) -> Option<LlmPlan> {
        (self.settings.sampling.mode == Mode::Llm).then(|| LlmPlan {
            model: self
                .settings
                .sampling
                .model
                .as_deref()
                .and_then(|m| crate::model::ModelRef::parse(m).ok()),
            review: self.settings.sampling.review,
        })
    }

    /// How to answer an `elicitation/create` with these params, if not by hand.
    pub fn elicitation_answer(&self, params: &Value) -> Option<AutoAnswer> {
        choose(
            &self.settings.elicitation,
            &self.elicitation,
            &elicitation_text(params),
        )
    }

    /// The `roots/list` result.
    pub fn roots_result(&self) -> Value {
        json!({ "roots": self.settings.roots })
    }
}

fn compile(what: &str, set: &RuleSet) -> Result<Vec<Regex>, String> {
    if set.mode == Mode::Llm && what != "sampling" {
        return Err(format!("{what}.mode \"llm\" is for sampling only"));
    }
    if let Some(m) = &set.model {
        crate::model::ModelRef::parse(m).map_err(|e| format!("{what}.model: {e}"))?;
    }
    if let Some(d) = &set.default
        && !d.is_object()
    {
        return Err(format!("{what}.default must be an object or null"));
    }
    set.rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            match (&rule.response, &rule.error) {
                (Some(r), None) if r.is_object() => {}
                (None, Some(e))
                    if e.get("code").is_some_and(Value::is_i64)
                        && e.get("message").is_some_and(Value::is_string) => {}
                (Some(_), None) => {
                    return Err(format!("{what}.rules[{i}].response must be an object"));
                }
                (None, Some(_)) => {
                    return Err(format!(
                        "{what}.rules[{i}].error must be {{\"code\": int, \"message\": str}}"
                    ));
                }
                _ => {
                    return Err(format!(
                        "{what}.rules[{i}] needs exactly one of \"response\" and \"error\""
                    ));
                }
            }
            if Duration::from_millis(rule.delay_ms) > MAX_RULE_DELAY {
                return Err(format!(
                    "{what}.rules[{i}].delayMs is over the {} s maximum",
                    MAX_RULE_DELAY.as_secs()
                ));
            }
            RegexBuilder::new(&rule.pattern)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| format!("{what}.rules[{i}].match is not a valid regex: {e}"))
        })
        .collect()
}

fn choose(set: &RuleSet, patterns: &[Regex], text: &str) -> Option<AutoAnswer> {
    // Mock rules answer in mock mode, and win over the model in llm mode.
    if set.mode == Mode::Manual {
        return None;
    }
    for (i, (rule, re)) in set.rules.iter().zip(patterns).enumerate() {
        if re.is_match(text) {
            let mut by = json!({"responder": "mock", "rule": i, "match": rule.pattern});
            if let Some(name) = &rule.name {
                by["name"] = json!(name);
            }
            let outcome = match (&rule.response, &rule.error) {
                (_, Some(e)) => Err(e.clone()),
                (r, None) => Ok(r.clone().unwrap_or_default()),
            };
            return Some(AutoAnswer {
                outcome,
                delay: Duration::from_millis(rule.delay_ms),
                answered_by: by,
            });
        }
    }
    if set.mode != Mode::Mock {
        return None;
    }
    set.default.as_ref().map(|d| AutoAnswer {
        outcome: Ok(d.clone()),
        delay: Duration::ZERO,
        answered_by: json!({"responder": "mock", "rule": "default"}),
    })
}

/// A mock `accept` for a form elicitation gets the schema's `default` for every field its
/// `content` leaves out, as a client that shows the form prefilled would send (SEP-1034). What
/// the rule says explicitly is never changed.
pub fn apply_elicitation_defaults(params: &Value, answer: &mut AutoAnswer) {
    let Ok(result) = &mut answer.outcome else {
        return;
    };
    if result.get("action").and_then(Value::as_str) != Some("accept") {
        return;
    }
    let Some(props) = params
        .pointer("/requestedSchema/properties")
        .and_then(Value::as_object)
    else {
        return;
    };
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let content = obj.entry("content").or_insert_with(|| json!({}));
    let Some(content) = content.as_object_mut() else {
        return;
    };
    for (field, schema) in props {
        if let Some(default) = schema.get("default")
            && !content.contains_key(field)
        {
            content.insert(field.clone(), default.clone());
        }
    }
}

/// The text rules match against: the system prompt, then every text in the conversation
/// (including text inside tool results), one per line.
pub fn sampling_text(params: &Value) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(s) = params.get("systemPrompt").and_then(Value::as_str) {
        parts.push(s);
    }
    for message in params
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        collect_text(message.get("content"), &mut parts);
    }
    parts.join("\n")
}

fn collect_text<'a>(content: Option<&'a Value>, out: &mut Vec<&'a str>) {
    match content {
        Some(Value::Array(blocks)) => {
            for block in blocks {
                collect_text(Some(block), out);
            }
        }
        Some(block @ Value::Object(_)) => {
            if let Some(t) = block.get("text").and_then(Value::as_str) {
                out.push(t);
            }
            // tool_result blocks nest their own content.
            if block.get("type").and_then(Value::as_str) == Some("tool_result") {
                collect_text(block.get("content"), out);
            }
        }
        _ => {}
    }
}

/// The text elicitation rules match against: the message, and the URL in URL mode.
pub fn elicitation_text(params: &Value) -> String {
    let mut text = params
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(url) = params.get("url").and_then(Value::as_str) {
        text.push('\n');
        text.push_str(url);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock(rules: Value, default: Value) -> Responders {
        let settings: Settings = serde_json::from_value(json!({
            "sampling": {"mode": "mock", "rules": rules, "default": default},
        }))
        .unwrap();
        Responders::new(settings).unwrap()
    }

    fn request(system: &str, text: &str) -> Value {
        json!({
            "systemPrompt": system,
            "messages": [
                {"role": "user", "content": {"type": "text", "text": text}},
                {"role": "assistant", "content": [
                    {"type": "tool_use", "id": "t1", "name": "x", "input": {}},
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "toolUseId": "t1", "content": [{"type": "text", "text": "from the tool"}]},
                ]},
            ],
            "maxTokens": 10,
        })
    }

    #[test]
    fn the_first_matching_rule_wins_then_the_default() {
        let r = mock(
            json!([
                {"match": "weather", "response": {"model": "a"}, "name": "weather"},
                {"match": "(?i)WEATHER|tool", "response": {"model": "b"}, "delayMs": 50},
            ]),
            json!({"model": "fallback"}),
        );
        let a = r
            .sampling_answer(&request("sys", "the weather today"))
            .unwrap();
        assert_eq!(a.outcome.as_ref().unwrap()["model"], "a");
        assert_eq!(a.answered_by["rule"], 0);
        assert_eq!(a.answered_by["name"], "weather");
        // Text inside a tool result counts.
        let b = r.sampling_answer(&request("sys", "hello")).unwrap();
        assert_eq!(b.outcome.as_ref().unwrap()["model"], "b");
        assert_eq!(b.delay, Duration::from_millis(50));
        let c = mock(
            json!([{"match": "^zzz$", "response": {}}]),
            json!({"model": "d"}),
        )
        .sampling_answer(&request("sys", "hello"))
        .unwrap();
        assert_eq!(c.answered_by["rule"], "default");
    }

    #[test]
    fn the_system_prompt_is_matched_too_and_manual_mode_never_answers() {
        let r = mock(json!([{"match": "helpful", "response": {}}]), Value::Null);
        assert!(r.sampling_answer(&request("be helpful", "x")).is_some());
        assert!(r.sampling_answer(&request("be terse", "x")).is_none());
        let manual = Responders::new(
            serde_json::from_value(json!({
                "sampling": {"mode": "manual", "rules": [{"match": "", "response": {}}]}
            }))
            .unwrap(),
        )
        .unwrap();
        assert!(manual.sampling_answer(&request("a", "b")).is_none());
    }

    #[test]
    fn elicitation_rules_see_the_message_and_url() {
        let r = Responders::new(
            serde_json::from_value(json!({
                "elicitation": {"mode": "mock", "rules": [
                    {"match": "example\\.com", "response": {"action": "accept"}},
                    {"match": "name", "response": {"action": "decline"}},
                ]}
            }))
            .unwrap(),
        )
        .unwrap();
        let url = json!({"mode": "url", "message": "log in", "url": "https://example.com/x", "elicitationId": "e"});
        assert_eq!(
            r.elicitation_answer(&url).unwrap().outcome.unwrap()["action"],
            "accept"
        );
        let form = json!({"message": "your name?", "requestedSchema": {}});
        assert_eq!(
            r.elicitation_answer(&form).unwrap().outcome.unwrap()["action"],
            "decline"
        );
    }

    #[test]
    fn a_rule_may_answer_with_an_error() {
        let r = mock(
            json!([{"match": "no", "error": {"code": -1, "message": "User rejected sampling request"}}]),
            Value::Null,
        );
        let a = r.sampling_answer(&request("s", "no way")).unwrap();
        assert_eq!(a.outcome.unwrap_err()["code"], -1);
        let both: Settings = serde_json::from_value(json!({"sampling": {"rules": [
            {"match": "x", "response": {}, "error": {"code": 1, "message": "m"}}]}}))
        .unwrap();
        assert!(Responders::new(both).unwrap_err().contains("exactly one"));
        let bad: Settings = serde_json::from_value(
            json!({"sampling": {"rules": [{"match": "x", "error": {"message": "no code"}}]}}),
        )
        .unwrap();
        assert!(Responders::new(bad).unwrap_err().contains("rules[0].error"));
    }

    #[test]
    fn bad_settings_are_refused_with_the_field_named() {
        let bad_regex: Settings = serde_json::from_value(
            json!({"sampling": {"mode": "mock", "rules": [{"match": "(", "response": {}}]}}),
        )
        .unwrap();
        let e = Responders::new(bad_regex).unwrap_err();
        assert!(e.contains("sampling.rules[0].match"), "{e}");
        let bad_response: Settings = serde_json::from_value(
            json!({"elicitation": {"rules": [{"match": "x", "response": "accept"}]}}),
        )
        .unwrap();
        assert!(
            Responders::new(bad_response)
                .unwrap_err()
                .contains("elicitation.rules[0].response")
        );
        let empty_root: Settings =
            serde_json::from_value(json!({"roots": [{"uri": " "}]})).unwrap();
        assert!(
            Responders::new(empty_root)
                .unwrap_err()
                .contains("roots[0]")
        );
        assert!(serde_json::from_value::<Settings>(json!({"sampling": {"mode": "auto"}})).is_err());
    }

    #[test]
    fn roots_answer_lists_them_as_set() {
        let r = Responders::new(
            serde_json::from_value(
                json!({"roots": [{"uri": "file:///a", "name": "A"}, {"uri": "file:///b"}]}),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            r.roots_result(),
            json!({"roots": [{"uri": "file:///a", "name": "A"}, {"uri": "file:///b"}]})
        );
    }

    #[test]
    fn a_mock_accept_gets_the_schema_defaults_it_leaves_out() {
        let params = json!({"message": "m", "requestedSchema": {"type": "object", "properties": {
            "name": {"type": "string", "default": "John Doe"},
            "age": {"type": "integer", "default": 30},
            "verified": {"type": "boolean", "default": true},
            "plain": {"type": "string"}}}});
        let mut answer = AutoAnswer {
            outcome: Ok(json!({"action": "accept", "content": {"age": 41}})),
            delay: Duration::ZERO,
            answered_by: json!({}),
        };
        apply_elicitation_defaults(&params, &mut answer);
        assert_eq!(
            answer.outcome.unwrap()["content"],
            json!({"age": 41, "name": "John Doe", "verified": true})
        );
        let mut decline = AutoAnswer {
            outcome: Ok(json!({"action": "decline"})),
            delay: Duration::ZERO,
            answered_by: json!({}),
        };
        apply_elicitation_defaults(&params, &mut decline);
        assert_eq!(decline.outcome.unwrap(), json!({"action": "decline"}));
    }

    #[test]
    fn the_store_persists_and_reloads() {
        let dir = std::env::temp_dir().join(format!("mcpscope-resp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("responders.json");
        let _ = std::fs::remove_file(&path);
        let store = ResponderStore::open(Some(path.clone())).unwrap();
        assert_eq!(store.get().settings(), &Settings::default());
        let settings: Settings =
            serde_json::from_value(json!({"roots": [{"uri": "file:///r"}]})).unwrap();
        store.replace(settings.clone()).unwrap();
        let again = ResponderStore::open(Some(path.clone())).unwrap();
        assert_eq!(again.get().settings(), &settings);
        std::fs::write(
            &path,
            "{\"sampling\": {\"rules\": [{\"match\": \"[\", \"response\": {}}]}}",
        )
        .unwrap();
        assert!(ResponderStore::open(Some(path)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
