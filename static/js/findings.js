// The dock's Findings tab: where the shown server breaks the MCP specification (GET …/lint,
// computed by the backend from what the session observed), grouped by rule with counts, each
// finding linking to its frame in the timeline and each rule to the spec section it cites
// (opened only on a click). Above them, the session as a file: Export (the recording the API
// gives) and Replay (runs it again in a new session and shows, request by request, same,
// different with each difference's path, or missing).

import { call, sessionId, sessionPath, showsPast } from "./api.js";
import { $, el } from "./dom.js";
import { download } from "./content.js";
import * as dock from "./dock.js";
import * as timeline from "./timeline.js";
import * as servers from "./servers.js";
import * as store from "./store.js";

let report = null;
let refreshTimer = null;
// Per session: the last replay report.

function plural(n, word) { return `${n} ${word}${n === 1 ? "" : "s"}`; }

function frameLink(seq, label = `frame #${seq}`) {
  const b = el("button", { type: "button", class: "link small", text: label, title: "Show this frame in the timeline" });
  b.addEventListener("click", () => { dock.showTab("timeline"); timeline.reveal(seq); });
  return b;
}

function specLink(base, spec) {
  // An extension's rules cite a whole URL; the core spec's, a section under the base.
  const url = spec.startsWith("https://") ? spec : base + spec;
  const b = el("button", { type: "button", class: "link small spec-link", text: spec, title: url });
  // Our own link to the spec, still opened only on a click and without an opener.
  b.addEventListener("click", () => window.open(url, "_blank", "noopener,noreferrer"));
  return b;
}

// What the findings outside the rules table are.
const OTHER = { wire: "the engine's own findings", history: "what the history can no longer show" };

function ruleGroup(rule, found, base) {
  const severity = found[0].severity;
  const summary = el("summary", {},
    el("span", { class: `sev sev-${severity}`, text: severity === "info" ? "note" : severity }),
    el("code", { class: "wire-name", text: rule }),
    el("span", { class: "count", text: String(found.length) }),
    el("span", { class: "rule-summary", text: report.rules.find((r) => r.id === rule)?.summary ?? OTHER[rule] ?? "" }));
  const items = found.map((f) => el("li", {},
    el("span", { class: "finding-message", text: f.message }),
    f.frameSeq != null ? frameLink(f.frameSeq) : ""));
  const spec = found[0].spec ? el("p", { class: "rule-spec muted" }, "Spec: ", specLink(base, found[0].spec)) : "";
  return el("details", { class: "rule-group", open: true }, summary, spec, el("ul", { class: "finding-list" }, ...items));
}

function renderReport() {
  const box = $("findings-list");
  if (!report) { box.replaceChildren(); return; }
  const groups = new Map();
  for (const f of report.findings) {
    if (!groups.has(f.rule)) groups.set(f.rule, []);
    groups.get(f.rule).push(f);
  }
  const c = report.counts;
  $("findings-summary").textContent = report.findings.length
    ? `${plural(c.error, "error")}, ${plural(c.warning, "warning")}${c.info ? `, ${plural(c.info, "note")}` : ""} · ${report.rules.length} rules checked`
    : `No findings: the ${report.rules.length} rules found nothing in what this session observed.`;
  $("findings-count").textContent = report.findings.length ? String(report.findings.length) : "";
  box.replaceChildren(...[...groups].map(([rule, found]) => ruleGroup(rule, found, report.specBase)));
}

export async function refresh() {
  const id = sessionId();
  if (!id) { report = null; renderReport(); return; }
  try {
    const { body } = await call("GET", sessionPath("/lint"));
    if (id !== sessionId()) return;
    report = body;
  } catch (e) {
    report = null;
    $("findings-summary").textContent = e.message;
  }
  renderReport();
  renderReplay();
}

function visible() { return !$("panel-findings").hidden; }

// New frames can change the findings; recomputed at most once a second, and only when shown.
export function onEvent(event) {
  if (event.session !== sessionId() || !["frame", "finding"].includes(event.kind)) return;
  if (!visible() || refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 1000);
}

async function exportRecording() {
  const slot = $("export-slot");
  slot.replaceChildren(el("span", { class: "muted", text: "exporting…" }));
  try {
    const { text } = await call("GET", sessionPath("/export"));
    const lines = text.split("\n").filter(Boolean).length - 1;
    const name = `mcpscope-${sessionId()}-${new Date().toISOString().slice(0, 19).replace(/:/g, "")}.ndjson`;
    slot.replaceChildren(download(name, text, "application/x-ndjson"),
      el("span", { class: "muted", text: ` ${plural(lines, "event")}, secrets redacted` }));
  } catch (e) {
    slot.replaceChildren(el("span", { class: "error-note", text: e.message }));
  }
}

// The connect body of a recorded target (the session object's description of it).
function targetBody(t) {
  if (!t) return null;
  if (t.transport === "stdio") return { transport: "stdio", command: t.command, args: t.args ?? [], env: t.env ?? {}, cwd: t.cwd ?? undefined };
  return { transport: t.transport, url: t.url, headers: t.headers ?? {} };
}

// The whole of what would run, as the file has it: every word quoted when it needs to be, every
// environment value, the working directory; or the URL and every header.
function describe(t) {
  const word = (v) => { const s = typeof v === "string" ? v : JSON.stringify(v); return /^[\w@%+=:,./-]+$/.test(s) ? s : JSON.stringify(s); };
  if (t.transport === "stdio") {
    return [`command: ${[t.command, ...(t.args ?? [])].map(word).join(" ")}`,
      ...Object.entries(t.env ?? {}).map(([k, v]) => `env: ${word(k)}=${word(v)}`),
      ...(t.cwd ? [`cwd: ${word(t.cwd)}`] : [])].join("\n");
  }
  return [`${t.transport}: ${word(t.url)}`, ...Object.entries(t.headers ?? {}).map(([k, v]) => `header: ${word(k)}: ${word(v)}`)].join("\n");
}

