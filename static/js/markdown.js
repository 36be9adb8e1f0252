// Markdown that a server sends (text/markdown resources, text content on request), shown safely.
// `parse(text)` builds a plain tree of blocks and inlines (no DOM, so Node can test it) and
// `render(tree, {onLink})` turns it into DOM with createElement and text nodes only. Raw HTML
// stays literal text; images are never loaded (a span reads "[image: alt] (src)"); only http(s)
// links become buttons, and a click hands the href to onLink, which decides what happens.
// Blocks are read line by line and inlines in one pass with a stack of open delimiters, so the
// work stays about linear on big or hostile input; nesting deeper than the limits below is text.

import { el } from "./dom.js";

const MAX_DEPTH = 6;   // quotes and lists nested deeper than this are read as paragraphs
const MAX_NEST = 32;   // open emphasis and brackets at once; more are literal text
const MAX_DEST = 2048; // how far a link destination and title are looked for

// ---------- blocks ----------

export function parse(text) {
  const lines = String(text ?? "").replace(/\r\n?/g, "\n").split("\n").map(detab);
  return blocks(lines, 0);
}

function detab(line) { // leading tabs become spaces (tab stops of 4)
  let i = 0, col = 0;
  for (; line[i] === " " || line[i] === "\t"; i++) col = line[i] === "\t" ? col + 4 - (col % 4) : col + 1;
  return col !== i ? " ".repeat(col) + line.slice(i) : line;
}

const isBlank = (line) => line.trim() === "";
const indentOf = (line) => { let i = 0; while (line[i] === " ") i++; return i; };
const stripIndent = (line, n) => { let i = 0; while (i < n && line[i] === " ") i++; return line.slice(i); };

const HEADING = /^ {0,3}(#{1,6})(?=[ \t]|$)/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const QUOTE = /^ {0,3}>/;
const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const FENCE_CLOSE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;
const LIST = /^( {0,3})([-+*]|\d{1,9}[.)])(?:([ \t]+)(.*)|$)/;

function fenceOpen(line) {
  const m = FENCE.exec(line);
  if (!m || (m[2][0] === "`" && m[3].includes("`"))) return null;
  return { indent: m[1].length, ch: m[2][0], len: m[2].length, lang: m[3].trim().split(/\s/)[0] };
}

function isBreak(line) { // three or more of one of * - _, spaces and tabs between
  let n = 0, c = "";
  if (indentOf(line) > 3) return false;
  for (const ch of line) {
    if (ch === " " || ch === "\t") continue;
    if (ch !== (c ||= ch) || (ch !== "*" && ch !== "-" && ch !== "_")) return false;
    n++;
  }
  return n >= 3;
}

function listStart(line) {
  const m = LIST.exec(line);
  if (!m) return null;
  const ordered = !"-+*".includes(m[2]), empty = !m[4] || isBlank(m[4]);
  const gap = !m[3] || empty || m[3].length > 4 ? 1 : m[3].length;
  return { ordered, mark: m[2].slice(-1), start: ordered ? parseInt(m[2], 10) : 1, offset: m[1].length + m[2].length + gap, empty };
}

// Can this line end a paragraph (CommonMark's "interrupt")?
function interrupts(line, depth) {
  if (fenceOpen(line) || HEADING.test(line) || isBreak(line)) return true;
  if (depth >= MAX_DEPTH) return false;
  if (QUOTE.test(line)) return true;
  const m = listStart(line);
  return !!m && !m.empty && (!m.ordered || m.start === 1);
}

function blocks(lines, depth) {
  const out = [];
  let i = 0, m;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) i++;
    else if ((m = fenceOpen(line))) i = fenced(lines, i, m, out);
    else if (indentOf(line) >= 4) i = indented(lines, i, out);
    else if ((m = HEADING.exec(line))) {
      out.push({ type: "heading", level: m[1].length, children: inline(headingText(line.slice(m[0].length))) });
      i++;
    } else if (isBreak(line)) { out.push({ type: "hr" }); i++; }
    else if (depth < MAX_DEPTH && QUOTE.test(line)) i = quote(lines, i, depth, out);
    else if (depth < MAX_DEPTH && (m = listStart(line))) i = list(lines, i, m, depth, out);
    else if ((m = tableAt(lines, i))) i = table(lines, i, m, depth, out);
    else i = paragraph(lines, i, depth, out);
  }
  return out;
}

