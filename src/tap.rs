//! Watching a real client: `mcpscope tap` (a stdio server's pipes passed through byte for
//! byte) and `mcpscope proxy` (a remote server's HTTP relayed unchanged) report what passes to
//! a running mcpscope, where it is a tapped session. `report.rs` is what they send and how; `pipe.rs` one
//! direction of a tapped pipe; `proxy.rs` the HTTP relay; `remote.rs` the running mcpscope a report goes to;
//! `instance.rs` finds the running mcpscope's token; `install.rs` puts a tap into a client's config
//! and takes it out.

pub mod install;
pub mod instance;
pub mod pipe;
pub mod proxy;
pub mod remote;
pub mod report;
