// The live timeline: the events from /api/events kept in the page (bounded) and drawn as a
// virtual list, so only the rows on screen exist in the DOM however many events there are.
// The page starts with the newest events only; older ones are fetched a page at a time
// (`…/history`) when the list is scrolled to its top, so a load costs the same whatever the
// history holds. Rows are fixed-height; a click (or Enter) opens the exchange view beside the list
// (exchange.js). Filters (kind, server, method) apply to what is loaded; a text filter also
// searches the older history in the backend, whose matches join the list as it is scrolled up.
// The list follows new rows while it is scrolled to the bottom, else offers "jump to latest".

import { sessionId, olderEvents } from "./api.js";
import { $, $maybe, el, clock } from "./dom.js";
import { nameOf } from "./servers.js";
import * as dock from "./dock.js";
import * as exchange from "./exchange.js";
import { summary } from "./summary.js";

const MAX_ENTRIES = 200_000;
const MAX_PAIRS = 5000;
const OVERSCAN = 8;
const PAGE = 500; // older events per fetch
let rowHeight = 22;

// What of the history is in `entries`: everything after `floor` (the stream's start), and for
// each scope ("*" or a session id) everything from `loadedDown` on; `exhausted` scopes have it all.
let floor = null;
let lastLive = 0;
let tailEnd = Infinity; // the replayed tail's newest seq, once the stream has said it
const loadedDown = new Map();
const exhausted = new Set();
let clearedTo = 0; // "Clear view": nothing at or below this seq is fetched back
let epoch = 0; // bumped by a clear or a trim: a page asked for before it is not taken
const orphans = new Map(); // answers whose request is older than what is loaded, by pairKey
let inflight = null; // the page being fetched
let retryAfter = 0;
// Pages in a row that added no row the filters let through: scrolling fetches no more after two
// (a narrow filter must not walk the whole history by itself); the button still does.
let idlePages = 0;
// The backend's matches for the text filter older than what is loaded (never in `entries`),
// for one text in one scope.
const MAX_HITS = 20_000;
let hits = [];
let hitsFor = "";
let hitsDown = null;
let hitsMore = true;
let searchTimer = null;

let entries = []; // in seq order: {event, raw, kind, text, method, session, seq, answer, pairSeq}
let shown = []; // the entries that pass the filters
const asked = new Map(); // "session:direction:id" of a request → its entry, until answered
let queue = [];
let scheduled = false;
let activeSeq = null; // keyboard position
let openSeq = null; // the row whose exchange is shown

function kindClass(event) {
  if (event.kind === "auth") return "http"; // the flow's steps sit with its requests
  return ["frame", "stderr", "finding", "progress", "http", "app"].includes(event.kind) ? event.kind : "other";
}

// A row's session in the all-servers view: the id first, as it is short and tells two builds of
// one server apart when their names are cut.
function sessionTag(id) {
  const name = nameOf(id);
  return el("span", { class: "session-tag", text: name === id ? id : `${id} · ${name}`, title: `${name} (session ${id})` });
}

function pairKey(session, direction, id) {
  return `${session}:${direction}:${JSON.stringify(id)}`;
}

function entryOf(event, raw) {
  const e = {
    event, raw: event.kind === "frame" ? raw : null, kind: kindClass(event), session: event.session || null, seq: event.seq,
    method: String(event.method || event.requestMethod || event.carries?.method || "").toLowerCase(),
    sum: summary(event), answer: null, pairSeq: null,
  };
  e.text = `${event.kind} ${e.sum}`.toLowerCase();
  return e;
}

const isRequest = (ev) => ev.kind === "frame" && ev.frameType === "request";
const isAnswer = (ev) => ev.kind === "frame" && (ev.frameType === "response" || ev.frameType === "error");
const answerKey = (e) => pairKey(e.session, e.event.direction === "sent" ? "received" : "sent", e.event.id);

function pair(q, a) {
  q.answer = { how: a.event.frameType === "error" ? "error" : "answered", ms: a.event.durationMs, seq: a.seq };
  a.pairSeq = q.seq;
}

function remember(map, key, e) {
  map.set(key, e);
  if (map.size > MAX_PAIRS) map.delete(map.keys().next().value);
}

