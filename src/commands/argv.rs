//! The official inspector's command lines, made into ours before clap reads them, so
//! `inspector node build/index.js` and `inspector --cli node build/index.js --method tools/list`
//! work with one word changed. There the target comes first and without `--`: every word that is
//! not one of our options (nor the value of one) belongs to it, and a target that starts with
//! `http://` or `https://` is a URL.
//! The rewrite only moves words: our options keep their values, and the target goes after `--`
//! (or into `--url`). Words after an explicit `--` stay the target, as everywhere in mcpscope.

use clap::CommandFactory;

use crate::cli::Args;

/// How one of our options takes values.
#[derive(Clone, Copy, PartialEq)]
enum Takes {
    Nothing,
    One,
    /// `--tool-arg a=1 b=2`: every following word up to the next option.
    Many,
}

/// How `word` takes values, if it is one of our options.
fn takes(command: &clap::Command, word: &str) -> Option<Takes> {
    let (name, inline) = match word.split_once('=') {
        Some((n, _)) if n.starts_with("--") => (n, true),
        _ => (word, false),
    };
    let arg = command.get_arguments().find(|a| {
        if let Some(long) = name.strip_prefix("--") {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long))
        } else if let Some(short) = name.strip_prefix('-').filter(|s| s.chars().count() == 1) {
            a.get_short() == short.chars().next()
        } else {
            false
        }
    })?;
    Some(if inline || !arg.get_action().takes_values() {
        Takes::Nothing
    } else if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
        Takes::Many
    } else {
        Takes::One
    })
}

type Words<'a> = std::iter::Peekable<std::slice::Iter<'a, String>>;

/// Moves our option `word`, which takes values as `kind` says, and its values from `words` to
/// `ours`.
fn take_option(ours: &mut Vec<String>, word: &str, kind: Takes, words: &mut Words<'_>) {
    ours.push(word.to_owned());
    match kind {
        Takes::Nothing => {}
        Takes::One => ours.extend(words.next().cloned()),
        Takes::Many => {
            while let Some(value) = words.next_if(|w| !w.starts_with('-')) {
                ours.push(value.clone());
            }
        }
    }
}

/// A target of one word naming an http(s) URL is a remote server (`--url`).
fn is_url(target: &[String]) -> bool {
    matches!(target, [t] if t.starts_with("http://") || t.starts_with("https://"))
}

/// Rewrites `argv` (program name first) when it is a command line in the official inspector's
/// shape (the target first, no `--`): in CLI mode, or for the inspector itself
/// (`mcpscope node build/index.js`, `mcpscope -e K=v node build/index.js arg1`, a URL); anything
/// else comes back unchanged.
pub fn rewrite(argv: Vec<String>) -> Vec<String> {
    let dashes = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    if !argv[1..dashes].iter().any(|a| a == "--cli") {
        return rewrite_inspector(argv, dashes);
    }
    let command = Args::command();
    let takes = |word: &str| takes(&command, word);
    let mut ours = vec![argv[0].clone()];
    let mut target = Vec::new();
    let mut words = argv[1..dashes].iter().peekable();
    while let Some(word) = words.next() {
        match takes(word) {
            Some(kind) => take_option(&mut ours, word, kind, &mut words),
            // An unknown option before any target is clap's to report; after one it is the
            // server's, as in the official inspector (`server.js --port 3`).
            None if target.is_empty() && word.starts_with('-') => ours.push(word.clone()),
            None => target.push(word.clone()),
        }
    }
    if is_url(&target) {
        ours.push("--url".into());
        ours.append(&mut target);
    }
    let after: &[String] = argv.get(dashes + 1..).unwrap_or_default();
    if !target.is_empty() && dashes < argv.len() {
        // A leading target and `-- COMMAND` both: left where clap refuses the extra words, the
        // right answer for a command line that names two targets.
        ours.append(&mut target);
    }
    if !target.is_empty() || dashes < argv.len() {
        ours.push("--".into());
        ours.append(&mut target);
        ours.extend(after.iter().cloned());
    }
    ours
}

/// The inspector's own line: options first, then the target, every word of which is the
/// server's (`node s.js --port 8080` keeps its `--port`). A subcommand (`dev`, `lint`, …) is
/// never a target.
fn rewrite_inspector(argv: Vec<String>, dashes: usize) -> Vec<String> {
    let command = Args::command();
    let mut ours = vec![argv[0].clone()];
    let mut words = argv[1..dashes].iter().peekable();
    // Our options, up to the first word that is not one: the target.
    while let Some(word) = words.next_if(|w| w.starts_with('-')) {
        match takes(&command, word) {
            Some(kind) => take_option(&mut ours, word, kind, &mut words),
            // An unknown option is clap's to report.
            None => ours.push(word.clone()),
        }
    }
    let target: Vec<String> = words.cloned().collect();
    let is_subcommand = |w: &str| {
        command
            .get_subcommands()
            .any(|s| s.get_name() == w || s.get_all_aliases().any(|a| a == w))
            || w == "help"
    };
    // No target, a subcommand, or a target and `-- COMMAND` both (clap refuses the extra words).
    if target.is_empty() || is_subcommand(&target[0]) || dashes < argv.len() {
        return argv;
    }
    ours.push(if is_url(&target) { "--url" } else { "--" }.into());
    ours.extend(target);
    ours
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn check(from: &str, to: &str) {
        assert_eq!(rewrite(words(from)).join(" "), to, "from: {from}");
    }

    #[test]
    fn the_official_shape_becomes_ours() {
        check(
            "m --cli node build/index.js --method tools/list",
            "m --cli --method tools/list -- node build/index.js",
        );
        check(
            "m --cli node s.js stdio --method tools/call --tool-name add --tool-arg a=1 b=2 --port 3",
            "m --cli --method tools/call --tool-name add --tool-arg a=1 b=2 --port 3 -- node s.js stdio",
        );
        check(
            "m --cli https://h.example/mcp --transport http --method tools/list",
            "m --cli --transport http --method tools/list --url https://h.example/mcp",
        );
        check(
            "m --cli --method=tools/list -e K=v node s.js --verbose-server",
            "m --cli --method=tools/list -e K=v -- node s.js --verbose-server",
        );
    }

    #[test]
    fn our_own_shape_and_non_cli_lines_are_left_alone() {
        check(
            "m --cli --method tools/list -- node s.js --method x",
            "m --cli --method tools/list -- node s.js --method x",
        );
        check("m --port 0 -- node s.js", "m --port 0 -- node s.js");
        check("m dev server.py --with x", "m dev server.py --with x");
        check(
            "m --cli --config c.json --server a --method ping",
            "m --cli --config c.json --server a --method ping",
        );
    }

    #[test]
    fn the_inspectors_own_line_takes_the_target_first_too() {
        check("m node build/index.js", "m -- node build/index.js");
        check(
            "m -e KEY=value node build/index.js arg1",
            "m -e KEY=value -- node build/index.js arg1",
        );
        check(
            "m --port 0 node s.js --port 8080 -e X",
            "m --port 0 -- node s.js --port 8080 -e X",
        );
        check("m https://h.example/mcp", "m --url https://h.example/mcp");
        check("m --no-open", "m --no-open");
        check("m dev server.py", "m dev server.py");
        check("m lint -- node s.js", "m lint -- node s.js");
        check("m node s.js -- other", "m node s.js -- other");
    }

    #[test]
    fn an_unknown_option_before_the_target_is_left_for_clap_to_refuse() {
        check("m --cli --bogus node s.js", "m --cli --bogus -- node s.js");
    }
}
