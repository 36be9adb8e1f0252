//! MCP authorization for remote targets (OAuth 2.1), as pure functions first: reading a
//! `WWW-Authenticate` challenge, the discovery URLs in the spec's order, the canonical resource
//! URI, and the checks every metadata document must pass. The flow that drives them (requests,
//! registration, the callback, tokens) builds on these, so the debugger and a normal connect
//! share one reading of each step.
//!
//! | file | owns |
//! |---|---|
//! | `challenge.rs` | `WWW-Authenticate` parsed: schemes and their parameters (`resource_metadata`, `scope`, `error`) |
//! | `discovery.rs` | the protected-resource and authorization-server metadata URLs in order, the canonical resource URI, and the metadata checks (`resource`, `issuer`, S256 PKCE) |

pub mod challenge;
pub mod discovery;
