//! Evals: cases a model must get right with a server's tools. The file (`mcpscope eval FILE`)
//! names the servers (any config-file shape), an optional model, and cases: a prompt, the tool
//! calls expected (by the tool's own name, with a subset of their arguments) and text the answer
//! must contain. Each case runs `--runs` times through the chat loop (`chat.rs`); a run passes
//! when every expected call was made and the answer holds the text. Reports: text for people,
//! JSON, or JUnit XML for CI. Nothing here starts a process or prints.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::{Reply, ToolCall, text};

/// The largest eval file read.
pub const MAX_FILE: u64 = 4 << 20;

/// The parts of the file besides its servers.
#[derive(Debug, Deserialize)]
pub struct File {
    #[serde(default)]
    pub model: Option<String>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    pub prompt: String,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub tool_calls: Vec<ExpectedCall>,
    #[serde(default)]
    pub answer_contains: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedCall {
    pub name: String,
    /// A subset: every key given must be in the call with an equal value (objects compared the
    /// same way, recursively); keys not given may be anything.
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// One run of one case.
#[derive(Debug, Clone)]
pub struct Run {
    /// What went wrong; empty when the run passed.
    pub failures: Vec<String>,
    pub calls: Vec<ToolCall>,
    /// The model's own words over the run (its reasoning and answer).
    pub said: String,
    pub seconds: f64,
}

impl Run {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A case's runs.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: Case,
    pub runs: Vec<Run>,
}

impl Outcome {
    pub fn passed(&self) -> usize {
        self.runs.iter().filter(|r| r.passed()).count()
    }
}

/// Whether `actual` holds everything `expected` says.
pub fn subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| subset(v, av))),
        (e, a) => e == a,
    }
}

