// RFC 6570 URI templates, levels 1–4: `variables(template)` names the inputs a resource
// template needs, `expand(template, values)` builds the URI. Strings, lists and maps;
// prefix (`:n`) and explode (`*`) modifiers; every operator (+ # . / ; ? &).

const OPS = {
  "": { first: "", sep: ",", named: false, ifemp: "", reserved: false },
  "+": { first: "", sep: ",", named: false, ifemp: "", reserved: true },
  "#": { first: "#", sep: ",", named: false, ifemp: "", reserved: true },
  ".": { first: ".", sep: ".", named: false, ifemp: "", reserved: false },
  "/": { first: "/", sep: "/", named: false, ifemp: "", reserved: false },
  ";": { first: ";", sep: ";", named: true, ifemp: "", reserved: false },
  "?": { first: "?", sep: "&", named: true, ifemp: "=", reserved: false },
  "&": { first: "&", sep: "&", named: true, ifemp: "=", reserved: false },
};

const EXPR = /\{([^{}]*)\}/g;

function parse(expr) {
  const op = OPS[expr[0]] && expr[0] !== "" && "+#./;?&".includes(expr[0]) ? expr[0] : "";
  const specs = expr.slice(op.length).split(",").map((raw) => {
    const m = raw.trim().match(/^([A-Za-z0-9_.%]+)(?::(\d{1,4})|(\*))?$/);
    return m ? { name: m[1], prefix: m[2] ? Number(m[2]) : undefined, explode: Boolean(m[3]) } : null;
  }).filter(Boolean);
  return { op, specs };
}

export function variables(template) {
  const names = [];
  for (const m of String(template).matchAll(EXPR)) {
    for (const s of parse(m[1]).specs) if (!names.includes(s.name)) names.push(s.name);
  }
  return names;
}

function encode(text, reserved) {
  let out = "";
  for (const ch of String(text)) {
    if (/[A-Za-z0-9\-._~]/.test(ch)) out += ch;
    else if (reserved && /[:/?#[\]@!$&'()*+,;=]/.test(ch)) out += ch;
    else out += encodeURIComponent(ch).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
  if (reserved) out = out.replace(/%25([0-9A-Fa-f]{2})/g, "%$1"); // keep pct-encoded triplets
  return out;
}

function defined(v) {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

function expandExpr(expr, values) {
  const { op, specs } = parse(expr);
  const o = OPS[op];
  const parts = [];
  for (const spec of specs) {
    const value = values[spec.name];
    if (!defined(value)) continue;
    const enc = (t) => encode(t, o.reserved);
    if (typeof value !== "object") {
      let s = String(value);
      if (spec.prefix !== undefined) s = [...s].slice(0, spec.prefix).join("");
      if (o.named) parts.push(`${spec.name}${s === "" ? o.ifemp : `=${enc(s)}`}`);
      else parts.push(enc(s));
      continue;
    }
    const pairs = Array.isArray(value) ? value.map((v) => [null, v]) : Object.entries(value);
    if (!spec.explode) {
      const joined = pairs.flatMap(([k, v]) => (k === null ? [enc(v)] : [enc(k), enc(v)])).join(",");
      parts.push(o.named ? `${spec.name}${joined === "" ? o.ifemp : `=${joined}`}` : joined);
    } else if (o.named) {
      parts.push(pairs.map(([k, v]) => {
        const key = k === null ? spec.name : k;
        return String(v) === "" ? `${enc(key)}${o.ifemp}` : `${enc(key)}=${enc(v)}`;
      }).join(o.sep));
    } else {
      parts.push(pairs.map(([k, v]) => (k === null ? enc(v) : `${enc(k)}=${enc(v)}`)).join(o.sep));
    }
  }
  return parts.length ? o.first + parts.join(o.sep) : "";
}

export function expand(template, values) {
  return String(template).replace(EXPR, (_, expr) => expandExpr(expr, values || {}));
}
