// The safe Markdown renderer (static/js/markdown.js): the tree parse() builds, and what render()
// makes of it in a tiny fake DOM that refuses innerHTML.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, render } from "../../static/js/markdown.js";

const t = (text) => ({ type: "text", text });
const inlines = (src) => {
  const [p] = parse(src);
  assert.equal(p.type, "paragraph", src);
  return p.children;
};
const walk = (nodes, f) => {
  for (const n of nodes) {
    f(n);
    for (const k of ["children", "head"]) if (Array.isArray(n[k])) walk(n[k].flat(), f);
    if (n.items) for (const it of n.items) walk(it.children, f);
    if (n.rows) walk(n.rows.flat(2), f);
  }
};

test("headings: ATX levels, closing hashes, setext", () => {
  assert.deepEqual(parse("# One\n### Three ###\n####### seven"), [
    { type: "heading", level: 1, children: [t("One")] },
    { type: "heading", level: 3, children: [t("Three")] },
    { type: "paragraph", children: [t("####### seven")] },
  ]);
  assert.deepEqual(parse("Title\n=====\nSub\n---").map((b) => [b.type, b.level]), [["heading", 1], ["heading", 2]]);
  assert.equal(parse("#hashtag")[0].type, "paragraph");
});

test("lists: bullets, ordered with a start, one nested level, tight and loose", () => {
  const [ul] = parse("- one\n- two *em*\n  - nested a\n  - nested b\n- three");
  assert.equal(ul.type, "list");
  assert.equal(ul.ordered, false);
  assert.equal(ul.tight, true);
  assert.equal(ul.items.length, 3);
  assert.deepEqual(ul.items[0].children, [{ type: "paragraph", children: [t("one")] }]);
  const [para, nested] = ul.items[1].children;
  assert.deepEqual(para.children, [t("two "), { type: "emphasis", children: [t("em")] }]);
  assert.equal(nested.type, "list");
  assert.deepEqual(nested.items.map((it) => it.children[0].children[0].text), ["nested a", "nested b"]);

  const [ol] = parse("3. three\n4. four");
  assert.deepEqual([ol.ordered, ol.start, ol.items.length], [true, 3, 2]);
  assert.equal(parse("- a\n\n- b")[0].tight, false);
  assert.equal(parse("1. a\n2. b\n\n- c")[0].tight, true, "a blank line before another list keeps this one tight");
  const [a, b] = parse("- a\n+ b");
  assert.deepEqual([a.type, b.type], ["list", "list"], "another bullet character starts another list");
  assert.deepEqual(parse("- a\nlazy")[0].items[0].children[0].children, [t("a\nlazy")]);
});

test("code fences and indented code keep their text verbatim", () => {
  const body = "<script>alert(1)</script>\n  *not em* [x](javascript:y) &amp;\n\n# not a heading";
  assert.deepEqual(parse("```js extra\n" + body + "\n```\nafter"), [
    { type: "codeblock", lang: "js", text: body },
    { type: "paragraph", children: [t("after")] },
  ]);
  assert.deepEqual(parse("~~~~\n```\nstill code\n~~~~"), [{ type: "codeblock", lang: "", text: "```\nstill code" }]);
  assert.deepEqual(parse("```\nunclosed\n\nrest"), [{ type: "codeblock", lang: "", text: "unclosed\n\nrest" }]);
  assert.deepEqual(parse("    a <b>\n\n      c\nd"), [
    { type: "codeblock", lang: "", text: "a <b>\n\n  c" },
    { type: "paragraph", children: [t("d")] },
  ]);
  assert.deepEqual(inlines("use `a  *b*  <i>` here"), [t("use "), { type: "code", text: "a  *b*  <i>" }, t(" here")]);
  assert.deepEqual(inlines("``a ` b``"), [{ type: "code", text: "a ` b" }]);
});

test("raw HTML stays text in the tree", () => {
  const tree = parse('<script>alert("x")</script>\n\n<img src=x onerror=alert(1)>\n\n<div>\n*hi*\n</div>');
  assert.deepEqual(tree[0], { type: "paragraph", children: [t('<script>alert("x")</script>')] });
  assert.deepEqual(tree[1], { type: "paragraph", children: [t("<img src=x onerror=alert(1)>")] });
  assert.deepEqual(tree[2].children, [t("<div>\n"), { type: "emphasis", children: [t("hi")] }, t("\n</div>")]);
  walk(tree, (n) => assert.ok(["paragraph", "text", "emphasis"].includes(n.type), n.type));
});

