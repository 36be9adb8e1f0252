// What a timeline row says of an event, in one line: a frame's direction, type, method, gist,
// id, pairing and timing; an HTTP exchange, an OAuth step, an MCP App bridge message, a chat
// step, progress, a state, an input round. Text only: the row sets it as text.

function answeredBy(by) {
  switch (by.responder) {
    case "mock": return by.rule === "default" ? "mocked: default answer" : `mocked: rule ${by.rule}${by.name ? ` "${by.name}"` : ""} /${by.match}/`;
    case "manual": return "answered by hand";
    case "roots": return "from the roots list";
    case "llm": return `answered by ${by.model ?? "a model"}${by.usage ? ` (${by.usage.inputTokens}→${by.usage.outputTokens} tokens)` : ""}`;
    case "capabilities": return "refused: not declared";
    default: return String(by.responder);
  }
}

function httpSummary(e) {
  // An authorization flow talks to other hosts: its requests show the whole URL and their phase.
  const path = e.phase ? `[${e.phase.startsWith("model ") ? e.phase : `oauth ${e.phase}`}] ${e.url}` : (() => { try { const u = new URL(e.url); return u.pathname + u.search; } catch { return e.url || ""; } })();
  const carries = e.carries?.method ? ` [${e.carries.method}${e.carries.id !== null && e.carries.id !== undefined ? ` #${e.carries.id}` : ""}]` : "";
  switch (e.type) {
    case "exchange": {
      const ctype = e.responseHeaders?.["content-type"] ? ` (${String(e.responseHeaders["content-type"]).split(";")[0]})` : "";
      const ms = typeof e.durationMs === "number" ? ` ${e.durationMs.toFixed(1)} ms` : "";
      return `${e.method} ${path} → ${e.status}${ctype}${ms}${carries}`;
    }
    case "stream-closed":
      return `${e.method} ${path} SSE stream closed after ${e.events} event(s)${e.lastEventId ? `, last id ${e.lastEventId}` : ""}${e.error ? `: ${e.error}` : ""}`;
    case "error": return `${e.method} ${path} failed: ${e.error}${carries}`;
    case "note": return e.message;
    default: return e.type || "http";
  }
}

