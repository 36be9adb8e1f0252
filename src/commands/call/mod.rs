//! CLI mode (`mcpscope --cli`): one method against one target, the result on stdout, an exit
//! code that says how it went. It runs the same session machinery as the UI (the same engine,
//! transports and event stream, in this process, with no listener), so a call here puts the same
//! frames on the wire and returns the same result as `/api/request`.
//!
//! | file | owns |
//! |---|---|
//! | `coerce.rs` | `--tool-arg` text into JSON by the tool's `inputSchema`; other KEY=VALUE flags |
//! | `output.rs` | the result as JSON or a summary |

pub mod coerce;
pub mod output;

use std::{io::Write, time::Duration};

use serde_json::{Map, Value, json};

use super::{
    failure::{Failure, exit_code},
    headless::{Local, RunConfig, refused, retained, target},
};
use crate::{
    cli::{Args, Format},
    config,
    events::{
        Direction, EventBus, RingLimits,
        observed::{Observation, observe},
    },
    session::{Answer, LOG_LEVELS, LocalError, SessionHandle},
    wire::{Outcome, Timeout},
};

/// Runs CLI mode to the end and returns the process exit code. Everything it prints goes out
/// from here: the result on stdout, the error line on stderr.
pub async fn run(args: &Args) -> u8 {
    let (stdout, failure) = match execute(args).await {
        Ok(done) => done,
        Err(failure) => (None, Some(failure)),
    };
    if let Some(text) = stdout {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
    exit_code(failure.map_or(Ok(0), Err))
}

/// What the user asked for, checked before anything is started so a usage error costs nothing.
struct Call {
    method: String,
    /// `--params`, then the method's own flags over it.
    params: Map<String, Value>,
    meta: Map<String, Value>,
    tool: Option<ToolCall>,
    timeout: Timeout,
}

struct ToolCall {
    name: String,
    json: Option<Map<String, Value>>,
    pairs: Vec<String>,
    meta: Map<String, Value>,
}

fn object(flag: &str, text: &str) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::usage(format!("{flag} must be a JSON object"))),
        Err(e) => Err(Failure::usage(format!("{flag} is not JSON: {e}"))),
    }
}

fn plan(args: &Args) -> Result<Call, Failure> {
    let c = &args.cli;
    let method = c.method.clone().ok_or_else(|| {
        Failure::usage("--method is required (e.g. --method tools/list); see mcpscope --help")
    })?;
    let mut params = match &c.params {
        Some(text) => object("--params", text)?,
        None => Map::new(),
    };
    let need = |value: &Option<String>, flag: &str| {
        value
            .clone()
            .ok_or_else(|| Failure::usage(format!("{method} needs {flag}")))
    };
    let mut tool = None;
    match method.as_str() {
        "tools/call" => {
            tool = Some(ToolCall {
                name: need(&c.tool_name, "--tool-name")?,
                json: match &c.tool_args_json {
                    Some(text) => Some(object("--tool-args-json", text)?),
                    None => None,
                },
                pairs: c.tool_arg.clone(),
                meta: coerce::pairs("--tool-metadata", &c.tool_metadata).map_err(Failure::usage)?,
            })
        }
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            params.insert("uri".into(), json!(need(&c.uri, "--uri")?));
        }
        "prompts/get" => {
            params.insert("name".into(), json!(need(&c.prompt_name, "--prompt-name")?));
            let mut arguments = Map::new();
            for pair in &c.prompt_args {
                let (k, v) = config::key_value(pair).ok_or_else(|| {
                    Failure::usage(format!("--prompt-args {pair}: expected KEY=VALUE"))
                })?;
                // Prompt arguments are strings on the wire, whatever they look like.
                arguments.insert(k.to_owned(), json!(v));
            }
            if !arguments.is_empty() || !params.contains_key("arguments") {
                params.insert("arguments".into(), Value::Object(arguments));
            }
        }
        "logging/setLevel" => {
            let level = need(&c.log_level, "--log-level")?;
            if !LOG_LEVELS.contains(&level.as_str()) {
                return Err(Failure::usage(format!(
                    "--log-level {level}: expected one of {}",
                    LOG_LEVELS.join(", ")
                )));
            }
            params.insert("level".into(), json!(level));
        }
        _ => {}
    }
    if let Some(cursor) = &c.cursor {
        params.insert("cursor".into(), json!(cursor));
    }
    let idle = Duration::from_millis(c.timeout.max(1));
    Ok(Call {
        method,
        params,
        meta: coerce::pairs("--metadata", &c.metadata).map_err(Failure::usage)?,
        tool,
        timeout: crate::session::timeout_after(idle),
    })
}