function headingText(s) { // drop a closing run of #s
  s = s.trim();
  let k = s.length;
  while (k > 0 && s[k - 1] === "#") k--;
  return k === 0 ? "" : k < s.length && (s[k - 1] === " " || s[k - 1] === "\t") ? s.slice(0, k).trimEnd() : s;
}

function fenced(lines, i, f, out) {
  const body = [];
  let j = i + 1;
  for (; j < lines.length; j++) {
    const c = FENCE_CLOSE.exec(lines[j]);
    if (c && c[1][0] === f.ch && c[1].length >= f.len) break;
    body.push(stripIndent(lines[j], f.indent));
  }
  out.push({ type: "codeblock", lang: f.lang, text: body.join("\n") });
  return j + 1;
}

function indented(lines, i, out) {
  let end = i;
  for (let j = i; j < lines.length && (isBlank(lines[j]) || indentOf(lines[j]) >= 4); j++) if (!isBlank(lines[j])) end = j + 1;
  out.push({ type: "codeblock", lang: "", text: lines.slice(i, end).map((l) => stripIndent(l, 4)).join("\n") });
  return end;
}

function quote(lines, i, depth, out) {
  const body = [];
  let j = i;
  for (; j < lines.length; j++) {
    const line = lines[j];
    if (QUOTE.test(line)) body.push(detab(line.replace(/^ {0,3}> ?/, "")));
    else if (!isBlank(line) && !isBlank(body[body.length - 1]) && !interrupts(line, depth)) body.push(line); // lazy
    else break;
  }
  out.push({ type: "blockquote", children: blocks(body, depth + 1) });
  return j;
}

function list(lines, i, first, depth, out) {
  const items = [];
  const sibling = (line) => { const m = listStart(line); return m && m.ordered === first.ordered && m.mark === first.mark && !isBreak(line) ? m : null; };
  let j = i, tight = true;
  while (j < lines.length) {
    const m = sibling(lines[j]);
    if (!m) break;
    const body = [lines[j].slice(m.offset)];
    for (j++; j < lines.length; j++) {
      const line = lines[j];
      if (isBlank(line)) body.push("");
      else if (indentOf(line) >= m.offset) body.push(stripIndent(line, m.offset));
      else if (!isBlank(body[body.length - 1]) && !listStart(line) && !interrupts(line, depth)) body.push(line); // lazy
      else break;
    }
    let trailing = 0;
    while (body.length > 1 && isBlank(body[body.length - 1])) { body.pop(); trailing++; }
    if (body.some((l, k) => k > 0 && isBlank(l)) || (trailing && j < lines.length && sibling(lines[j]))) tight = false;
    items.push({ children: blocks(body, depth + 1) });
  }
  out.push({ type: "list", ordered: first.ordered, start: first.start, tight, items });
  return j;
}

function splitRow(line) { // cells of a GFM table row; \| stays in the cell as a pipe
  let s = line.trim();
  if (s.startsWith("|")) s = s.slice(1);
  if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
  const cells = [];
  let from = 0;
  for (let k = 0; k < s.length; k++) {
    if (s[k] === "\\") k++;
    else if (s[k] === "|") { cells.push(s.slice(from, k)); from = k + 1; }
  }
  cells.push(s.slice(from));
  return cells.map((c) => c.trim().replace(/\\\|/g, "|"));
}

function tableAt(lines, i) {
  if (i + 1 >= lines.length || !lines[i].includes("|") || !lines[i + 1].includes("|") || !lines[i + 1].includes("-")) return null;
  const head = splitRow(lines[i]), delim = splitRow(lines[i + 1]);
  if (head.length !== delim.length || !delim.every((c) => /^:?-+:?$/.test(c))) return null;
  const align = delim.map((c) => (c.endsWith(":") ? (c.startsWith(":") ? "center" : "right") : c.startsWith(":") ? "left" : null));
  return { head, align };
}