function add(event, raw) {
  const e = entryOf(event, raw);
  if (isRequest(event)) remember(asked, pairKey(e.session, event.direction, event.id), e);
  else if (isAnswer(event)) {
    const k = answerKey(e);
    const q = asked.get(k);
    if (q) { asked.delete(k); pair(q, e); } else remember(orphans, k, e);
  }
  entries.push(e);
  return e;
}

// An older page (in seq order, none of it loaded yet): its requests paired with its answers,
// with the answers already loaded whose request it brings, or left open for answers to come.
function pairOlder(list) {
  const open = new Map();
  for (const e of list) {
    if (isRequest(e.event)) open.set(pairKey(e.session, e.event.direction, e.event.id), e);
    else if (isAnswer(e.event)) {
      const k = answerKey(e);
      const q = open.get(k);
      if (q) { open.delete(k); pair(q, e); } else remember(orphans, k, e);
    }
  }
  for (const [k, q] of open) {
    const a = orphans.get(k);
    if (a && a.seq > q.seq && a.pairSeq === null) { orphans.delete(k); pair(q, a); } else if (!asked.has(k)) remember(asked, k, q);
  }
}

// `older` (in seq order) into `entries`, each seq once.
function merge(older) {
  if (!older.length) return;
  if (!entries.length || older[older.length - 1].seq < entries[0].seq) { entries = older.concat(entries); return; }
  const out = [];
  let i = 0, j = 0;
  while (i < entries.length || j < older.length) {
    if (j >= older.length || (i < entries.length && entries[i].seq < older[j].seq)) out.push(entries[i++]);
    else if (i < entries.length && entries[i].seq === older[j].seq) { out.push(entries[i++]); j++; }
    else out.push(older[j++]);
  }
  entries = out;
}

function scopeKey() { return allServers ? "*" : sessionId(); }

// Every event of `key` from this seq on is loaded.
function down(key) {
  const start = floor + 1;
  const all = loadedDown.get("*") ?? start;
  return key === "*" ? all : Math.min(all, loadedDown.get(key) ?? start);
}

function complete(key) {
  if (floor === null || key === null) return true;
  return exhausted.has("*") || exhausted.has(key) || (clearedTo > 0 && down(key) <= clearedTo + 1);
}

// Whether scrolling up can bring more: older events, or older matches of the text filter.
function moreOlder() {
  if (complete(scopeKey())) return false;
  return needle ? hitsMore && hits.length < MAX_HITS : entries.length < MAX_ENTRIES - PAGE;
}

// The stream's start: everything up to `after` is older history, and the tail replayed after
// it ends with `newest`. Nothing older is fetched before the tail is in: rows still on their way
// would make the list look too short to scroll.
export function started(after, newest) {
  floor = after;
  lastLive = Math.max(lastLive, after);
  tailEnd = newest;
  if (after === 0) exhausted.add("*");
  requestAnimationFrame(maybeOlder);
}

// Fetches one page of older events (or of older matches) for what the list shows; resolves
// once it is in. One at a time: a second caller waits for the same page.
function loadOlder() {
  if (inflight) return inflight;
  if (!moreOlder() || Date.now() < retryAfter) return Promise.resolve();
  const key = scopeKey();
  const q = needle;
  const at = epoch;
  const before = q ? hitsDown ?? down(key) : down(key);
  olderStatus(true);
  inflight = (async () => {
    try {
      const page = await olderEvents({ before, limit: PAGE, scope: key === "*" ? "all" : undefined, q: q ? q.slice(0, 1024) : undefined }, key === "*" ? undefined : key);
      if (scopeKey() !== key || needle !== q || epoch !== at) return; // the view moved on meanwhile
      const older = page.events.reverse().map(({ event, raw }) => entryOf(event, raw)).filter((e) => !entry(e.seq));
      const had = shown.length;
      if (q) {
        hits = older.concat(hits);
        hitsDown = page.oldest ?? before;
        hitsMore = page.more;
      } else {
        pairOlder(older);
        merge(older);
        if (page.oldest !== null) loadedDown.set(key, Math.min(down(key), page.oldest));
        if (!page.more) exhausted.add(key);
      }
      keepPlace();
      idlePages = shown.length > had ? 0 : idlePages + 1;
    } catch {
      retryAfter = Date.now() + 5000; // the backend said no: not again on every scroll
    } finally {
      inflight = null;
      olderStatus();
      requestAnimationFrame(maybeOlder);
    }
  })();
  return inflight;
}

