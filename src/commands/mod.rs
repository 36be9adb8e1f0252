//! The commands: the command line parsed (the official inspector's shape rewritten first), then
//! one command run to its exit code. Each turns `Args` into its own validated settings before
//! anything starts; the libraries below them (session, lint, recording, web) print nothing.
//!
//! | file | owns |
//! |---|---|
//! | `argv.rs` | the official inspector's command-line shape, rewritten into ours |
//! | `inspect.rs` | the inspector (the default), `dev FILE` and `open FILE`: a validated `Config`, then the listener |
//! | `call/` | `--cli`: one method, the result on stdout |
//! | `lint.rs` | `mcpscope lint`: read everything the server safely offers, lint it, print |
//! | `replay.rs` | `mcpscope replay FILE`: run a recording again, compare, print |
//! | `tap.rs` | `mcpscope tap`: a stdio server's pipes passed through byte for byte, every line reported to a running mcpscope and, with `--save`, to a recording |
//! | `mock.rs` | `mcpscope mock FILE`: a recording's server side served over stdio, or Streamable HTTP with `--listen` |
//! | `proxy.rs` | `mcpscope proxy`: a remote server relayed on a loopback port, reported like a tap |
//! | `reporter.rs` | what `tap` and `proxy` share: the report task (to a running mcpscope, reconnecting; the `--save` session and recording) |
//! | `headless.rs` | what `--cli`, `lint` and `replay` share: the target from the flags, the run's settings, stderr passed through, a refusal as an exit code |
//! | `failure.rs` | the exit code and the one JSON error line of a failed run |

pub mod argv;
pub mod call;
pub mod eval;
pub mod failure;
pub mod headless;
mod inspect;
pub mod lint;
pub mod mock;
pub mod proxy;
pub mod replay;
mod reporter;
pub mod tap;

use std::{ffi::OsString, process::ExitCode};

use clap::Parser;

use crate::cli::{Args, Sub};

/// The whole program: `argv` as the process got it, the exit code it ends with.
pub fn main(argv: Vec<OsString>) -> ExitCode {
    // The official inspector's `--cli` shape (target first, no `--`) is rewritten into ours; a
    // command line that is not valid UTF-8 cannot be in that shape and goes to clap as it is.
    let argv: Vec<OsString> = match argv.iter().map(|a| a.to_str()).collect::<Option<Vec<_>>>() {
        Some(words) => argv::rewrite(words.into_iter().map(str::to_owned).collect())
            .into_iter()
            .map(OsString::from)
            .collect(),
        None => argv,
    };
    let cli_mode = argv.iter().take_while(|a| *a != "--").any(|a| a == "--cli");
    // A tap runs inside an MCP client: its stderr is the server's, so it says only what matters.
    let quiet_logs = argv
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "tap" || a == "mock" || a == "proxy");
    let mut args = match Args::try_parse_from(&argv) {
        Ok(args) => args,
        // In CLI mode a usage error is exit 1 with the one JSON error line, as scripts expect.
        Err(e) if cli_mode && e.use_stderr() => {
            let message = e.render().to_string();
            return ExitCode::from(failure::exit_code(Err(failure::Failure::usage(
                message.trim(),
            ))));
        }
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCPSCOPE_LOG").unwrap_or_else(|_| {
                // CLI mode's stderr belongs to the server's lines and the error line.
                if cli_mode || quiet_logs {
                    "mcpscope=warn"
                } else {
                    "mcpscope=info"
                }
                .into()
            }),
        )
        .init();
    crate::net::budget::set_limit_mb(usize::try_from(args.max_buffered_mb).unwrap_or(usize::MAX));
    // One thread: on small machines every cross-thread wake-up costs tens of microseconds, and
    // the relay path is a chain of wake-ups. Measured by `cargo bench` (see ARCHITECTURE.md).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mcpscope: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.command.take() {
        // lint and replay name their own target; the target flags (-e, --header, …) are global.
        Some(Sub::Lint(lint)) => {
            args.target = lint.target.clone();
            args.url = lint.url.clone();
            ExitCode::from(runtime.block_on(lint::run(&args, &lint)))
        }
        Some(Sub::Mock(mock)) => ExitCode::from(runtime.block_on(mock::run(&mock))),
        Some(Sub::Proxy(proxy)) => ExitCode::from(runtime.block_on(proxy::run(&args, &proxy))),
        Some(Sub::Tap(tap)) => ExitCode::from(runtime.block_on(tap::run(&args, &tap))),
        Some(Sub::Eval(eval)) => ExitCode::from(runtime.block_on(eval::run(&args, &eval))),
        Some(Sub::Replay(replay)) => {
            args.target = replay.target.clone();
            args.url = replay.url.clone();
            ExitCode::from(runtime.block_on(replay::run(&args, &replay)))
        }
        Some(Sub::DemoServer) => match runtime.block_on(crate::demo::serve_stdio()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo-server: {e}");
                ExitCode::FAILURE
            }
        },
        None if args.cli.cli => ExitCode::from(runtime.block_on(call::run(&args))),
        command => {
            args.command = command;
            inspect::run(&runtime, &args)
        }
    }
}
