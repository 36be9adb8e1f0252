// Elicitation: the form of a form-mode request (schema.js and form.js draw and check it, as they
// do a tool's arguments), and the URL-mode view that shows where a link really goes before the
// user may open it.

import { el } from "./dom.js";
import { fieldsForm } from "./form.js";
import { check, initialValue, model } from "./schema.js";

// The form of an elicitation's `requestedSchema` (the spec's restricted schema: a flat object of
// strings with format and length limits, numbers with bounds, booleans, single- and multi-select
// enums incl. titled oneOf/anyOf consts and legacy enumNames, defaults), drawn by the same
// renderer as a tool's arguments. read() gives {content, errors}; each field shows its own.
export function form(schema) {
  const s = schema && typeof schema === "object" ? schema : {};
  const m = model({ type: "object", ...s });
  const f = fieldsForm(m.kind === "object" ? m : { fields: [] });
  f.set(initialValue(m, true));
  return {
    node: el("div", { class: "elicit-form" }, f.node),
    read() {
      const content = {};
      const errors = [];
      for (const field of f.fields) {
        const value = field.w.get();
        // An empty text box says nothing, required or not (a tool form sends "" for a required
        // string; an elicitation answer leaves it out and says it is missing).
        // Nothing ticked in a multi-select is nothing said, too.
        const present = value !== undefined
          && !(field.model.kind === "string" && value === "")
          && !(field.model.kind === "multiselect" && value.length === 0);
        const problem = present ? check(field.model, value) : (field.required ? "required" : null);
        field.error.textContent = problem || "";
        if (problem) errors.push(`${field.name}: ${problem}`);
        if (present) content[field.name] = value;
      }
      return { content, errors };
    },
  };
}

// What a person must know before opening a server-supplied URL.
export function urlWarnings(raw) {
  let u;
  try { u = new URL(raw); } catch { return { url: null, warnings: ["this is not a valid URL; it will not be opened"] }; }
  const warnings = [];
  if (u.protocol !== "https:" && u.protocol !== "http:") warnings.push(`scheme ${u.protocol} is not http(s); it will not be opened`);
  else if (u.protocol === "http:") warnings.push("plain http: the page is not encrypted");
  if (u.hostname.split(".").some((label) => label.startsWith("xn--"))) {
    warnings.push("the host uses punycode (xn--): it may imitate another site's name");
  }
  if (/[^\x20-\x7e]/.test(raw)) warnings.push("the URL contains non-ASCII characters that can look like others");
  if (u.username || u.password) warnings.push(`the part before "@" is not the host; the host is ${u.hostname}`);
  if (/^\d+\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname.startsWith("[")) warnings.push("the host is a bare IP address");
  return { url: u, warnings };
}

// The URL split so the host stands out.
export function urlView(raw) {
  const { url, warnings } = urlWarnings(raw);
  const shown = el("div", { class: "url-shown" });
  if (url) {
    const before = `${url.protocol}//${url.username ? "…@" : ""}`;
    const rest = url.pathname + url.search + url.hash;
    shown.append(el("span", { class: "muted", text: before }), el("strong", { class: "url-host", text: url.host }), el("span", { text: rest }));
  } else {
    shown.append(el("span", { text: raw }));
  }
  const list = el("ul", { class: "url-warnings" }, ...warnings.map((w) => el("li", { text: w })));
  const openable = url && (url.protocol === "https:" || url.protocol === "http:");
  return { node: el("div", { class: "url-view" }, shown, el("div", { class: "url-full muted", text: raw }), list), openable, href: openable ? url.href : null };
}