async fn execute(args: &Args) -> Result<(Option<String>, Option<Failure>), Failure> {
    let call = plan(args)?;
    let (target, options) = target(args)?;
    let config = RunConfig::from_args(args, true)?;
    // A one-shot call keeps a small history: it reads only the initialize answer from it.
    let local = Local::start(
        config,
        RingLimits {
            max_events: 20_000,
            max_bytes: 64 * 1024 * 1024,
        },
    );
    let events = local.events.clone();
    let outcome = match local.connect(target, options).await {
        Ok(handle) => perform(&call, &handle, &events).await,
        Err(failure) => Err(failure),
    };
    local.finish().await;

    let format = args.cli.format;
    let print = |result: &Value| match format {
        Format::Json => crate::term::json(&output::json_text(result)).into_owned(),
        Format::Text => crate::term::text(&output::human_text(&call.method, result)).into_owned(),
    };
    Ok(match outcome {
        Ok(result) => {
            let failure = tool_failure(&call, &result);
            (Some(print(&result)), failure)
        }
        Err(failure) => (None, Some(failure)),
    })
}

fn tool_failure(call: &Call, result: &Value) -> Option<Failure> {
    let tool = call.tool.as_ref()?;
    (result.get("isError") == Some(&Value::Bool(true))).then(|| {
        let text = result
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|b| b.get("text").and_then(Value::as_str))
            .unwrap_or("the tool reported an error");
        Failure::new(
            5,
            "tool_is_error",
            format!("{} answered isError: {text}", tool.name),
        )
        .with("tool", json!(tool.name))
    })
}

async fn perform(call: &Call, handle: &SessionHandle, events: &EventBus) -> Result<Value, Failure> {
    let with_meta = |mut params: Map<String, Value>, extra: &Map<String, Value>| {
        let mut meta = call.meta.clone();
        meta.extend(extra.clone());
        if !meta.is_empty() {
            let slot = params
                .entry("_meta")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(existing) = slot {
                existing.extend(meta);
            }
        }
        params
    };
    let list_key = |method: &str| match method {
        "tools/list" => Some("tools"),
        "resources/list" => Some("resources"),
        "resources/templates/list" => Some("resourceTemplates"),
        "prompts/list" => Some("prompts"),
        _ => None,
    };
    match call.method.as_str() {
        "initialize" => initialize_result(events)
            .ok_or_else(|| Failure::new(1, "internal", "the initialize answer was not recorded")),
        "tools/call" => {
            let tool = call.tool.as_ref().expect("planned with a tool");
            let listed = every_page(
                handle,
                "tools/list",
                "tools",
                with_meta(Map::new(), &Map::new()),
                call.timeout,
                events,
            )
            .await?;
            let tools = listed["tools"].as_array().cloned().unwrap_or_default();
            let Some(found) = tools.iter().find(|t| t["name"] == tool.name.as_str()) else {
                let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
                return Err(Failure::new(
                    5,
                    "tool_not_found",
                    format!(
                        "no tool named \"{}\"; the server lists: {}",
                        tool.name,
                        names.join(", ")
                    ),
                )
                .with("tool", json!(tool.name)));
            };
            let arguments =
                coerce::arguments(found.get("inputSchema"), tool.json.clone(), &tool.pairs)
                    .map_err(|e| Failure::usage(e.to_string()))?;
            let mut params = call.params.clone();
            params.insert("name".into(), json!(tool.name));
            params.insert("arguments".into(), Value::Object(arguments));
            ask(
                handle,
                "tools/call",
                with_meta(params, &tool.meta),
                call.timeout,
                events,
            )
            .await
        }
        method => {
            let params = with_meta(call.params.clone(), &Map::new());
            match list_key(method) {
                Some(key) if !params.contains_key("cursor") => {
                    every_page(handle, method, key, params, call.timeout, events).await
                }
                _ => ask(handle, method, params, call.timeout, events).await,
            }
        }
    }
}

