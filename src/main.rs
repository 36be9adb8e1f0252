//! The `mcpscope` binary: everything it does is [`mcpscope::commands`].

fn main() -> std::process::ExitCode {
    mcpscope::commands::main(std::env::args_os().collect())
}
