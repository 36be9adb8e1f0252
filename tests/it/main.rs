//! The integration tests: one binary (one link step), one module per area. Every test runs the
//! real `mcpscope` binary on a free port and drives it over HTTP against real MCP servers.

#![allow(unreachable_pub, reason = "test modules share helpers through `pub`")]

mod apps;
mod architecture;
pub mod browser;
mod catalog;
mod cli;
mod client_side;
mod conformance;
mod daily_ui;
mod demo;
pub mod eras;
mod everything;
mod history;
mod lifecycle;
mod lint;
mod listen;
pub mod mock;
pub mod model;
mod oauth;
mod otlp;
pub mod proxy;
mod python_sdk;
mod real_use;
pub mod recordings;
pub mod remote;
mod responders_ui;
mod security;
mod servers_ui;
mod sessions;
mod sloppy;
mod support;
pub mod tap;
mod tasks;
mod workbench;
