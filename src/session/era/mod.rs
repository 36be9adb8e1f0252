//! Protocol eras: how a session is established and what every request carries. The legacy era
//! (revisions 2024-11-05 … 2025-11-25: an `initialize` handshake, then plain requests) and the
//! modern era (2026-07-28: a `server/discover` probe, per-request `_meta`, no handshake, results
//! that may ask for input) sit side by side; [`EraChoice`] picks per session.

pub(super) mod legacy;
pub(super) mod modern;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Who we are, as `initialize` and the modern `_meta` both say it.
pub(super) fn client_info() -> Value {
    json!({"name": "mcpscope", "title": "mcpscope", "version": env!("CARGO_PKG_VERSION")})
}

/// The version strings of a `supported` / `supportedVersions` list (an error's
/// `data.supported`, a DiscoverResult's `supportedVersions`); empty when it is not a list.
pub(super) fn version_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Which era a connect asks for (contract §"Protocol eras").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EraChoice {
    // (Plain comments, not doc comments: clap would turn those into per-value help and switch
    // the whole --help to its long layout.)
    // A plain `initialize`, no probe: what every deployed server understands.
    #[default]
    Legacy,
    // Probe `server/discover`; anything but a modern answer falls back to `initialize`.
    Auto,
    // 2026-07-28 only: a server that does not speak it ends the connect, with its reason.
    Modern,
}

impl EraChoice {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "legacy" => Ok(EraChoice::Legacy),
            "auto" => Ok(EraChoice::Auto),
            "modern" => Ok(EraChoice::Modern),
            other => Err(format!(
                "unknown protocol era {other:?}: use legacy, auto or modern"
            )),
        }
    }
}
