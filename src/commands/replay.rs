//! `mcpscope replay FILE`: a recording run again against its target (or another), each answer
//! compared with the recorded one; the report on stdout, exit 1 when anything differs. A file
//! this machine did not seal runs only when the user accepts what it would start and send.

use std::io::Write;

use serde_json::Value;

use super::{
    failure::{Failure, exit_code},
    headless::{Local, RunConfig, WHOLE_RUN, target},
};
use crate::{
    cli::{Args, Format, ReplayArgs},
    recording::{
        Recording,
        diff::Ignore,
        export,
        replay::{Plan, Settings, options, recorded_target, run_plan, sealed_here, spelled_out},
    },
};

pub async fn run(args: &Args, replay: &ReplayArgs) -> u8 {
    exit_code(execute(args, replay).await)
}

async fn execute(args: &Args, replay: &ReplayArgs) -> Result<u8, Failure> {
    let recording = Recording::read(&replay.file).map_err(Failure::usage)?;
    let ignore = replay
        .ignore
        .iter()
        .map(|p| Ignore::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::usage(format!("--ignore {e}")))?;
    let plan = Plan::read(recording.stamped());
    // The file chooses what runs and what is sent only when this machine wrote it as it is, or
    // when the user says so, having been shown all of it.
    let recorded = if args.target.is_empty() && args.url.is_none() {
        Some(recording.header.target.as_ref().ok_or_else(|| {
            Failure::usage("the recording names no target: give one (-- COMMAND or --url)")
        })?)
    } else {
        None
    };
    let accepted = replay.accept_requests && (recorded.is_none() || replay.recorded_target);
    if !sealed_here(&recording.header, &plan) && !accepted && !asked_yes(recorded, &plan) {
        let flags = if recorded.is_some() {
            "run it with --recorded-target --accept-requests, or give the target (-- COMMAND or --url) and --accept-requests"
        } else {
            "run it with --accept-requests"
        };
        let mut failure = Failure::usage(format!("{}{flags}", what_it_does(recorded, &plan)))
            .with("plan", plan.sealed_view());
        if let Some(named) = recorded {
            failure = failure.with("target", named.clone());
        }
        return Err(failure);
    }
    let target = match recorded {
        Some(named) => {
            let target = recorded_target(named).map_err(Failure::usage)?;
            if !args.cli.quiet {
                eprintln!(
                    "mcpscope replay: starting the recorded target\n{}",
                    crate::term::text(&spelled_out(named))
                );
            }
            target
        }
        None => target(args)?.0,
    };
    let local = Local::start(RunConfig::from_args(args, false)?, WHOLE_RUN);
    let options = options(&plan);
    let began = std::time::Instant::now();
    let handle = match local.connect_as(target, options).await {
        Ok(h) => h,
        Err(f) => {
            local.finish().await;
            return Err(f);
        }
    };
    let settings = Settings {
        ignore,
        timeout: local.timeout,
    };
    let id = local.session.id().to_owned();
    let report = run_plan(plan, &handle, &local.events, &id, &settings, began).await;
    let info = local.session.info();
    let secrets = export::Secrets::new(local.session.secret_values());
    let events = local.events.clone();
    local.finish().await;
    if let Some(path) = &replay.save {
        export::save(&events, &id, &info, &secrets, path)
            .map_err(|e| Failure::usage(format!("--save: {e}")))?;
    }
    let text = match replay.format {
        Format::Json => crate::term::json(&format!("{report:#}\n")).into_owned(),
        Format::Text => crate::term::text(&text(&report)).into_owned(),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    let s = &report["summary"];
    Ok(u8::from(
        s["different"].as_u64() != Some(0) || s["missing"].as_u64() != Some(0),
    ))
}

/// What a file mcpscope here did not write (or that was edited) would start and send, in full.
fn what_it_does(target: Option<&Value>, plan: &Plan) -> String {
    let starts = target.map_or_else(String::new, |t| {
        format!("it starts:\n{}\nand then ", spelled_out(t))
    });
    format!(
        "this recording was not written by mcpscope here (or it was edited); {starts}sends:\n{}",
        plan.spelled_out()
    )
}

/// On a terminal, asks whether to run what [`what_it_does`] says.
fn asked_yes(target: Option<&Value>, plan: &Plan) -> bool {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return false;
    }
    eprint!(
        "{}",
        crate::term::text(&format!(
            "mcpscope replay: {}Run it? [y/N] ",
            what_it_does(target, plan)
        ))
    );
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok()
        && matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// The report for people: a line per request, each difference under it, then the summary.
pub fn text(report: &Value) -> String {
    let mut out = String::new();
    for item in report["items"].as_array().into_iter().flatten() {
        let what = match item["label"].as_str() {
            Some(l) => format!("{} {l}", item["method"].as_str().unwrap_or("")),
            None => item["method"].as_str().unwrap_or("").to_owned(),
        };
        let status = item["status"].as_str().unwrap_or("");
        out.push_str(&format!(
            "{status:<9} {what}  [recorded #{}]\n",
            item["recordedSeq"]
        ));
        if let Some(reason) = item["reason"].as_str() {
            out.push_str(&format!("          {reason}\n"));
        }
        for d in item["differences"].as_array().into_iter().flatten() {
            let side = |k: &str| d.get(k).map_or("(absent)".to_owned(), Value::to_string);
            out.push_str(&format!(
                "          {}: {} → {}\n",
                d["path"].as_str().unwrap_or(""),
                side("recorded"),
                side("replayed")
            ));
        }
    }
    let s = &report["summary"];
    out.push_str(&format!(
        "\n{} same, {} different, {} missing, {} skipped; {} server requests answered as recorded; {:.2} s ({:.2} s of it starting the server)\n",
        s["same"], s["different"], s["missing"], s["skipped"], s["serverRequestsAnswered"],
        s["seconds"].as_f64().unwrap_or(0.0),
        s["startSeconds"].as_f64().unwrap_or(0.0)
    ));
    out
}
