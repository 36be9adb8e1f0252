// Unit tests for the schema → form model (static/js/schema.js), run with `node --test`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { check, model, initialValue, pickVariant, resolve } from "../../static/js/schema.js";

test("scalars carry their constraints and formats", () => {
  const m = model({
    type: "object",
    properties: {
      email: { type: "string", format: "email", minLength: 3, maxLength: 80, pattern: "^.+@.+$" },
      when: { type: "string", format: "date-time" },
      n: { type: "integer", minimum: 1, maximum: 10, format: "int64" },
      x: { type: "number", exclusiveMinimum: 0 },
      ok: { type: "boolean", default: true },
    },
    required: ["email"],
  });
  assert.equal(m.kind, "object");
  const [email, when, n, x, ok] = m.fields;
  assert.equal(email.required, true);
  assert.equal(email.model.kind, "string");
  assert.equal(email.model.format, "email");
  assert.equal(email.model.minLength, 3);
  assert.match(email.model.constraints, /maxLength 80/);
  assert.equal(when.model.typeLabel, "string (date-time)");
  assert.deepEqual([n.model.kind, n.model.integer, n.model.minimum, n.model.maximum, n.model.format], ["number", true, 1, 10, "int64"]);
  assert.equal(x.model.minimum, 0);
  assert.equal(ok.model.kind, "boolean");
  assert.deepEqual(initialValue(m), { ok: true });
});

test("enums and titled const alternatives become selects", () => {
  const e = model({ type: "string", enum: ["a", "b"] });
  assert.deepEqual(e.options.map((o) => o.value), ["a", "b"]);
  const legacy = model({ type: "string", enum: ["p1", "p2"], enumNames: ["Cats", "Dogs"] });
  assert.equal(legacy.options[1].title, "Dogs");
  const titled = model({ oneOf: [{ const: "h1", title: "Superman" }, { const: "h2", title: "Batman" }] });
  assert.equal(titled.kind, "select");
  assert.deepEqual(titled.options[0], { value: "h1", title: "Superman" });
  const any = model({ anyOf: [{ const: 1 }, { const: 2 }] });
  assert.equal(any.kind, "select");
});

test("nullable: type arrays and anyOf with null", () => {
  const a = model({ type: ["string", "null"], maxLength: 4 });
  assert.equal(a.kind, "string");
  assert.equal(a.nullable, true);
  const b = model({ anyOf: [{ type: "integer" }, { type: "null" }], description: "maybe" });
  assert.equal(b.kind, "number");
  assert.equal(b.nullable, true);
  assert.equal(b.description, "maybe");
  const c = model({ oneOf: [{ type: "null" }, { const: "x" }, { const: "y" }] });
  assert.equal(c.kind, "select");
  assert.equal(c.nullable, true);
});

test("nested objects to any depth, arrays of objects, maps and tuples", () => {
  const m = model({
    type: "object",
    properties: {
      deep: { type: "object", properties: { deeper: { type: "object", properties: { leaf: { type: "string" } } } } },
      people: { type: "array", items: { type: "object", properties: { name: { type: "string" } }, required: ["name"] }, minItems: 1 },
      tags: { type: "object", additionalProperties: { type: "number" } },
      point: { type: "array", prefixItems: [{ type: "number" }, { type: "number" }] },
      old: { type: "array", items: [{ type: "string" }, { type: "boolean" }] },
    },
  });
  const f = Object.fromEntries(m.fields.map((x) => [x.name, x.model]));
  assert.equal(f.deep.fields[0].model.fields[0].model.kind, "string");
  assert.equal(f.people.kind, "array");
  assert.equal(f.people.items.kind, "object");
  assert.equal(f.people.items.fields[0].required, true);
  assert.equal(f.people.minItems, 1);
  assert.equal(f.tags.kind, "map");
  assert.equal(f.tags.values.kind, "number");
  assert.equal(f.point.kind, "tuple");
  assert.equal(f.point.items.length, 2);
  assert.equal(f.old.kind, "tuple");
  assert.equal(f.old.items[1].kind, "boolean");
});

