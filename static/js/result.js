// Shows an answer: every content type (JSON text pretty-printed and collapsible, images, audio,
// resource links that read on click, embedded text or blob resources), structuredContent with
// its verdict against the tool's outputSchema, isError made obvious, _meta raw, and the whole
// answer raw. Big answers show a head with "show all" and a download; every JSON block can be
// copied.

import { call } from "./api.js";
import { el, pretty } from "./dom.js";

const SHOW_LIMIT = 200 * 1024;
const SAFE_MIME = /^[a-z]+\/[a-z0-9.+-]+$/i;

function copyButton(getText) {
  const b = el("button", { type: "button", class: "copy", title: "Copy" }, "Copy");
  b.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(getText()); b.textContent = "Copied"; } catch { b.textContent = "Copy failed"; }
    setTimeout(() => { b.textContent = "Copy"; }, 1200);
  });
  return b;
}

function download(name, text, mime = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type: mime }));
  const a = el("a", { href: url, download: name, class: "button download" }, "Download");
  return a;
}

// A JSON (or plain) text block with copy, truncated past SHOW_LIMIT with "show all".
export function textBlock(text, { json = false, name = "result.json" } = {}) {
  const pre = el("pre", { class: json ? "json" : "content-text" });
  const tools = el("div", { class: "block-tools" }, copyButton(() => text));
  if (text.length > SHOW_LIMIT) {
    pre.textContent = `${text.slice(0, SHOW_LIMIT)}\n… (${text.length.toLocaleString()} characters in all)`;
    const all = el("button", { type: "button", class: "show-all" }, "Show all");
    all.addEventListener("click", () => { pre.textContent = text; all.remove(); });
    tools.append(all, download(name, text, json ? "application/json" : "text/plain"));
  } else {
    pre.textContent = text;
  }
  return el("div", { class: "block" }, tools, pre);
}

export function jsonBlock(value, name) {
  return textBlock(pretty(value), { json: true, name });
}

function textContent(text) {
  const trimmed = String(text ?? "").trim();
  if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && trimmed.length > 1) {
    try {
      const parsed = JSON.parse(trimmed);
      return el("details", { class: "json-text", open: true }, el("summary", { text: "JSON text" }), jsonBlock(parsed));
    } catch { /* not JSON after all */ }
  }
  return textBlock(String(text ?? ""));
}

function hexHead(base64) {
  try {
    const bin = atob(base64.slice(0, 64));
    return [...bin].slice(0, 32).map((c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join(" ");
  } catch { return "(not base64)"; }
}

// One entry of resources/read `contents`, or an embedded resource: a preview by MIME type.
export function resourcePreview(r) {
  const mime = String(r?.mimeType || "");
  const head = el("div", { class: "content-label", text: `${r?.uri ?? ""}${mime ? ` · ${mime}` : ""}` });
  if (typeof r?.text === "string") {
    if (/json/.test(mime)) {
      try { return el("div", { class: "preview" }, head, jsonBlock(JSON.parse(r.text))); } catch { /* show as text */ }
    }
    return el("div", { class: "preview" }, head, textBlock(r.text, { name: "resource.txt" }));
  }
  if (typeof r?.blob === "string") {
    const bytes = Math.floor((r.blob.length * 3) / 4);
    const src = SAFE_MIME.test(mime) ? `data:${mime};base64,${r.blob}` : null;
    let media = null;
    if (src && mime.startsWith("image/")) media = el("img", { class: "content-image", src, alt: r.uri ?? "image" });
    else if (src && mime.startsWith("audio/")) media = el("audio", { class: "content-audio", src, controls: true });
    const dl = el("a", { class: "button download", href: `data:application/octet-stream;base64,${r.blob}`, download: "resource.bin" }, "Download");
    return el("div", { class: "preview" }, head, media,
      el("div", { class: "muted", text: `${bytes.toLocaleString()} bytes (binary) · first bytes: ${hexHead(r.blob)}` }), dl);
  }
  return el("div", { class: "preview" }, head, jsonBlock(r));
}

function contentBlock(b, onReadResource) {
  if (!b || typeof b !== "object") return jsonBlock(b);
  switch (b.type) {
    case "text": return textContent(b.text);
    case "image":
    case "audio": {
      const src = SAFE_MIME.test(String(b.mimeType || "")) && typeof b.data === "string" ? `data:${b.mimeType};base64,${b.data}` : null;
      if (!src) return jsonBlock(b);
      return b.type === "image" ? el("img", { class: "content-image", src, alt: `image (${b.mimeType})` }) : el("audio", { class: "content-audio", src, controls: true });
    }
    case "resource_link":
      return el("div", { class: "resource-link" },
        el("span", { class: "content-label", text: `resource link: ${b.name ?? ""} ${b.mimeType ? `(${b.mimeType})` : ""}` }),
        el("button", { type: "button", class: "read-link", "data-uri": String(b.uri ?? ""), onclick: () => onReadResource?.(String(b.uri ?? "")) }, `Read ${b.uri ?? ""}`),
        b.description ? el("div", { class: "muted", text: b.description }) : null);
    case "resource": return resourcePreview(b.resource);
    default: return jsonBlock(b);
  }
}

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
      box.append(el("div", { class: "contents" }, ...result.content.map((b) => contentBlock(b, onReadResource))));
    }
    if (Array.isArray(result.contents)) box.append(el("div", { class: "contents" }, ...result.contents.map(resourcePreview)));
    if (Array.isArray(result.messages)) {
      const { conversation } = await import("./content.js");
      box.append(conversation(result.messages));
    }
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
