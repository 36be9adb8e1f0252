// Renders a form model (schema.js) as inputs: each widget has get() (undefined when an optional
// field is left empty) and set(value), so the raw-JSON box and the form stay in sync both ways.
// Every field shows its type and constraints beside it; required ones are marked. The one
// renderer of schemas as forms: tool arguments, prompt arguments (as the object of strings they
// are) and elicitation requests.

import { el, pretty } from "./dom.js";
import { initialValue, pickVariant } from "./schema.js";

let seq = 0;
const nextId = () => `f${++seq}`;

function label(id, name, m, required) {
  return el("label", { for: id, class: "field-label" },
    el("span", { class: "field-name", text: m.title ? `${m.title} (${name})` : name }),
    required ? el("span", { class: "required", text: " *", title: "required" }) : null,
    el("span", { class: "field-type muted", text: ` ${m.typeLabel}${m.nullable ? " | null" : ""}${m.constraints ? ` · ${m.constraints}` : ""}` }));
}

// An object's fields as a form with a place under each field for what is wrong with its value
// (an elicitation's form, which checks before it answers): each field's name, model, whether
// it is required, its widget and that place.
export function fieldsForm(m, onChange = () => {}) {
  const fields = (m.fields || []).map((f) => {
    const built = field(f.name, f.model, f.required, onChange, true);
    const error = el("div", { class: "field-error", role: "alert" });
    built.node.append(error);
    return { name: f.name, model: f.model, required: f.required, w: built.w, node: built.node, error };
  });
  const node = el("div", { class: "schema-form" }, ...fields.map((f) => f.node));
  return {
    node, fields,
    set: (v) => { for (const f of fields) f.w.set(v?.[f.name]); },
  };
}

// A widget for `m`; `required` decides whether empty means "leave out".
export function widget(m, required, onChange, asked = false) {
  const w = build(m, required, onChange, asked);
  if (!m.nullable) return w;
  const id = nextId();
  const isNull = el("input", { type: "checkbox", id, class: "null-toggle" });
  const node = el("div", { class: "nullable" }, w.node, el("label", { class: "check", for: id }, isNull, "null"));
  isNull.addEventListener("change", () => { w.node.classList.toggle("disabled", isNull.checked); onChange(); });
  return {
    node, focus: w.focus,
    get: () => (isNull.checked ? null : w.get()),
    set: (v) => { isNull.checked = v === null; w.node.classList.toggle("disabled", v === null); if (v !== null) w.set(v); },
  };
}

function build(m, required, onChange, asked) {
  switch (m.kind) {
    case "string": return stringWidget(m, required, onChange, asked);
    case "number": return numberWidget(m, onChange);
    case "boolean": return boolWidget(required, onChange);
    case "select": return selectWidget(m, required, onChange);
    case "multiselect": return multiselectWidget(m, onChange);
    case "object": return objectWidget(m, required, onChange);
    case "map": return mapWidget(m, onChange);
    case "array": return arrayWidget(m, onChange);
    case "tuple": return tupleWidget(m, onChange);
    case "union": return unionWidget(m, required, onChange);
    case "null": return { node: el("span", { class: "muted", text: "null" }), get: () => null, set: () => {} };
    default: return jsonWidget(onChange);
  }
}

function stringWidget(m, required, onChange, asked = false) {
  // A person answering a question picks a date-time; what goes out is RFC 3339.
  if (asked && m.format === "date-time") return dateTimeWidget(onChange);
  const type = { email: "email", uri: "url", date: "date" }[m.format] || "text";
  const input = el("input", { type, id: nextId(), minlength: m.minLength, maxlength: m.maxLength, spellcheck: "false", placeholder: m.format === "date-time" ? "2026-01-31T12:00:00Z" : undefined });
  input.addEventListener("input", onChange);
  return { node: input, input, focus: () => input.focus(), get: () => (input.value === "" && !required ? undefined : input.value), set: (v) => { input.value = v === undefined ? "" : String(v); } };
}

function dateTimeWidget(onChange) {
  const input = el("input", { type: "datetime-local", id: nextId() });
  input.addEventListener("input", onChange);
  return {
    node: input, input, focus: () => input.focus(),
    get: () => {
      if (input.value === "") return undefined;
      return Number.isNaN(Date.parse(input.value)) ? input.value : new Date(input.value).toISOString();
    },
    set: (v) => {
      const d = typeof v === "string" ? new Date(v) : null;
      // The picker shows local time to the minute.
      const local = d && !Number.isNaN(d.getTime()) ? new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16) : "";
      input.value = local;
    },
  };
}

