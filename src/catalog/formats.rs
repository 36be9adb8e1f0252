//! The mcpServers config-file formats of Claude Desktop, Cursor, Windsurf and VS Code: reading any
//! of them into one [`ServerSpec`] per server, and writing specs back out in any of them. The
//! `${...}` placeholders their values may hold are [`super::placeholders`].
//!
//! Reading is lenient where the tools themselves are (VS Code's file is JSONC; `type` has several
//! spellings; `type` may be left out) and strict about value types, because a number where a
//! string belongs would otherwise surface much later as a confusing spawn or connect failure.
//! Whatever an entry holds that mcpscope does not interpret is kept in [`ServerSpec::extra`], so
//! import followed by export loses no setting meant for another tool.

use std::{collections::BTreeMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Keys the reader interprets. They never land in [`ServerSpec::extra`], and export skips them
/// there: a stale copy would otherwise duplicate or shadow the value the typed fields hold.
pub(super) const KNOWN_KEYS: [&str; 8] = [
    "type",
    "command",
    "args",
    "env",
    "cwd",
    "url",
    "serverUrl",
    "headers",
];

const NO_SERVERS: &str = "expected a JSON object with \"mcpServers\" (Claude, Cursor, Windsurf) \
                          or \"servers\" (VS Code)";

/// A config-file dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Claude Desktop and Claude Code: `mcpServers`, remote servers under `url`.
    Claude,
    /// Cursor: the Claude shape, so reading cannot tell the two apart and says Claude.
    Cursor,
    /// Windsurf: the Claude shape with remote servers under `serverUrl`.
    Windsurf,
    /// VS Code's `.vscode/mcp.json`: `servers`, an explicit `type`, and `inputs`.
    VsCode,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Claude => "claude",
            Format::Cursor => "cursor",
            Format::Windsurf => "windsurf",
            Format::VsCode => "vscode",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "claude" => Ok(Format::Claude),
            "cursor" => Ok(Format::Cursor),
            "windsurf" => Ok(Format::Windsurf),
            "vscode" => Ok(Format::VsCode),
            _ => Err(format!(
                "unknown format \"{s}\" (expected claude, cursor, windsurf or vscode)"
            )),
        }
    }
}

/// How mcpscope talks to a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A local program spoken to over its stdin and stdout.
    #[default]
    Stdio,
    /// Streamable HTTP.
    Http,
    /// The legacy HTTP + SSE transport.
    Sse,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Stdio => "stdio",
            Transport::Http => "http",
            Transport::Sse => "sse",
        }
    }
}

/// One server as mcpscope keeps it, whatever file it came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerSpec {
    pub transport: Transport,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Fields we do not interpret (e.g. "disabled", "autoApprove", "envFile", "timeout"), kept
    /// verbatim so that export after import loses nothing.
    #[serde(default)]
    pub extra: Map<String, Value>,
}

/// A VS Code `inputs` declaration: a value the user is asked for when a server whose spec uses
/// `${input:ID}` starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputDecl {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The value is a secret, so a UI should mask what the user types.
    #[serde(default)]
    pub password: bool,
}

/// What [`parse`] found in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFile {
    pub format: Format,
    /// In file order; the names are unique because they are the keys of one JSON object.
    pub servers: Vec<(String, ServerSpec)>,
    pub inputs: Vec<InputDecl>,
}

/// Reads a config file of any supported format, detecting which one it is.
///
/// Errors are sentences meant for the user, naming the server and field at fault.
pub fn parse(text: &str) -> Result<ParsedFile, String> {
    let Value::Object(root) = parse_json(text)? else {
        return Err(NO_SERVERS.to_owned());
    };
    let (key, mut format) = if root.contains_key("servers") {
        ("servers", Format::VsCode)
    } else if root.contains_key("mcpServers") {
        ("mcpServers", Format::Claude)
    } else {
        return Err(NO_SERVERS.to_owned());
    };
    let Some(Value::Object(table)) = root.get(key) else {
        return Err(format!(
            "\"{key}\" must be an object that maps server names to servers"
        ));
    };
    if format == Format::Claude && table.values().any(|entry| entry.get("serverUrl").is_some()) {
        format = Format::Windsurf;
    }
    let servers = table
        .iter()
        .map(|(name, entry)| parse_entry(name, entry).map(|spec| (name.clone(), spec)))
        .collect::<Result<Vec<_>, String>>()?;
    let inputs = match root.get("inputs") {
        None | Some(Value::Null) => Vec::new(),
        Some(inputs) => parse_inputs(inputs)?,
    };
    Ok(ParsedFile {
        format,
        servers,
        inputs,
    })
}

