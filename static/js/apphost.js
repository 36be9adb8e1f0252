// The host side of one MCP App's bridge (spec 2026-01-26): the sandbox proxy on the apps origin
// is given the view's HTML, the view's `ui/initialize` is answered with host capabilities and
// context, nothing is sent before `ui/notifications/initialized`, then the tool input and result
// (or cancellation) follow. The app's own tools/call (only tools it may see), resources/read and
// ping go through the session as ordinary requests; the ui/ requests are answered here, asking
// the page (`ui`) where a person decides. Every message either way is reported to the backend
// as an `app` event, and what went wrong (a blocked request, an error, a stalled handshake, a
// flood) as a finding. Nothing from the app is trusted: it is data, shown as text.

import { call, listPage, sessionPath } from "./api.js";

export const PROTOCOL = "2026-01-26";
export const MIME = "text/html;profile=mcp-app";
const MODES = ["inline", "fullscreen", "pip"];
const HANDSHAKE_MS = 10_000;
const TEARDOWN_MS = 1500;
// More reports of one kind (a message's method, a problem's kind) than this in a second are a
// flood: counted, not each recorded; so are more than ALL_MAX of any kind.
const FLOOD_MAX = 40;
const ALL_MAX = 200;
const FLOOD_WINDOW_MS = 1000;
const MAX_KEYS = 64;
const PERMISSIONS = ["camera", "microphone", "geolocation", "clipboardWrite"];

let views = 0;

// The `ui://` view a tool names (`_meta.ui.resourceUri`, or the deprecated flat key), or null.
export function viewUri(tool) {
  const meta = tool?._meta;
  const uri = meta?.ui?.resourceUri ?? meta?.["ui/resourceUri"];
  return typeof uri === "string" && uri.startsWith("ui://") ? uri : null;
}

// Who may call a tool (`_meta.ui.visibility`; both when absent).
export function visibleTo(tool, who) {
  const v = tool?._meta?.ui?.visibility;
  return Array.isArray(v) ? v.includes(who) : true;
}

// The Permissions Policy features a view asks for, as an iframe `allow` value.
export function allowOf(permissions) {
  const p = permissions && typeof permissions === "object" ? permissions : {};
  return [["camera", "camera"], ["microphone", "microphone"], ["geolocation", "geolocation"], ["clipboardWrite", "clipboard-write"]]
    .filter(([k]) => k in p).map(([, f]) => f).join("; ");
}

// Whether the backend serves views (it names the apps listener's port).
export function appsPort() {
  const port = Number(document.body.dataset.appsPort);
  return port > 0 ? port : null;
}

// A view's own origin: `<label>.localhost` on the apps port, the label from what it is (its
// server and URI), so one view never shares cookies or storage with the UI, another server's
// view or another local service, and keeps its own storage across renders.
export async function viewOrigin(server, uri) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${server}\n${uri}`));
  const label = [...new Uint8Array(digest).slice(0, 10)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `http://v-${label}.localhost:${appsPort()}`;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

export class AppHost {
  // `opts`: {session, tool, args, uri, resource (the resources/read content), origin (the
  // view's), version, context (the host context), ui: {status, log, problem, policy, appInfo,
  // resize, openLink, displayMode, close, toolNamed}}.
  constructor(opts) {
    this.view = `v${++views}`;
    Object.assign(this, opts);
    this.phase = "sandbox"; // → resource → initializing → ready → closed
    this.requestId = null;
    this.outcome = null; // {result} or {cancelled: reason}
    this.sentInput = false;
    this.nextId = 1;
    this.waiting = new Map(); // our request id → resolve
    this.counts = new Map(); // report key → {start, n, flooding, last}
    this.changed = null; // context changed while the view initializes
    this.onMessage = (ev) => this.#received(ev);
    window.addEventListener("message", this.onMessage);
  }

