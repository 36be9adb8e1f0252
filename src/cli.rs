//! The command line as clap sees it. Only parsing lives here; each command turns [`Args`] into
//! its own validated settings (the inspector's is [`crate::config::Config`]; see
//! [`crate::commands`]), and nothing downstream re-checks flags. Options are grouped in `--help` by what they are for.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

const TARGET: &str = "Target (what to connect to)";
const LISTENER: &str = "Listener and UI";
const CLI: &str = "CLI mode (--cli: one method, JSON out, exit code)";

const EXAMPLES: &str = "\
Examples:
  Inspect in the browser:
    mcpscope                                        the UI, with the demo server offered
    mcpscope node build/index.js                    the official inspector's line, one word changed
    mcpscope -e API_KEY=... python server.py
    mcpscope -- npx -y @modelcontextprotocol/server-everything
    mcpscope --url http://127.0.0.1:3001/mcp --header 'Authorization: Bearer ...'
    mcpscope --config claude_desktop_config.json    every server of the file, listed
    mcpscope --config .vscode/mcp.json --server weather   ...and one connected at start
    mcpscope dev server.py --with pandas            what `mcp dev server.py` does, in mcpscope

  One call from a script (the official inspector's --cli flags):
    mcpscope --cli node build/index.js --method tools/list
    mcpscope --cli --method tools/call --tool-name add --tool-arg a=1 b=2 -- python server.py
    mcpscope --cli http://127.0.0.1:3001/mcp --method resources/read --uri file:///a.txt
    mcpscope --cli --config mcp.json --server weather --method prompts/list --format text

  Sessions as files, and the server held to the spec:
    mcpscope open session.ndjson                    a recording (Export in the UI), read-only
    mcpscope replay session.ndjson                  run it again; exit 1 if an answer changed
    mcpscope replay session.ndjson --ignore '$..timestamp' -- node build/index.js
    mcpscope lint -- python server.py               findings by rule; exit 1 on an error

  Exit codes in CLI mode: 0 success; 1 usage error, unexpected error or a JSON-RPC error from the
  server; 3 authorization required; 4 server unreachable or failed to start; 5 tool error
  (isError: true, or no such tool). Each non-zero exit writes one JSON line to stderr:
  {\"error\": {\"code\": ..., \"message\": ...}}";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "mcpscope",
    version,
    about = "A web inspector for Model Context Protocol servers: every JSON-RPC frame on the wire, tools, resources, prompts, completions, logs and progress, and the server's own requests answered by hand or by rules. It serves a browser UI on loopback; with --cli it runs one method and prints the result.",
    subcommand_value_name = "SUBCOMMAND",
    subcommand_help_heading = "Subcommands",
    max_term_width = 100,
    after_help = EXAMPLES
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,

    /// The stdio target: COMMAND [ARGS...], after `--` (or, as the official inspector takes it,
    /// right after our options: every word from COMMAND on is the server's).
    #[arg(last = true, value_name = "COMMAND", help_heading = TARGET)]
    pub target: Vec<String>,

    /// URL of a remote target.
    #[arg(long, alias = "server-url", conflicts_with = "target", help_heading = TARGET)]
    pub url: Option<String>,

    /// Transport (default: stdio for a command; for a URL guessed from it, /sse meaning sse).
    #[arg(long, global = true, help_heading = TARGET)]
    pub transport: Option<TransportArg>,

    /// Header for a remote target, "Name: value" (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE", global = true, help_heading = TARGET)]
    pub headers: Vec<String>,

    /// Environment variable for a stdio target (repeatable).
    #[arg(short = 'e', value_name = "KEY=VALUE", global = true, help_heading = TARGET)]
    pub env: Vec<String>,

    /// Let `${env:NAME}` in a remote server's URL or headers (from --config) read NAME from
    /// mcpscope's environment (repeatable). Without it, only values given with -e are sent.
    #[arg(long, value_name = "NAME", global = true, help_heading = TARGET)]
    pub allow_env: Vec<String>,

    /// Working directory for a stdio target.
    #[arg(long, global = true, help_heading = TARGET)]
    pub cwd: Option<PathBuf>,

    /// OAuth: a client id registered with the server's authorization server beforehand.
    #[arg(long, help_heading = TARGET)]
    pub client_id: Option<String>,

    /// OAuth: that client's secret.
    #[arg(long, env = "MCPSCOPE_CLIENT_SECRET", hide_env_values = true, help_heading = TARGET)]
    pub client_secret: Option<String>,

    /// OAuth: an https URL serving this client's metadata document, used as the client id where
    /// the authorization server accepts one.
    #[arg(long, value_name = "URL", help_heading = TARGET)]
    pub client_metadata_url: Option<String>,

    /// OAuth: the scopes to ask for, space-separated (default: what the server asks for).
    #[arg(long, help_heading = TARGET)]
    pub scopes: Option<String>,

    /// Keep OAuth credentials in this file (mode 0600) so a restart needs no new login; by
    /// default they live in memory only.
    #[arg(long, value_name = "FILE", help_heading = TARGET)]
    pub oauth_credentials: Option<PathBuf>,

    /// Protocol era: legacy (initialize, the default), auto (probe server/discover, fall back to
    /// initialize) or modern (2026-07-28 only). A --config entry's "era" applies otherwise.
    #[arg(long, value_enum, value_name = "ERA", global = true, help_heading = TARGET)]
    pub protocol_era: Option<crate::session::EraChoice>,

    /// An mcpServers JSON file (Claude Desktop, Cursor, Windsurf or VS Code): every server in it
    /// is listed beside the catalog's.
    #[arg(long, conflicts_with_all = ["target", "url"], help_heading = TARGET)]
    pub config: Option<PathBuf>,

    /// Which server of --config (or of the catalog) to connect at start (default: the only one,
    /// or `default-server`).
    #[arg(long, help_heading = TARGET)]
    pub server: Option<String>,

    /// The catalog of servers you keep (an mcpServers file mcpscope rewrites, mode 0600; default
    /// $XDG_CONFIG_HOME/mcpscope/catalog.json).
    #[arg(long, value_name = "FILE", help_heading = TARGET)]
    pub catalog: Option<PathBuf>,

    /// A JSON file of sampling / elicitation mock rules and roots: loaded at start if it
    /// exists, rewritten whenever they change (so a team can check it in).
    #[arg(long, value_name = "FILE", global = true, help_heading = TARGET)]
    pub responders: Option<PathBuf>,

    /// Address to listen on. Anything but loopback needs --dangerously-bind-all.
    #[arg(long, default_value = "127.0.0.1", global = true, help_heading = LISTENER)]
    pub host: String,

    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 6274, global = true, help_heading = LISTENER)]
    pub port: u16,

    /// The model that answers sampling in the responders' `llm` mode: `openai:MODEL` (with
    /// OPENAI_API_KEY and OPENAI_BASE_URL, any OpenAI-compatible endpoint) or `anthropic:MODEL`
    /// (with ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL).
    #[arg(long, value_name = "PROVIDER:MODEL", global = true, help_heading = TARGET)]
    pub model: Option<String>,

    /// Port of the second loopback origin MCP App views are served from (never the UI's own);
    /// 0 picks a free one.
    #[arg(long, default_value_t = 0, global = true, help_heading = LISTENER)]
    pub apps_port: u16,

    /// Send every session's traffic (tapped and proxied ones too) to an OpenTelemetry collector
    /// as traces over OTLP/HTTP: the collector's base URL, e.g. http://127.0.0.1:4318.
    #[arg(long, value_name = "URL", help_heading = LISTENER)]
    pub otlp: Option<String>,

    /// The API token (default: 32 random bytes, hex).
    #[arg(long, env = "MCPSCOPE_TOKEN", hide_env_values = true, global = true, help_heading = LISTENER)]
    pub token: Option<String>,

    /// Do not open a browser.
    #[arg(long, global = true, help_heading = LISTENER)]
    pub no_open: bool,

    /// Allow listening on a non-loopback address. Anyone who can reach it and has the token can
    /// run commands on this machine.
    #[arg(long, global = true, help_heading = LISTENER)]
    pub dangerously_bind_all: bool,

    /// How many events the history keeps (older ones are dropped; subscribers that fall that
    /// far behind are told with a `lagged` marker).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..), global = true, help_heading = LISTENER)]
    pub max_events: u64,

    /// Memory the history may hold, in MiB (default: 256, or 512 bytes an event for more than
    /// 500,000 events, so `--max-events 1000000` keeps a million small events).
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..), global = true, help_heading = LISTENER)]
    pub max_history_mb: Option<u64>,

    /// Memory the answers being read at once may hold in all sessions together; one that would
    /// go over it is dropped with a finding, and the session goes on.
    #[arg(long, value_name = "MIB", default_value_t = crate::net::budget::DEFAULT_MB as u64, value_parser = clap::value_parser!(u64).range(1..), global = true, help_heading = LISTENER)]
    pub max_buffered_mb: u64,

    #[command(flatten)]
    pub cli: CliArgs,
}

