//! What CLI mode writes on stdout: the result as JSON, or as a summary for people with
//! `--format text`.

use std::fmt::Write as _;

use serde_json::Value;

/// The result as JSON, indented as the official inspector prints it; key order as the server
/// sent it.
pub fn json_text(result: &Value) -> String {
    let mut out = serde_json::to_string_pretty(result).unwrap_or_else(|_| result.to_string());
    out.push('\n');
    out
}

/// A summary of `result` for people, shaped by the method; methods without a shape of their own
/// get the indented JSON.
pub fn human_text(method: &str, result: &Value) -> String {
    let mut out = String::new();
    let list = |key: &str| result.get(key).and_then(Value::as_array);
    match method {
        "initialize" => initialize(&mut out, result),
        "tools/list" => {
            for tool in list("tools").into_iter().flatten() {
                item(&mut out, tool, "name");
                let params = tool
                    .pointer("/inputSchema/properties")
                    .and_then(Value::as_object)
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| match v.get("type").and_then(Value::as_str) {
                                Some(t) => format!("{k}: {t}"),
                                None => k.clone(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let _ = writeln!(out, "    ({params})");
            }
        }
        "prompts/list" => {
            for prompt in list("prompts").into_iter().flatten() {
                item(&mut out, prompt, "name");
                let args: Vec<String> = prompt
                    .get("arguments")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        let name = str_of(a, "name");
                        if a.get("required") == Some(&Value::Bool(true)) {
                            name.to_owned()
                        } else {
                            format!("{name}?")
                        }
                    })
                    .collect();
                let _ = writeln!(out, "    ({})", args.join(", "));
            }
        }
        "resources/list" => {
            for resource in list("resources").into_iter().flatten() {
                item(&mut out, resource, "uri");
            }
        }
        "resources/templates/list" => {
            for template in list("resourceTemplates").into_iter().flatten() {
                item(&mut out, template, "uriTemplate");
            }
        }
        "tools/call" => {
            if result.get("isError") == Some(&Value::Bool(true)) {
                out.push_str("The tool reported an error (isError: true):\n");
            }
            for block in list("content").into_iter().flatten() {
                content(&mut out, block);
            }
            if let Some(structured) = result.get("structuredContent") {
                out.push_str("structuredContent:\n");
                out.push_str(&json_text(structured));
            }
        }
        "resources/read" => {
            for part in list("contents").into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "{} ({})",
                    str_of(part, "uri"),
                    part.get("mimeType")
                        .and_then(Value::as_str)
                        .unwrap_or("no mimeType")
                );
                content(&mut out, part);
            }
        }
        "prompts/get" => {
            if let Some(d) = result.get("description").and_then(Value::as_str) {
                let _ = writeln!(out, "{d}\n");
            }
            for message in list("messages").into_iter().flatten() {
                let _ = write!(out, "[{}] ", str_of(message, "role"));
                if let Some(block) = message.get("content") {
                    content(&mut out, block);
                }
            }
        }
        _ => return json_text(result),
    }
    if out.is_empty() {
        out.push_str("(none)\n");
    }
    out
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `wire-name — Title` and the description indented beneath: the wire name first, always.
fn item(out: &mut String, v: &Value, key: &str) {
    let title = v
        .get("title")
        .or_else(|| v.pointer("/annotations/title"))
        .and_then(Value::as_str);
    let _ = write!(out, "{}", str_of(v, key));
    if key != "name"
        && let Some(name) = v.get("name").and_then(Value::as_str)
    {
        let _ = write!(out, "  {name}");
    }
    if let Some(title) = title {
        let _ = write!(out, " — {title}");
    }
    if let Some(mime) = v.get("mimeType").and_then(Value::as_str) {
        let _ = write!(out, " ({mime})");
    }
    out.push('\n');
    if let Some(d) = v.get("description").and_then(Value::as_str) {
        for line in d.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// One content block (or resource contents): text as it is, binary as a line saying what it is.
fn content(out: &mut String, block: &Value) {
    let kind = block.get("type").and_then(Value::as_str);
    if let Some(text) = block.get("text").and_then(Value::as_str) {
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    } else if let Some(data) = block
        .get("data")
        .or_else(|| block.get("blob"))
        .and_then(Value::as_str)
    {
        let _ = writeln!(
            out,
            "[{} {}, {} bytes of base64]",
            kind.unwrap_or("blob"),
            block.get("mimeType").and_then(Value::as_str).unwrap_or("?"),
            data.len()
        );
    } else if let Some(resource) = block.get("resource") {
        let _ = writeln!(out, "[embedded resource {}]", str_of(resource, "uri"));
        content(out, resource);
    } else if kind == Some("resource_link") {
        let _ = writeln!(out, "[link {}]", str_of(block, "uri"));
    } else {
        out.push_str(&json_text(block));
    }
}

fn initialize(out: &mut String, result: &Value) {
    let info = result.get("serverInfo").unwrap_or(&Value::Null);
    let _ = write!(out, "{}", str_of(info, "name"));
    if let Some(v) = info.get("version").and_then(Value::as_str) {
        let _ = write!(out, " {v}");
    }
    if let Some(t) = info.get("title").and_then(Value::as_str) {
        let _ = write!(out, " — {t}");
    }
    let _ = writeln!(out, "\nprotocol {}", str_of(result, "protocolVersion"));
    if let Some(caps) = result.get("capabilities").and_then(Value::as_object) {
        let names: Vec<&str> = caps.keys().map(String::as_str).collect();
        let _ = writeln!(out, "capabilities: {}", names.join(", "));
    }
    if let Some(i) = result.get("instructions").and_then(Value::as_str) {
        let _ = writeln!(out, "instructions:\n{i}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_put_the_wire_name_first() {
        let tools = json!({"tools": [{"name": "get-sum", "title": "Sum", "description": "Adds",
            "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}}}}]});
        assert_eq!(
            human_text("tools/list", &tools),
            "get-sum — Sum\n    Adds\n    (a: number)\n"
        );
        let call = json!({"content": [{"type": "text", "text": "hi"},
            {"type": "image", "data": "AAAA", "mimeType": "image/png"}], "isError": true});
        assert_eq!(
            human_text("tools/call", &call),
            "The tool reported an error (isError: true):\nhi\n[image image/png, 4 bytes of base64]\n"
        );
        assert_eq!(human_text("ping", &json!({})), "{}\n");
        assert_eq!(
            human_text("prompts/list", &json!({"prompts": []})),
            "(none)\n"
        );
    }
}
