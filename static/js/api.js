// The API client: keeps the token out of the address bar and out of the HTML, sends it on every
// call, and follows the event stream. Session routes go to the session the page is looking at
// (`/api/sessions/{id}/…`), so a request can never land on another server by accident.

import { jsonValueAt } from "./dom.js";

const KEY = "mcpscope-token";

export function takeToken() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(KEY, fromUrl);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(KEY);
}

let token = null;
export function setToken(t) { token = t; }

let current = null;
// The session the page is looking at (null: none yet).
export function setSession(id) { current = id; }
// A session that only shows what passed (an opened recording, or a real client's traffic
// through a tap): nothing is sent on it; its items show the calls it saw.
export function showsPast(s) {
  return s?.state === "recorded" || Boolean(s?.tapped);
}

export function sessionId() { return current; }

// The route for `rest` (e.g. "/request") on the current session, or on the given one.
export function sessionPath(rest, id = current) {
  return id ? `/api/sessions/${encodeURIComponent(id)}${rest}` : `/api${rest}`;
}

export class ApiError extends Error {
  constructor(status, body, durationMs) {
    super(body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.durationMs = durationMs;
  }
}

export async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = { raw: text }; }
  const ms = res.headers.get("x-mcpscope-duration-ms");
  const durationMs = ms === null ? undefined : Number(ms);
  if (!res.ok) throw new ApiError(res.status, parsed, durationMs);
  return { body: parsed, text, requestId: res.headers.get("x-mcpscope-request-id"), durationMs };
}

// A request whose body is text as it is (a config file to import, say), not JSON we encode.
export async function callText(method, path, text) {
  const res = await fetch(path, {
    method,
    headers: { "Authorization": `Bearer ${token}`, "Content-Type": "text/plain; charset=utf-8" },
    body: text,
  });
  const parsed = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { body: parsed };
}

// One MCP request through the backend session. Resolves to {result} or {error} (the server's).
// With a `ref`, the backend keeps the outcome under it: `GET …/calls/{ref}` answers the same,
// even after this page is gone.
export async function request(method, params, timeoutMs, ref) {
  const body = { method };
  if (params !== undefined) body.params = params;
  if (timeoutMs) body.timeoutMs = timeoutMs;
  if (ref) body.ref = ref;
  return call("POST", sessionPath("/request"), body);
}

// One page of a list, as the session keeps it (`POST …/list`): a reload or a switch gets the
// kept answer and sends nothing to the server. `since` is the seq of the newest list_changed
// the page has seen (an older kept page is listed again); `refresh` always lists again.
export async function listPage(method, cursor, { since = 0, refresh = false, session = current } = {}) {
  const body = { method };
  if (cursor !== null && cursor !== undefined) body.cursor = cursor;
  if (since) body.since = since;
  if (refresh) body.refresh = true;
  return call("POST", sessionPath("/list", session), body);
}

