// Elicitation: a form for the spec's restricted schema (flat object of strings with format and
// length limits, numbers with bounds, booleans, single- and multi-select enums incl. titled
// oneOf/anyOf consts and legacy enumNames, defaults), its validation, and the URL-mode view
// that shows where a link really goes before the user may open it.

import { el } from "./dom.js";

let fieldSeq = 0;

function options(prop) {
  const items = prop.type === "array" ? (prop.items || {}) : prop;
  if (Array.isArray(items.enum)) {
    const names = Array.isArray(items.enumNames) ? items.enumNames : (Array.isArray(prop.enumNames) ? prop.enumNames : []);
    return items.enum.map((v, i) => ({ value: v, title: names[i] !== undefined ? `${names[i]} (${v})` : String(v) }));
  }
  const alts = items.oneOf || items.anyOf;
  if (Array.isArray(alts) && alts.every((a) => a && "const" in a)) {
    return alts.map((a) => ({ value: a.const, title: a.title ? `${a.title} (${a.const})` : String(a.const) }));
  }
  return null;
}

function constraints(prop) {
  const c = [prop.type];
  if (prop.format) c.push(`format ${prop.format}`);
  for (const k of ["minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems"]) {
    if (prop[k] !== undefined) c.push(`${k} ${prop[k]}`);
  }
  return c.filter(Boolean).join(", ");
}

function inputType(format) {
  return { email: "email", uri: "url", date: "date", "date-time": "datetime-local" }[format] || "text";
}

// Builds the form; returns {node, read()} where read() gives {content, errors}.
export function form(schema) {
  const props = schema && typeof schema === "object" ? (schema.properties || {}) : {};
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const readers = [];
  const node = el("div", { class: "elicit-form" });
  for (const [name, prop] of Object.entries(props)) {
    const id = `elicit-${++fieldSeq}`;
    const p = prop && typeof prop === "object" ? prop : {};
    const label = el("label", { for: id },
      el("span", { class: "field-name", text: p.title || name }),
      required.has(name) ? el("span", { class: "required", text: " *", title: "required" }) : null,
      el("span", { class: "field-type muted", text: ` ${name} · ${constraints(p)}` }));
    const error = el("div", { class: "field-error", role: "alert" });
    const desc = p.description ? el("div", { class: "field-desc muted", text: p.description }) : null;
    const opts = options(p);
    let input, read;
    if (p.type === "array" && opts) {
      const chosen = new Set(Array.isArray(p.default) ? p.default.map(String) : []);
      const boxes = opts.map((o, i) => el("label", { class: "check" },
        el("input", { type: "checkbox", id: i === 0 ? id : undefined, "data-value": String(i), checked: chosen.has(String(o.value)) }),
        o.title));
      input = el("div", { class: "multi", "data-field": name }, ...boxes);
      read = () => {
        const vals = boxes.map((b, i) => (b.querySelector("input").checked ? opts[i].value : undefined)).filter((v) => v !== undefined);
        return { present: vals.length > 0, value: vals };
      };
    } else if (opts) {
      input = el("select", { id, "data-field": name },
        required.has(name) && p.default !== undefined ? null : el("option", { value: "", text: "(none)" }),
        ...opts.map((o, i) => el("option", { value: String(i), text: o.title, selected: o.value === p.default })));
      read = () => (input.value === "" ? { present: false } : { present: true, value: opts[Number(input.value)].value });
    } else if (p.type === "boolean") {
      input = el("input", { id, type: "checkbox", "data-field": name, checked: p.default === true });
      read = () => ({ present: true, value: input.checked });
    } else if (p.type === "number" || p.type === "integer") {
      input = el("input", { id, type: "number", "data-field": name, value: p.default, min: p.minimum, max: p.maximum, step: p.type === "integer" ? "1" : "any" });
      read = () => (input.value.trim() === "" ? { present: false } : { present: true, value: Number(input.value) });
    } else {
      input = el("input", { id, type: inputType(p.format), "data-field": name, value: p.default, minlength: p.minLength, maxlength: p.maxLength, spellcheck: "false" });
      read = () => {
        if (input.value === "") return { present: false };
        let value = input.value;
        if (p.format === "date-time" && !Number.isNaN(Date.parse(value))) value = new Date(value).toISOString();
        return { present: true, value };
      };
    }
    node.append(el("div", { class: "field" }, label, desc, input, error));
    readers.push({ name, p, read, error });
  }
  return {
    node,
    read() {
      const content = {};
      const errors = [];
      for (const { name, p, read, error } of readers) {
        const r = read();
        const problem = r.present ? check(p, r.value) : (required.has(name) ? "required" : null);
        error.textContent = problem || "";
        if (problem) errors.push(`${name}: ${problem}`);
        if (r.present) content[name] = r.value;
      }
      return { content, errors };
    },
  };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// The first way `value` breaks `p`, or null.
export function check(p, value) {
  if (p.type === "string" && typeof value === "string") {
    if (p.minLength !== undefined && value.length < p.minLength) return `at least ${p.minLength} characters`;
    if (p.maxLength !== undefined && value.length > p.maxLength) return `at most ${p.maxLength} characters`;
    if (p.format === "email" && !EMAIL.test(value)) return "not an email address";
    if (p.format === "uri") { try { new URL(value); } catch { return "not a URI"; } }
    if (p.format === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return "not a date (YYYY-MM-DD)";
    if (p.format === "date-time" && Number.isNaN(Date.parse(value))) return "not a date-time";
  }
  if (p.type === "number" || p.type === "integer") {
    if (!Number.isFinite(value)) return "not a number";
    if (p.type === "integer" && !Number.isInteger(value)) return "not an integer";
    if (p.minimum !== undefined && value < p.minimum) return `below the minimum ${p.minimum}`;
    if (p.maximum !== undefined && value > p.maximum) return `above the maximum ${p.maximum}`;
  }
  if (p.type === "array" && Array.isArray(value)) {
    if (p.minItems !== undefined && value.length < p.minItems) return `choose at least ${p.minItems}`;
    if (p.maxItems !== undefined && value.length > p.maxItems) return `choose at most ${p.maxItems}`;
  }
  return null;
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