// The list scrolled to its top (or too short to scroll) fetches what is older.
function maybeOlder() {
  const b = box();
  if (lastLive >= tailEnd && b.clientHeight && b.scrollTop < rowHeight * 2 && idlePages < 2 && moreOlder()) loadOlder();
  olderStatus();
}

function olderStatus(loading = inflight !== null) {
  const b = box();
  const button = $("load-older");
  button.hidden = !moreOlder() || !b.clientHeight || b.scrollTop >= rowHeight * 2;
  button.disabled = loading;
  button.textContent = loading ? (needle ? "Searching older events…" : "Loading older events…") : needle ? "Search older events ↑" : "Load older events ↑";
}

// Rows were added above: the row at the top of the view stays where it was. (The spacer grows
// first: the browser clamps a scroll position to the height the list has.)
function keepPlace() {
  const b = box();
  const pinned = atBottom();
  const top = shown[Math.floor(b.scrollTop / rowHeight)];
  const offset = b.scrollTop % rowHeight;
  shown = visibleEntries();
  $("timeline-spacer").style.height = `${shown.length * rowHeight}px`;
  if (pinned) { draw(true); return; }
  if (top) {
    const i = shown.indexOf(top);
    if (i >= 0) b.scrollTop = i * rowHeight + offset;
  }
  draw();
}

let kinds = new Set(["frame", "stderr", "finding", "progress", "http", "other"]);
let needle = "";
let needleRe = /$^/;
let method = "";
let allServers = false;

// The text is looked for in the row, and in a frame's whole JSON as the backend's search does
// for older events (a call's arguments are not in its row).
function passes(e) {
  return passesBut(e) && (!needle || e.text.includes(needle) || (e.raw !== null && needleRe.test(e.raw)));
}

// The backend's matches searched the event's whole JSON: every filter but the text applies.
function passesBut(e) {
  if (!allServers && e.session && e.session !== sessionId()) return false;
  return kinds.has(e.kind) && (!method || e.method.includes(method));
}

// What the list shows: the loaded rows of this scope that pass, from where its history is whole
// (another scope may have loaded further down: those rows would show with gaps between them),
// under the backend's older matches.
function visibleEntries() {
  const key = scopeKey();
  const from = complete(key) ? 0 : down(key);
  const local = [];
  for (const e of entries) if (e.seq >= from && passes(e)) local.push(e);
  if (!needle || !hits.length) return local;
  const first = local.length ? local[0].seq : Infinity;
  return hits.filter((e) => e.seq < first && passesBut(e)).concat(local);
}

export function push(event, rawText) {
  queue.push([event, rawText]);
  if (!scheduled) {
    scheduled = true;
    requestAnimationFrame(flush);
  }
}

function box() { return $("timeline"); }

// Whether the list follows its newest row: where it is scrolled, or, while its tab is hidden
// (nothing has a height then), where it was when last seen (following at first).
let following = true;

function atBottom() {
  const b = box();
  if (!b.clientHeight) return following;
  return b.scrollTop + b.clientHeight >= b.scrollHeight - rowHeight * 2;
}

function flush() {
  scheduled = false;
  const pinned = atBottom();
  const batch = queue;
  queue = [];
  for (const [event, raw] of batch) {
    if (typeof event.seq === "number") { // a lagged marker has none
      if (event.seq <= lastLive) continue; // a stream resumed by hand may repeat its last event
      lastLive = event.seq;
    }
    const e = add(event, raw);
    if (passes(e)) shown.push(e);
  }
  if (entries.length > MAX_ENTRIES) {
    entries = entries.slice(entries.length - Math.floor(MAX_ENTRIES * 0.9));
    // What was dropped is older history again, fetched back if wanted.
    const first = entries[0].seq;
    floor = Math.max(floor ?? 0, first - 1);
    for (const [k, v] of loadedDown) loadedDown.set(k, Math.max(v, first));
    exhausted.clear();
    epoch++;
    shown = visibleEntries();
  }
  if (!pinned) $("jump-latest").hidden = false;
  draw(pinned);
  maybeOlder();
}