test("only http(s) links are links; other hrefs become text with the href shown", () => {
  assert.deepEqual(inlines("see [the docs](https://example.com/a_(b) \"Title\") now"), [
    t("see "), { type: "link", href: "https://example.com/a_(b)", children: [t("the docs")] }, t(" now"),
  ]);
  for (const href of ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "/relative", "file:///etc/passwd", "vbscript:x"]) {
    const nodes = inlines(`[click](${href})`);
    walk(nodes, (n) => assert.notEqual(n.type, "link", href));
    assert.deepEqual(nodes, [t(`click (${href})`)]);
  }
  assert.deepEqual(inlines("<https://a.example/x> and <javascript:alert(1)>"), [
    { type: "link", href: "https://a.example/x", children: [t("https://a.example/x")] }, t(" and <javascript:alert(1)>"),
  ]);
  assert.deepEqual(inlines("go to https://example.com/x. Or (http://b.example)"), [
    t("go to "), { type: "link", href: "https://example.com/x", children: [t("https://example.com/x")] },
    t(". Or ("), { type: "link", href: "http://b.example", children: [t("http://b.example")] }, t(")"),
  ]);
  assert.deepEqual(inlines("[https://a.example](https://a.example)"), [
    { type: "link", href: "https://a.example", children: [t("https://a.example")] },
  ]);
  assert.deepEqual(inlines("[not a link] and [1]"), [t("[not a link] and [1]")]);
  assert.deepEqual(inlines("[a [b](http://x) c](http://y)"), [
    t("[a "), { type: "link", href: "http://x", children: [t("b")] }, t(" c]("),
    { type: "link", href: "http://y", children: [t("http://y")] }, t(")"),
  ]);
});

test("images become inert nodes: only strings, never a link or anything to load", () => {
  assert.deepEqual(inlines("![a *cat*](https://example.com/cat.png) x"), [
    { type: "image", alt: "a cat", src: "https://example.com/cat.png" }, t(" x"),
  ]);
  assert.deepEqual(inlines("[![logo](x.png)](https://example.com)"), [
    { type: "link", href: "https://example.com", children: [{ type: "image", alt: "logo", src: "x.png" }] },
  ]);
});

test("emphasis, strong, strikethrough and their nesting", () => {
  const em = (...children) => ({ type: "emphasis", children });
  const strong = (...children) => ({ type: "strong", children });
  assert.deepEqual(inlines("*a* **b** _c_ __d__ ~~e~~"), [
    em(t("a")), t(" "), strong(t("b")), t(" "), em(t("c")), t(" "), strong(t("d")), t(" "), { type: "strikethrough", children: [t("e")] },
  ]);
  assert.deepEqual(inlines("***both***"), [em(strong(t("both")))]);
  assert.deepEqual(inlines("**bold *and em* bold**"), [strong(t("bold "), em(t("and em")), t(" bold"))]);
  assert.deepEqual(inlines("*foo**bar**baz*"), [em(t("foo"), strong(t("bar")), t("baz"))]);
  assert.deepEqual(inlines("snake_case_name and 2 * 3 * 4"), [t("snake_case_name and 2 * 3 * 4")]);
  assert.deepEqual(inlines("*unclosed **also"), [t("*unclosed **also")]);
  assert.deepEqual(inlines("*[a*](http://x)"), [t("*"), { type: "link", href: "http://x", children: [t("a*")] }]);
  assert.deepEqual(inlines("\\*not em\\* a\\\\b"), [t("*not em* a\\b")]);
  assert.deepEqual(inlines("x &amp; &lt;b&gt; &#65; &bogus;"), [t("x & <b> A &bogus;")]);
});

test("line breaks, block quotes, thematic breaks, tables", () => {
  assert.deepEqual(inlines("a  \nb\\\nc\nd"), [t("a"), { type: "break" }, t("b"), { type: "break" }, t("c\nd")]);
  assert.deepEqual(parse("> quoted *x*\nlazy\n> > deeper\n\n---\n***"), [
    { type: "blockquote", children: [
      { type: "paragraph", children: [t("quoted "), { type: "emphasis", children: [t("x")] }, t("\nlazy")] },
      { type: "blockquote", children: [{ type: "paragraph", children: [t("deeper")] }] },
    ] },
    { type: "hr" }, { type: "hr" },
  ]);
  assert.deepEqual(parse("| a | b | c |\n|:--|:-:|--:|\n| 1 | `\\|` | \\| x |\n| only |"), [{
    type: "table", align: ["left", "center", "right"],
    head: [[t("a")], [t("b")], [t("c")]],
    rows: [[[t("1")], [{ type: "code", text: "|" }], [t("| x")]], [[t("only")], [], []]],
  }]);
});

test("deep nesting is bounded instead of recursing without end", () => {
  const tree = parse(">".repeat(5000) + " x\n\n" + "- ".repeat(3000) + "y\n\n" + "*_".repeat(20000) + "z" + "_*".repeat(20000));
  let depth = 0;
  const measure = (nodes, d) => { for (const n of nodes) { depth = Math.max(depth, d); for (const k of ["children"]) if (n[k]) measure(n[k], d + 1); if (n.items) for (const it of n.items) measure(it.children, d + 1); } };
  measure(tree, 1);
  assert.ok(depth < 60, `depth ${depth}`);
});

