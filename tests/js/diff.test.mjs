// The line diff (static/js/diff.js): exact scripts, removals before additions, and the coarse
// fallback when the middle is too long or too different.
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffLines, summary, MAX_LINES } from "../../static/js/diff.js";

const ops = (r) => r.lines.map((l) => `${{ same: " ", add: "+", del: "-" }[l.op]}${l.text}`);
const side = (r, skip) => r.lines.filter((l) => l.op !== skip).map((l) => l.text);

test("identical texts are all same lines", () => {
  const r = diffLines("a\nb\nc\n", "a\nb\nc");
  assert.deepEqual(ops(r), [" a", " b", " c"]);
  assert.equal(r.coarse, false);
  assert.deepEqual(summary(r.lines), { added: 0, removed: 0 });
  assert.deepEqual(diffLines("", ""), { lines: [], coarse: false });
});

test("insert, delete, change", () => {
  assert.deepEqual(ops(diffLines("a\nc", "a\nb\nc")), [" a", "+b", " c"]);
  assert.deepEqual(ops(diffLines("a\nb\nc", "a\nc")), [" a", "-b", " c"]);
  assert.deepEqual(ops(diffLines("a\nb\nc", "a\nB\nc")), [" a", "-b", "+B", " c"]);
  assert.deepEqual(ops(diffLines("", "x\ny")), ["+x", "+y"]);
  assert.deepEqual(ops(diffLines("x\ny", "")), ["-x", "-y"]);
  const r = diffLines("a\nb\nc\nd\ne", "a\nx\nc\ny\nz\ne");
  assert.deepEqual(ops(r), [" a", "-b", "+x", " c", "-d", "+y", "+z", " e"]);
  assert.deepEqual(summary(r), { added: 3, removed: 2 });
});

test("pretty-printed JSON answers differ by the changed lines only", () => {
  const one = JSON.stringify({ content: [{ type: "text", text: "hi" }], isError: false, n: [1, 2, 3] }, null, 2);
  const two = JSON.stringify({ content: [{ type: "text", text: "hello" }], isError: false, n: [1, 3] }, null, 2);
  const r = diffLines(one, two);
  assert.equal(r.coarse, false);
  assert.deepEqual(r.lines.filter((l) => l.op !== "same").map((l) => l.op + l.text.trim()), [
    'del"text": "hi"', 'add"text": "hello"', "del2,",
  ]);
});

test("a shared prefix and suffix stay same however long they are", () => {
  const head = Array.from({ length: 20000 }, (_, i) => `head ${i}`), tail = Array.from({ length: 20000 }, (_, i) => `tail ${i}`);
  const r = diffLines([...head, "old", ...tail], [...head, "new 1", "new 2", ...tail]);
  assert.equal(r.coarse, false);
  assert.equal(r.lines.length, 40003);
  assert.deepEqual(r.lines.slice(19999, 20004).map((l) => l.op), ["same", "del", "add", "add", "same"]);
  assert.deepEqual(summary(r), { added: 2, removed: 1 });
});

test("the script is a shortest one and rebuilds both sides (random cases against an LCS table)", () => {
  let seed = 7;
  const rand = (n) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let round = 0; round < 300; round++) {
    const a = Array.from({ length: rand(30) }, () => "abcde"[rand(5)]), b = Array.from({ length: rand(30) }, () => "abcde"[rand(5)]);
    const r = diffLines(a, b);
    assert.deepEqual(side(r, "add"), a);
    assert.deepEqual(side(r, "del"), b);
    const lcs = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    assert.equal(r.lines.filter((l) => l.op === "same").length, lcs[0][0]);
    for (let i = 1; i < r.lines.length; i++) assert.ok(!(r.lines[i - 1].op === "add" && r.lines[i].op === "del"), "removals come first");
  }
});

test("too long or too different a middle falls back to one del+add block, flagged coarse", () => {
  const many = (n, p) => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const long = diffLines(["top", ...many(MAX_LINES + 1, "a"), "end"], ["top", ...many(MAX_LINES + 1, "b"), "end"]);
  assert.equal(long.coarse, true);
  assert.deepEqual([long.lines[0], long.lines.at(-1)], [{ op: "same", text: "top" }, { op: "same", text: "end" }]);
  assert.deepEqual(summary(long), { added: MAX_LINES + 1, removed: MAX_LINES + 1 });
  assert.ok(long.lines.slice(1, MAX_LINES + 2).every((l) => l.op === "del"));
  assert.ok(long.lines.slice(MAX_LINES + 2, -1).every((l) => l.op === "add"));

  const t0 = performance.now();
  const different = diffLines(many(3000, "x"), many(3000, "y")); // 6,000 edits, more than MAX_EDITS
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(different.coarse, true);
  assert.deepEqual(summary(different), { added: 3000, removed: 3000 });

  const small = diffLines(many(10, "x"), many(10, "y"), { maxEdits: 5 });
  assert.equal(small.coarse, true);
  assert.equal(diffLines(many(10, "x"), many(10, "y")).coarse, false);
});