function numberWidget(m, onChange) {
  const input = el("input", { type: "number", id: nextId(), min: m.minimum, max: m.maximum, step: m.integer ? "1" : "any" });
  input.addEventListener("input", onChange);
  return {
    node: input, input, focus: () => input.focus(),
    get: () => (input.value.trim() === "" ? undefined : Number(input.value)),
    set: (v) => { input.value = v === undefined || v === null ? "" : String(v); },
  };
}

function boolWidget(required, onChange) {
  if (required) {
    const input = el("input", { type: "checkbox", id: nextId() });
    input.addEventListener("change", onChange);
    return { node: input, input, get: () => input.checked, set: (v) => { input.checked = v === true; } };
  }
  const select = el("select", { id: nextId() }, el("option", { value: "", text: "(unset)" }), el("option", { value: "true", text: "true" }), el("option", { value: "false", text: "false" }));
  select.addEventListener("change", onChange);
  return { node: select, input: select, get: () => (select.value === "" ? undefined : select.value === "true"), set: (v) => { select.value = v === undefined ? "" : String(v === true); } };
}

function selectWidget(m, required, onChange) {
  const select = el("select", { id: nextId() },
    required && m.options.length ? null : el("option", { value: "", text: "(unset)" }),
    ...m.options.map((o, i) => el("option", { value: String(i), text: optionText(o) })));
  select.addEventListener("change", onChange);
  return {
    node: select, input: select,
    get: () => (select.value === "" ? undefined : m.options[Number(select.value)].value),
    set: (v) => {
      const i = m.options.findIndex((o) => JSON.stringify(o.value) === JSON.stringify(v));
      select.value = i >= 0 ? String(i) : "";
    },
  };
}

// A choice as a person reads it: its title, and the value the server gets when they differ.
function optionText(o) {
  if (o.title === String(o.value)) return o.title;
  return `${o.title} (${typeof o.value === "string" ? o.value : JSON.stringify(o.value)})`;
}

// Checkboxes, one per choice; the value is the chosen ones in the schema's order ([] when none
// is: a tool gets an empty list, as from an empty list widget).
function multiselectWidget(m, onChange) {
  const id = nextId();
  const boxes = m.options.map((o, i) => {
    const box = el("input", { type: "checkbox", id: i === 0 ? id : `${id}-${i}` });
    box.addEventListener("change", onChange);
    return box;
  });
  const node = el("div", { class: "multi" }, ...boxes.map((b, i) => el("label", { class: "check", for: b.id }, b, optionText(m.options[i]))));
  return {
    node, input: boxes[0], focus: () => boxes[0]?.focus(),
    get: () => {
      return m.options.filter((_, i) => boxes[i].checked).map((o) => o.value);
    },
    set: (v) => {
      const wanted = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      m.options.forEach((o, i) => { boxes[i].checked = wanted.has(JSON.stringify(o.value)); });
    },
  };
}

// `asked`: a field the person is asked about (an elicitation's), where a yes/no is a checkbox
// whatever `required` says, as clients show one; elsewhere an optional boolean may be unset.
function field(name, m, required, onChange, asked = false) {
  const w = widget(m, required || (asked && m.kind === "boolean"), onChange, asked);
  const id = w.input?.id || w.node.id || nextId();
  if (!w.node.id && !w.input) w.node.id = id;
  return {
    name, w,
    node: el("div", { class: `field kind-${m.kind}`, "data-field": name },
      label(id, name, m, required),
      m.description ? el("div", { class: "field-desc muted", text: m.description }) : null,
      w.node),
  };
}

function objectWidget(m, required, onChange) {
  const fields = m.fields.map((f) => field(f.name, f.model, f.required, onChange));
  const extra = m.extra ? mapWidget({ values: m.extra }, onChange, "Additional properties") : null;
  const node = el("fieldset", { class: "object" }, ...fields.map((f) => f.node), extra ? extra.node : null);
  return {
    node,
    focus: () => fields[0]?.w.focus?.(),
    get: () => {
      const out = {};
      for (const f of fields) {
        const v = f.w.get();
        if (v !== undefined) out[f.name] = v;
      }
      if (extra) Object.assign(out, extra.get() || {});
      return !required && Object.keys(out).length === 0 ? undefined : out;
    },
    set: (v) => {
      const obj = v && typeof v === "object" && !Array.isArray(v) ? v : {};
      for (const f of fields) f.w.set(obj[f.name]);
      if (extra) {
        const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => !fields.some((f) => f.name === k)));
        extra.set(rest);
      }
    },
  };
}

