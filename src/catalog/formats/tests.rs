//! Unit tests of `formats`.

use serde_json::json;

use super::*;

const ALL: [Format; 4] = [
    Format::Claude,
    Format::Cursor,
    Format::Windsurf,
    Format::VsCode,
];

fn parse_value(file: Value) -> Result<ParsedFile, String> {
    parse(&file.to_string())
}

fn spec_of<'p>(parsed: &'p ParsedFile, name: &str) -> &'p ServerSpec {
    &parsed
        .servers
        .iter()
        .find(|(n, _)| n == name)
        .expect("server listed")
        .1
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn reads_a_claude_file_in_file_order() {
    let parsed = parse_value(json!({"mcpServers": {
        "weather": {"command": "npx", "args": ["-y", "weather-mcp"], "env": {"KEY": "k"},
                    "disabled": true},
        "events": {"url": "https://example.com/sse/"},
        "api": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer x"}},
    }}))
    .unwrap();
    assert_eq!(parsed.format, Format::Claude);
    let names: Vec<&str> = parsed.servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["weather", "events", "api"]);
    let weather = spec_of(&parsed, "weather");
    assert_eq!(weather.transport, Transport::Stdio);
    assert_eq!(weather.command.as_deref(), Some("npx"));
    assert_eq!(weather.args, ["-y", "weather-mcp"]);
    assert_eq!(weather.env["KEY"], "k");
    assert_eq!(weather.extra, object(json!({"disabled": true})));
    let events = spec_of(&parsed, "events");
    assert_eq!(events.transport, Transport::Sse);
    assert_eq!(events.url.as_deref(), Some("https://example.com/sse/"));
    let api = spec_of(&parsed, "api");
    assert_eq!(api.transport, Transport::Http);
    assert_eq!(api.headers["Authorization"], "Bearer x");
    assert!(api.extra.is_empty());
    assert!(parsed.inputs.is_empty());
}

#[test]
fn server_url_means_windsurf() {
    let parsed = parse_value(json!({"mcpServers": {
        "local": {"command": "uvx", "args": ["srv"]},
        "remote": {"serverUrl": "https://w.example/mcp"},
    }}))
    .unwrap();
    assert_eq!(parsed.format, Format::Windsurf);
    let remote = spec_of(&parsed, "remote");
    assert_eq!(remote.transport, Transport::Http);
    assert_eq!(remote.url.as_deref(), Some("https://w.example/mcp"));
    assert!(remote.extra.is_empty());
}

#[test]
fn reads_a_vscode_file_with_inputs() {
    let parsed = parse_value(json!({
        "inputs": [
            {"type": "promptString", "id": "api-key", "description": "API key", "password": true},
            {"type": "promptString", "id": "region"},
        ],
        "servers": {
            "github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"},
            "local": {"type": "stdio", "command": "node", "args": ["server.js"],
                      "env": {"API_KEY": "${input:api-key}"},
                      "envFile": "${workspaceFolder}/.env"},
            "legacy": {"type": "sse", "url": "http://localhost:3000/events"},
        },
    }))
    .unwrap();
    assert_eq!(parsed.format, Format::VsCode);
    assert_eq!(
        parsed.inputs,
        [
            InputDecl {
                id: "api-key".to_owned(),
                description: Some("API key".to_owned()),
                password: true,
            },
            InputDecl {
                id: "region".to_owned(),
                description: None,
                password: false,
            },
        ]
    );
    assert_eq!(spec_of(&parsed, "github").transport, Transport::Http);
    let local = spec_of(&parsed, "local");
    assert_eq!(local.transport, Transport::Stdio);
    assert_eq!(local.env["API_KEY"], "${input:api-key}");
    assert_eq!(
        local.extra,
        object(json!({"envFile": "${workspaceFolder}/.env"}))
    );
    assert_eq!(spec_of(&parsed, "legacy").transport, Transport::Sse);
}

#[test]
fn jsonc_comments_and_trailing_commas_are_accepted() {
    let text = r#"{
        // servers for this workspace
        "servers": {
            "a": {"type": "http", "url": "https://h//x/*y*/", /* inline */
                  "headers": {"Q": "a\"//b",},},
        },
    }"#;
    let parsed = parse(text).unwrap();
    let a = spec_of(&parsed, "a");
    assert_eq!(a.url.as_deref(), Some("https://h//x/*y*/"));
    assert_eq!(a.headers["Q"], "a\"//b");
    assert!(
        parse("{\"servers\": ")
            .unwrap_err()
            .starts_with("not valid JSON")
    );
}

