// Every UI module must at least parse: the browser loads them as ES modules with no build step,
// so one syntax error would blank the whole page.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL("../../static/js/", import.meta.url));

test("every static/js module parses as an ES module", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
  assert.ok(files.length > 5);
  for (const f of files) {
    const r = spawnSync(process.execPath, ["--experimental-default-type=module", "--check", dir + f], { encoding: "utf8" });
    assert.equal(r.status, 0, `${f}: ${r.stderr}`);
  }
});
