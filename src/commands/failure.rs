//! How a command that runs to an end (`--cli`, `lint`, `replay`) fails: an exit code, a stable
//! word for scripts and a message, written as one JSON line on stderr.

use serde_json::{Map, Value, json};

/// Why CLI mode ends with a non-zero exit code.
#[derive(Debug)]
pub struct Failure {
    pub exit: u8,
    /// A stable word for scripts: `usage`, `server_error`, `auth_required`, `unreachable`,
    /// `tool_is_error`, `tool_not_found`, `timeout`, `internal`.
    pub code: &'static str,
    pub message: String,
    /// More fields for the error line (e.g. the server's JSON-RPC error as `rpcError`).
    pub extra: Map<String, Value>,
}

impl Failure {
    pub fn new(exit: u8, code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            exit,
            code,
            message: message.into(),
            extra: Map::new(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(1, "usage", message)
    }

    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// The one stderr line: `{"error": {"code", "message", …}}`.
    pub fn line(&self) -> String {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        error.extend(self.extra.clone());
        json!({ "error": error }).to_string()
    }
}

/// A command's exit code: its own, or a failure's after its JSON error line on stderr.
pub fn exit_code(outcome: Result<u8, Failure>) -> u8 {
    match outcome {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("{}", crate::term::json(&failure.line()));
            failure.exit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_is_one_json_object() {
        let f = Failure::new(5, "tool_is_error", "the tool said no").with("tool", json!("x"));
        let line = f.line();
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["error"]["code"], "tool_is_error");
        assert_eq!(v["error"]["tool"], "x");
    }
}
