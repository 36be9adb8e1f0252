//! `mcpscope demo-server`: a small, well-behaved MCP server on stdio, so a newcomer's first click
//! has something to inspect. Tools (one with progress and a log line, one that reports an error),
//! a resource, a resource template with completion, and a prompt with completion.
//!
//! Written directly on serde_json rather than an SDK so that it stays small and its wire
//! behaviour is exactly what this file says.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    sync::{mpsc, watch},
};

const README: &str = "# mcpscope demo server\n\nThis server exists so you can try mcpscope. Call `count_slowly` to watch progress, `fail` to see an error result, and try completion on the `greet` prompt and the `demo://items/{id}` template.\n";
const STYLES: &[&str] = &["casual", "formal", "pirate", "poetic"];

/// Serves MCP on stdin/stdout until stdin closes.
pub async fn serve_stdio() -> std::io::Result<()> {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Value>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(msg) = out_rx.recv().await {
            let mut line = msg.to_string();
            line.push('\n');
            if stdout.write_all(line.as_bytes()).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let running: Arc<Mutex<HashMap<String, watch::Sender<bool>>>> = Arc::default();
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            eprintln!("demo-server: ignoring a line that is not JSON");
            continue;
        };
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        let params = msg.get("params").cloned().unwrap_or(json!({}));
        let Some(id) = msg.get("id").cloned() else {
            if method == "notifications/cancelled"
                && let Some(rid) = params.get("requestId")
                && let Some(stop) = running.lock().unwrap().remove(&rid.to_string())
            {
                let _ = stop.send(true);
            }
            continue;
        };
        if msg.get("method").is_none() {
            continue; // a response to a request we never send
        }
        if method == "tools/call" && params["name"] == "count_slowly" {
            let (stop_tx, stop_rx) = watch::channel(false);
            running.lock().unwrap().insert(id.to_string(), stop_tx);
            let out = out_tx.clone();
            let running = running.clone();
            tokio::spawn(async move {
                let result = count_slowly(&params, &out, stop_rx).await;
                running.lock().unwrap().remove(&id.to_string());
                if let Some(result) = result {
                    let _ = out.send(json!({"jsonrpc": "2.0", "id": id, "result": result}));
                }
            });
            continue;
        }
        let reply = match handle(method, &params) {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Err((code, message)) => {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
            }
        };
        let _ = out_tx.send(reply);
    }
    drop(out_tx);
    let _ = writer.await;
    Ok(())
}

