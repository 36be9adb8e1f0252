//! The catalog of MCP servers the user can connect to. Entries come from two origins: the user's
//! own catalog file, which mcpscope owns and rewrites on every change, and the mcpServers file
//! given with `--config`, which mcpscope only reads (an entry from it can be duplicated into the
//! catalog to be edited). The API addresses entries by name; see [`Catalog::get`] for a name that
//! both origins use. The file formats themselves live in [`formats`].

mod entry;
pub mod formats;
pub mod placeholders;

pub use entry::{Entry, Origin};

use std::{
    collections::BTreeMap,
    ffi::OsString,
    fs, io,
    path::{Path, PathBuf},
};

use crate::session::Target;

pub use formats::{
    Format, InputDecl, ParsedFile, ServerSpec, Transport, export_entry, export_file, parse,
};
pub use placeholders::{Resolver, placeholders, resolve, unsupported_in};

/// What the API shows in place of a secret is also what a client sends back to mean "keep the
/// stored value" (it never saw that value).
pub use crate::redact::REDACTED;

/// Long enough for any real name, short enough that a name cannot bloat every API answer.
const MAX_NAME_CHARS: usize = 200;

/// The catalog: its file's entries plus the `--config` file's, held in memory and written back
/// whenever the catalog part changes.
#[derive(Debug)]
pub struct Catalog {
    path: PathBuf,
    /// Catalog-origin entries first, in file order, then config-origin ones. Indices of catalog
    /// entries here are therefore their indices in the file, which `upsert` and `remove` rely on.
    entries: Vec<Entry>,
    /// The catalog file's own `${input:}` declarations (kept from imports), then the config
    /// file's that the catalog does not declare itself.
    inputs: Vec<InputDecl>,
    /// How many of `inputs` are the catalog file's own (the first ones): those are written back.
    own_inputs: usize,
}

