//! `mcpscope mock FILE [--listen PORT] [--ignore JSONPATH]…`: the recording read into a script
//! (`mock.rs`), then served to one client over stdio until its stdin ends, or to any number over
//! Streamable HTTP on loopback. Exit 0 at the end of stdin, 2 when the file cannot serve.

use std::{
    collections::VecDeque,
    io::Write,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    cli::MockArgs,
    mock::{Mock, Out, Script, http},
    recording::{Recording, diff::Ignore},
};

/// How long a recorded server request waits for the client's answer over stdio.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

pub async fn run(args: &MockArgs) -> u8 {
    let script = match Recording::read(&args.file).and_then(|r| Script::from_recording(&r)) {
        Ok(script) => Arc::new(script),
        Err(e) => {
            eprintln!("mcpscope mock: {}", crate::term::text(&e));
            return 2;
        }
    };
    let ignore = match args.ignore.iter().map(|p| Ignore::parse(p)).collect() {
        Ok(ignore) => ignore,
        Err(e) => {
            eprintln!("mcpscope mock: --ignore: {e}");
            return 2;
        }
    };
    match args.listen {
        Some(port) => {
            let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("mcpscope mock: cannot listen on 127.0.0.1:{port}: {e}");
                    return 2;
                }
            };
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
            println!("mcpscope mock: http://127.0.0.1:{port}/mcp");
            let _ = std::io::stdout().flush();
            eprintln!(
                "mcpscope mock: serving {} recorded answers from {}",
                script.answers(),
                args.file.display()
            );
            let served = tokio::select! {
                served = http::serve(listener, script, ignore) => served,
                _ = tokio::signal::ctrl_c() => Ok(()),
            };
            match served {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("mcpscope mock: {e}");
                    1
                }
            }
        }
        None => {
            eprintln!(
                "mcpscope mock: serving {} recorded answers from {} on stdio",
                script.answers(),
                args.file.display()
            );
            stdio(Mock::new(script, ignore)).await
        }
    }
}

/// One client on stdin and stdout, line by line. While a recorded server request waits for the
/// client's answer, the client's other lines wait their turn.
async fn stdio(mut mock: Mock) -> u8 {
    let mut input = Input {
        reader: BufReader::new(tokio::io::stdin()),
        partial: Vec::new(),
    };
    let mut out = std::io::stdout();
    let mut later: VecDeque<Vec<u8>> = VecDeque::new();
    loop {
        let line = match later.pop_front() {
            Some(line) => line,
            None => match input.line().await {
                Some(line) => line,
                None => return 0,
            },
        };
        let (outs, _) = mock.on_line(&line);
        for o in outs {
            let (text, wait) = match o {
                Out::Send(text) | Out::Answer(text) => (text, None),
                Out::Ask { id, line } => (line, Some(id)),
            };
            if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                return 0;
            }
            let Some(id) = wait else { continue };
            let until = Instant::now() + ANSWER_WITHIN;
            loop {
                let next = tokio::time::timeout_at(until.into(), input.line()).await;
                let Ok(Some(line)) = next else { break };
                // The client's answer to it lets the recording go on; anything else waits (a
                // batch holding both: its requests wait, its answer counts).
                let (early, answered) = Mock::peek_answers(&line);
                if early {
                    later.push_back(line);
                }
                if answered.contains(&id) {
                    break;
                }
            }
        }
    }
}

/// The client's lines. What a read cut short by a deadline had read stays here for the next
/// read (`read_until` appends to it and is cancel safe).
struct Input {
    reader: BufReader<tokio::io::Stdin>,
    partial: Vec<u8>,
}

impl Input {
    async fn line(&mut self) -> Option<Vec<u8>> {
        match self.reader.read_until(b'\n', &mut self.partial).await {
            // The end: a last line without its newline still counts.
            Ok(0) if !self.partial.is_empty() => Some(std::mem::take(&mut self.partial)),
            Ok(0) | Err(_) => None,
            Ok(_) => {
                let mut line = std::mem::take(&mut self.partial);
                while matches!(line.last(), Some(b'\n' | b'\r')) {
                    line.pop();
                }
                Some(line)
            }
        }
    }
}