function table(lines, i, t, depth, out) {
  const rows = [];
  let j = i + 2;
  for (; j < lines.length && !isBlank(lines[j]) && !interrupts(lines[j], depth); j++) {
    const cells = splitRow(lines[j]);
    rows.push(t.head.map((_, k) => inline(cells[k] ?? "")));
  }
  out.push({ type: "table", align: t.align, head: t.head.map((c) => inline(c)), rows });
  return j;
}

function paragraph(lines, i, depth, out) {
  const body = [lines[i].trimStart()];
  let j = i + 1;
  for (; j < lines.length; j++) {
    const line = lines[j];
    if (isBlank(line)) break;
    const s = SETEXT.exec(line);
    if (s) {
      out.push({ type: "heading", level: s[1][0] === "=" ? 1 : 2, children: inline(body.join("\n").trim()) });
      return j + 1;
    }
    if (interrupts(line, depth) || tableAt(lines, j)) break;
    body.push(line.trimStart());
  }
  out.push({ type: "paragraph", children: inline(body.join("\n").trimEnd()) });
  return j;
}

// ---------- inlines ----------

const SPECIAL = new Uint8Array(128); // characters the inline scanner stops at
for (const c of "\\`*_~[]!<&\nh") SPECIAL[c.charCodeAt(0)] = 1;
const ASCII_PUNCT = /[!-/:-@[-`{-~]/;
const PUNCT = /[\p{P}\p{S}]/u;
const AUTOLINK = /<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]{0,2048})>/y;
const BARE_URL = /https?:\/\/[^\s<>]+/y;
const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/y;
const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0", copy: "©", reg: "®", mdash: "—", ndash: "–", hellip: "…" };

const isSpace = (c) => c === undefined || /\s/.test(c);
const isPunct = (c) => c !== undefined && PUNCT.test(c);
export const isWebHref = (href) => /^https?:/i.test(String(href ?? "").trim());

function entityAt(src, i) { // [decoded text, length] or null
  ENTITY.lastIndex = i;
  const m = ENTITY.exec(src);
  if (!m) return null;
  const cp = m[1] ? parseInt(m[1], 10) : m[2] ? parseInt(m[2], 16) : -1;
  if (cp >= 0) return [String.fromCodePoint(cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : cp), m[0].length];
  return Object.hasOwn(NAMED, m[3]) ? [NAMED[m[3]], m[0].length] : null;
}

function unescape(s) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const e = s[i] === "&" && entityAt(s, i);
    if (s[i] === "\\" && ASCII_PUNCT.test(s[i + 1] ?? "")) out += s[++i];
    else if (e) { out += e[0]; i += e[1] - 1; } else out += s[i];
  }
  return out;
}

function append(target, node) { // adjacent text nodes merge
  const kids = target.children, last = kids[kids.length - 1];
  if (node.type === "text" && last && last.type === "text") last.text += node.text;
  else if (node.type !== "text" || node.text) kids.push(node);
}

function plainText(nodes) {
  return nodes.map((n) => (n.type === "text" || n.type === "code" ? n.text : n.type === "break" ? " " : n.type === "image" ? n.alt : plainText(n.children ?? []))).join("");
}

function webLink(href, children) { // a link node for http(s); anything else is text with the href shown
  if (isWebHref(href)) return [{ type: "link", href, children }];
  return href ? [...children, { type: "text", text: ` (${href})` }] : children;
}

function bareUrl(url) { // GFM: trailing punctuation and unbalanced ")" are not part of the URL
  let end = url.length, balance = 0;
  for (const ch of url) balance += ch === "(" ? 1 : ch === ")" ? -1 : 0;
  for (;;) {
    const ch = url[end - 1];
    if (ch === ")" && balance < 0) { balance++; end--; }
    else if (ch && "?!.,:;*_~'\"".includes(ch)) end--;
    else return url.slice(0, end);
  }
}

// `(dest "title")` after "](", scanned no further than `limit`: {href, end} for a link, else
// {end} where the scan gave up (the caller charges what it scanned to a budget).
function destination(src, p, limit) {
  const skip = (q) => { while (q < limit && (src[q] === " " || src[q] === "\n")) q++; return q; };
  let q = skip(p), href;
  if (src[q] === "<") {
    const s = ++q;
    while (q < limit && src[q] !== ">" && src[q] !== "<" && src[q] !== "\n") q += src[q] === "\\" ? 2 : 1;
    if (q >= limit || src[q] !== ">") return { end: q };
    href = src.slice(s, q++);
  } else {
    const s = q;
    for (let depth = 0; q < limit; q++) {
      const ch = src[q];
      if (ch === "\\") q++;
      else if (ch <= " ") break;
      else if (ch === "(" && ++depth > 32) return { end: q }; // cmark's limit on nested parentheses
      else if (ch === ")" && depth-- === 0) break;
    }
    href = src.slice(s, q);
  }
  let r = skip(q);
  if (r > q && (src[r] === '"' || src[r] === "'" || src[r] === "(")) {
    const close = src[r] === "(" ? ")" : src[r];
    for (r++; r < limit && src[r] !== close; r++) if (src[r] === "\\") r++;
    r = skip(r + 1);
  }
  return r < limit && src[r] === ")" ? { href: unescape(href), end: r + 1 } : { end: r };
}

// One pass over `src`. `stack` holds the open frames (root, delimiter runs, brackets); a closer
// finds its opener through `opens` in O(1), and frames it passes over become literal text.
function inline(src) {
  let i = 0;
  while (i < src.length && !SPECIAL[src.charCodeAt(i)]) i++;
  if (i === src.length) return src ? [{ type: "text", text: src }] : []; // the common plain case
  const stack = [{ kind: "root", children: [] }];
  const opens = { "*": [], _: [], "~": [] }; // stack indexes of open delimiter runs, per character
  const brackets = []; // stack indexes of active [ and ![
  const lists = [opens["*"], opens._, opens["~"], brackets];
  const failedTicks = new Set(); // backtick run lengths known to have no closer further on
  let destBudget = 2 * src.length + 4 * MAX_DEST; // link destinations scanned in all, to stay linear
  const buf = [];
  const top = () => stack[stack.length - 1];
  const flush = () => { if (buf.length) { append(top(), { type: "text", text: buf.join("") }); buf.length = 0; } };
  const literal = (f) => (f.kind === "delim" ? f.ch.repeat(f.count) : f.image ? "![" : "[");

  function collapse(idx) { // frames above idx become text in stack[idx], in order
    const target = stack[idx];
    for (let k = idx + 1; k < stack.length; k++) {
      append(target, { type: "text", text: literal(stack[k]) });
      for (const n of stack[k].children) append(target, n);
    }
    stack.length = idx + 1;
    for (const l of lists) while (l.length && l[l.length - 1] > idx) l.pop();
  }

  function open(frame) {
    if (stack.length > MAX_NEST) return false;
    flush();
    if (frame.kind === "delim") opens[frame.ch].push(stack.length);
    else brackets.push(stack.length);
    stack.push(frame);
    return true;
  }

  function close(c, n, both) { // match a closing run of n × c; returns what is left of it
    const list = opens[c], floor = brackets.length ? brackets[brackets.length - 1] : 0;
    while (n > 0 && list.length && list[list.length - 1] > floor) {
      const idx = list[list.length - 1], opener = stack[idx];
      if (c === "~" && opener.count !== n) break;
      if ((both || opener.both) && (opener.orig + n) % 3 === 0 && (opener.orig % 3 || n % 3)) break; // CommonMark's rule of 3
      flush();
      collapse(idx);
      const use = c === "~" ? n : n >= 2 && opener.count >= 2 ? 2 : 1;
      const node = { type: c === "~" ? "strikethrough" : use === 2 ? "strong" : "emphasis", children: opener.children };
      opener.count -= use;
      n -= use;
      if (opener.count > 0) opener.children = [node];
      else { stack.pop(); list.pop(); append(top(), node); }
    }
    return n;
  }

  if (i > 0) buf.push(src.slice(0, i));
  while (i < src.length) {
    let k = i;
    while (k < src.length && !SPECIAL[src.charCodeAt(k)]) k++;
    if (k > i) buf.push(src.slice(i, k));
    if (k === src.length) break;
    i = k;
    const c = src[i];
    if (c === "\\") {
      if (src[i + 1] === "\n") { flush(); append(top(), { type: "break" }); i += 2; }
      else if (ASCII_PUNCT.test(src[i + 1] ?? "")) { buf.push(src[i + 1]); i += 2; }
      else { buf.push(c); i++; }
    } else if (c === "\n") {
      let s = i;
      while (s > 0 && src[s - 1] === " ") s--;
      const last = buf.length ? buf[buf.length - 1] : "";
      let e = last.length;
      while (e > 0 && last[e - 1] === " ") e--;
      if (buf.length) buf[buf.length - 1] = last.slice(0, e);
      if (i - s >= 2) { flush(); append(top(), { type: "break" }); } else buf.push("\n");
      i++;
    } else if (c === "`") {
      let e = i;
      while (src[e] === "`") e++;
      const n = e - i;
      let end = -1;
      if (!failedTicks.has(n)) {
        for (let j = src.indexOf("`", e); j !== -1; j = src.indexOf("`", j)) {
          const s = j;
          while (src[j] === "`") j++;
          if (j - s === n) { end = s; break; }
        }
        if (end < 0) failedTicks.add(n);
      }
      if (end < 0) { buf.push(src.slice(i, e)); i = e; continue; }
      let code = src.slice(e, end).replace(/\n/g, " ");
      if (code.length > 2 && code[0] === " " && code[code.length - 1] === " " && code.trim()) code = code.slice(1, -1);
      flush();
      append(top(), { type: "code", text: code });
      i = end + n;
    } else if (c === "*" || c === "_" || c === "~") {
      let e = i;
      while (src[e] === c) e++;
      const n = e - i, before = src[i - 1], after = src[e];
      const lf = !isSpace(after) && (!isPunct(after) || isSpace(before) || isPunct(before));
      const rf = !isSpace(before) && (!isPunct(before) || isSpace(after) || isPunct(after));
      const canOpen = c === "_" ? lf && (!rf || isPunct(before)) : lf;
      const canClose = c === "_" ? rf && (!lf || isPunct(after)) : rf;
      i = e;
      if (c === "~" && n !== 2) { buf.push(src.slice(i - n, i)); continue; }
      const left = canClose ? close(c, n, canOpen) : n;
      if (left && !(canOpen && open({ kind: "delim", ch: c, count: left, orig: n, both: canClose, children: [] }))) buf.push(c.repeat(left));
    } else if (c === "[" || (c === "!" && src[i + 1] === "[")) {
      const image = c === "!";
      if (!open({ kind: "bracket", image, children: [] })) buf.push(image ? "![" : "[");
      i += image ? 2 : 1;
    } else if (c === "]") {
      i++;
      if (!brackets.length) { buf.push("]"); continue; }
      const idx = brackets[brackets.length - 1];
      const dest = src[i] === "(" && destBudget > 0 ? destination(src, i + 1, Math.min(src.length, i + 1 + MAX_DEST)) : {};
      destBudget -= (dest.end ?? i) - i;
      if (dest.href === undefined) { // not a link: the [ is text again
        brackets.pop();
        buf.push("]");
        if (idx === stack.length - 1) { flush(); collapse(idx - 1); } else stack[idx].kind = "text";
        continue;
      }
      flush();
      collapse(idx);
      const b = stack.pop();
      brackets.pop();
      if (b.image) append(top(), { type: "image", alt: plainText(b.children), src: dest.href });
      else {
        for (const n of webLink(dest.href, b.children)) append(top(), n);
        for (const j of brackets) stack[j].kind = "text"; // no links inside links
        brackets.length = 0;
      }
      i = dest.end;
    } else if (c === "<") {
      AUTOLINK.lastIndex = i;
      const m = AUTOLINK.exec(src);
      if (m && isWebHref(m[1])) { flush(); append(top(), { type: "link", href: m[1], children: [{ type: "text", text: m[1] }] }); i += m[0].length; }
      else { buf.push(m ? m[0] : "<"); i += m ? m[0].length : 1; }
    } else if (c === "&") {
      const e = entityAt(src, i);
      buf.push(e ? e[0] : "&");
      i += e ? e[1] : 1;
    } else if (c === "h" && !brackets.length && !/[\p{L}\p{N}]/u.test(src[i - 1] ?? "")) {
      BARE_URL.lastIndex = i;
      const url = bareUrl(BARE_URL.exec(src)?.[0] ?? "");
      if (url.length > url.indexOf("//") + 2) { flush(); append(top(), { type: "link", href: url, children: [{ type: "text", text: url }] }); i += url.length; }
      else { buf.push(c); i++; }
    } else { buf.push(c); i++; }
  }
  flush();
  collapse(0);
  return stack[0].children;
}

