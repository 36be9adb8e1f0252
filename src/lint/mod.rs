//! Server lint: where a server breaks the MCP specification, computed from what a session
//! observed (a live session's retained events, or an opened recording). The rules are one table
//! (`rules.rs`: id, spec section, severity, check); `observe.rs` digests the events they read.
//! The engine's own findings (malformed frames, unknown ids, …) join the report under the rule
//! `wire`. A library: `mcpscope lint` (connect, read everything it safely can, print) is
//! `commands/lint.rs`.

pub mod apps;
pub mod observe;
pub mod rules;
pub mod uritemplate;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::{Value, json};

use crate::events::{Severity, Stamped};
pub use observe::Observed;
pub use rules::RULES;

/// The spec sections the rules cite live under this.
pub const SPEC_BASE: &str = "https://modelcontextprotocol.io/specification/";

/// Where a rule's `spec` is: a section under [`SPEC_BASE`], or a whole URL (an extension's).
pub fn spec_url(spec: &str) -> String {
    if spec.starts_with("https://") {
        spec.to_owned()
    } else {
        format!("{SPEC_BASE}{spec}")
    }
}

/// One thing a server did wrong, and where.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: &'static str,
    pub spec: Option<&'static str>,
    pub severity: Severity,
    pub message: String,
    /// The `seq` of the frame event it concerns.
    pub frame_seq: Option<u64>,
}

/// Every finding over a session's events, rule by rule in table order (each rule's in frame
/// order), a note when the history lost the session's start, then the engine's own findings.
pub fn lint(events: impl IntoIterator<Item = Stamped>) -> Vec<Finding> {
    let observed = Observed::read(events);
    let mut out = Vec::new();
    for rule in RULES {
        for hit in (rule.check)(&observed) {
            out.push(Finding {
                rule: rule.id,
                spec: Some(rule.spec),
                severity: rule.severity,
                message: hit.message,
                frame_seq: hit.frame_seq,
            });
        }
    }
    if observed.connections.first().is_some_and(|c| c.partial) {
        out.push(Finding {
            rule: "history",
            spec: None,
            severity: Severity::Info,
            message: "the history no longer holds this session's start (the event ring dropped it): for that connection, the handshake's rules and progress tokens were not judged".into(),
            frame_seq: None,
        });
    }
    for f in &observed.findings {
        out.push(Finding {
            rule: "wire",
            spec: None,
            severity: f.severity,
            message: f.message.clone(),
            frame_seq: f.frame_seq,
        });
    }
    out
}

/// The API's and `mcpscope lint --format json`'s answer: the findings, counts by severity, and
/// the rules (so a reader can show the ones that passed too).
pub fn report(findings: &[Finding]) -> Value {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    json!({
        "findings": findings,
        "counts": {
            "error": count(Severity::Error),
            "warning": count(Severity::Warning),
            "info": count(Severity::Info),
        },
        "rules": RULES.iter().map(|r| json!({
            "id": r.id, "spec": r.spec, "severity": r.severity, "summary": r.summary,
        })).collect::<Vec<_>>(),
        "specBase": SPEC_BASE,
    })
}