fn transport_of(entry: Value) -> Transport {
    parse_value(json!({"mcpServers": {"s": entry}}))
        .expect("parses")
        .servers[0]
        .1
        .transport
}

#[test]
fn transport_is_inferred_from_the_url_unless_declared() {
    for (url, expected) in [
        ("https://h/sse", Transport::Sse),
        ("https://h/sse/", Transport::Sse),
        ("https://h/a/sse?k=v", Transport::Sse),
        ("https://h/sse#top", Transport::Sse),
        ("http://localhost:8080/sse", Transport::Sse),
        ("https://h/mcp", Transport::Http),
        ("https://sse", Transport::Http),
        ("https://h/sse-stream", Transport::Http),
        ("https://h/x?next=/sse", Transport::Http),
    ] {
        assert_eq!(transport_of(json!({"url": url})), expected, "{url}");
    }
    for (declared, expected) in [
        ("streamable-http", Transport::Http),
        ("streamableHttp", Transport::Http),
        ("http", Transport::Http),
        ("sse", Transport::Sse),
    ] {
        assert_eq!(
            transport_of(json!({"type": declared, "url": "https://h/sse"})),
            expected,
            "{declared}"
        );
    }
    assert_eq!(
        transport_of(json!({"command": "srv", "url": "https://h/sse"})),
        Transport::Stdio
    );
}

