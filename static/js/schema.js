// JSON Schema → form model, with no DOM: what each field is (string, number, boolean, select,
// object, map, array, tuple, union, free JSON), its constraints, default and nullability. It
// reads 2020-12 and draft-07 as servers write them: $ref/$defs/definitions inside the document
// (never fetched), allOf merged, `type: [T, "null"]` and anyOf-with-null as nullable, enums and
// titled const alternatives as selects, real unions as variants, prefixItems and draft-07
// tuple `items`; an array of choices as a multi-select. `check` tells what a value breaks. The
// form (form.js) renders this model for tools, prompts and elicitation; tests/js checks it
// under Node.

const MAX_DEPTH = 32;

function pointer(root, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#")) return undefined;
  const parts = ref.slice(1).split("/").filter((p, i) => i > 0 || p !== "");
  let node = root;
  for (const raw of parts) {
    const key = decodeURIComponent(raw.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

// Follows local $refs (siblings of $ref win, as in 2020-12) and merges allOf.
export function resolve(schema, root, depth = 0) {
  if (schema === true || schema === undefined || schema === null) return {};
  if (schema === false || typeof schema !== "object" || depth > MAX_DEPTH) return typeof schema === "object" ? schema : {};
  let s = schema;
  if (typeof s.$ref === "string") {
    const target = pointer(root, s.$ref);
    const { $ref, ...rest } = s;
    s = target === undefined ? { ...rest, "x-unresolved-ref": $ref } : { ...resolve(target, root, depth + 1), ...rest };
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    let merged = { ...rest };
    for (const part of allOf) merged = mergeSchemas(merged, resolve(part, root, depth + 1));
    s = merged;
  }
  return s;
}

function mergeSchemas(a, b) {
  const out = { ...a, ...b };
  if (a.properties || b.properties) out.properties = { ...(a.properties || {}), ...(b.properties || {}) };
  if (a.required || b.required) out.required = [...new Set([...(a.required || []), ...(b.required || [])])];
  if (a.type && b.type && a.type !== b.type) {
    const ta = [].concat(a.type), tb = [].concat(b.type);
    const both = ta.filter((t) => tb.includes(t));
    out.type = both.length === 1 ? both[0] : both;
  }
  return out;
}

function constraintText(s) {
  const parts = [];
  for (const k of ["format", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties"]) {
    if (s[k] !== undefined) parts.push(`${k} ${typeof s[k] === "string" ? s[k] : JSON.stringify(s[k])}`);
  }
  return parts.join(", ");
}

function isNullSchema(s) {
  return s && (s.type === "null" || (Array.isArray(s.type) && s.type.length === 1 && s.type[0] === "null") || s.const === null);
}

function constOptions(alts, root) {
  const resolved = alts.map((a) => resolve(a, root));
  if (!resolved.length || !resolved.every((a) => "const" in a || (Array.isArray(a.enum) && a.enum.length === 1))) return null;
  return resolved.map((a) => {
    const value = "const" in a ? a.const : a.enum[0];
    return { value, title: a.title ?? String(value) };
  });
}

function variantTitle(s, i) {
  if (s.title) return s.title;
  if (s.type) return [].concat(s.type).join(" | ");
  if (s.properties) return `object (${Object.keys(s.properties).join(", ")})`;
  return `variant ${i + 1}`;
}

// The form model of one schema. `name` and `required` describe its place in the parent.
export function model(schema, root = schema, depth = 0) {
  const s = resolve(schema, root, depth);
  const base = {
    title: s.title,
    description: s.description,
    default: s.default,
    constraints: constraintText(s),
    nullable: false,
    schema: s,
  };
  if (depth > MAX_DEPTH) return { ...base, kind: "json", typeLabel: "any (too deep)" };

  let type = s.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== "null");
    if (nonNull.length < type.length) base.nullable = true;
    type = nonNull.length === 1 ? nonNull[0] : nonNull.length === 0 ? "null" : nonNull;
  }

  if (Array.isArray(s.enum)) {
    const names = Array.isArray(s.enumNames) ? s.enumNames : [];
    const options = s.enum.filter((v) => v !== null).map((v, i) => ({ value: v, title: names[i] !== undefined ? String(names[i]) : String(v) }));
    if (s.enum.includes(null)) base.nullable = true;
    return { ...base, kind: "select", options, typeLabel: "enum" };
  }
  if ("const" in s) return { ...base, kind: "select", options: [{ value: s.const, title: s.title ?? JSON.stringify(s.const) }], typeLabel: "const" };

  const alts = Array.isArray(s.oneOf) ? s.oneOf : Array.isArray(s.anyOf) ? s.anyOf : null;
  if (alts) {
    const which = Array.isArray(s.oneOf) ? "oneOf" : "anyOf";
    const nonNull = alts.filter((a) => !isNullSchema(resolve(a, root)));
    const nullable = nonNull.length < alts.length;
    const options = constOptions(nonNull, root);
    if (options) return { ...base, nullable: base.nullable || nullable, kind: "select", options, typeLabel: which };
    if (nonNull.length === 1) {
      const { oneOf, anyOf, ...rest } = s;
      const inner = model({ ...rest, ...resolve(nonNull[0], root) }, root, depth + 1);
      return { ...inner, nullable: true, title: s.title ?? inner.title, description: s.description ?? inner.description, default: s.default ?? inner.default };
    }
    const variants = nonNull.map((a, i) => {
      const m = model(a, root, depth + 1);
      return { title: variantTitle(resolve(a, root), i), model: m };
    });
    return { ...base, nullable: base.nullable || nullable, kind: "union", variants, typeLabel: which };
  }

  if (Array.isArray(type)) {
    // A plain multi-type (e.g. ["string", "number"]): a union of the scalar types.
    const variants = type.map((t) => ({ title: t, model: model({ ...s, type: t }, root, depth + 1) }));
    return { ...base, kind: "union", variants, typeLabel: type.join(" | ") };
  }
  if (!type) {
    if (s.properties || s.additionalProperties !== undefined) type = "object";
    else if (s.items || s.prefixItems) type = "array";
  }

  switch (type) {
    case "string":
      return { ...base, kind: "string", format: s.format, minLength: s.minLength, maxLength: s.maxLength, pattern: s.pattern, typeLabel: s.format ? `string (${s.format})` : "string" };
    case "integer":
    case "number":
      return {
        ...base, kind: "number", integer: type === "integer", format: s.format,
        minimum: s.minimum ?? (typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : undefined),
        maximum: s.maximum ?? (typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : undefined),
        typeLabel: s.format ? `${type} (${s.format})` : type,
      };
    case "boolean":
      return { ...base, kind: "boolean", typeLabel: "boolean" };
    case "null":
      return { ...base, kind: "null", typeLabel: "null" };
    case "object": {
      const required = new Set(Array.isArray(s.required) ? s.required : []);
      const fields = Object.entries(s.properties || {}).map(([name, p]) => ({ name, required: required.has(name), model: model(p, root, depth + 1) }));
      const ap = s.additionalProperties;
      const extra = ap === undefined || ap === false ? null : model(ap === true ? {} : ap, root, depth + 1);
      if (!fields.length && extra) return { ...base, kind: "map", values: extra, typeLabel: "object (map)" };
      return { ...base, kind: "object", fields, extra, typeLabel: "object" };
    }
    case "array": {
      const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : null;
      if (prefix) {
        return { ...base, kind: "tuple", items: prefix.map((p) => model(p, root, depth + 1)), typeLabel: `tuple of ${prefix.length}` };
      }
      // Legacy `enumNames` may sit on the array rather than on its items.
      const itemSchema = s.items && Array.isArray(s.enumNames) && !s.items.enumNames ? { ...s.items, enumNames: s.enumNames } : s.items;
      const items = model(itemSchema ?? {}, root, depth + 1);
      // An array of choices is a set of checkboxes, not a list of selects.
      if (items.kind === "select" && !items.nullable) {
        return { ...base, kind: "multiselect", options: items.options, minItems: s.minItems, maxItems: s.maxItems, typeLabel: `array of ${items.typeLabel}` };
      }
      return { ...base, kind: "array", items, minItems: s.minItems, maxItems: s.maxItems, typeLabel: `array of ${items.typeLabel}` };
    }
    default:
      return { ...base, kind: "json", typeLabel: "any JSON" };
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// The first way `value` breaks what the model `m` says of it, or null: lengths and formats of
// strings, bounds of numbers, how many choices. What a form can tell before anything is sent
// (an elicitation has no server-side check to wait for).
export function check(m, value) {
  if (m.kind === "string" && typeof value === "string") {
    if (m.minLength !== undefined && value.length < m.minLength) return `at least ${m.minLength} characters`;
    if (m.maxLength !== undefined && value.length > m.maxLength) return `at most ${m.maxLength} characters`;
    if (m.format === "email" && !EMAIL.test(value)) return "not an email address";
    if (m.format === "uri") { try { new URL(value); } catch { return "not a URI"; } }
    if (m.format === "date" && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return "not a date (YYYY-MM-DD)";
    if (m.format === "date-time" && Number.isNaN(Date.parse(value))) return "not a date-time";
  }
  if (m.kind === "number") {
    if (!Number.isFinite(value)) return "not a number";
    if (m.integer && !Number.isInteger(value)) return "not an integer";
    if (m.minimum !== undefined && value < m.minimum) return `below the minimum ${m.minimum}`;
    if (m.maximum !== undefined && value > m.maximum) return `above the maximum ${m.maximum}`;
  }
  if ((m.kind === "multiselect" || m.kind === "array") && Array.isArray(value)) {
    if (m.minItems !== undefined && value.length < m.minItems) return `choose at least ${m.minItems}`;
    if (m.maxItems !== undefined && value.length > m.maxItems) return `choose at most ${m.maxItems}`;
  }
  return null;
}

// The value a fresh form starts with: defaults where given, nothing for optional fields.
export function initialValue(m, required = true) {
  if (m.default !== undefined) return m.default;
  switch (m.kind) {
    case "object": {
      const out = {};
      for (const f of m.fields) {
        const v = initialValue(f.model, f.required);
        if (v !== undefined) out[f.name] = v;
      }
      return required || Object.keys(out).length ? out : undefined;
    }
    case "tuple": return required ? m.items.map((i) => initialValue(i, true)) : undefined;
    case "array":
    case "multiselect": return required ? [] : undefined;
    case "map": return required ? {} : undefined;
    case "boolean": return required ? false : undefined;
    case "select": return required && m.options.length === 1 ? m.options[0].value : undefined;
    default: return undefined;
  }
}

// Which union variant a value most likely belongs to (for raw JSON → form).
export function pickVariant(variants, value) {
  const typeOf = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
  const t = typeOf(value);
  let best = 0, bestScore = -1;
  variants.forEach((v, i) => {
    const m = v.model;
    let score = -1;
    if (m.kind === "object" && t === "object") {
      const keys = Object.keys(value);
      score = 1 + keys.filter((k) => m.fields.some((f) => f.name === k)).length - keys.filter((k) => !m.fields.some((f) => f.name === k)).length / 10;
    } else if (m.kind === "string" && t === "string") score = 1;
    else if (m.kind === "number" && (t === "integer" || (t === "number" && !m.integer))) score = 1;
    else if (m.kind === "boolean" && t === "boolean") score = 1;
    else if ((m.kind === "array" || m.kind === "tuple") && t === "array") score = 1;
    else if (m.kind === "select" && m.options.some((o) => JSON.stringify(o.value) === JSON.stringify(value))) score = 2;
    else if (m.kind === "map" && t === "object") score = 0.5;
    else if (m.kind === "json") score = 0.1;
    if (score > bestScore) { bestScore = score; best = i; }
  });
  return best;
}
