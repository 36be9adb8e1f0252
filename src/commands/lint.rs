//! `mcpscope lint`: connect, read everything the server offers without changing anything (every
//! page of each list it declares, each listed resource; tools only with `--call-tools`), then
//! lint what the session observed and print it. A final `ping` is the barrier: over any
//! transport the server's answer to it comes after what it had already sent.

use std::{collections::HashSet, io::Write};

use serde_json::{Value, json};

use super::{
    failure::{Failure, exit_code},
    headless::{Local, RunConfig, WHOLE_RUN, target},
};
use crate::{
    cli::{Args, Format, LintArgs},
    events::Severity,
    lint::{Finding, RULES, lint, report, spec_url},
    recording,
    session::{Answer, SessionHandle},
    wire::{Outcome, Timeout},
};

/// Lists walked at most this many pages, and at most this many resources read.
const MAX_PAGES: usize = 100;
const MAX_READS: usize = 200;

pub async fn run(args: &Args, lint_args: &LintArgs) -> u8 {
    exit_code(execute(args, lint_args).await)
}

async fn execute(args: &Args, lint_args: &LintArgs) -> Result<u8, Failure> {
    let (target, options) = target(args)?;
    let local = Local::start(RunConfig::from_args(args, true)?, WHOLE_RUN);
    let connected = local.connect(target, options).await;
    if let Ok(handle) = &connected {
        walk(handle, &local, lint_args.call_tools, local.timeout).await;
    }
    let info = local.session.info();
    let id = local.session.id().to_owned();
    let secrets = recording::export::Secrets::new(local.session.secret_values());
    let events = local.events.clone();
    local.finish().await;
    if let Some(path) = &lint_args.save {
        recording::export::save(&events, &id, &info, &secrets, path)
            .map_err(|e| Failure::usage(format!("--save: {e}")))?;
    }
    connected?;
    let findings = lint(recording::session_events(&events, &id));
    let mut out = std::io::stdout().lock();
    let text = match lint_args.format {
        Format::Json => crate::term::json(&format!("{:#}\n", report(&findings))).into_owned(),
        Format::Text => {
            crate::term::text(&text(&info.name.unwrap_or_default(), &findings)).into_owned()
        }
    };
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    Ok(u8::from(
        findings.iter().any(|f| f.severity == Severity::Error),
    ))
}

/// Findings grouped by rule, in table order, for people.
fn text(server: &str, findings: &[Finding]) -> String {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let mut out = format!(
        "{server}: {} errors, {} warnings, {} notes from {} rules and the wire\n",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        RULES.len()
    );
    let mut rules: Vec<&str> = Vec::new();
    for f in findings {
        if !rules.contains(&f.rule) {
            rules.push(f.rule);
        }
    }
    for rule in rules {
        let of: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
        let severity = match of[0].severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        out.push_str(&format!("\n{severity} {rule} ({})\n", of.len()));
        if let Some(r) = RULES.iter().find(|r| r.id == rule) {
            out.push_str(&format!("  {}\n  {}\n", r.summary, spec_url(r.spec)));
        }
        for f in of {
            match f.frame_seq {
                Some(seq) => out.push_str(&format!("  - {} [frame #{seq}]\n", f.message)),
                None => out.push_str(&format!("  - {}\n", f.message)),
            }
        }
    }
    out
}

async fn walk(handle: &SessionHandle, local: &Local, call_tools: bool, timeout: Timeout) {
    let caps = local.session.info().capabilities.unwrap_or(Value::Null);
    let has = |k: &str| caps.get(k).is_some_and(|v| !v.is_null());
    let mut read = HashSet::new();
    if has("tools") {
        let tools = pages(handle, "tools/list", "tools", timeout).await;
        // The MCP App views tools name must exist, listed or not: read each once.
        for uri in tools.iter().filter_map(crate::apps::resource_uri) {
            if uri.starts_with("ui://") && read.len() < MAX_READS && read.insert(uri.to_owned()) {
                ask(handle, "resources/read", json!({"uri": uri}), timeout).await;
            }
        }
        if call_tools {
            for tool in tools.iter().filter(|t| needs_nothing(t)) {
                let Some(name) = tool.get("name").and_then(Value::as_str) else {
                    continue;
                };
                ask(
                    handle,
                    "tools/call",
                    json!({"name": name, "arguments": {}}),
                    timeout,
                )
                .await;
            }
        }
    }
    if has("resources") {
        let resources = pages(handle, "resources/list", "resources", timeout).await;
        pages(
            handle,
            "resources/templates/list",
            "resourceTemplates",
            timeout,
        )
        .await;
        for uri in resources
            .iter()
            .filter_map(|r| r.get("uri").and_then(Value::as_str))
        {
            if read.len() >= MAX_READS {
                break;
            }
            if read.insert(uri.to_owned()) {
                ask(handle, "resources/read", json!({"uri": uri}), timeout).await;
            }
        }
    }
    if has("prompts") {
        pages(handle, "prompts/list", "prompts", timeout).await;
    }
    ask(handle, "ping", json!({}), timeout).await;
}

/// A tool whose inputSchema requires nothing.
fn needs_nothing(tool: &Value) -> bool {
    tool.pointer("/inputSchema/required")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
}

/// Every item of a list, page by page, until there is no cursor, a cursor repeats (the lint
/// says so) or a request fails.
async fn pages(handle: &SessionHandle, method: &str, key: &str, timeout: Timeout) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursors = HashSet::new();
    let mut params = json!({});
    for _ in 0..MAX_PAGES {
        let Some(page) = ask(handle, method, params.clone(), timeout).await else {
            break;
        };
        if let Some(list) = page.get(key).and_then(Value::as_array) {
            items.extend(list.iter().cloned());
        }
        match page.get("nextCursor").filter(|c| !c.is_null()) {
            Some(c) if cursors.insert(c.to_string()) => params = json!({"cursor": c}),
            _ => break,
        }
    }
    items
}

/// One request; its result when it had one.
async fn ask(
    handle: &SessionHandle,
    method: &str,
    params: Value,
    timeout: Timeout,
) -> Option<Value> {
    match handle
        .request(method.to_owned(), Some(params), timeout)
        .await
    {
        Ok(Answer {
            outcome: Outcome::Result(raw),
            ..
        }) => serde_json::from_str(raw.get()).ok(),
        _ => None,
    }
}