test("a 1 MB input parses quickly, hostile patterns included", () => {
  const doc = "# Title\n\nSome *text* with `code`, a [link](https://example.com) and **bold _nested_**.\n\n- item\n- item with ![img](x.png)\n\n```\ncode <b>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n";
  const inputs = [
    doc.repeat(Math.ceil(1e6 / doc.length)),
    "*a ".repeat(350000), "[a](".repeat(250000), "`a ``b ".repeat(150000), "_a ".repeat(200000) + "b* ".repeat(200000),
    "[".repeat(1e6), "a" + " ".repeat(1e6) + "\n", "# " + " ".repeat(1e6) + "#x", "<".repeat(1e6), "http://" + "(".repeat(1e6),
    "![".repeat(300000) + "](x)".repeat(100000), "- a\n".repeat(250000), "> a\n".repeat(250000),
  ];
  for (const input of inputs) {
    const t0 = performance.now();
    parse(input);
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `${JSON.stringify(input.slice(0, 12))}… took ${ms.toFixed(0)} ms`);
  }
});

// ---------- render() in a tiny fake DOM ----------

class FakeNode {
  constructor() { this.childNodes = []; }
  appendChild(c) { this.childNodes.push(c); return c; }
  append(...cs) { for (const c of cs) this.appendChild(typeof c === "string" ? new FakeText(c) : c); }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(""); }
}
class FakeText extends FakeNode {
  constructor(data) { super(); this.data = data; }
  get textContent() { return this.data; }
}
class FakeElement extends FakeNode {
  constructor(tag) { super(); this.tagName = tag.toUpperCase(); this.attributes = {}; this.listeners = {}; this.style = {}; this.className = ""; }
  get textContent() { return super.textContent; }
  set textContent(v) { this.childNodes = [new FakeText(String(v))]; }
  set innerHTML(_) { throw new Error("innerHTML must not be used"); }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  addEventListener(type, f) { (this.listeners[type] ??= []).push(f); }
  click() { for (const f of this.listeners.click ?? []) f(); }
  all(pred, out = []) { for (const c of this.childNodes) if (c instanceof FakeElement) { if (pred(c)) out.push(c); c.all(pred, out); } return out; }
}
globalThis.Node = FakeNode;
globalThis.document = { createElement: (tag) => new FakeElement(tag), createTextNode: (s) => new FakeText(String(s)) };

test("render: links are buttons that call onLink; everything else is text", () => {
  const clicked = [];
  const root = render(parse("# Hi <b>\n\n[docs](https://example.com/d) [bad](javascript:alert(1)) ![pic](http://x/p.png)\n\n- a\n- b\n\n```sh\nrm -rf <x>\n```\n\n| n |\n|--:|\n| 1 |"),
    { onLink: (href) => clicked.push(href) });
  assert.equal(root.className, "md");
  const [h1, p, ul, pre, table] = root.childNodes;
  assert.deepEqual([h1.tagName, h1.textContent], ["H1", "Hi <b>"]);
  const [button] = p.all((n) => n.tagName === "BUTTON");
  assert.deepEqual([button.className, button.attributes.type, button.attributes.title, button.textContent], ["md-link", "button", "https://example.com/d", "docs"]);
  assert.deepEqual(clicked, []);
  button.click();
  assert.deepEqual(clicked, ["https://example.com/d"]);
  assert.equal(p.all((n) => n.tagName === "BUTTON").length, 1);
  assert.equal(p.all((n) => n.tagName === "IMG" || n.tagName === "A").length, 0);
  assert.match(p.textContent, /bad \(javascript:alert\(1\)\)/);
  const [img] = p.all((n) => n.className === "md-image");
  assert.deepEqual([img.tagName, img.textContent], ["SPAN", "[image: pic] (http://x/p.png)"]);
  assert.deepEqual([ul.tagName, ul.childNodes.map((li) => li.textContent)], ["UL", ["a", "b"]]);
  assert.deepEqual([pre.tagName, pre.className, pre.attributes["data-lang"], pre.textContent], ["PRE", "md-code", "sh", "rm -rf <x>"]);
  assert.equal(table.className, "md-table");
  assert.equal(table.all((n) => n.tagName === "TD")[0].style.textAlign, "right");
});

test("render: a hand-built tree with an unsafe link still gets no button", () => {
  const root = render([{ type: "paragraph", children: [{ type: "link", href: "javascript:alert(1)", children: [t("x")] }] }], { onLink: () => assert.fail() });
  assert.equal(root.all((n) => n.tagName === "BUTTON").length, 0);
  assert.equal(root.textContent, "x (javascript:alert(1))");
});
