// The error codes read into words (static/js/errors.js): the modern 400 codes with their data,
// and unknown codes left alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describe } from "../../static/js/errors.js";

test("unsupported version names both sides", () => {
  const d = describe({ code: -32022, message: "no", data: { supported: ["2025-11-25", "2026-07-28"], requested: "2099-01-01" } });
  assert.equal(d.name, "Unsupported protocol version");
  assert.deepEqual(d.facts, [["requested", "2099-01-01"], ["supported", "2025-11-25, 2026-07-28"]]);
});

test("missing capabilities, as a list or an object", () => {
  assert.deepEqual(describe({ code: -32021, data: { requiredCapabilities: ["sampling"] } }).facts, [["required capabilities", "sampling"]]);
  assert.deepEqual(describe({ code: -32021, data: { requiredCapabilities: { elicitation: {}, roots: {} } } }).facts, [["required capabilities", "elicitation, roots"]]);
  assert.deepEqual(describe({ code: -32021 }).facts, []);
});

test("URL elicitations are listed, not opened", () => {
  const d = describe({ code: -32042, data: { elicitations: [{ elicitationId: "e1", url: "https://example.test/x", mode: "url" }] } });
  assert.deepEqual(d.facts, [["elicitation e1", "https://example.test/x"]]);
});

test("unknown codes and junk are left alone", () => {
  assert.equal(describe({ code: 12345 }), null);
  assert.equal(describe(null), null);
  assert.equal(describe("boom"), null);
  assert.equal(describe({ code: -32601 }).name, "Method not found");
});