// The one pager: a walk of a list method page by page (`cursor` / `nextCursor`), items under
// `key`. A repeated cursor ends the walk; `restart()` begins a new walk, and a page that comes
// back for an older one is dropped (`next` gives null), so a reload never appends stale pages.
export class Pager {
  #walk = 0;
  constructor(method, key) {
    this.method = method;
    this.key = key;
    this.cursor = null;
    this.seen = new Set();
  }
  get walk() { return this.#walk; }
  // A falsy cursor ("" or 0) ends the walk, as it always has here.
  get more() { return Boolean(this.cursor); }
  current(walk) { return walk === this.#walk; }
  restart() {
    this.cursor = null;
    this.seen = new Set();
    return ++this.#walk;
  }
  // The next page of `walk`: { first, result, items } or { first, error }; null when a newer
  // walk began meanwhile. `refresh` lists the first page again instead of the kept one.
  async next(walk, { since = 0, refresh = false, session = current } = {}) {
    const first = !this.cursor;
    const { body } = await listPage(this.method, this.cursor, { since, refresh: refresh && first, session });
    if (walk !== this.#walk) return null;
    if (body.error) {
      this.cursor = null;
      return { first, error: body.error, items: [] };
    }
    this.cursor = nextCursor(body.result, this.seen);
    const items = body.result?.[this.key];
    return { first, result: body.result, items: Array.isArray(items) ? items : [] };
  }
}

// Every page of a list method; stops at an error. The array's `first` is the first page's
// result (its cache hints, say), `error` the error that stopped it.
export async function listAll(method, key, opts = {}) {
  const all = [];
  const pager = new Pager(method, key);
  const walk = pager.restart();
  // Every page from the session the walk began on, and no page once the page shows another.
  const session = current;
  do {
    if (current !== session) break;
    const got = await pager.next(walk, { ...opts, session });
    if (got.error) { all.error = got.error; break; }
    all.first ??= got.result;
    all.push(...got.items);
  } while (pager.more);
  return all;
}

// The page's `nextCursor`, or null when there is none or the walk (`seen`, kept by the caller
// from its first page) already had it: following a repeated cursor would never end. The
// Findings tab names the rule the server breaks.
export function nextCursor(result, seen) {
  const cursor = result?.nextCursor ?? null;
  if (cursor === null) return null;
  const key = JSON.stringify(cursor);
  if (seen.has(key)) return null;
  seen.add(key);
  return cursor;
}

// One page of retained events before `params.before`, newest first (`GET …/history`, with its
// `kind`, `q` and `scope` filters): each event parsed, with its text as the ring holds it (what
// the timeline shows as the frame's exact bytes), and whether older ones remain.
export async function olderEvents(params, session = current) {
  const query = new URLSearchParams(Object.entries({ elide: ELIDE, ...params }).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();
  const res = await fetch(sessionPath(`/history?${query}`, session), { headers: { "Authorization": `Bearer ${token}` } });
  const text = await res.text();
  if (!res.ok) {
    let body = null;
    try { body = JSON.parse(text); } catch { /* not JSON */ }
    throw new ApiError(res.status, body);
  }
  // `{"events":[…],"more":…}`: the events are the ring's texts joined by commas.
  const events = [];
  let at = text.indexOf("[") + 1;
  while (text[at] === "{") {
    const raw = jsonValueAt(text, at);
    events.push({ event: JSON.parse(raw), raw });
    at += raw.length;
    if (text[at] === ",") at++;
  }
  const tail = JSON.parse(`{${text.slice(text.indexOf('"more":', at))}`);
  return { events, more: tail.more === true, oldest: tail.oldest, newest: tail.newest };
}

// How many of the newest events a page's first load replays; older ones are fetched from
// `…/history` when the timeline, the logs or the authorization steps want them.
const TAIL = 1000;
// A frame longer than this comes without its message (`"elided": true`): the page never holds
// a 100 MB answer to show its row; `eventText` fetches it whole when it is opened.
const ELIDE = 1 << 20;

// One retained event, whole (an elided frame opened): as a Blob, which a download hands on
// without a copy in the page's strings (a frame near the 512 MiB limit is longer than a string
// may be).
export async function eventBlob(session, seq) {
  const res = await fetch(sessionPath(`/events/${encodeURIComponent(seq)}`, session), { headers: { "Authorization": `Bearer ${token}` } });
  if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
  return res.blob();
}

// The seq the page's stream started after, once it has said (null before): what is older is
// history a view fetches for itself.
let streamStart = null;

// A fetch of a session's history from before the page's stream started, made once per session
// (again after a failure): `fetch(before)` with the `before` to ask for; resolves to its result,
// or null when there is nothing to do (no stream start yet, an empty history before it, done).
export function beforeStreamOnce() {
  const done = new Set();
  return async (id, fetch) => {
    if (!streamStart || !id || done.has(id)) return null;
    done.add(id);
    try {
      return await fetch(streamStart + 1);
    } catch {
      done.delete(id);
      return null;
    }
  };
}

// Follows /api/events from the page's first load on, starting with the newest TAIL events
// (`onStart(after, newest)` says where: everything older is for `olderEvents`, and the tail is
// all in once the event `newest` has come). A browser gives a host six HTTP/1.1
// connections, shared by every tab, and each stream holds one for as long as it is open: six
// tabs of mcpscope used to leave none for the seventh page's requests. So only a page someone can
// see holds a stream. A hidden page (another tab, a minimised window, a page being left) closes
// it, and resumes after the last event it had once it is shown again, so nothing is lost or seen
// twice. The browser's own retries resume the same way (Last-Event-ID).
export function follow(onEvent, onStatus, onStart) {
  let source = null;
  let last = null;
  const open = () => {
    if (source) return;
    source = new EventSource(`/api/events?token=${encodeURIComponent(token)}&elide=${ELIDE}&${last === null ? `tail=${TAIL}` : `since=${last}`}`);
    source.addEventListener("start", (msg) => {
      let after, newest;
      try { ({ after, newest } = JSON.parse(msg.data)); } catch { return; }
      if (!Number.isFinite(after)) return;
      if (last === null) {
        streamStart = after;
        onStart?.(after, Number.isFinite(newest) ? newest : after);
      }
      if (last === null || after > last) last = after;
    });
    source.onmessage = (msg) => {
      const seq = Number(msg.lastEventId);
      if (Number.isFinite(seq) && (last === null || seq > last)) last = seq;
      let event;
      try { event = JSON.parse(msg.data); } catch { return; }
      onEvent(event, msg.data);
    };
    source.onopen = () => onStatus?.("open");
    source.onerror = () => onStatus?.("reconnecting");
  };
  const close = () => {
    source?.close();
    source = null;
  };
  document.addEventListener("visibilitychange", () => (document.visibilityState === "hidden" ? close() : open()));
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", () => { if (document.visibilityState !== "hidden") open(); });
  if (document.visibilityState !== "hidden") open();
}
