// Logging, in the dock's Logs and stderr tabs: the server's level (`logging/setLevel`, where
// `logging` is declared; in the modern era, which has no setLevel, the level every request
// carries in its `_meta`), its `notifications/message` entries with time, level badge, logger,
// level filter and search, and stderr lines with their time. The DOM keeps the newest entries
// only, per server, so one server's flood never pushes out another's; each list follows new
// entries while it is scrolled to the bottom.

import { beforeStreamOnce, call, olderEvents, request, sessionId, sessionPath } from "./api.js";
import { $, el, clock } from "./dom.js";
import { dropped, newestOfEach } from "./quota.js";

const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
const MAX = 2000; // entries each list keeps per server
const TOTAL = 4 * MAX; // and for every server together, the shown one's last to go
let count = 0;
let errCount = 0;

function pinned(list) {
  return list.scrollTop + list.clientHeight >= list.scrollHeight - 30;
}

// Logs and stderr show the server the page is looking at.
function elsewhere(li) {
  return Boolean(li.dataset.session) && li.dataset.session !== sessionId();
}

function visible(li) {
  const min = LEVELS.indexOf($("log-min").value);
  const needle = $("log-search").value.trim().toLowerCase();
  return !elsewhere(li) && LEVELS.indexOf(li.dataset.level) >= min && (!needle || li.dataset.text.includes(needle));
}

function stderrVisible(li) {
  const needle = $("stderr-search").value.trim().toLowerCase();
  return !elsewhere(li) && (!needle || li.dataset.text.includes(needle));
}

export function refilter() {
  for (const li of $("log-list").children) li.hidden = !visible(li);
  for (const li of $("stderr-list").children) li.hidden = !stderrVisible(li);
  backfill();
}

// The page's stream has started: older entries are fetched per session.
export function started() {
  backfill();
}

const beforeStream = beforeStreamOnce();

// The shown session's newest entries from before the page loaded, once per session, above
// those that came since.
async function backfill() {
  const id = sessionId();
  const pages = await beforeStream(id, (before) => Promise.all([
    olderEvents({ before, limit: MAX, kind: "stderr" }, id),
    olderEvents({ before, limit: MAX, kind: "frame", q: '"method":"notifications/message"' }, id),
  ]));
  if (!pages) return;
  const older = pages.flatMap((p) => p.events.map((x) => x.event))
    .filter((e) => e.session === id && isEntry(e))
    .sort((a, b) => a.seq - b.seq);
  insert(older, "prepend");
}

function isEntry(event) {
  return event.kind === "stderr" || (event.kind === "frame" && event.direction === "received" && event.method === "notifications/message");
}

// Entries into both lists, above (`prepend`) or below (`append`) what they show; each server's
// newest MAX stay, and a list scrolled to its bottom stays there.
function insert(events, where) {
  const logFrag = document.createDocumentFragment();
  const errFrag = document.createDocumentFragment();
  for (const event of events) add(event, logFrag, errFrag);
  const stick = [pinned($("log-list")), pinned($("stderr-list"))];
  // A list that got nothing is within its bounds already (the last trim left it so).
  const got = [logFrag.childElementCount, errFrag.childElementCount];
  $("log-list")[where](logFrag);
  $("stderr-list")[where](errFrag);
  if (got[0]) trim($("log-list"));
  if (got[1]) trim($("stderr-list"));
  if (stick[0]) $("log-list").scrollTop = $("log-list").scrollHeight;
  if (stick[1]) $("stderr-list").scrollTop = $("stderr-list").scrollHeight;
  counts();
}

function counts() {
  $("logs-count").textContent = count ? `(${count})` : "";
  $("stderr-count").textContent = errCount ? `(${errCount})` : "";
}

// Each server's newest MAX stay, TOTAL for all together (quota.js).
function trim(list) {
  if (list.childElementCount <= MAX) return;
  const entries = [...list.children];
  const drop = dropped(entries.map((li) => li.dataset.session ?? ""), sessionId() ?? "", MAX, TOTAL);
  for (const i of drop) entries[i].remove();
}

// Entries are added once per animation frame, so a flood of log lines costs one layout.
let queue = [];
let scheduled = false;

export function onEvent(event) {
  if (!isEntry(event)) return;
  queue.push(event);
  if (!scheduled) { scheduled = true; requestAnimationFrame(flush); }
}

function flush() {
  scheduled = false;
  const batch = queue.length > MAX ? newestOfEach(queue, (e) => `${e.kind} ${e.session ?? ""}`, MAX) : queue;
  queue = [];
  insert(batch, "append");
}

function add(event, logFrag, errFrag) {
  if (event.kind === "stderr") {
    const li = el("li", { class: "stderr-line" }, el("time", { class: "log-time", text: clock(event.time) }), " ", String(event.line));
    errCount++;
    li.dataset.text = String(event.line).toLowerCase();
    if (event.session) li.dataset.session = event.session;
    li.hidden = !stderrVisible(li);
    errFrag.append(li);
  } else {
    const p = event.message?.params || {};
    const level = LEVELS.includes(p.level) ? p.level : "info";
    const data = typeof p.data === "string" ? p.data : JSON.stringify(p.data);
    const li = el("li", { class: `log level-${level}` },
      el("time", { class: "log-time", text: clock(event.time) }),
      el("span", { class: "log-level", text: String(p.level ?? "?") }),
      p.logger !== undefined ? el("span", { class: "log-logger", text: String(p.logger) }) : null,
      el("span", { class: "log-data", text: data }));
    li.dataset.level = level;
    if (event.session) li.dataset.session = event.session;
    li.dataset.text = `${p.logger ?? ""} ${data}`.toLowerCase();
    li.hidden = !visible(li);
    logFrag.append(li);
    count++;
  }
}

let modern = false;
let noteFor = null;

export function onSession(s) {
  modern = s.era === "modern";
  const can = s.state === "connected" && (modern || Boolean(s.capabilities?.logging));
  $("log-level").disabled = !can;
  // A state event that changes nothing here (the listen stream's, say) keeps the note of the
  // level just set; only another session, state or verdict replaces it.
  const key = JSON.stringify([s.id, s.state, can]);
  if (key === noteFor) return;
  noteFor = key;
  $("log-level-note").textContent = s.state === "connected" && !can ? "the server does not declare logging" : "";
}

export function init(ctx) {
  $("log-min").addEventListener("change", refilter);
  $("log-search").addEventListener("input", refilter);
  $("stderr-search").addEventListener("input", refilter);
  $("log-level").addEventListener("change", async () => {
    const level = $("log-level").value;
    if (!level) return;
    if (modern) {
      await call("PUT", sessionPath("/log-level"), { level });
      $("log-level-note").textContent = `every request now asks for ${level} (_meta logLevel)`;
      return;
    }
    const { body } = await request("logging/setLevel", { level });
    $("log-level-note").textContent = body.error ? `setLevel refused: ${body.error.message}` : `level set to ${level}`;
    if (body.error) ctx.notice("");
  });
}