fn handle(method: &str, params: &Value) -> Result<Value, (i64, String)> {
    match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or("");
            let version = if crate::session::KNOWN_PROTOCOL_VERSIONS.contains(&asked) {
                asked
            } else {
                crate::session::DEFAULT_PROTOCOL_VERSION
            };
            Ok(json!({
                "protocolVersion": version,
                "capabilities": {
                    "tools": {"listChanged": false},
                    "resources": {"subscribe": false, "listChanged": false},
                    "prompts": {"listChanged": false},
                    "completions": {},
                    "logging": {},
                },
                "serverInfo": {"name": "mcpscope-demo", "title": "mcpscope demo server", "version": env!("CARGO_PKG_VERSION")},
                "instructions": "A demo server for trying mcpscope. Nothing here touches your machine.",
            }))
        }
        "ping" | "logging/setLevel" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": [
            {
                "name": "echo",
                "title": "Echo",
                "description": "Returns the message you send.",
                "inputSchema": {"type": "object", "properties": {"message": {"type": "string", "description": "What to echo"}}, "required": ["message"]},
                "annotations": {"readOnlyHint": true, "openWorldHint": false},
            },
            {
                "name": "add",
                "description": "Adds two numbers; the sum also comes as structured content.",
                "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]},
                "outputSchema": {"type": "object", "properties": {"sum": {"type": "number"}}, "required": ["sum"]},
                "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
            },
            {
                "name": "count_slowly",
                "description": "Counts to `steps`, sending progress and a log message on the way. Cancellable.",
                "inputSchema": {"type": "object", "properties": {
                    "steps": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5},
                    "delayMs": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 200},
                }},
                "annotations": {"readOnlyHint": true, "openWorldHint": false},
            },
            {
                "name": "fail",
                "description": "Always reports a tool error (isError: true), to see how errors look.",
                "inputSchema": {"type": "object", "properties": {}},
            },
        ]})),
        "tools/call" => call_tool(params),
        "resources/list" => Ok(json!({"resources": [
            {"uri": "demo://readme", "name": "readme", "title": "About the demo server", "mimeType": "text/markdown"},
        ]})),
        "resources/templates/list" => Ok(json!({"resourceTemplates": [
            {"uriTemplate": "demo://items/{id}", "name": "item", "title": "An item by id", "mimeType": "application/json"},
        ]})),
        "resources/read" => {
            let uri = params["uri"].as_str().unwrap_or("");
            if uri == "demo://readme" {
                Ok(json!({"contents": [{"uri": uri, "mimeType": "text/markdown", "text": README}]}))
            } else if let Some(id) = uri.strip_prefix("demo://items/") {
                let item = json!({"id": id, "name": format!("Item {id}"), "tags": ["demo"]});
                Ok(
                    json!({"contents": [{"uri": uri, "mimeType": "application/json", "text": item.to_string()}]}),
                )
            } else {
                Err((-32002, format!("Resource not found: {uri}")))
            }
        }
        "prompts/list" => Ok(json!({"prompts": [{
            "name": "greet",
            "title": "Greeting",
            "description": "Asks the model to greet someone in a style.",
            "arguments": [
                {"name": "name", "description": "Who to greet", "required": true},
                {"name": "style", "description": "casual, formal, pirate or poetic", "required": false},
            ],
        }]})),
        "prompts/get" => {
            if params["name"] != "greet" {
                return Err((-32602, format!("Unknown prompt: {}", params["name"])));
            }
            let Some(name) = params["arguments"]["name"].as_str() else {
                return Err((-32602, "Missing required argument: name".into()));
            };
            let style = params["arguments"]["style"].as_str().unwrap_or("casual");
            Ok(json!({
                "description": "A greeting",
                "messages": [{"role": "user", "content": {"type": "text", "text": format!("Greet {name} in a {style} style.")}}],
            }))
        }
        "completion/complete" => {
            let value = params["argument"]["value"].as_str().unwrap_or("");
            let candidates: Vec<String> = match (
                params["ref"]["type"].as_str(),
                params["argument"]["name"].as_str(),
            ) {
                (Some("ref/prompt"), Some("style")) => {
                    STYLES.iter().map(|s| s.to_string()).collect()
                }
                (Some("ref/prompt"), Some("name")) => ["Ada", "Alan", "Grace", "Linus"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                (Some("ref/resource"), Some("id")) => {
                    (1..=20).map(|i| format!("item-{i}")).collect()
                }
                _ => Vec::new(),
            };
            let values: Vec<String> = candidates
                .into_iter()
                .filter(|c| c.to_lowercase().starts_with(&value.to_lowercase()))
                .collect();
            Ok(json!({"completion": {"values": values, "total": values.len(), "hasMore": false}}))
        }
        _ => Err((-32601, format!("Method not found: {method}"))),
    }
}

fn call_tool(params: &Value) -> Result<Value, (i64, String)> {
    let args = &params["arguments"];
    match params["name"].as_str().unwrap_or("") {
        "echo" => {
            let Some(message) = args["message"].as_str() else {
                return Ok(tool_error("`message` must be a string"));
            };
            Ok(json!({"content": [{"type": "text", "text": message}]}))
        }
        "add" => {
            let (Some(a), Some(b)) = (args["a"].as_f64(), args["b"].as_f64()) else {
                return Ok(tool_error("`a` and `b` must be numbers"));
            };
            let sum = a + b;
            Ok(
                json!({"content": [{"type": "text", "text": json!({"sum": sum}).to_string()}], "structuredContent": {"sum": sum}}),
            )
        }
        "fail" => Ok(tool_error("this tool always fails, on purpose")),
        other => Err((-32602, format!("Unknown tool: {other}"))),
    }
}

fn tool_error(text: &str) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

/// Returns `None` when cancelled: a cancelled request gets no answer.
async fn count_slowly(
    params: &Value,
    out: &mpsc::UnboundedSender<Value>,
    mut stop: watch::Receiver<bool>,
) -> Option<Value> {
    let steps = params["arguments"]["steps"]
        .as_u64()
        .unwrap_or(5)
        .clamp(1, 100);
    let delay = params["arguments"]["delayMs"]
        .as_u64()
        .unwrap_or(200)
        .min(10_000);
    let token = params["_meta"]["progressToken"].clone();
    let _ = out.send(
        json!({"jsonrpc": "2.0", "method": "notifications/message", "params": {
            "level": "info", "logger": "count_slowly", "data": format!("counting to {steps}"),
        }}),
    );
    for step in 1..=steps {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(delay)) => {}
            _ = stop.changed() => return None,
        }
        if !token.is_null() {
            let _ = out.send(json!({"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": token, "progress": step, "total": steps, "message": format!("step {step} of {steps}"),
            }}));
        }
    }
    Some(json!({"content": [{"type": "text", "text": format!("counted to {steps}")}]}))
}