test("allOf is merged", () => {
  const m = model({ allOf: [
    { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
    { properties: { b: { type: "integer" } }, required: ["b"] },
  ] });
  assert.equal(m.kind, "object");
  assert.deepEqual(m.fields.map((f) => [f.name, f.required]), [["a", true], ["b", true]]);
});

test("real unions offer their variants, and values pick the right one", () => {
  const m = model({ oneOf: [
    { title: "By id", type: "object", properties: { id: { type: "integer" } } },
    { title: "By name", type: "object", properties: { name: { type: "string" } } },
    { type: "string" },
  ] });
  assert.equal(m.kind, "union");
  assert.deepEqual(m.variants.map((v) => v.title), ["By id", "By name", "string"]);
  assert.equal(pickVariant(m.variants, { name: "x" }), 1);
  assert.equal(pickVariant(m.variants, "x"), 2);
  const multi = model({ type: ["string", "number"] });
  assert.equal(multi.kind, "union");
});

test("$ref and $defs (and draft-07 definitions) resolve inside the document only", () => {
  const root = {
    $defs: { Point: { type: "object", properties: { x: { type: "number" } } } },
    definitions: { Name: { type: "string", minLength: 1 } },
    type: "object",
    properties: {
      p: { $ref: "#/$defs/Point", description: "where" },
      n: { $ref: "#/definitions/Name" },
      far: { $ref: "https://example.com/schema.json" },
      self: { $ref: "#" },
    },
  };
  const m = model(root);
  const f = Object.fromEntries(m.fields.map((x) => [x.name, x.model]));
  assert.equal(f.p.kind, "object");
  assert.equal(f.p.description, "where");
  assert.equal(f.n.minLength, 1);
  assert.equal(f.far.kind, "json");
  assert.equal(f.far.schema["x-unresolved-ref"], "https://example.com/schema.json");
  assert.equal(f.self.kind, "object", "a recursive ref is bounded, not infinite");
  assert.equal(resolve({ $ref: "#/nope" }, root)["x-unresolved-ref"], "#/nope");
});

test("defaults prefill, required containers start empty", () => {
  const m = model({ type: "object", properties: {
    a: { type: "string", default: "hi" },
    list: { type: "array", items: { type: "string" } },
    req: { type: "array", items: { type: "string" } },
    b: { type: "boolean" },
  }, required: ["req", "b"] });
  assert.deepEqual(initialValue(m), { a: "hi", req: [], b: false });
  assert.equal(model({}).kind, "json");
  assert.equal(model(true).kind, "json");
});

test("an array of choices is a multi-select, titled as its items or by legacy enumNames", () => {
  const plain = model({ type: "array", items: { type: "string", enum: ["Guitar", "Piano"] }, minItems: 1, maxItems: 3 });
  assert.equal(plain.kind, "multiselect");
  assert.deepEqual(plain.options.map((o) => o.value), ["Guitar", "Piano"]);
  assert.equal(plain.minItems, 1);
  const titled = model({ type: "array", items: { anyOf: [{ const: "fish-1", title: "Tuna" }, { const: "fish-2", title: "Salmon" }] } });
  assert.deepEqual(titled.options.map((o) => o.title), ["Tuna", "Salmon"]);
  const legacy = model({ type: "array", items: { type: "string", enum: ["p1"] }, enumNames: ["Cats"] });
  assert.equal(legacy.options[0].title, "Cats");
  // An array of free values stays a list.
  assert.equal(model({ type: "array", items: { type: "string" } }).kind, "array");
  assert.deepEqual(initialValue(plain, true), []);
  assert.equal(initialValue(plain, false), undefined);
});

test("check says the first way a value breaks its field", () => {
  const str = model({ type: "string", format: "email", minLength: 3 });
  assert.equal(check(str, "a"), "at least 3 characters");
  assert.equal(check(str, "not-an-email"), "not an email address");
  assert.equal(check(str, "grace@example.com"), null);
  assert.equal(check(model({ type: "string", format: "date" }), "31/01/2026"), "not a date (YYYY-MM-DD)");
  assert.equal(check(model({ type: "string", format: "uri" }), "nope"), "not a URI");
  const int = model({ type: "integer", minimum: 1, maximum: 100 });
  assert.equal(check(int, 150), "above the maximum 100");
  assert.equal(check(int, 0), "below the minimum 1");
  assert.equal(check(int, 1.5), "not an integer");
  assert.equal(check(int, 50), null);
  const many = model({ type: "array", items: { enum: ["a", "b", "c"] }, minItems: 1, maxItems: 2 });
  assert.equal(check(many, ["a", "b", "c"]), "choose at most 2");
  assert.equal(check(many, ["a"]), null);
});