/// The flags of CLI mode, named as the official inspector's `--cli` names them.
#[derive(Debug, Default, clap::Args)]
pub struct CliArgs {
    /// Run one method against the target, print its result, exit. No listener, no browser.
    #[arg(long, help_heading = CLI)]
    pub cli: bool,

    /// The method: initialize, tools/list, tools/call, resources/list, resources/read,
    /// resources/templates/list, prompts/list, prompts/get, logging/setLevel, ping,
    /// completion/complete, or any other with --params.
    #[arg(long, help_heading = CLI)]
    pub method: Option<String>,

    /// The tool for tools/call.
    #[arg(long, help_heading = CLI)]
    pub tool_name: Option<String>,

    /// Tool arguments, KEY=VALUE, typed by the tool's inputSchema (count=5 is a number where it
    /// says integer, a string where it says string); JSON where the schema is silent.
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., help_heading = CLI)]
    pub tool_arg: Vec<String>,

    /// Tool arguments as one JSON object, sent as written (--tool-arg pairs override its keys).
    #[arg(long, value_name = "JSON", help_heading = CLI)]
    pub tool_args_json: Option<String>,

    /// The resource for resources/read (and resources/subscribe).
    #[arg(long, help_heading = CLI)]
    pub uri: Option<String>,

    /// Fetch only this page of a list (default: every page, merged).
    #[arg(long, help_heading = CLI)]
    pub cursor: Option<String>,

    /// The prompt for prompts/get.
    #[arg(long, help_heading = CLI)]
    pub prompt_name: Option<String>,

    /// Prompt arguments, KEY=VALUE (always strings, as prompts take).
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., help_heading = CLI)]
    pub prompt_args: Vec<String>,

    /// The level for logging/setLevel: debug, info, notice, warning, error, critical, alert,
    /// emergency.
    #[arg(long, help_heading = CLI)]
    pub log_level: Option<String>,

    /// `_meta` entries for every request, KEY=VALUE (JSON where the value parses as JSON).
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., help_heading = CLI)]
    pub metadata: Vec<String>,

    /// `_meta` entries for tools/call only, over --metadata.
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., help_heading = CLI)]
    pub tool_metadata: Vec<String>,

    /// The params object for any method, as JSON (the flags above override its keys).
    #[arg(long, value_name = "JSON", help_heading = CLI)]
    pub params: Option<String>,

    /// How long connecting (spawn or reach, then initialize) may take; 0 means no limit.
    #[arg(long, value_name = "MS", default_value_t = 15_000, global = true, help_heading = CLI)]
    pub connect_timeout: u64,

    /// How long the call may go without an answer or progress.
    #[arg(long, value_name = "MS", default_value_t = 60_000, global = true, help_heading = CLI)]
    pub timeout: u64,

    /// json: the result as the server sent it, indented; text: a summary for people.
    #[arg(long, value_enum, default_value_t = Format::Json, help_heading = CLI)]
    pub format: Format,

    /// Write progress and log notifications to stderr as JSON lines (the event records).
    #[arg(long, global = true, help_heading = CLI)]
    pub verbose: bool,

    /// Do not pass the stdio server's stderr through to ours.
    #[arg(short, long, global = true, help_heading = CLI)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Run the built-in demo MCP server on stdio.
    DemoServer,
    /// Run a server file and open the UI on it, as the Python SDK's `mcp dev` does: a .py file
    /// (or file.py:object) through `uv run --with 'mcp[cli]' … mcp run`, .js/.mjs with node, .ts
    /// with `npx tsx`.
    Dev(DevArgs),
    /// Open a recording (a session exported as NDJSON) in the UI, read-only: its timeline,
    /// findings and server as they were. Nothing is started.
    Open(OpenArgs),
    /// Connect, list and read everything the server offers (tools are called only with
    /// --call-tools), and hold what it said to the MCP specification: each finding with its rule,
    /// the spec section, its severity and the frame. Exit 0 when there is no error, 1 when there
    /// is, 4 when the server cannot be reached.
    Lint(LintArgs),
    /// Run a recording again: start its target (or the one given), send our requests in the
    /// recorded order, answer the server's requests as recorded, and compare each answer with the
    /// recorded one (ignoring ids, times, session ids and progress tokens). Exit 0 when all are
    /// the same, 1 when one differs or is missing, 4 when the server cannot be reached.
    Replay(ReplayArgs),
    /// Run eval cases: a model (--model, or the file's "model") answers each prompt with the
    /// tools of the file's mcpServers; a case passes when the expected tool calls were made and
    /// the answer holds the expected text. Exit 0 when every run of every case passes, 1 when
    /// one fails, 2 when the file or the model is wrong, 4 when a server cannot be reached.
    Eval(EvalArgs),
    /// Put in an MCP client's config in place of a stdio server's command: runs COMMAND, passes
    /// stdin, stdout and stderr through byte for byte, and reports every line to a running
    /// mcpscope (--to), where it is a tapped session. With no mcpscope running, the traffic still
    /// passes. `--install CONFIG --server NAME` rewrites that entry of a client's config to go
    /// through the tap (a backup is kept); `--uninstall` puts it back.
    Tap(TapArgs),
    /// Serve a recording's server side, for testing an MCP client: over stdio, or Streamable HTTP
    /// with --listen. Each request gets the recorded answer for the same method and params
    /// (_meta such as progress tokens ignored, and --ignore paths); the handshake is answered
    /// from the recorded one; the server's recorded requests and notifications follow in order;
    /// an unrecorded request gets a JSON-RPC error naming the closest recorded one.
    Mock(MockArgs),
    /// Relay a remote MCP server (Streamable HTTP or HTTP+SSE) on a loopback port so a real
    /// client's traffic shows in a running mcpscope (--to) as a tapped session: point the client
    /// at http://127.0.0.1:PORT/<the upstream's path>. Requests, answers, SSE streams and headers
    /// pass unchanged, the client's own Authorization included.
    Proxy(ProxyArgs),
}

