// Shows an answer: its content (content.js; resource links read on click), structuredContent
// with its verdict against the tool's outputSchema, isError made obvious, _meta raw, and the
// whole answer raw. A call that ended on our side (cancelled by the user, timed out, transport
// failure) says so plainly instead of posing as a server error.

import { call } from "./api.js";
import { el, seconds } from "./dom.js";
import { block, conversation, jsonBlock, resourcePreview } from "./content.js";
import { describe } from "./errors.js";

// The words for a local end of a call (the API's `error.kind`).
export function localEnd(error, elapsedMs) {
  const after = typeof error.elapsedMs === "number" ? error.elapsedMs : elapsedMs;
  const when = typeof after === "number" ? ` after ${seconds(after)}` : "";
  switch (error.kind) {
    case "cancelled": return { text: `Cancelled by you${when}. notifications/cancelled was sent; the server may still finish its work.`, cls: "cancel-banner" };
    case "timeout": return { text: `Gave up${when}: ${error.message}`, cls: "error-banner" };
    case "transport": return { text: `The message did not get through: ${error.message}`, cls: "error-banner" };
    case "not_connected": return { text: "Not connected: connect the server first.", cls: "error-banner" };
    default: return { text: `${error.kind}: ${error.message}`, cls: "error-banner" };
  }
}

// The task an answer created: legacy `{task: {...}}`, modern `resultType: "task"`.
function taskCreated(result) {
  const t = result.resultType === "task" ? result : result.task;
  return t && typeof t.taskId === "string" ? t : null;
}

// Renders `body` ({result} or {error}) into `box`. `outputSchema` enables the verdict.
export async function render(box, body, { outputSchema, onReadResource, elapsedMs } = {}) {
  box.replaceChildren();
  const result = body?.result;
  if (body?.error?.kind) {
    const { text, cls } = localEnd(body.error, elapsedMs);
    box.append(el("div", { class: cls, role: "status", text }));
  } else if (body?.error) {
    const known = describe(body.error);
    box.append(el("div", { class: "error-banner", text: `Server error ${body.error.code ?? ""}${known ? ` ${known.name}` : ""}: ${body.error.message ?? ""}` }));
    if (known) {
      box.append(el("p", { class: "error-meaning muted", text: known.meaning }));
      if (known.facts.length) box.append(el("dl", { class: "facts error-facts" }, ...known.facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])));
    }
    if (body.error.data !== undefined) box.append(jsonBlock(body.error.data));
  } else if (result && typeof result === "object") {
    const created = taskCreated(result);
    if (created) {
      const follow = el("button", { type: "button", class: "small link", text: "Follow it in Tasks" });
      follow.addEventListener("click", () => import("./tasks.js").then((t) => t.reveal(created.taskId)));
      box.append(el("div", { class: "task-created", role: "status" },
        el("span", { text: `Task created: ${created.taskId} (${created.status ?? "?"}). mcpscope polls it until it ends. ` }), follow));
    }
    if (result.isError === true) box.append(el("div", { class: "error-banner", text: "isError: true — the tool reports a failure" }));
    if (Array.isArray(result.content)) {
      box.append(el("div", { class: "contents" }, ...result.content.map((b) => block(b, onReadResource))));
    }
    if (Array.isArray(result.contents)) box.append(el("div", { class: "contents" }, ...result.contents.map(resourcePreview)));
    if (Array.isArray(result.messages)) box.append(conversation(result.messages, onReadResource));
    if ("structuredContent" in result) {
      const verdict = el("div", { class: "verdict muted", text: outputSchema ? "validating…" : "no outputSchema to validate against" });
      box.append(el("h4", { text: "structuredContent" }), verdict, jsonBlock(result.structuredContent, "structured.json"));
      if (outputSchema) {
        try {
          const { body: v } = await call("POST", "/api/validate", { schema: outputSchema, instance: result.structuredContent });
          if (v.valid === true) { verdict.textContent = "✓ valid against outputSchema"; verdict.className = "verdict ok"; }
          else if (v.valid === false) {
            verdict.className = "verdict bad";
            verdict.textContent = `✗ not valid against outputSchema: ${v.errors.map((e) => `${e.path || "/"}: ${e.message}`).join("; ")}`;
          } else verdict.textContent = `outputSchema unusable: ${v.schemaError}`;
        } catch (e) { verdict.textContent = e.message; }
      } else if (result.isError !== true) {
        verdict.textContent = "the tool declares no outputSchema";
      }
    }
    if (result._meta !== undefined) box.append(el("h4", { text: "_meta" }), jsonBlock(result._meta));
  }
  box.append(el("details", { class: "raw" }, el("summary", { text: "Raw answer" }), jsonBlock(body)));
}
