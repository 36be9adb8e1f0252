//! The modern era's results: the `resultType` check every answer gets, what a result asks of us
//! besides being answered (input rounds, a task to follow; and whether a legacy `tools/call`
//! answer created a task), and the tools' `x-mcp-header`
//! parameters learnt from `tools/list`. [`ToolHeaders`] owns those: the headers each tool's
//! calls carry, and the tools excluded for invalid ones (over HTTP a client must not call them).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value, json, value::RawValue};

use super::{
    actor::Actor,
    era::modern::{self, ResultKind},
};
use crate::events::Severity;

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

/// Only what says whether a legacy `tools/call` answer created a task.
#[derive(Deserialize)]
struct LegacyPeek {
    task: Option<Map<String, Value>>,
}

/// The tools' `x-mcp-header` parameters, as the latest `tools/list` pages said them.
#[derive(Debug, Default)]
pub(super) struct ToolHeaders {
    /// Each tool's (parameter, header name) pairs.
    headers: BTreeMap<String, Vec<(String, String)>>,
    /// Tools excluded for invalid ones, with why (over HTTP only).
    excluded: BTreeMap<String, String>,
}

/// What reading a `tools/list` page found.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Learnt {
    /// One per tool with an invalid `x-mcp-header`.
    pub(super) warnings: Vec<String>,
    /// The excluded tools changed: the session object shows the new list.
    pub(super) excluded_changed: bool,
}

impl ToolHeaders {
    /// Reads each listed tool's `x-mcp-header` parameters. `remote`: over HTTP a tool with
    /// invalid ones is excluded (the spec: clients MUST drop it); over stdio it is only said.
    pub(super) fn learn(&mut self, tools: &[Value], remote: bool) -> Learnt {
        let mut learnt = Learnt::default();
        for tool in tools {
            let Some(name) = tool.get("name").and_then(Value::as_str) else {
                continue;
            };
            match modern::tool_param_headers(tool) {
                Ok(headers) => {
                    learnt.excluded_changed |= self.excluded.remove(name).is_some();
                    if headers.is_empty() {
                        self.headers.remove(name);
                    } else {
                        self.headers.insert(name.to_owned(), headers);
                    }
                }
                Err(why) => {
                    self.headers.remove(name);
                    let effect = if remote {
                        "excluded: mcpscope will not call it over HTTP"
                    } else {
                        "it would be excluded by an HTTP client"
                    };
                    learnt.warnings.push(format!(
                        "tool {name:?} has an invalid x-mcp-header ({why}); {effect}"
                    ));
                    if remote {
                        learnt.excluded_changed |=
                            self.excluded.insert(name.to_owned(), why).is_none();
                    }
                }
            }
        }
        learnt
    }

    /// The excluded tools as the session object shows them.
    pub(super) fn excluded_view(&self) -> Vec<Value> {
        self.excluded
            .iter()
            .map(|(name, why)| json!({"name": name, "reason": why}))
            .collect()
    }

    /// Why a tool may not be called, if it was excluded.
    pub(super) fn excluded(&self, tool: &str) -> Option<String> {
        self.excluded.get(tool).map(|why| {
            format!("tool {tool:?} is excluded because of an invalid x-mcp-header ({why}); an HTTP client must not call it")
        })
    }

    /// Each tool's (parameter, header name) pairs, for the headers a call carries.
    pub(super) fn all(&self) -> &BTreeMap<String, Vec<(String, String)>> {
        &self.headers
    }
}

impl Actor {
    /// A legacy `tools/call` answer: the task it created, if it did.
    pub(super) fn legacy_task(
        &self,
        method: &str,
        result: &RawValue,
    ) -> Option<Map<String, Value>> {
        if method != "tools/call" {
            return None;
        }
        let peek: LegacyPeek = serde_json::from_str(result.get()).ok()?;
        peek.task
            .filter(|t| t.get("taskId").is_some_and(Value::is_string))
    }

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

    fn learn_tools(&mut self, result: &RawValue, seq: u64) {
        #[derive(Deserialize)]
        struct Tools {
            #[serde(default)]
            tools: Vec<Value>,
        }
        let Ok(list) = serde_json::from_str::<Tools>(result.get()) else {
            return;
        };
        let learnt = self.tool_headers.learn(&list.tools, self.remote);
        for warning in learnt.warnings {
            self.finding(Severity::Warning, warning, seq);
        }
        if learnt.excluded_changed {
            let excluded = self.tool_headers.excluded_view();
            self.reporter
                .update(|cur| cur.info.excluded_tools = excluded);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, header: Option<&str>) -> Value {
        let mut prop = json!({"type": "string"});
        if let Some(h) = header {
            prop["x-mcp-header"] = json!(h);
        }
        json!({"name": name, "inputSchema": {"type": "object", "properties": {"region": prop}}})
    }

    #[test]
    fn a_tool_with_an_invalid_header_is_excluded_over_http_until_a_list_fixes_it() {
        let mut headers = ToolHeaders::default();
        let learnt = headers.learn(
            &[
                tool("good", Some("Region")),
                tool("bad", Some("bad header")),
            ],
            true,
        );
        assert_eq!(learnt.warnings.len(), 1, "{learnt:?}");
        assert!(learnt.warnings[0].contains("\"bad\""));
        assert!(learnt.excluded_changed);
        assert!(headers.excluded("bad").is_some());
        assert!(headers.excluded("good").is_none());
        assert!(headers.all().contains_key("good"));
        assert_eq!(headers.excluded_view()[0]["name"], "bad");

        // The same list again changes nothing; a fixed one lifts the exclusion.
        assert!(
            !headers
                .learn(&[tool("bad", Some("bad header"))], true)
                .excluded_changed
        );
        let fixed = headers.learn(&[tool("bad", Some("Region"))], true);
        assert!(fixed.excluded_changed && fixed.warnings.is_empty());
        assert!(headers.excluded("bad").is_none());
    }

    #[test]
    fn over_stdio_an_invalid_header_is_said_but_the_tool_stays_callable() {
        let mut headers = ToolHeaders::default();
        let learnt = headers.learn(&[tool("bad", Some("bad header"))], false);
        assert!(learnt.warnings[0].contains("would be excluded by an HTTP client"));
        assert!(!learnt.excluded_changed);
        assert!(headers.excluded("bad").is_none());
    }
}