function rowFor(e, i) {
  const ev = e.event;
  const cls = [`event-line event kind-${ev.kind}`];
  if (ev.kind === "finding") cls.push(`severity-${ev.severity}`);
  if (ev.kind === "frame") cls.push(`dir-${ev.direction}`);
  if (ev.answeredBy?.responder === "mock") cls.push("answered-mock");
  if (ev.kind === "progress" && ev.after) cls.push("after-end");
  if (e.seq === activeSeq) cls.push("active");
  const sum = el("span", { class: "summary", text: e.sum });
  if (e.answer) sum.append(el("span", { class: "paired", text: ` ⇢ ${e.answer.how}${typeof e.answer.ms === "number" ? ` in ${e.answer.ms.toFixed(1)} ms` : ""} (#${e.answer.seq})` }));
  if (e.pairSeq !== null) sum.append(el("span", { class: "paired", text: ` ⇠ #${e.pairSeq}` }));
  const row = el("div", {
    id: `ev-${e.seq}`, role: "option", class: cls.join(" "), "aria-selected": String(e.seq === openSeq),
    "data-seq": e.seq, "data-kind": e.kind,
  },
  el("span", { class: "seq", text: e.seq }),
  el("time", { class: "time", text: clock(ev.time) }),
  allServers && e.session ? sessionTag(e.session) : null,
  el("span", { class: "kind", text: ev.kind }),
  sum);
  if (e.session) row.dataset.session = e.session;
  row.style.top = `${i * rowHeight}px`; // through the CSSOM: the CSP forbids style attributes
  return row;
}