#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// The loopback port clients connect to (0: any free port; the URL is printed).
    #[arg(long, value_name = "PORT")]
    pub listen: u16,
    /// The server's URL, e.g. https://example.com/mcp.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// The running mcpscope to report to (on this machine).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:6274")]
    pub to: String,
    /// The tapped session's name (default: the upstream's host and path).
    #[arg(long)]
    pub name: Option<String>,
    /// Also write what passed as a recording when the proxy stops.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct MockArgs {
    /// The recording (a tap's --save, Export in the UI, GET /api/sessions/{id}/export, lint
    /// --save).
    pub file: PathBuf,
    /// Serve Streamable HTTP on this loopback port (0: any free port) instead of stdio; the URL
    /// is printed as `mcpscope mock: http://127.0.0.1:PORT/mcp`.
    #[arg(long, value_name = "PORT")]
    pub listen: Option<u16>,
    /// Also ignore what this JSON path names when matching a request's params (repeatable):
    /// `$.arguments.when`, `$..timestamp`.
    #[arg(long, value_name = "JSONPATH")]
    pub ignore: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct TapArgs {
    /// The running mcpscope to report to (on this machine). Its token comes from MCPSCOPE_TOKEN,
    /// else from the token file that mcpscope writes for its port.
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:6274")]
    pub to: String,
    /// The tapped session's name (default: the command's file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Also write what passed as a recording when the server exits (open it with `mcpscope
    /// open`, serve it with `mcpscope mock`).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Rewrite the --server entry of this client config (Claude Desktop, Cursor, VS Code,
    /// Windsurf) to run through the tap, keeping a backup beside it; then exit.
    #[arg(
        long,
        value_name = "CONFIG",
        requires = "server",
        conflicts_with = "target"
    )]
    pub install: Option<PathBuf>,
    /// Undo --install for the --server entry of this config; then exit.
    #[arg(long, value_name = "CONFIG", requires = "server", conflicts_with_all = ["target", "install"])]
    pub uninstall: Option<PathBuf>,
    /// The entry of the config to --install or --uninstall.
    #[arg(long)]
    pub server: Option<String>,
    /// The server: COMMAND [ARGS...], after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub target: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// The eval file: {"mcpServers": {...}, "model"?: "PROVIDER:MODEL", "cases": [{"name",
    /// "prompt", "expect": {"toolCalls": [{"name", "arguments"?}], "answerContains"?}}]}.
    pub file: PathBuf,
    /// Run each case this many times, for a pass rate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub runs: u32,
    /// text for people, json, or junit (JUnit XML for CI).
    #[arg(long, value_enum, default_value_t = EvalFormat::Text)]
    pub format: EvalFormat,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    #[default]
    Text,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Also call each tool that needs no arguments, with {}, to check its output against its
    /// outputSchema. Tools can change things: only ask this of a server you may run tools on.
    #[arg(long)]
    pub call_tools: bool,
    /// json: the findings, counts and rules as one JSON object; text: grouped by rule.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write what the session saw as a recording (the findings' frame numbers are its seqs).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// URL of a remote target.
    #[arg(long, conflicts_with = "target")]
    pub url: Option<String>,
    /// The stdio target: COMMAND [ARGS...], after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub target: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The recording (from Export, GET /api/sessions/{id}/export, or lint --save).
    pub file: PathBuf,
    /// Also ignore what this JSON path names in every answer (repeatable): `$.result.content[0].text`,
    /// `$..timestamp`, `$.result.tools[*].description`.
    #[arg(long, value_name = "JSONPATH")]
    pub ignore: Vec<String>,
    /// json: the report as one JSON object; text: request by request, with each difference.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the replay's own session as a recording.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Start the target the recording names even though mcpscope here did not write the file
    /// (its own exports are sealed and start without this). A file from elsewhere can name
    /// anything: without this, replay shows all it names and asks on a terminal, else stops.
    #[arg(long, conflicts_with_all = ["target", "url"])]
    pub recorded_target: bool,
    /// Send the requests and give the answers a recording names even though mcpscope here did
    /// not write it (or it was edited since): a file from elsewhere can call any tool of your
    /// server. Without this, replay shows every request and answer and asks on a terminal,
    /// else stops.
    #[arg(long)]
    pub accept_requests: bool,
    /// Replay against this URL instead of the recorded target.
    #[arg(long, conflicts_with = "target")]
    pub url: Option<String>,
    /// Replay against this command instead of the recorded target, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub target: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// The recording file (from Export in the UI, or GET /api/sessions/{id}/export).
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// The server file: server.py, server.py:app, server.js, server.mjs or server.ts.
    pub file: String,
    /// Another package the server needs (Python; repeatable).
    #[arg(long = "with", value_name = "PACKAGE")]
    pub with: Vec<String>,
    /// A local project installed in editable mode (Python).
    #[arg(long, value_name = "DIR")]
    pub with_editable: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    Stdio,
    Http,
    Sse,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, ValueEnum)]
pub enum Format {
    #[default]
    Json,
    Text,
}
