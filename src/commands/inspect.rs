//! The inspector: `Args` checked into a `Config` (for `dev FILE`, with the file's runner as the
//! target; for `open FILE`, the recording to show), then the listener until a signal.

use std::process::ExitCode;

use crate::{
    cli::{Args, Sub},
    config::{Config, Start},
    session::Target,
};

/// The inspector's settings for this command line, or why there are none (exit 2).
fn config(args: &Args) -> Result<Config, String> {
    match &args.command {
        Some(Sub::Dev(dev)) => {
            if args.cli.cli
                || !args.target.is_empty()
                || args.url.is_some()
                || args.config.is_some()
            {
                return Err(
                    "mcpscope dev: the file is the target; drop --cli, --url, --config and `--`"
                        .into(),
                );
            }
            let target = crate::dev::target(dev)?;
            if let Some(note) = &target.note {
                eprintln!("mcpscope dev: {note}");
            }
            let mut c = Config::from_args(args).map_err(|e| format!("mcpscope: {e}"))?;
            c.start_name = Some(dev.file.clone());
            c.start = Some(Start::Target(Target::Stdio(target)));
            Ok(c)
        }
        Some(Sub::Open(open)) => {
            if args.cli.cli || !args.target.is_empty() || args.url.is_some() {
                return Err(
                    "mcpscope open: a recording has no target; drop --cli, --url and `--`".into(),
                );
            }
            let mut c = Config::from_args(args).map_err(|e| format!("mcpscope: {e}"))?;
            c.open = Some(open.file.clone());
            Ok(c)
        }
        _ => Config::from_args(args).map_err(|e| format!("mcpscope: {e}")),
    }
}

pub(super) fn run(runtime: &tokio::runtime::Runtime, args: &Args) -> ExitCode {
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(crate::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcpscope: {e}");
            ExitCode::FAILURE
        }
    }
}
