//! The command line as clap sees it. Only parsing lives here; [`crate::config`] turns [`Args`]
//! into a validated [`crate::config::Config`], and nothing downstream re-checks flags.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A web inspector for Model Context Protocol servers.
#[derive(Debug, Parser)]
#[command(
    name = "mcpscope",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  mcpscope                                   open the UI; the demo server is offered\n  mcpscope -- npx -y @modelcontextprotocol/server-everything\n  mcpscope -e API_KEY=… -- python server.py\n  mcpscope --config claude_desktop_config.json            list every server of the file\n  mcpscope --config .vscode/mcp.json --server weather     …and connect one at start"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,

    /// Address to listen on. Anything but loopback needs --dangerously-bind-all.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,

    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 6274)]
    pub port: u16,

    /// The API token (default: 32 random bytes, hex).
    #[arg(long, env = "MCPSCOPE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Do not open a browser.
    #[arg(long)]
    pub no_open: bool,

    /// Allow listening on a non-loopback address. Anyone who can reach it and has the token can
    /// run commands on this machine.
    #[arg(long)]
    pub dangerously_bind_all: bool,

    /// How many events the history keeps (older ones are dropped; subscribers that fall that
    /// far behind are told with a `lagged` marker).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: u64,

    /// Environment variable for a stdio target (repeatable).
    #[arg(short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,

    /// Working directory for a stdio target.
    #[arg(long)]
    pub cwd: Option<PathBuf>,

    /// URL of a remote target.
    #[arg(long, conflicts_with = "target")]
    pub url: Option<String>,

    /// Transport for --url (default: guessed from the URL; /sse means sse).
    #[arg(long, requires = "url")]
    pub transport: Option<TransportArg>,

    /// Header for a remote target, "Name: value" (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// A JSON file of sampling / elicitation mock rules and roots: loaded at start if it
    /// exists, rewritten whenever they change (so a team can check it in).
    #[arg(long, value_name = "FILE")]
    pub responders: Option<PathBuf>,

    /// An mcpServers JSON file (Claude Desktop, Cursor, Windsurf or VS Code): every server in it
    /// is listed beside the catalog's.
    #[arg(long, conflicts_with_all = ["target", "url"])]
    pub config: Option<PathBuf>,

    /// Which server of --config to connect at start (default: the only one, or `default-server`).
    #[arg(long, requires = "config")]
    pub server: Option<String>,

    /// The catalog of servers you keep (an mcpServers file mcpscope rewrites, mode 0600; default
    /// $XDG_CONFIG_HOME/mcpscope/catalog.json).
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// The stdio target: COMMAND [ARGS...], after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub target: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Run the built-in demo MCP server on stdio.
    DemoServer,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TransportArg {
    Http,
    Sse,
}