function excerpt(v, n = 120) {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  if (s === undefined) return "";
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

// What a frame is about, beyond its method: a log line's level and text, a call's tool.
function frameGist(event) {
  const p = event.message?.params;
  if (!p || typeof p !== "object") return "";
  if (event.method === "notifications/message") return `[${p.level ?? "?"}]${p.logger !== undefined ? ` ${p.logger}:` : ""} ${excerpt(p.data)}`;
  if (event.method === "tools/call" || event.method === "prompts/get") return typeof p.name === "string" ? p.name : "";
  if (typeof p.uri === "string") return p.uri;
  return "";
}

// A bridge message of an MCP App: which way, what, and for which tool call.
function appSummary(e) {
  const m = e.message || {};
  const parts = [e.direction === "to-app" ? "⇢ app" : "⇠ app"];
  if (typeof m.method === "string") parts.push(m.id !== undefined ? "request" : "notification", m.method);
  else if (m.error) parts.push("error", excerpt(m.error.message ?? m.error, 80));
  else if (m.result !== undefined) parts.push("response");
  if (m.id !== undefined) parts.push(`#${JSON.stringify(m.id)}`);
  if (m.method === "tools/call" && typeof m.params?.name === "string") parts.push(m.params.name);
  if (m.method === "ui/notifications/size-changed") parts.push(excerpt(m.params, 60));
  parts.push(`· view ${e.view}${e.tool ? ` of ${e.tool}` : ""}${e.requestId !== null && e.requestId !== undefined ? ` (call #${e.requestId})` : ""}`);
  return parts.join(" ");
}

export function summary(event) {
  switch (event.kind) {
    case "frame": {
      const parts = [event.direction === "sent" ? "→" : "←", event.frameType];
      if (event.method) parts.push(event.method);
      const gist = frameGist(event);
      if (gist) parts.push(gist);
      if (event.id !== undefined && event.id !== null) parts.push(`#${JSON.stringify(event.id)}`);
      if (event.requestMethod) parts.push(`(${event.requestMethod})`);
      if (typeof event.durationMs === "number") parts.push(`${event.durationMs.toFixed(1)} ms`);
      if (event.late) parts.push(`arrived ${event.late}`);
      if (event.answeredBy) parts.push(`[${answeredBy(event.answeredBy)}]`);
      if (event.raw !== undefined) parts.push(JSON.stringify(event.raw.slice(0, 120)));
      if (event.elided) parts.push(`[${Number.isFinite(event.bytes) ? `${(event.bytes / (1 << 20)).toFixed(1)} MiB` : "big"}: opened on demand]`);
      return parts.join(" ");
    }
    case "http": return httpSummary(event);
    case "app": return appSummary(event);
    case "chat": {
      const head = `chat ${event.chat} step ${event.step}`;
      if (event.part === "tool") {
        const t = event.toolCall || {};
        return `${head}: ${t.name} on ${t.session || "no session"} ${excerpt(t.arguments, 60)} → ${excerpt(t.result?.error ?? t.result?.content ?? t.result, 80)}`;
      }
      if (event.part === "delta") return `${head}: streaming ${excerpt(JSON.stringify(event.text ?? ""), 120)}`;
      return `${head}: ${event.model ?? "the model"} says ${excerpt(event.text ?? "", 120)}`;
    }
    case "auth": return `oauth ${event.phase} ${event.ok === false ? "✗" : "✓"} ${event.message}`;
    case "stderr": return event.line;
    case "finding": return `${event.severity}: ${event.message}`;
    case "progress": {
      const of = event.total !== null && event.total !== undefined ? `/${event.total}` : "";
      const msg = event.message ? ` ${event.message}` : "";
      const who = event.requestId !== null && event.requestId !== undefined ? `request #${event.requestId}` : `token ${JSON.stringify(event.progressToken)} (no such request)`;
      const after = event.after ? ` — arrived after the request was ${event.after === "timeout" ? "given up (timeout)" : event.after}; informational` : "";
      return `${who}: ${event.progress}${of}${msg}${after}`;
    }
    case "state": {
      const a = event.state === "authorizing" ? event.authorization : null;
      const how = a ? ` — ${a.phase}${a.paused ? ", paused before: " + a.paused.next : a.url ? ", waiting for the user at " + (a.host || "the authorization page") : ""}` : "";
      return `${event.state}${how}${event.error ? ": " + event.error : ""}`;
    }
    case "exit": return `process exited: ${event.description}`;
    case "pending": return `${event.method} waiting for an answer (#${event.id})${event.round ? ` — input for request #${event.originRequestId}, round ${event.round}` : ""}`;
    case "round": return roundSummary(event);
    case "removed": return "session removed";
    case "lagged": return `${event.missed} events were dropped from the view (too far behind)`;
    default: return event.kind;
  }
}

// One step of a modern call that asked for input (MRTR), named by the call it belongs to.
function roundSummary(e) {
  const call = `${e.method} #${e.originRequestId}`;
  switch (e.phase) {
    case "input_required": return `${call} round ${e.round}: the server asks for ${(e.keys || []).map((k) => JSON.stringify(k)).join(", ") || "nothing"}${e.requestState ? " (with requestState)" : ""}`;
    case "answered": return `${call} round ${e.round}: ${JSON.stringify(e.key)} answered by ${e.answeredBy?.responder || "?"}`;
    case "retry": return `${call}: retried as #${e.requestId} (round ${e.round})`;
    case "ended": return `${call} round ${e.round} ended: ${e.reason}`;
    default: return `${call}: ${e.phase}`;
  }
}
