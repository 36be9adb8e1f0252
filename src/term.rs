//! Text for a terminal. Servers and recording files choose the strings mcpscope prints (titles,
//! descriptions, stderr lines, error messages); a terminal obeys control characters in them
//! (ESC sequences set the window title, clear the screen, write the clipboard through OSC 52),
//! so every text report and every line passed through goes out through here. JSON output keeps
//! its meaning: serde already escapes C0 controls there, and the C1 controls and DEL that it
//! does not are written as `\u` escapes.

use std::borrow::Cow;

/// Controls, line separators, and the bidirectional overrides that reorder what a terminal
/// or a dialog shows (a line can be made to read as another).
fn is_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// For text: every control character except newline and tab becomes visible (`\x1b`,
/// `\u{9b}`), so it reaches the terminal as text.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, is_control, |out, c| {
        if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    })
}

/// For JSON text: the control characters serde leaves as they are become `\u` escapes, which
/// read back as the same string. Outside strings JSON has only ASCII punctuation, whitespace
/// and literals, so every control character met is inside a string, or is whitespace kept.
pub fn json(s: &str) -> Cow<'_, str> {
    escape(
        s,
        |c| is_control(c) && c != '\r',
        |out, c| out.push_str(&format!("\\u{:04x}", c as u32)),
    )
}

/// `s` with every character `needs` says written by `write` instead; borrowed when none is.
fn escape(
    s: &str,
    needs: impl Fn(char) -> bool,
    write: impl Fn(&mut String, char),
) -> Cow<'_, str> {
    if !s.chars().any(&needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs(c) {
            write(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reach_the_terminal_as_text() {
        let hostile = "title\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m ok\tend\n";
        assert_eq!(
            text(hostile),
            "title\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m ok\tend\n"
        );
        assert!(matches!(text("plain ✓"), Cow::Borrowed(_)));
        let as_json = serde_json::to_string("a\u{1b}b\u{9b}c\u{7f}").unwrap();
        let safe = json(&as_json);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe}");
        assert_eq!(
            serde_json::from_str::<String>(&safe).unwrap(),
            "a\u{1b}b\u{9b}c\u{7f}"
        );
    }
}
