//! A structural JSON diff for replay: two answers compared by value (object keys in any order,
//! numbers by value, arrays index by index), each difference named by a JSONPath. Some things
//! differ by nature from run to run and are never reported: progress tokens, session, task and
//! request ids, and two strings that are both RFC 3339 times. The user adds paths of their own
//! with a small JSONPath: `$`, `.key`, `['key']`, `[n]`, `[*]`, `.*` and `..` (any depth).

use serde_json::{Map, Value, json};

/// Keys whose values are per-run by nature.
const PER_RUN_KEYS: &[&str] = &["progressToken", "sessionId", "taskId", "requestId"];

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
enum Pat {
    Key(String),
    Index(usize),
    Any,
    Descend,
}

/// A parsed `--ignore` path.
#[derive(Debug, Clone)]
pub struct Ignore(Vec<Pat>);

impl Ignore {
    pub fn parse(text: &str) -> Result<Ignore, String> {
        let bad = |why: &str| format!("{text:?}: {why}");
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| bad("a JSONPath starts with $"))?;
        let mut pats = Vec::new();
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' if b.get(i + 1) == Some(&b'.') => {
                    pats.push(Pat::Descend);
                    i += 2;
                    if b.get(i) == Some(&b'[') {
                        continue;
                    }
                    let end = name_end(b, i);
                    if end == i {
                        return Err(bad("a name after .."));
                    }
                    pats.push(name(&rest[i..end]));
                    i = end;
                }
                b'.' => {
                    let end = name_end(b, i + 1);
                    if end == i + 1 {
                        return Err(bad("a name after ."));
                    }
                    pats.push(name(&rest[i + 1..end]));
                    i = end;
                }
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .map(|c| c + i)
                        .ok_or_else(|| bad("an unclosed ["))?;
                    let inner = rest[i + 1..close].trim();
                    pats.push(if inner == "*" {
                        Pat::Any
                    } else if let Ok(n) = inner.parse() {
                        Pat::Index(n)
                    } else if let Some(q) = inner
                        .strip_prefix('\'')
                        .and_then(|s| s.strip_suffix('\''))
                        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                    {
                        Pat::Key(q.to_owned())
                    } else {
                        return Err(bad("[…] holds *, a number or a quoted key"));
                    });
                    i = close + 1;
                }
                _ => return Err(bad("expected . or [")),
            }
        }
        Ok(Ignore(pats))
    }

    /// Whether the path (or one of its ancestors) is ignored.
    fn covers(&self, path: &[Seg]) -> bool {
        fn go(p: &[Pat], s: &[Seg]) -> bool {
            match p.split_first() {
                None => true,
                Some((Pat::Descend, rest)) => (0..=s.len()).any(|k| go(rest, &s[k..])),
                Some((pat, rest)) => match s.split_first() {
                    None => false,
                    Some((seg, more)) => {
                        let ok = match (pat, seg) {
                            (Pat::Any, _) => true,
                            (Pat::Key(a), Seg::Key(b)) => a == b,
                            (Pat::Index(a), Seg::Index(b)) => a == b,
                            _ => false,
                        };
                        ok && go(rest, more)
                    }
                },
            }
        }
        go(&self.0, path)
    }
}

fn name_end(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < b.len() && b[end] != b'.' && b[end] != b'[' {
        end += 1;
    }
    end
}

fn name(s: &str) -> Pat {
    if s == "*" {
        Pat::Any
    } else {
        Pat::Key(s.to_owned())
    }
}

/// The differences between a recorded and a replayed value: `{path, recorded, replayed}`, a
/// side left out when the value is absent there.
pub fn diff(recorded: &Value, replayed: &Value, ignore: &[Ignore]) -> Vec<Value> {
    let mut out = Vec::new();
    walk(
        Some(recorded),
        Some(replayed),
        &mut Vec::new(),
        ignore,
        &mut out,
    );
    out
}

fn walk(
    a: Option<&Value>,
    b: Option<&Value>,
    path: &mut Vec<Seg>,
    ignore: &[Ignore],
    out: &mut Vec<Value>,
) {
    if ignore.iter().any(|i| i.covers(path)) {
        return;
    }
    if let Some(Seg::Key(k)) = path.last()
        && PER_RUN_KEYS.contains(&k.as_str())
    {
        return;
    }
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys.cloned().collect::<Vec<_>>() {
                path.push(Seg::Key(k.clone()));
                walk(x.get(&k), y.get(&k), path, ignore, out);
                path.pop();
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            for i in 0..x.len().max(y.len()) {
                path.push(Seg::Index(i));
                walk(x.get(i), y.get(i), path, ignore, out);
                path.pop();
            }
        }
        (Some(x), Some(y)) if same_scalar(x, y) => {}
        (a, b) => {
            let mut d = Map::new();
            d.insert("path".into(), json!(render(path)));
            if let Some(a) = a {
                d.insert("recorded".into(), a.clone());
            }
            if let Some(b) = b {
                d.insert("replayed".into(), b.clone());
            }
            out.push(Value::Object(d));
        }
    }
}

fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => x == y || (is_time(x) && is_time(y)),
        _ => a == b,
    }
}

fn is_time(s: &str) -> bool {
    s.len() >= 20 && humantime::parse_rfc3339_weak(s.trim_end_matches('Z')).is_ok()
}

fn render(path: &[Seg]) -> String {
    let mut s = String::from("$");
    for seg in path {
        match seg {
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
            Seg::Key(k)
                if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                s.push('.');
                s.push_str(k);
            }
            Seg::Key(k) => s.push_str(&format!("[{}]", json!(k))),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_named_by_path_and_per_run_values_are_not() {
        let a = json!({"result": {"content": [{"type": "text", "text": "Echo: hi"}], "n": 1.0,
                      "_meta": {"progressToken": 3}, "at": "2026-11-22T10:00:00.123Z", "x-y": 1}});
        let b = json!({"result": {"n": 1, "content": [{"type": "text", "text": "Echo (altered): hi"}, {"type": "text", "text": "more"}],
                      "_meta": {"progressToken": 9}, "at": "2026-11-22T11:30:00Z", "x-y": 2}});
        let d = diff(&a, &b, &[]);
        assert_eq!(
            d,
            vec![
                json!({"path": "$.result.content[0].text", "recorded": "Echo: hi", "replayed": "Echo (altered): hi"}),
                json!({"path": "$.result.content[1]", "replayed": {"type": "text", "text": "more"}}),
                json!({"path": "$.result[\"x-y\"]", "recorded": 1, "replayed": 2}),
            ]
        );
        let ignore = [
            Ignore::parse("$.result.content[*].text").unwrap(),
            Ignore::parse("$..['x-y']").unwrap(),
        ];
        assert_eq!(
            diff(&a, &b, &ignore).len(),
            1,
            "only the added block is left"
        );
        let all = [
            Ignore::parse("$.result.content").unwrap(),
            Ignore::parse("$..x-y").unwrap(),
        ];
        assert!(diff(&a, &b, &all).is_empty());
    }

    #[test]
    fn jsonpaths_outside_the_subset_are_refused() {
        for bad in ["result.x", "$.", "$[x]", "$.a[", "$..", "$a"] {
            assert!(Ignore::parse(bad).is_err(), "{bad}");
        }
    }
}
