//! The `mcpscope` binary: parse the command line, then run the inspector, one call in CLI mode,
//! a server file (`dev`), or the built-in demo server. Everything else lives in the library.

use std::{ffi::OsString, process::ExitCode};

use clap::Parser;
use mcpscope::{
    cli::{Args, Sub},
    cli_mode,
    config::{Config, Start},
    session::Target,
};

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    // The official inspector's `--cli` shape (target first, no `--`) is rewritten into ours; a
    // command line that is not valid UTF-8 cannot be in that shape and goes to clap as it is.
    let argv: Vec<OsString> = match argv.iter().map(|a| a.to_str()).collect::<Option<Vec<_>>>() {
        Some(words) => cli_mode::argv::rewrite(words.into_iter().map(str::to_owned).collect())
            .into_iter()
            .map(OsString::from)
            .collect(),
        None => argv,
    };
    let cli_mode = argv.iter().take_while(|a| *a != "--").any(|a| a == "--cli");
    let mut args = match Args::try_parse_from(&argv) {
        Ok(args) => args,
        // In CLI mode a usage error is exit 1 with the one JSON error line, as scripts expect.
        Err(e) if cli_mode && e.use_stderr() => {
            let message = e.render().to_string();
            eprintln!(
                "{}",
                mcpscope::term::json(&cli_mode::Failure::usage(message.trim()).line())
            );
            return ExitCode::from(1);
        }
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCPSCOPE_LOG").unwrap_or_else(|_| {
                // CLI mode's stderr belongs to the server's lines and the error line.
                if cli_mode {
                    "mcpscope=warn"
                } else {
                    "mcpscope=info"
                }
                .into()
            }),
        )
        .init();
    mcpscope::net::budget::set_limit_mb(
        usize::try_from(args.max_buffered_mb).unwrap_or(usize::MAX),
    );
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
    // lint and replay name their own target; the target flags (-e, --header, …) are global.
    match args.command.take() {
        Some(Sub::Lint(lint)) => {
            args.target = lint.target.clone();
            args.url = lint.url.clone();
            return ExitCode::from(runtime.block_on(mcpscope::lint::walk::run(&args, &lint)));
        }
        Some(Sub::Replay(replay)) => {
            args.target = replay.target.clone();
            args.url = replay.url.clone();
            return ExitCode::from(
                runtime.block_on(mcpscope::recording::replay::run(&args, &replay)),
            );
        }
        other => args.command = other,
    }
    let config = match &args.command {
        Some(Sub::DemoServer) => {
            return match runtime.block_on(mcpscope::demo::serve_stdio()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("demo-server: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Sub::Lint(_) | Sub::Replay(_)) => unreachable!("handled above"),
        None if args.cli.cli => return ExitCode::from(runtime.block_on(cli_mode::run(&args))),
        Some(Sub::Dev(dev)) => {
            if args.cli.cli
                || !args.target.is_empty()
                || args.url.is_some()
                || args.config.is_some()
            {
                eprintln!(
                    "mcpscope dev: the file is the target; drop --cli, --url, --config and `--`"
                );
                return ExitCode::from(2);
            }
            let target = match mcpscope::dev::target(dev) {
                Ok(t) => {
                    if let Some(note) = &t.note {
                        eprintln!("mcpscope dev: {note}");
                    }
                    t
                }
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            Config::from_args(&args).map(|mut c| {
                c.start_name = Some(dev.file.clone());
                c.start = Some(Start::Target(Target::Stdio(target)));
                c
            })
        }
        Some(Sub::Open(open)) => {
            if args.cli.cli || !args.target.is_empty() || args.url.is_some() {
                eprintln!("mcpscope open: a recording has no target; drop --cli, --url and `--`");
                return ExitCode::from(2);
            }
            Config::from_args(&args).map(|mut c| {
                c.open = Some(open.file.clone());
                c
            })
        }
        None => Config::from_args(&args),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcpscope: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(mcpscope::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcpscope: {e}");
            ExitCode::FAILURE
        }
    }
}