impl Catalog {
    /// Loads the catalog file if it exists (an mcpServers file in Claude format, which `parse`
    /// reads); a missing or blank file is an empty catalog, an unreadable or malformed one is an
    /// error naming the path. Then appends every server of `config` (if given) with
    /// [`Origin::Config`].
    ///
    /// Names are unique per origin only: a config server whose name is also in the catalog is
    /// still listed, and the catalog entry wins a lookup by name (see [`Catalog::get`]).
    pub fn open(path: PathBuf, config: Option<&Path>) -> Result<Catalog, String> {
        let own = match fs::read_to_string(&path) {
            Ok(text) if text.trim().is_empty() => None,
            Ok(text) => Some(parse(&text).map_err(|e| format!("{}: {e}", path.display()))?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let (servers, mut inputs) = own.map(|p| (p.servers, p.inputs)).unwrap_or_default();
        let own_inputs = inputs.len();
        let mut entries: Vec<Entry> = servers
            .into_iter()
            .map(|(name, spec)| Entry {
                name,
                spec,
                origin: Origin::Catalog,
            })
            .collect();
        if let Some(config) = config {
            let text = fs::read_to_string(config)
                .map_err(|e| format!("cannot read {}: {e}", config.display()))?;
            let parsed = parse(&text).map_err(|e| format!("{}: {e}", config.display()))?;
            entries.extend(parsed.servers.into_iter().map(|(name, spec)| Entry {
                name,
                spec,
                origin: Origin::Config(config.to_path_buf()),
            }));
            for decl in parsed.inputs {
                if !inputs.iter().any(|i| i.id == decl.id) {
                    inputs.push(decl);
                }
            }
        }
        Ok(Catalog {
            path,
            entries,
            inputs,
            own_inputs,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn inputs(&self) -> &[InputDecl] {
        &self.inputs
    }

    /// The entry named `name`. When both origins use the name, the catalog entry wins: it is the
    /// one the user can edit, typically made to override the config file's.
    /// What to connect to for the entry `name`: its placeholders resolved from `inputs`,
    /// mcpscope's own environment, the user's home, and (for a config file in `.vscode/`) its
    /// workspace folder. Every placeholder that cannot be resolved is named, never sent as text.
    ///
    /// `${env:NAME}` reads `env` first (values the user gave, `-e`), then mcpscope's own
    /// environment; in what goes to a remote server it resolves only the names in `env` or
    /// `allow_env`.
    pub fn target(
        &self,
        name: &str,
        inputs: &BTreeMap<String, String>,
        env: &BTreeMap<String, String>,
        allow_env: &std::collections::BTreeSet<String>,
    ) -> Result<Target, Vec<String>> {
        let entry = self
            .get(name)
            .ok_or_else(|| vec![format!("no server \"{name}\" in the catalog")])?;
        let workspace = match &entry.origin {
            Origin::Config(file) => file.parent().map(|dir| {
                if dir.file_name().is_some_and(|n| n == ".vscode") {
                    dir.parent().unwrap_or(dir).display().to_string()
                } else {
                    dir.display().to_string()
                }
            }),
            Origin::Catalog => None,
        };
        let home = std::env::var("HOME").ok();
        let lookup = |key: &str| env.get(key).cloned().or_else(|| std::env::var(key).ok());
        let remote_env: std::collections::BTreeSet<String> =
            allow_env.iter().chain(env.keys()).cloned().collect();
        let resolver = Resolver {
            inputs,
            env: &lookup,
            workspace: workspace.as_deref(),
            home: home.as_deref(),
            remote_env: &remote_env,
        };
        entry.target(&self.inputs, &resolver)
    }

    /// The protocol era an entry asks for (its `"era"` key), if any.
    pub fn era(&self, name: &str) -> Result<Option<crate::session::EraChoice>, String> {
        match self.get(name).and_then(|e| e.spec.extra.get("era")) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => crate::session::EraChoice::parse(s)
                .map(Some)
                .map_err(|e| format!("server \"{name}\": {e}")),
            Some(other) => Err(format!(
                "server \"{name}\": \"era\" must be \"legacy\", \"auto\" or \"modern\", not {other}"
            )),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.catalog_index(name)
            .map(|i| &self.entries[i])
            .or_else(|| self.entries.iter().find(|e| e.name == name))
    }

    /// Adds or replaces a catalog-origin entry; `replacing` names the entry being edited, which
    /// renames it when `name` differs. Without `replacing`, an existing catalog entry called
    /// `name` is replaced. A value of [`REDACTED`] in the new env or headers keeps the stored
    /// value of that key, since the API handed it out redacted. Validates the name (1 to 200
    /// characters, not blank, no control characters) and the spec (stdio needs a command, http
    /// and sse an http(s) URL), then persists.
    pub fn upsert(
        &mut self,
        replacing: Option<&str>,
        name: String,
        mut spec: ServerSpec,
    ) -> Result<&Entry, String> {
        validate_name(&name)?;
        let slot = self.catalog_index(replacing.unwrap_or(name.as_str()));
        if let Some(old) = replacing
            && slot.is_none()
        {
            return Err(self.not_in_catalog(old, "edited"));
        }
        if let Some(other) = self.catalog_index(&name)
            && Some(other) != slot
        {
            return Err(format!("a catalog entry named \"{name}\" already exists"));
        }
        let stored = slot.map(|i| &self.entries[i].spec);
        keep_redacted(&mut spec.env, stored.map(|s| &s.env), "env")?;
        keep_redacted(&mut spec.headers, stored.map(|s| &s.headers), "header")?;
        // The URL as the API showed it (its secrets hidden) means "keep the stored URL".
        if let (Some(new), Some(old)) = (&spec.url, stored.and_then(|s| s.url.as_ref()))
            && new != old
            && *new == crate::redact::url_text(old, &Default::default())
        {
            spec.url = Some(old.clone());
        }
        if spec.url.as_deref().is_some_and(|u| {
            u.contains(REDACTED) || u.contains("%3Credacted%3E") || u.contains("%3credacted%3e")
        }) {
            return Err(format!(
                "the URL holds \"{REDACTED}\", which means \"keep the stored value\", but the URL no longer matches the stored one; enter the values"
            ));
        }
        validate_spec(&spec)?;
        let entry = Entry {
            name,
            spec,
            origin: Origin::Catalog,
        };
        let mut catalog = self.catalog_entries();
        let at = match slot {
            Some(i) => {
                catalog[i] = entry;
                i
            }
            None => {
                catalog.push(entry);
                catalog.len() - 1
            }
        };
        self.commit(catalog)?;
        Ok(&self.entries[at])
    }

    /// Copies any entry (either origin) into the catalog under a new name ("NAME copy",
    /// "NAME copy 2", …) and persists; returns the copy.
    pub fn duplicate(&mut self, name: &str) -> Result<&Entry, String> {
        let source = self
            .get(name)
            .ok_or_else(|| format!("there is no server named \"{name}\""))?;
        let spec = source.spec.clone();
        let copy_name = free_name(
            &source.name,
            |n| {
                if n == 1 {
                    " copy".to_owned()
                } else {
                    format!(" copy {n}")
                }
            },
            |candidate| self.entries.iter().any(|e| e.name == candidate),
        );
        let mut catalog = self.catalog_entries();
        catalog.push(Entry {
            name: copy_name,
            spec,
            origin: Origin::Catalog,
        });
        let at = catalog.len() - 1;
        self.commit(catalog)?;
        Ok(&self.entries[at])
    }

    /// Removes a catalog-origin entry and persists. Config-origin entries cannot be removed: they
    /// live in a file mcpscope does not change.
    pub fn remove(&mut self, name: &str) -> Result<(), String> {
        let Some(slot) = self.catalog_index(name) else {
            return Err(self.not_in_catalog(name, "removed"));
        };
        let mut catalog = self.catalog_entries();
        catalog.remove(slot);
        self.commit(catalog)
    }

    /// Imports every server of a config file's text into the catalog and persists; returns how
    /// many. A name already in use (by either origin, so that nothing gets shadowed) gets
    /// " (imported)" appended, then " (imported 2)", and so on. The file's `inputs` join the
    /// catalog's own (an id it already declares keeps its declaration), so `${input:ID}` in the
    /// imported servers still means what the file said.
    pub fn import(&mut self, text: &str) -> Result<usize, String> {
        let parsed = parse(text)?;
        let count = parsed.servers.len();
        if count == 0 && parsed.inputs.is_empty() {
            return Ok(0);
        }
        // Worked on a copy, adopted only once the file is written.
        let (mut inputs, mut own) = (self.inputs.clone(), self.own_inputs);
        for decl in parsed.inputs {
            match inputs.iter().position(|i| i.id == decl.id) {
                Some(at) if at < own => {}
                // A config file's declaration of the same id: the catalog's own takes its place.
                Some(at) => {
                    inputs.remove(at);
                    inputs.insert(own, decl);
                    own += 1;
                }
                None => {
                    inputs.insert(own, decl);
                    own += 1;
                }
            }
        }
        let mut catalog = self.catalog_entries();
        for (name, spec) in parsed.servers {
            validate_name(&name).map_err(|e| format!("server \"{name}\": {e}"))?;
            let taken = |candidate: &str| {
                catalog.iter().any(|e| e.name == candidate)
                    || self.entries.iter().any(|e| e.name == candidate)
            };
            let name = if taken(name.as_str()) {
                free_name(
                    &name,
                    |n| {
                        if n == 1 {
                            " (imported)".to_owned()
                        } else {
                            format!(" (imported {n})")
                        }
                    },
                    taken,
                )
            } else {
                name
            };
            catalog.push(Entry {
                name,
                spec,
                origin: Origin::Catalog,
            });
        }
        write_catalog(&self.path, &catalog, &inputs[..own])?;
        (self.inputs, self.own_inputs) = (inputs, own);
        self.adopt(catalog);
        Ok(count)
    }

    fn catalog_index(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.origin == Origin::Catalog && e.name == name)
    }

    fn catalog_entries(&self) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|e| e.origin == Origin::Catalog)
            .cloned()
            .collect()
    }

    /// Persists the new catalog part, and only then adopts it, so a failed write leaves memory
    /// agreeing with the file.
    fn commit(&mut self, catalog: Vec<Entry>) -> Result<(), String> {
        write_catalog(&self.path, &catalog, &self.inputs[..self.own_inputs])?;
        self.adopt(catalog);
        Ok(())
    }

    /// Takes `catalog` as the catalog part of the entries (already written).
    fn adopt(&mut self, catalog: Vec<Entry>) {
        let config: Vec<Entry> = std::mem::take(&mut self.entries)
            .into_iter()
            .filter(|e| e.origin != Origin::Catalog)
            .collect();
        self.entries = catalog;
        self.entries.extend(config);
    }

    fn not_in_catalog(&self, name: &str, verb: &str) -> String {
        match self
            .entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.origin)
        {
            Some(Origin::Config(file)) => format!(
                "\"{name}\" comes from {}, which mcpscope does not change, so it cannot be \
                 {verb}; duplicate it into the catalog instead",
                file.display()
            ),
            _ => format!("there is no catalog entry named \"{name}\""),
        }
    }
}

fn validate_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return Err("a server name cannot be empty".to_owned());
    }
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "a server name can have at most {MAX_NAME_CHARS} characters, not {chars}"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a server name cannot contain control characters".to_owned());
    }
    Ok(())
}

