// The page's state per session, in one place: what the views keep about each session (the item
// it had open and its search, its tasks, its authorization flow, its last replay report, the
// calls of each item), read
// by the views and dropped when the session is removed. State that is not per session (the
// timeline's rows, the dock's layout) stays with its view.

const sessions = new Map();

function blank() {
  return {
    // "kind:key" of the item open when the page left the session (null: none; undefined: not
    // known yet).
    view: undefined,
    search: "",
    // taskId → the latest task view (the Tasks tab).
    tasks: new Map(),
    // The authorization flow's steps and view (the OAuth debugger), or null.
    auth: null,
    // The last replay report (the Findings tab), or null.
    replay: null,
    // "kind:key" of an item → its calls, newest first (the work area's history).
    history: new Map(),
  };
}

// The session's state, made on first use.
export function of(id) {
  if (!sessions.has(id)) sessions.set(id, blank());
  return sessions.get(id);
}

// The session's state if the page has any.
export function peek(id) {
  return sessions.get(id);
}

// The session was removed.
export function forget(id) {
  sessions.delete(id);
}

// Every session the page keeps state for: [id, state] pairs.
export function all() {
  return [...sessions];
}