// Draws the rows in view (plus a few either side); everything else is a spacer's height.
// `stick`: scroll to the newest row first (the list follows new rows).
function draw(stick = false) {
  const b = box();
  if (!b.clientHeight) return; // hidden tab: drawn when shown
  const spacer = $("timeline-spacer");
  spacer.style.height = `${shown.length * rowHeight}px`;
  if (stick) b.scrollTop = b.scrollHeight;
  const first = Math.max(0, Math.floor(b.scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((b.scrollTop + b.clientHeight) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) rows.push(rowFor(shown[i], i));
  b.replaceChildren(spacer, ...rows);
  if (activeSeq !== null && $maybe(`ev-${activeSeq}`)) b.setAttribute("aria-activedescendant", `ev-${activeSeq}`);
  else b.removeAttribute("aria-activedescendant");
  const held = entries.length + hits.length;
  const loaded = shown.length === held ? `${held} events` : `${shown.length} of ${held} events`;
  $("timeline-count").textContent = moreOlder() ? `${loaded} · older on scroll` : loaded;
  if (atBottom()) $("jump-latest").hidden = true;
  olderStatus();
}

// The entry with `seq`, by binary search (entries are in seq order).
export function entry(seq) {
  let lo = 0, hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = entries[mid].seq;
    if (s === seq) return entries[mid];
    if (s < seq) lo = mid + 1; else hi = mid - 1;
  }
  return null;
}

export function all() { return entries; }

// Scrolls row `seq` into view (showing it even if filtered: the filters are cleared then),
// fetching older history first when it is older than what is loaded.
export async function reveal(seq) {
  if (!entry(seq) && !complete(scopeKey()) && seq < down(scopeKey())) {
    clearFilters(); // older pages, not older matches
    retryAfter = 0;
    for (let pages = 0; !entry(seq) && pages < 200 && !complete(scopeKey()) && seq < down(scopeKey()); pages++) {
      const before = down(scopeKey());
      await loadOlder();
      if (down(scopeKey()) === before && !inflight) break; // nothing came: a failure
    }
  }
  let i = shown.findIndex((e) => e.seq === seq);
  if (i < 0) {
    clearFilters();
    i = shown.findIndex((e) => e.seq === seq);
  }
  if (i < 0) return;
  activeSeq = seq;
  const b = box();
  const top = i * rowHeight;
  if (top < b.scrollTop || top + rowHeight > b.scrollTop + b.clientHeight) b.scrollTop = top - b.clientHeight / 2;
  draw();
}

function clearFilters() {
  for (const c of document.querySelectorAll(".kind-filter")) c.checked = true;
  $("timeline-search").value = ""; $("timeline-method").value = "";
  refilter();
}

function openRow(seq) {
  const e = entry(seq);
  const hit = e ? null : hits.find((h) => h.seq === seq);
  if (!e && !hit) return;
  openSeq = seq;
  activeSeq = seq;
  if (e) exchange.show(e);
  else showOlder(hit);
  draw();
}

// An older search match is not among the loaded rows: its exchange is looked for in a window of
// its session's history around it.
async function showOlder(hit) {
  exchange.show(hit, [hit]);
  let page;
  try {
    page = await olderEvents({ before: hit.seq + 1 + PAGE / 2, limit: PAGE }, hit.session ?? undefined);
  } catch { return; }
  if (openSeq !== hit.seq) return;
  const around = page.events.reverse().map(({ event, raw }) => entryOf(event, raw));
  const self = around.find((x) => x.seq === hit.seq);
  if (self) exchange.show(self, around);
}

// Applies the filters again (after a change of filter, or of the server shown).
export function refilter() {
  kinds = new Set([...document.querySelectorAll(".kind-filter")].filter((c) => c.checked).map((c) => c.value));
  needle = $("timeline-search").value.trim().toLowerCase();
  needleRe = new RegExp(needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
  method = $("timeline-method").value.trim().toLowerCase();
  allServers = $("timeline-scope").value === "all";
  const search = `${needle}\u0000${scopeKey()}`;
  if (search !== hitsFor) {
    hits = [];
    hitsFor = search;
    hitsDown = null;
    hitsMore = true;
  }
  idlePages = 0;
  const pinned = atBottom();
  shown = visibleEntries();
  draw(pinned);
  // Typing searches the older history once the text has stopped changing.
  clearTimeout(searchTimer);
  searchTimer = setTimeout(maybeOlder, needle ? 300 : 0);
}

function moveActive(delta) {
  if (!shown.length) return;
  let i = shown.findIndex((e) => e.seq === activeSeq);
  if (i < 0) i = delta > 0 ? -1 : shown.length;
  i = Math.max(0, Math.min(shown.length - 1, i + delta));
  reveal(shown[i].seq);
}

export function init() {
  for (const c of document.querySelectorAll(".kind-filter")) c.addEventListener("change", refilter);
  $("timeline-search").addEventListener("input", refilter);
  $("timeline-method").addEventListener("input", refilter);
  $("timeline-scope").addEventListener("change", refilter);
  // What was cleared is not fetched back by scrolling up.
  $("clear-timeline").addEventListener("click", () => {
    entries = []; shown = []; hits = []; asked.clear(); orphans.clear();
    if (floor !== null) floor = lastLive;
    clearedTo = lastLive;
    epoch++;
    draw();
  });
  $("load-older").addEventListener("click", () => { retryAfter = 0; idlePages = 0; loadOlder(); });
  const b = box();
  let pending = false;
  b.addEventListener("scroll", () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; following = atBottom(); draw(); maybeOlder(); });
  });
  b.addEventListener("click", (ev) => {
    const row = ev.target.closest(".event-line");
    if (row) openRow(Number(row.dataset.seq));
  });
  b.addEventListener("keydown", (ev) => {
    const page = Math.max(1, Math.floor(b.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
    if (ev.key in moves) { ev.preventDefault(); moveActive(Number.isFinite(moves[ev.key]) ? moves[ev.key] : moves[ev.key] > 0 ? shown.length : -shown.length); }
    else if ((ev.key === "Enter" || ev.key === " ") && activeSeq !== null) { ev.preventDefault(); openRow(activeSeq); }
  });
  $("jump-latest").addEventListener("click", () => { draw(true); $("jump-latest").hidden = true; });
  exchange.init({ entry, all: () => entries, reveal, close: () => { openSeq = null; draw(); } });
  // Shown again where it was left: at its newest row if it was following (a page loaded with
  // another tab open starts there too, not at its top, which would fetch older pages unasked).
  dock.onShow(() => requestAnimationFrame(() => { draw(following); maybeOlder(); }));
  window.addEventListener("resize", () => requestAnimationFrame(draw));
  const probe = getComputedStyle(document.documentElement).getPropertyValue("--row");
  rowHeight = parseInt(probe, 10) || 22;
}