/// Strict JSON first, so a valid file never goes through the comment stripper and its error
/// positions refer to the text the user wrote.
fn parse_json(text: &str) -> Result<Value, String> {
    // Windows editors like to save a byte-order mark, which serde_json rejects.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(strict) => serde_json::from_str(&strip_jsonc(text))
            .map_err(|_| format!("not valid JSON: {strict}")),
    }
}

/// VS Code's mcp.json is JSONC, and hand-edited ones do hold comments and trailing commas.
/// Comments become a space (or keep their newline), and a comma directly before `}` or `]` goes.
fn strip_jsonc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = '\0';
                for skipped in chars.by_ref() {
                    if prev == '*' && skipped == '/' {
                        break;
                    }
                    prev = skipped;
                }
                out.push(' ');
            }
            '}' | ']' => {
                // Outside a string, so the last non-blank character emitted is structural: a
                // string would have ended with its quote.
                let kept = out.trim_end().len();
                if out[..kept].ends_with(',') {
                    out.truncate(kept - 1);
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn parse_entry(name: &str, entry: &Value) -> Result<ServerSpec, String> {
    let err = |msg: String| format!("server \"{name}\": {msg}");
    let Value::Object(fields) = entry else {
        return Err(err("must be an object".to_owned()));
    };
    let mut spec = ServerSpec::default();
    let mut declared = None;
    for (key, value) in fields {
        // Some generators write `null` for an absent field; that says nothing, so it changes
        // nothing. For unknown keys it is kept like any other value.
        if value.is_null() && KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        match key.as_str() {
            "type" => declared = Some(parse_type(value).map_err(err)?),
            "command" => spec.command = Some(string(value, key).map_err(err)?),
            "args" => spec.args = strings(value, key).map_err(err)?,
            "env" => spec.env = string_map(value, key).map_err(err)?,
            "cwd" => spec.cwd = Some(string(value, key).map_err(err)?),
            "url" | "serverUrl" => {
                if spec.url.is_some() {
                    return Err(err("has both \"url\" and \"serverUrl\"".to_owned()));
                }
                spec.url = Some(string(value, key).map_err(err)?);
            }
            "headers" => spec.headers = string_map(value, key).map_err(err)?,
            _ => {
                spec.extra.insert(key.clone(), value.clone());
            }
        }
    }
    spec.transport = match declared {
        Some(Transport::Stdio) if spec.command.is_none() => {
            return Err(err("a stdio server needs \"command\"".to_owned()));
        }
        Some(Transport::Http | Transport::Sse) if spec.url.is_none() => {
            return Err(err("a remote server needs \"url\"".to_owned()));
        }
        Some(transport) => transport,
        None => infer_transport(spec.command.is_some(), spec.url.as_deref()).ok_or_else(|| {
            err("needs \"command\" (a program to run) or \"url\" (a remote server)".to_owned())
        })?,
    };
    Ok(spec)
}

fn parse_type(value: &Value) -> Result<Transport, String> {
    match value.as_str() {
        Some("stdio") => Ok(Transport::Stdio),
        Some("sse") => Ok(Transport::Sse),
        Some("http" | "streamable-http" | "streamableHttp") => Ok(Transport::Http),
        Some(other) => Err(format!(
            "unknown \"type\" \"{other}\" (expected stdio, http, sse or streamable-http)"
        )),
        None => Err("\"type\" must be a string".to_owned()),
    }
}

/// What a file without `type` means, the way every client reads it.
fn infer_transport(has_command: bool, url: Option<&str>) -> Option<Transport> {
    if has_command {
        return Some(Transport::Stdio);
    }
    url.map(|url| {
        if url_says_sse(url) {
            Transport::Sse
        } else {
            Transport::Http
        }
    })
}

/// The legacy SSE transport was conventionally mounted at `/sse`; Streamable HTTP anywhere else.
/// The one rule for guessing, used by `--url` and the connect API too.
pub fn url_says_sse(url: &str) -> bool {
    let url = url.find(['?', '#']).map_or(url, |end| &url[..end]);
    // Only the path counts: `https://sse` names a host, not an endpoint.
    let after_scheme = url.find("://").map_or(url, |at| &url[at + 3..]);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    path.trim_end_matches('/').ends_with("/sse")
}

fn string(value: &Value, key: &str) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("\"{key}\" must be a string"))
}

fn strings(value: &Value, key: &str) -> Result<Vec<String>, String> {
    let bad = || format!("\"{key}\" must be an array of strings");
    value
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|item| item.as_str().map(str::to_owned).ok_or_else(bad))
        .collect()
}

