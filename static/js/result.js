// Shows an answer: its content (content.js; resource links read on click), structuredContent
// with its verdict against the tool's outputSchema, isError made obvious, _meta raw, and the
// whole answer raw.

import { call } from "./api.js";
import { el } from "./dom.js";
import { block, conversation, jsonBlock, resourcePreview } from "./content.js";

// Renders `body` ({result} or {error}) into `box`. `outputSchema` enables the verdict.
export async function render(box, body, { outputSchema, onReadResource } = {}) {
  box.replaceChildren();
  const result = body?.result;
  if (body?.error) {
    box.append(el("div", { class: "error-banner", text: `Server error ${body.error.code ?? ""}: ${body.error.message ?? ""}` }));
    if (body.error.data !== undefined) box.append(jsonBlock(body.error.data));
  } else if (result && typeof result === "object") {
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