/// Every page of a list, merged into the first page's result (so its other fields stay), with
/// no `nextCursor`. A cursor the server already gave ends the walk as an error: following it
/// would never end.
async fn every_page(
    handle: &SessionHandle,
    method: &str,
    key: &str,
    params: Map<String, Value>,
    timeout: Timeout,
    events: &EventBus,
) -> Result<Value, Failure> {
    let mut merged = ask(handle, method, params.clone(), timeout, events).await?;
    let mut seen = Vec::new();
    while let Some(cursor) = merged
        .as_object_mut()
        .and_then(|m| m.remove("nextCursor"))
        .filter(|c| !c.is_null())
    {
        if seen.contains(&cursor) {
            return Err(Failure::new(
                1,
                "server_error",
                format!("{method}: the server gave the cursor {cursor} twice; stopped there"),
            ));
        }
        seen.push(cursor.clone());
        let mut next = params.clone();
        next.insert("cursor".into(), cursor);
        let mut page = ask(handle, method, next, timeout, events).await?;
        if let (Some(all), Some(more)) = (
            merged.get_mut(key).and_then(Value::as_array_mut),
            page.get_mut(key).and_then(Value::as_array_mut),
        ) {
            all.append(more);
        }
        if let Some(c) = page.get("nextCursor") {
            merged["nextCursor"] = c.clone();
        }
    }
    Ok(merged)
}

/// One request; the server's result, or why there is none.
async fn ask(
    handle: &SessionHandle,
    method: &str,
    params: Map<String, Value>,
    timeout: Timeout,
    events: &EventBus,
) -> Result<Value, Failure> {
    match handle
        .request(method.to_owned(), Some(Value::Object(params)), timeout)
        .await
    {
        Ok(Answer {
            outcome: Outcome::Result(raw),
            ..
        }) => serde_json::from_str(raw.get())
            .map_err(|e| Failure::new(1, "internal", format!("unreadable result: {e}"))),
        Ok(Answer {
            outcome: Outcome::Error(raw),
            ..
        }) => {
            let error: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
            Err(Failure::new(
                1,
                "server_error",
                format!(
                    "{method}: MCP error {}: {}",
                    error["code"],
                    error["message"].as_str().unwrap_or("")
                ),
            )
            .with("rpcError", error))
        }
        Err(e @ LocalError::Timeout { .. }) => Err(Failure::new(1, "timeout", e.to_string())),
        Err(e @ (LocalError::Transport(_) | LocalError::NotConnected)) => {
            Err(refused(events, format!("{method}: {e}")))
        }
        Err(e) => Err(Failure::new(1, "internal", e.to_string())),
    }
}

/// The server's answer to `initialize`, as it came over the wire.
fn initialize_result(events: &EventBus) -> Option<Value> {
    observe(retained(events)).into_iter().find_map(|o| match o {
        Observation::Message(mut m)
            if m.direction == Direction::Received
                && m.answers.as_ref().is_some_and(|a| a.method == "initialize") =>
        {
            m.message.get_mut("result").map(Value::take)
        }
        _ => None,
    })
}
