// The exchange view: a request with everything that belongs to it in one place, its answer,
// the progress it got (also after a cancel), the server's requests that arrived while it was in
// flight, and the HTTP exchanges that carried it. Frames are shown pretty and exactly as on the
// wire. Any other event is shown on its own. Each part links back to its row in the timeline.

import { $, el, pretty, jsonValueAt } from "./dom.js";
import { copyButton } from "./content.js";
import { eventBlob } from "./api.js";

// An elided frame is shown once asked for up to this size; bigger ones are only downloaded.
const SHOW_UP_TO = 16 << 20;

const AFTER = 2000; // how far past the answer to look for late progress
let deps = null;

function exact(e) {
  if (!e.raw) return null;
  const at = e.raw.indexOf('"message":');
  return at >= 0 ? jsonValueAt(e.raw, at + '"message":'.length) : null;
}

// A frame that came without its message (too big to hold in the page): its size, and the
// whole event fetched on a click, shown (up to SHOW_UP_TO) or saved as a file.
function elidedPart(title, e) {
  const ev = e.event;
  const size = Number.isFinite(ev.bytes) ? ev.bytes : Infinity;
  const mib = Number.isFinite(size) ? `${(size / (1 << 20)).toFixed(1)} MiB` : "of unknown size";
  const shown = el("div");
  const status = el("span", { class: "muted", role: "status" });
  const show = el("button", { type: "button", class: "small", text: `Show (${mib})`, disabled: size > SHOW_UP_TO,
    title: size > SHOW_UP_TO ? "Too big to show here: download it" : "" });
  const save = el("button", { type: "button", class: "small", text: "Download" });
  // One fetch at a time; the buttons say so while it runs.
  const fetchWhole = async () => {
    show.disabled = save.disabled = true;
    status.textContent = "loading…";
    try {
      const blob = await eventBlob(e.session, e.seq);
      status.textContent = "";
      return blob;
    } catch (err) {
      status.textContent = err.message;
      return null;
    } finally {
      show.disabled = size > SHOW_UP_TO;
      save.disabled = false;
    }
  };
  show.addEventListener("click", async () => {
    const blob = await fetchWhole();
    if (!blob) return;
    const text = await blob.text();
    const at = text.indexOf('"message":');
    shown.replaceChildren(el("pre", { class: "json", text: at >= 0 ? jsonValueAt(text, at + '"message":'.length) : text }));
  });
  save.addEventListener("click", async () => {
    const blob = await fetchWhole();
    if (!blob) return;
    const a = el("a", { href: URL.createObjectURL(blob), download: `mcpscope-event-${e.seq}.json` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  });
  return el("section", {},
    el("h4", {}, `${title} `,
      el("button", { type: "button", class: "link small event-ref", "aria-label": `Show event ${e.seq} in the timeline`, onclick: () => deps.reveal(e.seq) }, `#${e.seq}`)),
    el("div", { class: "elided" },
      el("p", { class: "muted", text: `This frame is ${mib}: the page does not hold it until you ask.` }), show, " ", save, " ", status),
    shown);
}

function part(title, e) {
  const ev = e.event;
  if (ev.elided) return elidedPart(title, e);
  let text;
  if (ev.kind === "frame") {
    if (ev.raw !== undefined) text = ev.raw;
    else {
      const wire = exact(e);
      text = `${pretty(ev.message)}${wire ? `\n\n— exactly as on the wire —\n${wire}` : ""}`;
    }
  } else text = pretty(ev);
  return el("section", {},
    el("h4", {}, `${title} `,
      el("button", { type: "button", class: "link small event-ref", "aria-label": `Show event ${e.seq} in the timeline`, onclick: () => deps.reveal(e.seq) }, `#${e.seq}`),
      el("span", { class: "muted", text: ` ${String(ev.time || "").replace(/^.*T/, "").replace(/Z$/, "")}` })),
    el("div", { class: "block-tools" }, copyButton(() => text)),
    el("pre", { class: "json", text }));
}

// The request an event belongs to: {session, direction, id} of the request, or null.
function requestOf(e) {
  const ev = e.event;
  if (ev.kind === "frame" && ev.id !== undefined && ev.id !== null && ev.frameType !== "notification") {
    const direction = ev.frameType === "request" ? ev.direction : ev.direction === "sent" ? "received" : "sent";
    return { session: e.session, direction, id: ev.id };
  }
  if (ev.kind === "progress" && ev.requestId !== null && ev.requestId !== undefined) return { session: e.session, direction: "sent", id: ev.requestId };
  if (ev.kind === "http" && ev.carries?.id !== undefined && ev.carries?.id !== null) return { session: e.session, direction: "sent", id: ev.carries.id };
  // An MCP App's bridge message belongs to the tools/call that opened the app.
  if (ev.kind === "app" && ev.requestId !== null && ev.requestId !== undefined) return { session: e.session, direction: "sent", id: ev.requestId };
  return null;
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

// `all`: the rows to look for the rest of the exchange in (the timeline's, or the window of
// history fetched around an older search match).
export function show(e, all = deps.all()) {
  const box = $("exchange-body");
  const req = requestOf(e);
  $("exchange").hidden = false;
  if (!req) {
    $("exchange-title").textContent = `Event #${e.seq} (${e.event.kind})`;
    box.replaceChildren(part(e.event.kind, e));
    return;
  }
  let start = -1;
  // Ids can repeat across reconnects: take the latest request at or before the event.
  for (let i = all.indexOf(e); i >= 0; i--) {
    const x = all[i];
    if (x.session === req.session && x.event.kind === "frame" && x.event.frameType === "request" && x.event.direction === req.direction && same(x.event.id, req.id)) { start = i; break; }
  }
  if (start < 0) start = Math.max(0, all.indexOf(e));
  const request = all[start]?.event.frameType === "request" ? all[start] : null;
  const ours = req.direction === "sent";
  let answer = null;
  const progress = [], http = [], during = [], bridge = [];
  let end = all.length;
  for (let i = start; i < all.length && i < end; i++) {
    const x = all[i];
    if (x.session !== req.session) continue;
    const ev = x.event;
    if (ev.kind === "frame" && !answer && (ev.frameType === "response" || ev.frameType === "error") && ev.direction !== req.direction && same(ev.id, req.id)) {
      answer = x;
      end = Math.min(all.length, i + AFTER);
    } else if (ours && ev.kind === "progress" && same(ev.requestId, req.id)) progress.push(x);
    else if (ours && ev.kind === "http" && same(ev.carries?.id, req.id)) http.push(x);
    else if (ours && ev.kind === "app" && same(ev.requestId, req.id)) bridge.push(x);
    else if (ours && !answer && ev.kind === "frame" && ev.frameType === "request" && ev.direction === "received") during.push(x);
  }
  const method = request?.event.method || answer?.event.requestMethod || "request";
  $("exchange-title").textContent = `${ours ? "Our" : "The server's"} ${method} #${JSON.stringify(req.id)}`;
  const ms = answer && typeof answer.event.durationMs === "number" ? ` after ${answer.event.durationMs.toFixed(1)} ms` : "";
  const views = new Set(bridge.map((b) => b.event.view));
  const parts = [
    e.event.kind === "app" ? part(`App bridge message (view ${e.event.view}, ${e.event.direction})`, e) : null,
    el("p", { class: "muted", text: answer ? `${answer.event.frameType === "error" ? "Answered with an error" : "Answered"}${ms}.` : "No answer in the view (yet)." }),
    bridge.length ? el("p", { class: "muted", text: `Its MCP App: ${bridge.length} bridge message(s) in view ${[...views].join(", ")} (the timeline's app rows).` }) : null,
    request ? part(ours ? "Request (sent)" : "Request (received)", request) : el("p", { class: "muted", text: "The request is no longer in the view." }),
    answer ? part(answer.event.frameType === "error" ? "Error" : "Response", answer) : null,
  ];
  progress.forEach((p, i) => parts.push(part(`Progress ${i + 1} of ${progress.length}${p.event.after ? ` (after ${p.event.after})` : ""}`, p)));
  during.forEach((d) => parts.push(part(`Server request while in flight: ${d.event.method}`, d)));
  http.forEach((h, i) => parts.push(part(`HTTP exchange ${i + 1}`, h)));
  box.replaceChildren(...parts.filter(Boolean));
  $("exchange").scrollTop = 0;
}

export function init(d) {
  deps = d;
  $("exchange-close").addEventListener("click", () => { $("exchange").hidden = true; deps.close(); $("timeline").focus(); });
}
