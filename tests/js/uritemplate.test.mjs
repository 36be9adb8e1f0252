// RFC 6570 expansion (static/js/uritemplate.js) against the RFC's own examples, levels 1–4.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expand, variables } from "../../static/js/uritemplate.js";

const v = {
  count: ["one", "two", "three"], dom: ["example", "com"], dub: "me/too", hello: "Hello World!",
  half: "50%", var: "value", who: "fred", base: "http://example.com/home/", path: "/foo/bar",
  list: ["red", "green", "blue"], keys: { semi: ";", dot: ".", comma: "," }, v: "6", x: "1024",
  y: "768", empty: "", empty_keys: {}, undef: null,
};

const cases = [
  // Level 1
  ["{var}", "value"], ["{hello}", "Hello%20World%21"],
  // Level 2
  ["{+var}", "value"], ["{+hello}", "Hello%20World!"], ["{+path}/here", "/foo/bar/here"],
  ["here?ref={+path}", "here?ref=/foo/bar"], ["X{#var}", "X#value"], ["X{#hello}", "X#Hello%20World!"],
  // Level 3
  ["map?{x,y}", "map?1024,768"], ["{x,hello,y}", "1024,Hello%20World%21,768"],
  ["{+x,hello,y}", "1024,Hello%20World!,768"], ["{+path,x}/here", "/foo/bar,1024/here"],
  ["{#x,hello,y}", "#1024,Hello%20World!,768"], ["X{.var}", "X.value"], ["X{.x,y}", "X.1024.768"],
  ["{/var}", "/value"], ["{/var,x}/here", "/value/1024/here"], ["{;x,y}", ";x=1024;y=768"],
  ["{;x,y,empty}", ";x=1024;y=768;empty"], ["{?x,y}", "?x=1024&y=768"], ["{?x,y,empty}", "?x=1024&y=768&empty="],
  ["?fixed=yes{&x}", "?fixed=yes&x=1024"], ["{&x,y,empty}", "&x=1024&y=768&empty="],
  // Level 4
  ["{var:3}", "val"], ["{var:30}", "value"], ["{list}", "red,green,blue"], ["{list*}", "red,green,blue"],
  ["{keys}", "semi,%3B,dot,.,comma,%2C"], ["{keys*}", "semi=%3B,dot=.,comma=%2C"],
  ["{+path:6}/here", "/foo/b/here"], ["{+list*}", "red,green,blue"], ["{+keys*}", "semi=;,dot=.,comma=,"],
  ["{#keys*}", "#semi=;,dot=.,comma=,"], ["X{.list*}", "X.red.green.blue"], ["{/list*,path:4}", "/red/green/blue/%2Ffoo"],
  ["{;list*}", ";list=red;list=green;list=blue"], ["{;keys*}", ";semi=%3B;dot=.;comma=%2C"],
  ["{?list*}", "?list=red&list=green&list=blue"], ["{?keys*}", "?semi=%3B&dot=.&comma=%2C"],
  ["{&keys*}", "&semi=%3B&dot=.&comma=%2C"], ["{?undef,empty_keys}", ""], ["{+half}", "50%25"],
];

test("the RFC 6570 examples expand as the RFC says", () => {
  for (const [template, want] of cases) assert.equal(expand(template, v), want, template);
});

test("the variables of a template, once each, in order", () => {
  assert.deepEqual(variables("demo://resource/dynamic/text/{resourceId}"), ["resourceId"]);
  assert.deepEqual(variables("file:///{+path}{?q,lang}{&q}"), ["path", "q", "lang"]);
});