  // The outer iframe: the sandbox proxy, on the apps origin, with only what the spec asks for.
  frame() {
    const f = document.createElement("iframe");
    f.setAttribute("sandbox", "allow-scripts allow-same-origin");
    const allow = allowOf(this.resource?._meta?.ui?.permissions);
    if (allow) f.setAttribute("allow", allow);
    f.title = `MCP App: ${this.uri}`;
    f.src = `${this.origin}/sandbox?host=${encodeURIComponent(location.origin)}`;
    this.iframe = f;
    this.#watch("sandbox", "no-sandbox");
    return f;
  }

  // The tools/call this app belongs to has its id (it is sent).
  called(requestId) {
    // The API names the id in a header, as text; the wire's ids are numbers.
    if (requestId !== null && requestId !== undefined) this.requestId = /^\d+$/.test(String(requestId)) ? Number(requestId) : requestId;
  }

  // The call's answer: a result goes to the view, anything else cancels it. An answer this page
  // did not keep (too big to keep across a reload) is no outcome: the view is told nothing.
  settled(body, requestId) {
    this.called(requestId);
    if (this.outcome || body === null || body === undefined) return;
    // A call run as a task answers with the task, not the tool's result: nothing to tell yet.
    if (body.result?.task && body.result.content === undefined) return;
    if (body?.result !== undefined) this.outcome = { result: body.result };
    else {
      const e = body?.error;
      this.outcome = { cancelled: e?.kind === "cancelled" ? "cancelled by the user" : e?.kind === "timeout" ? "timed out" : `the call failed: ${e?.message ?? "no result"}` };
    }
    this.#flush();
  }

  // Something the host's context changed (theme, size, locale, …): the view hears of it once
  // it is initialized.
  contextChanged(partial) {
    Object.assign(this.context, partial);
    if (this.phase === "ready") this.#notify("ui/notifications/host-context-changed", partial);
    // Answered with the old context, not yet initialized: told once it is.
    else if (this.phase === "initializing") this.changed = { ...this.changed, ...partial };
  }

  // A request to the view itself (the tools an app exposes: `tools/list`, `tools/call`), as a
  // model would send it through its host; its answer, or a local error after `ms`.
  async askApp(method, params, ms = 30_000) {
    if (this.phase !== "ready") return { error: { message: "the app is not initialized" } };
    let timer;
    const late = new Promise((r) => { timer = setTimeout(() => r({ error: { message: `no answer within ${ms / 1000} s` } }), ms); });
    try { return await Promise.race([this.#ask(method, params), late]); } finally { clearTimeout(timer); }
  }

  // Asks the view to close (`ui/resource-teardown`), waits a little for its answer, then
  // leaves. Returns once the iframe can go.
  async teardown(reason = "closed by the user") {
    if (this.phase === "closed") return;
    if (this.phase === "ready") {
      await Promise.race([this.#ask("ui/resource-teardown", {}), new Promise((r) => setTimeout(r, TEARDOWN_MS))]);
    }
    this.close(reason);
  }

  close() {
    this.phase = "closed";
    clearTimeout(this.timer);
    window.removeEventListener("message", this.onMessage);
    this.iframe?.remove();
  }

  // Whether a report of this key may be recorded now: at most FLOOD_MAX a second of one key
  // and ALL_MAX of all; past that, one flood finding, and nothing of that key until it has
  // been quiet for a whole second.
  #allowed(key) {
    const now = performance.now();
    const one = (k, max) => {
      let c = this.counts.get(k);
      if (c?.flooding) {
        const quiet = now - c.last >= FLOOD_WINDOW_MS;
        c.last = now;
        if (!quiet) return false;
        c = null;
      }
      if (!c || now - c.start > FLOOD_WINDOW_MS) {
        c = { start: now, n: 0 };
        this.counts.set(k, c);
      }
      c.last = now;
      if (++c.n <= max) return true;
      c.flooding = true;
      this.#send({ kind: "flood", method: k, count: c.n, windowMs: FLOOD_WINDOW_MS });
      return false;
    };
    if (!this.counts.has(key) && this.counts.size >= MAX_KEYS) key = "(other)";
    return one("(any)", ALL_MAX) && one(key, FLOOD_MAX);
  }

  #report(body) {
    const key = body.kind === "message" ? (typeof body.message?.method === "string" ? body.message.method : "(response)") : `(${body.kind})`;
    if (this.#allowed(key)) this.#send(body);
  }

  #send(body) {
    const b = { view: this.view, tool: this.tool.name, uri: this.uri, requestId: this.requestId, ...body };
    return call("POST", sessionPath("/app", this.session), b).catch(() => {});
  }

  #watch(stage, problem) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.phase !== stage || this.phase === "closed") return;
      this.ui.status(`The app's handshake did not complete (${problem}): see the findings.`, true);
      this.#report({ kind: "stalled", stage: problem, afterMs: HANDSHAKE_MS });
    }, HANDSHAKE_MS);
  }

