// Which entries a list shared by several servers keeps (logs.js): each server its newest `max`,
// all of them `total` together, the shown server's last to go. Pure, so Node tests it.

// Indices (ascending) of the entries to drop, given each entry's server key, oldest first (a
// server's entries are in order, whatever the other servers' around them). A server's surplus
// over `max` goes first, wherever it lies; then, while more than `total` remain, the oldest
// entries of servers other than `shown`.
export function dropped(keys, shown, max, total) {
  const per = new Map();
  for (const k of keys) per.set(k, (per.get(k) ?? 0) + 1);
  let over = 0;
  for (const n of per.values()) over += Math.max(0, n - max);
  let excess = keys.length - over - total;
  const out = [];
  for (let i = 0; i < keys.length && (over > 0 || excess > 0); i++) {
    const k = keys[i];
    const n = per.get(k);
    if (n > max) over--;
    else if (excess > 0 && k !== shown) excess--;
    else continue;
    per.set(k, n - 1);
    out.push(i);
  }
  return out;
}

// Each key's newest `max` of `items` (oldest first), in order: a flood from one server must not
// cut another's.
export function newestOfEach(items, keyOf, max) {
  const per = new Map();
  const keep = [];
  for (let i = items.length - 1; i >= 0; i--) {
    const k = keyOf(items[i]);
    const n = (per.get(k) ?? 0) + 1;
    per.set(k, n);
    if (n <= max) keep.push(items[i]);
  }
  return keep.reverse();
}