#[test]
fn errors_name_the_server_and_field() {
    let err = parse_value(json!({"mcpServers": {
        "ok": {"command": "x"},
        "weather": {"command": "x", "args": "--verbose"},
    }}))
    .unwrap_err();
    assert_eq!(
        err,
        r#"server "weather": "args" must be an array of strings"#
    );
    let err = parse_value(json!({"mcpServers": {"empty": {"disabled": true}}})).unwrap_err();
    assert!(err.starts_with(r#"server "empty": "#), "{err}");
    let err = parse_value(json!({"mcpServers": {"db": {"command": "x", "env": {"PORT": 5432}}}}))
        .unwrap_err();
    assert!(
        err.contains(r#"server "db""#) && err.contains(r#""PORT""#),
        "{err}"
    );
    let err =
        parse_value(json!({"mcpServers": {"h": {"url": "https://h/mcp", "headers": {"X": 1}}}}))
            .unwrap_err();
    assert!(
        err.contains(r#"server "h""#) && err.contains(r#""X""#),
        "{err}"
    );
    let err = parse_value(json!({"servers": {"ws": {"type": "websocket", "url": "wss://h"}}}))
        .unwrap_err();
    assert!(
        err.contains(r#"server "ws""#) && err.contains("websocket"),
        "{err}"
    );
    let err = parse_value(json!({"servers": {"r": {"type": "sse", "command": "x"}}})).unwrap_err();
    assert!(
        err.contains(r#"server "r""#) && err.contains("\"url\""),
        "{err}"
    );
    let err = parse_value(json!({"mcpServers": {"n": 3}})).unwrap_err();
    assert!(err.contains(r#"server "n""#), "{err}");
    assert!(parse_value(json!({"other": {}})).is_err());
    assert!(parse_value(json!({"mcpServers": []})).is_err());
    assert!(parse_value(json!({"servers": {}, "inputs": [{"description": "no id"}]})).is_err());
    assert!(parse("not json").unwrap_err().starts_with("not valid JSON"));
}

fn vscode_source() -> Value {
    json!({
        "inputs": [{"type": "promptString", "id": "api-key", "description": "API key",
                    "password": true}],
        "servers": {
            "local": {"type": "stdio", "command": "node", "args": ["s.js", "--flag"],
                      "env": {"B": "2", "A": "${input:api-key}"}, "cwd": "/srv",
                      "envFile": "${workspaceFolder}/.env", "disabled": true},
            "remote": {"type": "streamable-http", "url": "https://h/mcp",
                       "headers": {"Authorization": "Bearer ${input:api-key}"},
                       "timeout": 30},
            "legacy": {"type": "sse", "url": "https://h/events", "autoApprove": ["a", "b"]},
            "odd": {"type": "http", "url": "https://h/sse/"},
            "both": {"type": "sse", "command": "unused", "url": "https://h/sse"},
        },
    })
}

fn claude_source() -> Value {
    json!({"mcpServers": {
        "weather": {"command": "npx", "args": [], "env": {}, "disabled": true},
        "events": {"url": "https://example.com/sse"},
        "win": {"serverUrl": "https://example.com/mcp", "headers": {"X-Key": "k"}},
    }})
}

#[test]
fn every_format_round_trips() {
    for source in [vscode_source(), claude_source()] {
        let first = parse_value(source).unwrap();
        for format in ALL {
            let exported = export_file(&first.servers, &first.inputs, format);
            let text = serde_json::to_string_pretty(&exported).unwrap();
            let again = parse(&text).unwrap_or_else(|e| panic!("{format}: {e}\n{text}"));
            assert_eq!(again.servers, first.servers, "{format}:\n{text}");
            let second =
                serde_json::to_string_pretty(&export_file(&again.servers, &again.inputs, format))
                    .unwrap();
            assert_eq!(second, text, "{format}");
            if format == Format::VsCode {
                assert_eq!(again.inputs, first.inputs);
            }
        }
    }
}

#[test]
fn each_format_writes_its_own_shape() {
    let http = ServerSpec {
        transport: Transport::Http,
        url: Some("https://h/mcp".to_owned()),
        ..ServerSpec::default()
    };
    let sse = ServerSpec {
        transport: Transport::Sse,
        url: Some("https://h/sse".to_owned()),
        ..ServerSpec::default()
    };
    let odd = ServerSpec {
        transport: Transport::Http,
        url: Some("https://h/sse".to_owned()),
        ..ServerSpec::default()
    };
    let stdio = ServerSpec {
        command: Some("srv".to_owned()),
        extra: object(json!({"disabled": true, "command": "stale"})),
        ..ServerSpec::default()
    };
    let url = "https://h/mcp";
    assert_eq!(
        export_entry(&http, Format::Claude),
        json!({"type": "http", "url": url})
    );
    assert_eq!(export_entry(&http, Format::Cursor), json!({"url": url}));
    assert_eq!(
        export_entry(&http, Format::Windsurf),
        json!({"serverUrl": url})
    );
    assert_eq!(
        export_entry(&http, Format::VsCode),
        json!({"type": "http", "url": url})
    );
    assert_eq!(
        export_entry(&sse, Format::Cursor),
        json!({"type": "sse", "url": "https://h/sse"})
    );
    assert_eq!(
        export_entry(&sse, Format::Windsurf),
        json!({"serverUrl": "https://h/sse"})
    );
    assert_eq!(
        export_entry(&odd, Format::Windsurf),
        json!({"type": "http", "serverUrl": "https://h/sse"})
    );
    assert_eq!(
        export_entry(&stdio, Format::Claude),
        json!({"command": "srv", "args": [], "disabled": true})
    );
    let vscode = object(export_entry(&stdio, Format::VsCode));
    let keys: Vec<&str> = vscode.keys().map(String::as_str).collect();
    assert_eq!(keys, ["type", "command", "args", "disabled"]);
    assert_eq!(vscode["command"], "srv");

    let input = InputDecl {
        id: "k".to_owned(),
        description: Some("Key".to_owned()),
        password: true,
    };
    let servers = [("s".to_owned(), http)];
    assert_eq!(
        export_file(&servers, std::slice::from_ref(&input), Format::VsCode),
        json!({
            "inputs": [{"type": "promptString", "id": "k", "description": "Key", "password": true}],
            "servers": {"s": {"type": "http", "url": url}},
        })
    );
    assert_eq!(
        export_file(&servers, &[input], Format::Claude),
        json!({"mcpServers": {"s": {"type": "http", "url": url}}})
    );
}

#[test]
fn format_names() {
    assert_eq!("vscode".parse::<Format>(), Ok(Format::VsCode));
    assert_eq!("Windsurf".parse::<Format>(), Ok(Format::Windsurf));
    assert!("zed".parse::<Format>().is_err());
    for format in ALL {
        assert_eq!(format.as_str().parse::<Format>(), Ok(format));
        assert_eq!(serde_json::to_value(format).unwrap(), format.as_str());
    }
}
