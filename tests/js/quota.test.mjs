// The logs' per-server quota (static/js/quota.js): a server's surplus goes before anyone else's
// entries, wherever it lies; then the oldest of the servers not shown; the shown one's last.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dropped, newestOfEach } from "../../static/js/quota.js";

const keep = (keys, shown, max, total) => {
  const gone = new Set(dropped(keys, shown, max, total));
  return keys.filter((_, i) => !gone.has(i)).join("");
};

test("within both bounds nothing goes", () => {
  assert.deepEqual(dropped([], "a", 2, 4), []);
  assert.deepEqual(dropped(["a", "b", "a", "b"], "a", 2, 4), []);
});

test("a flooding server drops its own oldest, never a quiet one's", () => {
  assert.equal(keep([..."abbbbb"], "b", 2, 100), "abb");
  assert.equal(keep([..."abbbbb"], "a", 2, 100), "abb");
  // The quiet server's entries first in the list, and the total over its bound only because of
  // the flood's surplus: the quiet one keeps everything.
  assert.equal(keep([..."aabbbbbbbb"], "c", 2, 4), "aabb");
});

test("over the total, the oldest of servers not shown go, the shown one's last", () => {
  assert.equal(keep([..."aabbcc"], "a", 2, 4), "aacc");
  assert.equal(keep([..."aabbcc"], "c", 2, 4), "bbcc");
  assert.equal(keep([..."abcabc"], "b", 2, 3), "bbc");
  // Only the shown server is left to drop: it stays within its own bound.
  assert.equal(keep([..."aaa"], "a", 3, 1), "aaa");
});

test("each key keeps its newest, in order", () => {
  const items = [..."abababbbbb"].map((k, i) => ({ k, i }));
  const kept = newestOfEach(items, (x) => x.k, 2);
  assert.deepEqual(kept.map((x) => `${x.k}${x.i}`), ["a2", "a4", "b8", "b9"]);
  assert.deepEqual(newestOfEach([], (x) => x, 1), []);
});