fn string_map(value: &Value, key: &str) -> Result<BTreeMap<String, String>, String> {
    let Value::Object(map) = value else {
        return Err(format!("\"{key}\" must be an object of strings"));
    };
    map.iter()
        .map(|(name, item)| {
            item.as_str()
                .map(|s| (name.clone(), s.to_owned()))
                .ok_or_else(|| format!("\"{key}\" value \"{name}\" must be a string"))
        })
        .collect()
}

fn parse_inputs(value: &Value) -> Result<Vec<InputDecl>, String> {
    let Value::Array(items) = value else {
        return Err("\"inputs\" must be an array".to_owned());
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| -> Result<InputDecl, String> {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("input {}: needs a string \"id\"", i + 1))?;
            let description = match item.get("description") {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(_) => {
                    return Err(format!("input \"{id}\": \"description\" must be a string"));
                }
            };
            let password = match item.get("password") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(password)) => *password,
                Some(_) => {
                    return Err(format!(
                        "input \"{id}\": \"password\" must be true or false"
                    ));
                }
            };
            Ok(InputDecl {
                id: id.to_owned(),
                description,
                password,
            })
        })
        .collect()
}

/// The entry object for one server, as `format` writes it: known fields first, then `extra`.
pub fn export_entry(spec: &ServerSpec, format: Format) -> Value {
    let mut out = Map::new();
    if writes_type(spec, format) {
        out.insert("type".to_owned(), spec.transport.as_str().into());
    }
    if let Some(command) = &spec.command {
        out.insert("command".to_owned(), command.as_str().into());
    }
    // Several clients reject a stdio entry without `args`, so it is written even when empty.
    if spec.command.is_some() || !spec.args.is_empty() {
        out.insert("args".to_owned(), spec.args.clone().into());
    }
    if !spec.env.is_empty() {
        out.insert("env".to_owned(), string_object(&spec.env));
    }
    if let Some(cwd) = &spec.cwd {
        out.insert("cwd".to_owned(), cwd.as_str().into());
    }
    if let Some(url) = &spec.url {
        let key = if format == Format::Windsurf {
            "serverUrl"
        } else {
            "url"
        };
        out.insert(key.to_owned(), url.as_str().into());
    }
    if !spec.headers.is_empty() {
        out.insert("headers".to_owned(), string_object(&spec.headers));
    }
    for (key, value) in &spec.extra {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// Whether the entry needs an explicit `type`. Where a format lets its client infer the
/// transport, `type` is still written whenever inference would guess wrong (say Streamable HTTP
/// at a path ending in `/sse`), or re-reading the file would change the server.
fn writes_type(spec: &ServerSpec, format: Format) -> bool {
    let needed =
        infer_transport(spec.command.is_some(), spec.url.as_deref()) != Some(spec.transport);
    match format {
        Format::VsCode => true,
        // Claude Code documents `type` for every remote server.
        Format::Claude => needed || spec.transport != Transport::Stdio,
        Format::Cursor => needed || spec.transport == Transport::Sse,
        Format::Windsurf => needed,
    }
}

fn string_object(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.iter()
            .map(|(key, value)| (key.clone(), Value::String(value.clone())))
            .collect(),
    )
}

/// A whole config file in `format`. Only VS Code has a place for `inputs`; other formats drop them.
pub fn export_file(
    servers: &[(String, ServerSpec)],
    inputs: &[InputDecl],
    format: Format,
) -> Value {
    let table: Map<String, Value> = servers
        .iter()
        .map(|(name, spec)| (name.clone(), export_entry(spec, format)))
        .collect();
    let mut file = Map::new();
    if format == Format::VsCode {
        if !inputs.is_empty() {
            file.insert("inputs".to_owned(), export_inputs(inputs));
        }
        file.insert("servers".to_owned(), Value::Object(table));
    } else {
        file.insert("mcpServers".to_owned(), Value::Object(table));
    }
    Value::Object(file)
}

/// Input declarations as VS Code's `inputs` array (the catalog file keeps its own the same way).
pub fn export_inputs(inputs: &[InputDecl]) -> Value {
    Value::Array(inputs.iter().map(export_input).collect())
}

fn export_input(input: &InputDecl) -> Value {
    let mut out = Map::new();
    out.insert("type".to_owned(), "promptString".into());
    out.insert("id".to_owned(), input.id.as_str().into());
    if let Some(description) = &input.description {
        out.insert("description".to_owned(), description.as_str().into());
    }
    if input.password {
        out.insert("password".to_owned(), true.into());
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
