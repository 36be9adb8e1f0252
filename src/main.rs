//! The `mcpscope` binary: parse the command line, then either run the inspector or the built-in
//! demo server. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use mcpscope::{
    cli::{Args, Sub},
    config::Config,
};

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MCPSCOPE_LOG")
                .unwrap_or_else(|_| "mcpscope=info".into()),
        )
        .init();
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
    if let Some(Sub::DemoServer) = args.command {
        return match runtime.block_on(mcpscope::demo::serve_stdio()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("demo-server: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::from_args(&args) {
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
