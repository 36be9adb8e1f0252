//! MCP Apps (`io.modelcontextprotocol/ui`), the backend's part of hosting them: the extension
//! mcpscope declares, how a tool names its view, the policy a view is served with ([`csp`]),
//! the separate loopback origin views are served from ([`server`]), and what the UI reports of
//! the bridge (`POST …/app`, see `web/apps.rs`) turned into events and findings ([`report`]).
//! The bridge itself runs in the page (`static/js/apps.js`): the browser is the host.

pub mod csp;
pub mod report;
pub mod server;

use serde_json::{Value, json};

/// The extension's identifier.
pub const EXTENSION: &str = "io.modelcontextprotocol/ui";
/// The one view type MCP Apps defines.
pub const MIME_TYPE: &str = "text/html;profile=mcp-app";

/// What a client declares under `capabilities.extensions` to host apps.
pub fn extension_settings() -> Value {
    json!({ "mimeTypes": [MIME_TYPE] })
}

/// Adds the MCP Apps extension to client capabilities, unless they already say something about
/// it (a user's own declaration wins).
pub fn declare(capabilities: &mut Value) {
    let Some(caps) = capabilities.as_object_mut() else {
        return;
    };
    let extensions = caps.entry("extensions").or_insert_with(|| json!({}));
    if let Some(ext) = extensions.as_object_mut() {
        ext.entry(EXTENSION).or_insert_with(extension_settings);
    }
}

/// The `ui://` view a tool names: `_meta.ui.resourceUri`, else the deprecated flat
/// `_meta["ui/resourceUri"]`.
pub fn resource_uri(tool: &Value) -> Option<&str> {
    let meta = tool.get("_meta")?;
    meta.pointer("/ui/resourceUri")
        .or_else(|| meta.get("ui/resourceUri"))
        .and_then(Value::as_str)
}

/// Whether `who` (`"model"` or `"app"`) may see and call a tool: `_meta.ui.visibility`,
/// `["model", "app"]` when absent.
pub fn visible_to(tool: &Value, who: &str) -> bool {
    match tool
        .pointer("/_meta/ui/visibility")
        .and_then(Value::as_array)
    {
        Some(v) => v.iter().any(|x| x == who),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_is_added_beside_others_and_a_users_own_wins() {
        let mut caps = json!({"roots": {}});
        declare(&mut caps);
        assert_eq!(caps["extensions"][EXTENSION]["mimeTypes"][0], MIME_TYPE);
        let mut caps = json!({"extensions": {"x/y": {}, EXTENSION: {"mimeTypes": []}}});
        declare(&mut caps);
        assert_eq!(caps["extensions"][EXTENSION], json!({"mimeTypes": []}));
        assert_eq!(caps["extensions"]["x/y"], json!({}));
    }

    #[test]
    fn a_tool_names_its_view_and_visibility() {
        let t = json!({"_meta": {"ui": {"resourceUri": "ui://a/b", "visibility": ["model"]}}});
        assert_eq!(resource_uri(&t), Some("ui://a/b"));
        assert!(!visible_to(&t, "app") && visible_to(&t, "model"));
        let flat = json!({"_meta": {"ui/resourceUri": "ui://c"}});
        assert_eq!(resource_uri(&flat), Some("ui://c"));
        assert!(visible_to(&flat, "app"));
        assert_eq!(resource_uri(&json!({})), None);
    }
}