/// Judges one run: the reply (or the error that ended it) against the case.
pub fn judge(case: &Case, reply: Result<&Reply, &str>, said: String, seconds: f64) -> Run {
    let reply = match reply {
        Ok(r) => r,
        Err(why) => {
            return Run {
                failures: vec![format!("the chat failed: {why}")],
                calls: Vec::new(),
                said,
                seconds,
            };
        }
    };
    let mut failures = Vec::new();
    let mut used = vec![false; reply.tool_calls.len()];
    for want in &case.expect.tool_calls {
        let found = reply.tool_calls.iter().enumerate().position(|(i, c)| {
            !used[i]
                && c.name == want.name
                && want
                    .arguments
                    .as_ref()
                    .is_none_or(|a| subset(a, &c.arguments))
        });
        match found {
            Some(i) => used[i] = true,
            None => {
                let same_name: Vec<String> = reply
                    .tool_calls
                    .iter()
                    .filter(|c| c.name == want.name)
                    .map(|c| c.arguments.to_string())
                    .collect();
                let instead = if !same_name.is_empty() {
                    format!("it called {} with {}", want.name, same_name.join(", "))
                } else if reply.tool_calls.is_empty() {
                    "it called no tool".to_owned()
                } else {
                    format!(
                        "it called {} instead",
                        reply
                            .tool_calls
                            .iter()
                            .map(|c| format!("{}({})", c.name, c.arguments))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                let args = want
                    .arguments
                    .as_ref()
                    .map_or(String::new(), |a| format!(" with {a}"));
                failures.push(format!("expected a call to {}{args}; {instead}", want.name));
            }
        }
    }
    if let Some(want) = &case.expect.answer_contains {
        let answer = text(&reply.message);
        if !answer.to_lowercase().contains(&want.to_lowercase()) {
            failures.push(format!("the answer does not contain {want:?}: {answer:?}"));
        }
    }
    if let Some(stopped) = &reply.stopped {
        failures.push(stopped.clone());
    }
    Run {
        failures,
        calls: reply.tool_calls.clone(),
        said,
        seconds,
    }
}

/// The report for people.
pub fn text_report(model: &str, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let mut all = 0;
    for o in outcomes {
        let passed = o.passed();
        if passed == o.runs.len() {
            all += 1;
        }
        out.push_str(&format!(
            "{} {} ({}/{} runs passed)\n",
            if passed == o.runs.len() {
                "PASS"
            } else {
                "FAIL"
            },
            o.case.name,
            passed,
            o.runs.len()
        ));
        for (i, run) in o.runs.iter().enumerate().filter(|(_, r)| !r.passed()) {
            for f in &run.failures {
                out.push_str(&format!("  run {}: {f}\n", i + 1));
            }
            if !run.said.trim().is_empty() {
                let said: String = run.said.trim().chars().take(400).collect();
                out.push_str(&format!("  run {}: the model said: {said}\n", i + 1));
            }
        }
    }
    out.push_str(&format!(
        "{all} of {} cases passed every run, with {model}\n",
        outcomes.len()
    ));
    out
}

/// The report as one JSON object.
pub fn json_report(model: &str, outcomes: &[Outcome]) -> Value {
    json!({
        "model": model,
        "passed": outcomes.iter().all(|o| o.passed() == o.runs.len()),
        "cases": outcomes.iter().map(|o| json!({
            "name": o.case.name,
            "passRate": if o.runs.is_empty() { 0.0 } else { o.passed() as f64 / o.runs.len() as f64 },
            "runs": o.runs.iter().map(|r| json!({
                "passed": r.passed(),
                "failures": r.failures,
                "toolCalls": r.calls,
                "said": r.said,
                "seconds": r.seconds,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The report as JUnit XML: one test case per case, failed when any run failed.
pub fn junit_report(model: &str, outcomes: &[Outcome]) -> String {
    let failed = outcomes
        .iter()
        .filter(|o| o.passed() != o.runs.len())
        .count();
    let time: f64 = outcomes
        .iter()
        .flat_map(|o| &o.runs)
        .map(|r| r.seconds)
        .sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mcpscope eval\" tests=\"{}\" failures=\"{failed}\" time=\"{time:.3}\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" time=\"{time:.3}\">\n",
        outcomes.len(),
        xml(&format!("mcpscope eval with {model}")),
        outcomes.len(),
    );
    for o in outcomes {
        let secs: f64 = o.runs.iter().map(|r| r.seconds).sum();
        out.push_str(&format!(
            "    <testcase classname=\"mcpscope.eval\" name=\"{}\" time=\"{secs:.3}\"",
            xml(&o.case.name)
        ));
        if o.passed() == o.runs.len() {
            out.push_str("/>\n");
            continue;
        }
        let detail: Vec<String> = o
            .runs
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.passed())
            .flat_map(|(i, r)| {
                r.failures
                    .iter()
                    .map(move |f| format!("run {}: {f}", i + 1))
                    .chain(
                        (!r.said.trim().is_empty())
                            .then(|| format!("run {}: the model said: {}", i + 1, r.said.trim())),
                    )
            })
            .collect();
        out.push_str(&format!(
            ">\n      <failure message=\"{}/{} runs passed\">{}</failure>\n    </testcase>\n",
            o.passed(),
            o.runs.len(),
            xml(&detail.join("\n"))
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Text as XML character data or attribute value; control characters XML cannot hold dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(calls: Vec<(&str, Value)>, answer: &str) -> Reply {
        Reply {
            message: json!({"role": "assistant", "content": [{"type": "text", "text": answer}]}),
            tool_calls: calls
                .into_iter()
                .map(|(n, a)| ToolCall {
                    session: "s1".into(),
                    name: n.into(),
                    arguments: a,
                    result: json!({}),
                })
                .collect(),
            model: "openai:m".into(),
            steps: 1,
            usage: json!({}),
            stopped: None,
        }
    }

    #[test]
    fn a_run_passes_on_the_calls_and_text_expected_and_says_what_came_instead() {
        let case: Case = serde_json::from_value(json!({"name": "weather", "prompt": "p",
            "expect": {"toolCalls": [{"name": "get_weather", "arguments": {"city": "Oslo", "opts": {"unit": "C"}}}],
                "answerContains": "SUNNY"}})).unwrap();
        let good = reply(
            vec![(
                "get_weather",
                json!({"city": "Oslo", "opts": {"unit": "C", "x": 1}, "extra": true}),
            )],
            "It is sunny",
        );
        assert!(judge(&case, Ok(&good), String::new(), 0.1).passed());
        let other = reply(vec![("get_forecast", json!({"town": "Oslo"}))], "Rain");
        let run = judge(&case, Ok(&other), "I think forecast fits".into(), 0.1);
        assert_eq!(run.failures.len(), 2, "{:?}", run.failures);
        assert!(
            run.failures[0].contains("it called get_forecast({\"town\":\"Oslo\"}) instead"),
            "{:?}",
            run.failures
        );
        let wrong_args = reply(vec![("get_weather", json!({"city": "Bergen"}))], "sunny");
        let run = judge(&case, Ok(&wrong_args), String::new(), 0.1);
        assert!(
            run.failures[0].contains("it called get_weather with {\"city\":\"Bergen\"}"),
            "{:?}",
            run.failures
        );
        let outcomes = vec![Outcome {
            case: case.clone(),
            runs: vec![judge(&case, Ok(&good), String::new(), 0.5), run],
        }];
        let xml = junit_report("openai:m", &outcomes);
        assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains(
                "<failure message=\"1/2 runs passed\">run 2: expected a call to get_weather"
            ),
            "{xml}"
        );
        assert!(xml.contains("&quot;city&quot;"), "{xml}");
        assert!(text_report("openai:m", &outcomes).starts_with("FAIL weather (1/2 runs passed)"));
        assert_eq!(
            json_report("openai:m", &outcomes)["cases"][0]["passRate"],
            0.5
        );
    }
}