fn validate_spec(spec: &ServerSpec) -> Result<(), String> {
    match spec.transport {
        Transport::Stdio => {
            if spec.command.as_deref().is_none_or(|c| c.trim().is_empty()) {
                return Err("a stdio server needs a command".to_owned());
            }
        }
        Transport::Http | Transport::Sse => {
            if !spec.url.as_deref().is_some_and(is_http_url) {
                return Err(format!(
                    "an {} server needs an http:// or https:// URL",
                    spec.transport.as_str()
                ));
            }
        }
    }
    if let Some(key) = spec
        .extra
        .keys()
        .find(|key| formats::KNOWN_KEYS.contains(&key.as_str()))
    {
        return Err(format!(
            "\"extra\" cannot hold \"{key}\": it is a field of its own"
        ));
    }
    Ok(())
}

fn is_http_url(url: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        url.len() > scheme.len()
            && url
                .get(..scheme.len())
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
    })
}

/// Swaps [`REDACTED`] values for the stored ones. A redacted value with nothing stored under its
/// key (a renamed key, say) is refused rather than saved as the literal text `<redacted>`.
fn keep_redacted(
    new: &mut BTreeMap<String, String>,
    stored: Option<&BTreeMap<String, String>>,
    what: &str,
) -> Result<(), String> {
    for (key, value) in new.iter_mut() {
        if value == REDACTED {
            match stored.and_then(|stored| stored.get(key)) {
                Some(old) => value.clone_from(old),
                None => {
                    return Err(format!(
                        "{what} \"{key}\" is \"{REDACTED}\", which means \"keep the stored \
                         value\", but none is stored; enter the value"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The first of `base + suffix(1)`, `base + suffix(2)`, … that is not `taken`, with `base`
/// shortened (and stripped of control characters) so the result is always a valid name.
fn free_name(base: &str, suffix: impl Fn(u32) -> String, taken: impl Fn(&str) -> bool) -> String {
    let mut n = 1;
    loop {
        let tail = suffix(n);
        let room = MAX_NAME_CHARS.saturating_sub(tail.chars().count());
        let candidate: String = base
            .chars()
            .filter(|c| !c.is_control())
            .take(room)
            .chain(tail.chars())
            .collect();
        if !taken(candidate.as_str()) {
            return candidate;
        }
        n += 1;
    }
}

/// The catalog file: Claude's `mcpServers`, with VS Code's `inputs` beside it when it declares
/// any (`parse` reads both from any file).
fn write_catalog(path: &Path, entries: &[Entry], inputs: &[InputDecl]) -> Result<(), String> {
    let failed = |e: String| format!("cannot write {}: {e}", path.display());
    let servers: Vec<(String, ServerSpec)> = entries
        .iter()
        .map(|e| (e.name.clone(), e.spec.clone()))
        .collect();
    let mut file = export_file(&servers, &[], Format::Claude);
    if !inputs.is_empty() {
        file["inputs"] = formats::export_inputs(inputs);
    }
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| failed(e.to_string()))?;
    text.push('\n');
    crate::private_file::write(path, text.as_bytes()).map_err(|e| failed(e.to_string()))
}

/// The default catalog path: `$XDG_CONFIG_HOME/mcpscope/catalog.json`, else
/// `$HOME/.config/mcpscope/catalog.json`, else `./mcpscope-catalog.json`.
pub fn default_path() -> PathBuf {
    default_path_from(
        std::env::var_os("XDG_CONFIG_HOME"),
        std::env::var_os("HOME"),
    )
}

/// Split out so tests need not change the process environment (`unsafe` in edition 2024).
fn default_path_from(xdg_config_home: Option<OsString>, home: Option<OsString>) -> PathBuf {
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    if let Some(dir) = xdg_config_home
        .map(PathBuf::from)
        .filter(|dir| dir.is_absolute())
    {
        return dir.join("mcpscope").join("catalog.json");
    }
    if let Some(home) = home.filter(|home| !home.is_empty()) {
        return PathBuf::from(home)
            .join(".config")
            .join("mcpscope")
            .join("catalog.json");
    }
    PathBuf::from("mcpscope-catalog.json")
}

#[cfg(test)]
mod tests;