  #post(message) {
    if (this.phase === "closed" || !this.iframe?.contentWindow) return;
    this.#count(message, "to-app");
    this.iframe.contentWindow.postMessage(message, this.origin);
  }

  #notify(method, params) { this.#post({ jsonrpc: "2.0", method, params }); }

  #answer(id, result) { this.#post({ jsonrpc: "2.0", id, result }); }

  #fail(id, code, message) { this.#post({ jsonrpc: "2.0", id, error: { code, message } }); }

  #ask(method, params) {
    const id = `host-${this.nextId++}`;
    this.#post({ jsonrpc: "2.0", id, method, params });
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  // Reports a message as an `app` event (unless it is part of a flood).
  #count(message, direction) {
    this.#report({ kind: "message", direction, message });
  }

  // Tool input once the view is initialized, then the outcome when there is one.
  #flush() {
    if (this.phase !== "ready") return;
    if (this.changed) {
      this.#notify("ui/notifications/host-context-changed", this.changed);
      this.changed = null;
    }
    if (!this.sentInput) {
      this.sentInput = true;
      this.#notify("ui/notifications/tool-input", { arguments: this.args ?? {} });
    }
    if (this.outcome && !this.outcome.sent) {
      this.outcome.sent = true;
      if (this.outcome.result !== undefined) this.#notify("ui/notifications/tool-result", this.outcome.result);
      else this.#notify("ui/notifications/tool-cancelled", { reason: this.outcome.cancelled });
    }
  }

  #received(ev) {
    if (!this.iframe || ev.source !== this.iframe.contentWindow || ev.origin !== this.origin || this.phase === "closed") return;
    const m = ev.data;
    if (isObject(m) && typeof m.mcpscope === "string") return this.#diagnostic(m);
    if (!isObject(m) || m.jsonrpc !== "2.0") {
      this.#report({ kind: "not-json-rpc", message: m ?? null });
      return;
    }
    if (m.method === "ui/notifications/sandbox-proxy-ready") {
      if (this.phase !== "sandbox") return;
      this.#count(m, "from-app");
      this.phase = "resource";
      const meta = this.resource?._meta?.ui ?? {};
      this.ui.status("Loading the view…");
      this.#notify("ui/notifications/sandbox-resource-ready", { html: this.html, csp: meta.csp, permissions: meta.permissions });
      this.#watch("resource", "no-initialize");
      return;
    }
    this.#count(m, "from-app");
    if (typeof m.method !== "string") {
      const done = this.waiting.get(m.id);
      if (done) { this.waiting.delete(m.id); done(m); }
      return;
    }
    if (m.id === undefined) this.#notification(m.method, m.params);
    else this.#request(m.id, m.method, m.params).catch((e) => this.#fail(m.id, -32603, String(e?.message ?? e)));
  }

  #diagnostic(m) {
    switch (m.mcpscope) {
      case "policy":
        // The sandbox says it once, before the view exists; later, only the view could.
        if (this.policy || this.phase !== "resource") return this.#report({ kind: "not-json-rpc", message: m });
        this.policy = {
          csp: String(m.csp ?? ""), allow: String(m.allow ?? ""),
          ignored: Array.isArray(m.ignored) ? m.ignored.map(String) : [],
          applied: isObject(m.applied) ? m.applied : {},
        };
        this.ui.policy(this.policy);
        this.#report({ kind: "policy", csp: this.policy.csp, allow: this.policy.allow, ignored: this.policy.ignored, domain: typeof this.resource?._meta?.ui?.domain === "string" ? this.resource._meta.ui.domain : undefined });
        return;
      case "violation":
        // A library probing whether eval works (zod does) is not a broken app: noted, not a problem.
        if (m.blocked === "eval" || m.blocked === "wasm-eval") this.ui.log("policy", `The view reports eval was blocked (${m.directive}): an MCP App policy never allows it; a library that only probes for it (zod does) falls back`);
        else this.ui.problem(`The view reports its Content-Security-Policy blocked ${m.blocked || "(inline)"} (${m.directive})`);
        this.#report({ kind: "violation", directive: String(m.directive ?? ""), blocked: String(m.blocked ?? ""), source: m.source ? String(m.source) : undefined, line: Number.isFinite(m.line) ? m.line : undefined });
        return;
      case "error":
        this.ui.problem(`The view reports an error: ${m.message}`);
        this.#report({ kind: "error", message: String(m.message ?? ""), source: m.source ? String(m.source) : undefined, line: Number.isFinite(m.line) ? m.line : undefined });
        return;
      case "sandbox-error":
        // Only the sandbox, only while it loads the view: the view itself could post this.
        if (this.policy || this.phase !== "resource") return this.#report({ kind: "not-json-rpc", message: m });
        this.ui.status(`The sandbox could not load the view: ${String(m.message ?? "")}`, true);
        this.#report({ kind: "error", message: String(m.message ?? "the sandbox failed") });
        return;
      default:
        this.#report({ kind: "not-json-rpc", message: m });
    }
  }

  #notification(method, params) {
    switch (method) {
      case "ui/notifications/initialized":
        if (this.phase !== "initializing") return;
        clearTimeout(this.timer);
        this.phase = "ready";
        this.ui.status("");
        this.#flush();
        return;
      case "ui/notifications/size-changed":
        if (isObject(params)) this.ui.resize(params);
        return;
      case "notifications/message":
        // MCP has no client→server log notification: the host records it (the app event) and shows it.
        this.ui.log("log", `[${params?.level ?? "info"}]${params?.logger ? ` ${params.logger}:` : ""} ${typeof params?.data === "string" ? params.data : JSON.stringify(params?.data)}`);
        return;
      case "ui/notifications/request-teardown":
        this.ui.log("teardown", "The app asked to be closed.");
        this.ui.close("the app asked to close");
        return;
      default:
        // Other notifications are recorded (the app event) and otherwise ignored.
    }
  }

  async #request(id, method, params) {
    if (method === "ui/initialize") {
      if (this.phase !== "resource" && this.phase !== "initializing") return this.#fail(id, -32600, "already initialized");
      clearTimeout(this.timer);
      this.phase = "initializing";
      this.appCapabilities = isObject(params?.appCapabilities) ? params.appCapabilities : {};
      this.ui.appInfo(params?.appInfo, this.appCapabilities);
      this.#answer(id, {
        protocolVersion: PROTOCOL,
        hostInfo: { name: "mcpscope", version: this.version },
        hostCapabilities: {
          openLinks: {},
          serverTools: {},
          serverResources: {},
          logging: {},
          // What the sandbox applied, not what was asked for.
          sandbox: { csp: this.policy?.applied ?? {}, permissions: Object.fromEntries(PERMISSIONS.filter((k) => isObject(this.resource?._meta?.ui?.permissions) && k in this.resource._meta.ui.permissions).map((k) => [k, {}])) },
          message: { text: {} },
          updateModelContext: { text: {}, structuredContent: {} },
        },
        hostContext: { ...this.context, toolInfo: { id: this.requestId ?? undefined, tool: this.tool } },
      });
      this.#watch("initializing", "no-initialized");
      return;
    }
    if (this.phase !== "ready" && method !== "ping") return this.#fail(id, -32002, "not initialized: send ui/notifications/initialized first");
    switch (method) {
      case "tools/call": {
        const name = params?.name;
        const tool = await this.#tool(name);
        if (tool && !visibleTo(tool, "app")) {
          this.ui.log("refused", `tools/call ${name}: its _meta.ui.visibility does not include "app"`);
          return this.#fail(id, -32000, `tool ${JSON.stringify(name)} is not visible to apps (_meta.ui.visibility lacks "app")`);
        }
        return this.#relay(id, method, params);
      }
      case "resources/read":
      case "ping":
        return this.#relay(id, method, params);
      case "ui/open-link": {
        const url = String(params?.url ?? "");
        let ok = false;
        try { ok = ["http:", "https:"].includes(new URL(url).protocol); } catch { ok = false; }
        if (!ok) return this.#fail(id, -32000, "Invalid URL: only http(s) links open");
        const opened = await this.ui.openLink(url);
        return opened ? this.#answer(id, {}) : this.#fail(id, -32000, "Link opening denied by user");
      }
      case "ui/message":
        this.ui.log("message", textOf(params?.content), params);
        return this.#answer(id, {});
      case "ui/update-model-context":
        this.ui.log("context", textOf(params?.content) || JSON.stringify(params?.structuredContent ?? {}), params);
        return this.#answer(id, {});
      case "ui/request-display-mode": {
        const want = params?.mode;
        const appModes = this.appCapabilities?.availableDisplayModes;
        const allowed = MODES.includes(want) && (!Array.isArray(appModes) || appModes.includes(want));
        const mode = allowed ? this.ui.displayMode(want) : this.context.displayMode;
        this.#answer(id, { mode });
        if (mode !== undefined && allowed) this.contextChanged({ displayMode: mode });
        return;
      }
      default:
        return this.#fail(id, -32601, `Method not found: mcpscope does not host ${method}`);
    }
  }

  // The tool as this app's server lists it: from the page's list when it has it, else from the
  // session's whole list (kept by the backend: no traffic unless never listed).
  async #tool(name) {
    const shown = this.ui.toolNamed(this.session, name);
    if (shown) return shown;
    let cursor = null;
    for (let pages = 0; pages < 100; pages++) {
      const { body } = await listPage("tools/list", cursor, { session: this.session });
      const found = (body?.result?.tools ?? []).find((t) => t?.name === name);
      if (found) return found;
      cursor = body?.result?.nextCursor;
      if (!cursor) return null;
    }
    return null;
  }

  // An app's MCP request, sent on its session like any other (a frame in the timeline); its
  // answer goes back under the app's own id.
  async #relay(id, method, params) {
    let body;
    try {
      ({ body } = await call("POST", sessionPath("/request", this.session), { method, params }));
    } catch (e) {
      body = e?.body;
    }
    if (this.phase === "closed") return;
    if (body?.result !== undefined) return this.#answer(id, body.result);
    const err = body?.error;
    const code = Number.isInteger(err?.code) ? err.code : -32603;
    this.#post({ jsonrpc: "2.0", id, error: { code, message: String(err?.message ?? "the request failed"), ...(err?.data !== undefined ? { data: err.data } : {}) } });
  }

  // The view's HTML, from the resource as read (text, or base64 `blob`).
  get html() {
    const r = this.resource ?? {};
    if (typeof r.text === "string") return r.text;
    if (typeof r.blob === "string") {
      try { return new TextDecoder().decode(Uint8Array.from(atob(r.blob), (c) => c.charCodeAt(0))); } catch { return ""; }
    }
    return "";
  }
}

// The text of content blocks, for showing.
function textOf(content) {
  const list = Array.isArray(content) ? content : content ? [content] : [];
  return list.map((b) => (b?.type === "text" ? String(b.text ?? "") : `[${b?.type ?? "?"}]`)).join(" ");
}
