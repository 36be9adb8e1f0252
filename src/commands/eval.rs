//! `mcpscope eval FILE`: the file read and checked, its servers connected in this process (no
//! listener), each case run through the chat loop `--runs` times, the report printed, and the
//! exit code (see `crate::eval` for the cases and reports).

use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::json;

use super::failure::{Failure, exit_code};
use crate::{
    catalog::{Catalog, formats},
    chat::{self, Host},
    cli::{Args, EvalArgs, EvalFormat},
    eval::{self, Outcome},
    events::{Event, EventBus, RingLimits},
    model::{ModelRef, Providers},
    oauth::broker::Broker,
    responders::{Mode, ResponderStore, RuleSet, Settings},
    session::{ConnectOptions, SessionState, Sessions},
};

/// How long each server may take to connect.
const CONNECT_LIMIT: Duration = Duration::from_secs(30);

/// A new directory only this user can enter (never one that already exists).
fn private_dir() -> Result<std::path::PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt;
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|e| e.to_string())?;
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("mcpscope-eval-{name}"));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

pub async fn run(args: &Args, eval_args: &EvalArgs) -> u8 {
    exit_code(execute(args, eval_args).await)
}

fn bad(message: impl Into<String>) -> Failure {
    Failure::new(2, "usage", message)
}

async fn execute(args: &Args, e: &EvalArgs) -> Result<u8, Failure> {
    let path = &e.file;
    let size = std::fs::metadata(path)
        .map_err(|err| bad(format!("{}: {err}", path.display())))?
        .len();
    if size > eval::MAX_FILE {
        return Err(bad(format!(
            "{}: over {} bytes",
            path.display(),
            eval::MAX_FILE
        )));
    }
    let text =
        std::fs::read_to_string(path).map_err(|err| bad(format!("{}: {err}", path.display())))?;
    let file: eval::File =
        serde_json::from_str(&text).map_err(|err| bad(format!("{}: {err}", path.display())))?;
    if file.cases.is_empty() {
        return Err(bad(format!("{}: no cases", path.display())));
    }
    let servers = formats::parse(&text).map_err(|err| bad(format!("{}: {err}", path.display())))?;
    let model = args
        .model
        .as_deref()
        .or(file.model.as_deref())
        .ok_or_else(|| bad("no model: pass --model PROVIDER:MODEL or name \"model\" in the file"))
        .and_then(|m| ModelRef::parse(m).map_err(|err| bad(format!("model {err}"))))?;
    let providers = Providers::from_env(Some(model.clone()), |k| std::env::var(k).ok());
    if !providers.configured(model.provider) {
        return Err(bad(format!(
            "no {} provider is configured: set {}",
            model.provider.as_str(),
            match model.provider {
                crate::model::Provider::OpenAi => "OPENAI_API_KEY (and OPENAI_BASE_URL)",
                crate::model::Provider::Anthropic => "ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL)",
            }
        )));
    }
    // The file's servers, resolved as `--config` resolves them (relative to the file).
    // The catalog of this run is empty and never written: its path is in a directory made for
    // this run alone (a name another user could plant a catalog at would run their servers).
    let scratch_dir = private_dir().map_err(bad)?;
    let catalog = Catalog::open(scratch_dir.join("catalog.json"), Some(path));
    let _ = std::fs::remove_dir(&scratch_dir);
    let catalog = catalog.map_err(bad)?;
    let events = EventBus::new(RingLimits {
        max_events: 100_000,
        max_bytes: 64 << 20,
    });
    // A server that samples during a case is answered by the same model.
    let responders = ResponderStore::open(None).map_err(bad)?;
    responders
        .replace(Settings {
            sampling: RuleSet {
                mode: Mode::Llm,
                ..RuleSet::default()
            },
            ..Settings::default()
        })
        .map_err(bad)?;
    let sessions = Sessions::new(
        events.clone(),
        Arc::new(responders),
        Broker::new(None, None),
        Arc::new(providers.clone()),
    );
    let mut hosts = Vec::new();
    for (name, _) in &servers.servers {
        let target = catalog
            .target(name, &BTreeMap::new(), &BTreeMap::new(), &BTreeSet::new())
            .map_err(|unresolved| bad(format!("server {name}: {}", unresolved.join("; "))))?;
        let session = sessions.create(Some(name.clone()), None);
        let info = tokio::time::timeout(
            CONNECT_LIMIT,
            session.connect(target, ConnectOptions::default()),
        )
        .await
        .map_err(|_| {
            Failure::new(
                4,
                "unreachable",
                format!(
                    "server {name}: not connected within {} s",
                    CONNECT_LIMIT.as_secs()
                ),
            )
        })?;
        if info.state != SessionState::Connected {
            sessions.disconnect_all().await;
            return Err(Failure::new(
                4,
                "unreachable",
                format!(
                    "server {name}: {}",
                    info.error
                        .unwrap_or_else(|| format!("the session is {}", info.state))
                ),
            ));
        }
        let handle = session.handle().ok_or_else(|| {
            Failure::new(
                4,
                "unreachable",
                format!("server {name}: the session ended"),
            )
        })?;
        hosts.push(Host { session, handle });
    }
    let mut outcomes = Vec::new();
    for case in &file.cases {
        let mut runs = Vec::new();
        for n in 1..=e.runs {
            let said = Arc::new(Mutex::new(Vec::<String>::new()));
            let publish = {
                let said = said.clone();
                let events = events.clone();
                move |event: Event| {
                    if let Event::Chat(step) = &event
                        && step.part == "model"
                        && let Some(t) = step.text.as_deref().filter(|t| !t.trim().is_empty())
                    {
                        said.lock().unwrap().push(t.to_owned());
                    }
                    events.publish(event);
                }
            };
            let id = format!("{} #{n}", case.name);
            let run = chat::Chat {
                id: &id,
                providers: &providers,
                model: &model,
                hosts: &hosts,
                newest_seq: events.newest_seq(),
                max_steps: chat::MAX_STEPS,
            };
            let started = Instant::now();
            let reply = chat::run(
                &run,
                &[json!({"role": "user", "content": case.prompt})],
                &publish,
            )
            .await;
            let words = said.lock().unwrap().join("\n");
            runs.push(eval::judge(
                case,
                reply.as_ref().map_err(String::as_str),
                words,
                started.elapsed().as_secs_f64(),
            ));
        }
        outcomes.push(Outcome {
            case: case.clone(),
            runs,
        });
    }
    sessions.disconnect_all().await;
    let name = model.to_string();
    let report = match e.format {
        EvalFormat::Text => eval::text_report(&name, &outcomes),
        EvalFormat::Json => format!("{:#}\n", eval::json_report(&name, &outcomes)),
        EvalFormat::Junit => eval::junit_report(&name, &outcomes),
    };
    let report = match e.format {
        EvalFormat::Text => crate::term::text(&report).into_owned(),
        _ => report,
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(report.as_bytes());
    let _ = out.flush();
    Ok(u8::from(
        outcomes.iter().any(|o| o.passed() != o.runs.len()),
    ))
}