function rowControls(li, list, onChange, reorder = true) {
  const move = (dir) => {
    const sib = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (sib) { dir < 0 ? sib.before(li) : sib.after(li); onChange(); }
  };
  return el("span", { class: "row-controls" },
    reorder ? el("button", { type: "button", "aria-label": "Move up", onclick: () => move(-1) }, "↑") : null,
    reorder ? el("button", { type: "button", "aria-label": "Move down", onclick: () => move(1) }, "↓") : null,
    el("button", { type: "button", class: "remove", onclick: () => { li.remove(); list.rows.delete(li); onChange(); } }, "Remove"));
}

function arrayWidget(m, onChange) {
  const ol = el("ol", { class: "array-items" });
  const list = { rows: new Map() };
  const add = (value) => {
    const w = widget(m.items, true, onChange);
    const li = el("li", { class: "array-item" }, w.node);
    li.append(rowControls(li, list, onChange));
    list.rows.set(li, w);
    ol.append(li);
    w.set(value === undefined ? initialValue(m.items, true) : value);
  };
  const node = el("div", { class: "array" }, ol,
    el("button", { type: "button", class: "add-item", onclick: () => { add(); onChange(); } }, "Add item"));
  return {
    node,
    get: () => [...ol.children].map((li) => list.rows.get(li).get()).map((v) => (v === undefined ? null : v)),
    set: (v) => { ol.replaceChildren(); list.rows.clear(); for (const item of Array.isArray(v) ? v : []) add(item); },
  };
}

function tupleWidget(m, onChange) {
  const ws = m.items.map((im) => widget(im, true, onChange));
  return {
    node: el("ol", { class: "tuple" }, ...ws.map((w) => el("li", {}, w.node))),
    get: () => ws.map((w) => { const v = w.get(); return v === undefined ? null : v; }),
    set: (v) => ws.forEach((w, i) => w.set(Array.isArray(v) ? v[i] : undefined)),
  };
}

function mapWidget(m, onChange, legend = null) {
  const ol = el("ol", { class: "map-rows" });
  const list = { rows: new Map() };
  const add = (key = "", value) => {
    const keyInput = el("input", { type: "text", class: "map-key", value: key, placeholder: "key", "aria-label": "key", spellcheck: "false" });
    keyInput.addEventListener("input", onChange);
    const w = widget(m.values, true, onChange);
    const li = el("li", { class: "map-row" }, keyInput, w.node);
    li.append(rowControls(li, list, onChange, false));
    list.rows.set(li, { keyInput, w });
    ol.append(li);
    w.set(value === undefined ? initialValue(m.values, true) : value);
  };
  const node = el("div", { class: "map" }, legend ? el("div", { class: "muted", text: legend }) : null, ol,
    el("button", { type: "button", class: "add-item", onclick: () => { add(); onChange(); } }, "Add entry"));
  return {
    node,
    get: () => {
      const out = {};
      for (const li of ol.children) {
        const { keyInput, w } = list.rows.get(li);
        if (keyInput.value !== "") out[keyInput.value] = w.get() ?? null;
      }
      return out;
    },
    set: (v) => { ol.replaceChildren(); list.rows.clear(); for (const [k, val] of Object.entries(v && typeof v === "object" ? v : {})) add(k, val); },
  };
}

function unionWidget(m, required, onChange) {
  const picker = el("select", { id: nextId(), class: "variant-picker", "aria-label": "variant" },
    ...m.variants.map((v, i) => el("option", { value: String(i), text: v.title })));
  const slot = el("div", { class: "variant" });
  let current = null;
  const show = (i, value) => {
    current = widget(m.variants[i].model, true, onChange);
    slot.replaceChildren(current.node);
    current.set(value === undefined ? initialValue(m.variants[i].model, true) : value);
  };
  picker.addEventListener("change", () => { show(Number(picker.value)); onChange(); });
  show(0);
  return {
    node: el("div", { class: "union" }, picker, slot), input: picker,
    get: () => current.get(),
    set: (v) => {
      if (v === undefined) { if (!required) return; show(Number(picker.value)); return; }
      const i = pickVariant(m.variants, v);
      picker.value = String(i);
      show(i, v);
    },
  };
}

function jsonWidget(onChange) {
  const area = el("textarea", { rows: 2, class: "json-input", spellcheck: "false", id: nextId(), placeholder: "any JSON" });
  area.addEventListener("input", onChange);
  return {
    node: area, input: area,
    get: () => { if (area.value.trim() === "") return undefined; try { return JSON.parse(area.value); } catch { return area.value; } },
    set: (v) => { area.value = v === undefined ? "" : pretty(v); },
  };
}
