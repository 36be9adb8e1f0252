//! Whether a string is an RFC 6570 URI template: literals, and `{…}` expressions of an optional
//! operator and comma-separated variables, each with an optional `:N` prefix or `*` explode.

/// Ok, or why not.
pub fn check(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("a '}}' with no '{{' at {:?}", &rest[open..]));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("an expression is never closed: {:?}", &rest[open..]))?;
        expression(&after[..close])?;
        rest = &after[close + 1..];
    }
    Ok(())
}

fn expression(body: &str) -> Result<(), String> {
    let vars = match body.chars().next() {
        Some('+' | '#' | '.' | '/' | ';' | '?' | '&') => &body[1..],
        Some(c @ ('=' | ',' | '!' | '@' | '|')) => {
            return Err(format!("the operator {c:?} is reserved"));
        }
        _ => body,
    };
    if vars.is_empty() {
        return Err("an empty expression".into());
    }
    for spec in vars.split(',') {
        let name = match spec.split_once(':') {
            Some((name, len)) => {
                let ok = len.len() <= 4
                    && !len.starts_with('0')
                    && !len.is_empty()
                    && len.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(format!("{spec:?}: a prefix length is 1 to 9999"));
                }
                name
            }
            None => spec.strip_suffix('*').unwrap_or(spec),
        };
        varname(name).map_err(|why| format!("{spec:?}: {why}"))?;
    }
    Ok(())
}

fn varname(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty variable name".into());
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return Err("dots only between name characters".into());
    }
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3);
                if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                    return Err("a '%' not followed by two hex digits".into());
                }
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' => i += 1,
            b => return Err(format!("{:?} is not allowed in a variable name", b as char)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn templates_of_the_rfc_pass_and_broken_ones_say_why() {
        for ok in [
            "file:///{path}",
            "demo://resource/dynamic/text/{resourceId}",
            "http://x/{+path}/here{?q,lang}{&more*}",
            "{/list*}{.ext}{;params}{#frag}",
            "{var:30}",
            "{a.b%20c}",
            "no expressions at all",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("file:///{unclosed", "never closed"),
            ("file:///x}", "no '{'"),
            ("{}", "empty expression"),
            ("{=x}", "reserved"),
            ("{a b}", "not allowed"),
            ("{x:0}", "prefix"),
            ("{x:10000}", "prefix"),
            ("{.}", "empty expression"),
            ("{a,}", "empty variable"),
            ("{a..b}", "dots"),
            ("{a{b}}", "not allowed"),
        ] {
            let err = check(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