// ---------- DOM ----------

function make(tag, attrs, children) {
  const node = el(tag, attrs);
  for (const c of children) node.appendChild(c);
  return node;
}

export function render(tree, { onLink } = {}) {
  return make("div", { class: "md" }, tree.map((b) => block(b, { onLink, inLink: false })));
}

function block(b, ctx) {
  const kids = (nodes) => nodes.map((n) => inlineNode(n, ctx));
  switch (b.type) {
    case "heading": return make(`h${Math.min(6, Math.max(1, b.level | 0))}`, {}, kids(b.children));
    case "paragraph": return make("p", {}, kids(b.children));
    case "codeblock": return make("pre", { class: "md-code", "data-lang": b.lang || undefined }, [el("code", { text: b.text })]);
    case "blockquote": return make("blockquote", {}, b.children.map((c) => block(c, ctx)));
    case "hr": return el("hr");
    case "list":
      return make(b.ordered ? "ol" : "ul", { start: b.ordered && b.start !== 1 ? b.start : undefined }, b.items.map((item) =>
        make("li", {}, item.children.flatMap((c) => (b.tight && c.type === "paragraph" ? kids(c.children) : [block(c, ctx)])))));
    case "table": {
      const cell = (tag, nodes, align) => { const td = make(tag, {}, kids(nodes)); if (align) td.style.textAlign = align; return td; };
      const row = (cells, tag) => make("tr", {}, cells.map((c, k) => cell(tag, c, b.align[k])));
      return make("table", { class: "md-table" }, [make("thead", {}, [row(b.head, "th")]), make("tbody", {}, b.rows.map((r) => row(r, "td")))]);
    }
    default: return el("p", { text: plainText(b.children ?? []) });
  }
}

function inlineNode(n, ctx) {
  const kids = (nodes, c = ctx) => nodes.map((x) => inlineNode(x, c));
  switch (n.type) {
    case "code": return el("code", { text: n.text });
    case "emphasis": return make("em", {}, kids(n.children));
    case "strong": return make("strong", {}, kids(n.children));
    case "strikethrough": return make("del", {}, kids(n.children));
    case "break": return el("br");
    case "image": return el("span", { class: "md-image", text: `[image${n.alt ? `: ${n.alt}` : ""}]${n.src ? ` (${n.src})` : ""}` });
    case "link":
      if (ctx.inLink) return make("span", {}, kids(n.children));
      if (!isWebHref(n.href)) return make("span", { class: "md-link-text" }, [...kids(n.children), document.createTextNode(` (${n.href})`)]);
      return make("button", { type: "button", class: "md-link", title: n.href, onclick: () => ctx.onLink?.(n.href) },
        kids(n.children, { ...ctx, inLink: true }));
    default: return document.createTextNode(n.text ?? "");
  }
}
