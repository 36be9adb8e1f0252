// Line diff for comparing two results (say two pretty-printed JSON answers). `diffLines(a, b)`
// gives {lines: [{op: "same" | "add" | "del", text}], coarse} and `summary(lines)` counts the
// changes. The common prefix and suffix are cut first, then Myers' O((N+M)·D) algorithm runs on
// the middle; when that middle is too long (MAX_LINES a side) or too different (MAX_EDITS), it
// is shown whole as removed then added, and `coarse` says so. Within each changed run the
// removed lines come before the added ones.

export const MAX_LINES = 4000;
export const MAX_EDITS = 1000;

const toLines = (s) => {
  if (Array.isArray(s)) return s;
  const lines = String(s ?? "").split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop(); // "" has no lines; a final newline adds none
  return lines;
};

export function diffLines(a, b, { maxLines = MAX_LINES, maxEdits = MAX_EDITS } = {}) {
  const x = toLines(a), y = toLines(b);
  let pre = 0, suf = 0;
  while (pre < x.length && pre < y.length && x[pre] === y[pre]) pre++;
  while (suf < x.length - pre && suf < y.length - pre && x[x.length - 1 - suf] === y[y.length - 1 - suf]) suf++;
  const xm = x.slice(pre, x.length - suf), ym = y.slice(pre, y.length - suf);
  const middle = xm.length <= maxLines && ym.length <= maxLines ? myers(xm, ym, maxEdits) : null;
  const same = (text) => ({ op: "same", text });
  const lines = x.slice(0, pre).map(same).concat(
    middle ?? xm.map((text) => ({ op: "del", text })).concat(ym.map((text) => ({ op: "add", text }))),
    x.slice(x.length - suf).map(same));
  return { lines, coarse: !middle };
}

export function summary(lines) {
  let added = 0, removed = 0;
  for (const l of Array.isArray(lines) ? lines : lines.lines) {
    if (l.op === "add") added++;
    else if (l.op === "del") removed++;
  }
  return { added, removed };
}

// The shortest edit script from a to b, or null when it needs more than maxD edits.
function myers(a, b, maxD) {
  const ids = new Map(), id = (s) => { let v = ids.get(s); if (v === undefined) ids.set(s, (v = ids.size)); return v; };
  const A = a.map(id), B = b.map(id), n = A.length, m = B.length;
  const off = n + m + 1, v = new Int32Array(2 * off + 1); // v[off + k]: furthest x on diagonal k
  const trace = []; // trace[d][k + d + 1]: v before round d, for diagonals -d-1 … d+1
  for (let d = 0; d <= Math.min(n + m, maxD); d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) return script(trace, a, b);
    }
  }
  return null;
}

function script(trace, a, b) {
  const out = [];
  let x = a.length, y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const v = trace[d], at = (k) => v[k + d + 1], k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const px = at(prevK), py = px - prevK;
    while (x > px && y > py) out.push({ op: "same", text: a[--x] }), y--;
    if (d > 0) out.push(x === px ? { op: "add", text: b[--y] } : { op: "del", text: a[--x] });
  }
  const ordered = [], dels = [], adds = []; // in each run of changes, removals first
  for (let i = out.length - 1; i >= 0; i--) {
    const l = out[i];
    if (l.op !== "same") { (l.op === "del" ? dels : adds).push(l); continue; }
    for (const c of dels.concat(adds)) ordered.push(c);
    dels.length = adds.length = 0;
    ordered.push(l);
  }
  for (const c of dels.concat(adds)) ordered.push(c);
  return ordered;
}