// The Replay "against" choice: the session's own target, or the one any other session has
// connected to (the backend uses its real settings, which the page never sees).
function fillAgainst(list) {
  const select = $("replay-against");
  const kept = select.value;
  const own = list.find((s) => s.id === sessionId());
  const others = list.filter((s) => s.id !== sessionId() && s.target && !showsPast(s));
  select.replaceChildren(
    el("option", { value: "", text: own?.state === "recorded" ? "the recorded target" : own?.tapped ? "the tapped server" : "its own target" }),
    ...others.map((s) => el("option", { value: s.id, text: `${s.name || s.id} · ${s.id}` })));
  select.value = others.some((s) => s.id === kept) ? kept : "";
}

async function replay() {
  const id = sessionId();
  const button = $("replay-run");
  // An opened recording names a command from a file: it runs only once the user has read it.
  let request = {};
  const against = $("replay-against").value;
  const { body: s } = await call("GET", sessionPath(""));
  // What it would send: a file this mcpscope did not seal (or one edited since) chooses every
  // request and every answer to the server, so the user reads them all first.
  const { body: plan } = await call("GET", sessionPath("/replay"));
  const sends = plan.sealed ? "" : s.tapped
    ? `These requests were made by a real client (and the model behind it), not by you. Replaying them sends:\n\n${plan.text}\n`
    : `This recording was not written by mcpscope here (or it was edited since). Replaying it sends:\n\n${plan.text}\n`;
  if (against) {
    if (sends && !window.confirm(`${sends}\nRun it against ${$("replay-against").selectedOptions[0]?.textContent ?? against}?`)) return;
    request = { against };
  } else if (showsPast(s)) {
    const target = targetBody(s.target);
    if (!target) { $("replay-status").textContent = "The recording names no target."; return; }
    if (/<redacted>|%3Credacted%3E/.test(JSON.stringify(target))) {
      $("replay-status").textContent = "The recorded target had secret values, which a recording keeps none of: replay it with mcpscope replay FILE -e KEY=VALUE -- COMMAND.";
      return;
    }
    if (!window.confirm(`Replay starts the recorded target:\n\n${describe(target)}\n\n${sends}\nRun it?`)) return;
    request = { target };
  }
  if (!plan.sealed) request.acceptRequests = true;
  button.disabled = true;
  $("replay-status").textContent = "replaying…";
  try {
    const { body } = await call("POST", sessionPath("/replay"), request);
    store.of(id).replay = body;
    $("replay-status").textContent = "";
  } catch (e) {
    store.of(id).replay = null;
    $("replay-status").textContent = `Replay failed: ${e.message}`;
  } finally {
    button.disabled = false;
  }
  if (id === sessionId()) renderReplay();
}

function replayItem(item) {
  const what = [el("code", { class: "wire-name", text: item.method })];
  if (item.label) what.push(el("span", { class: "replay-label", text: item.label }));
  const li = el("li", { class: `replay-item replay-${item.status}` },
    el("div", { class: "replay-head" },
      el("span", { class: `replay-status status-${item.status}`, text: item.status }),
      ...what,
      frameLink(item.recordedSeq, `recorded #${item.recordedSeq}`)));
  if (item.reason) li.append(el("p", { class: "muted replay-reason", text: item.reason }));
  if (item.differences) {
    li.append(el("ul", { class: "replay-diffs" }, ...item.differences.map((d) => el("li", {},
      el("code", { class: "diff-path", text: d.path }),
      el("span", { class: "diff-old", text: "recorded" in d ? JSON.stringify(d.recorded) : "(absent)" }),
      el("span", { "aria-hidden": "true", text: " → " }),
      el("span", { class: "sr-only", text: " replayed as " }),
      el("span", { class: "diff-new", text: "replayed" in d ? JSON.stringify(d.replayed) : "(absent)" })))));
  }
  return li;
}

function renderReplay() {
  const r = store.peek(sessionId())?.replay;
  const box = $("replay-report");
  if (!r) { box.replaceChildren(); return; }
  const s = r.summary;
  box.replaceChildren(
    el("h3", { text: "Replay" }),
    el("p", { class: "replay-summary", text: `${s.same} same, ${s.different} different, ${s.missing} missing, ${s.skipped} skipped · ${s.serverRequestsAnswered} server requests answered as recorded · ${s.seconds.toFixed(2)} s${typeof s.startSeconds === "number" ? ` (${s.startSeconds.toFixed(2)} s of it starting the server)` : ""} · in session ${r.session}, now disconnected` }),
    el("ol", { class: "replay-list" }, ...r.items.map(replayItem)));
}

export function init() {
  $("export-run").addEventListener("click", exportRecording);
  $("replay-run").addEventListener("click", replay);
  $("findings-refresh").addEventListener("click", refresh);
  dock.onShow((tab) => { if (tab === "findings") refresh(); });
  servers.onLoad(fillAgainst);
}

// Another session is shown: its own findings and replay.
export function reset() {
  report = null;
  $("export-slot").replaceChildren();
  $("replay-status").textContent = "";
  $("findings-count").textContent = "";
  fillAgainst(servers.all());
  if (visible()) refresh(); else { renderReport(); renderReplay(); }
}
