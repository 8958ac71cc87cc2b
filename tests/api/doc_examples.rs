//! The JSON examples of `docs/api.md` and `docs/protocol.md`, checked
//! against real responses: every ```` ```json ```` block is preceded by a
//! marker line `<!-- example: NAME -->`. `request` marks input (not
//! checked); a name under `federation/` is checked by the federation tests
//! (it needs a second server); every other name by `tests/api/docs.rs`.
//! An example must have the same keys as the real response, at every depth
//! (values may differ).

use serde_json::Value;
use std::collections::BTreeMap;

/// The documents whose examples are checked.
const DOCS: [&str; 2] = ["docs/api.md", "docs/protocol.md"];

/// One marked example.
pub struct Example {
    /// `file:line` of its opening fence.
    pub place: String,
    pub name: String,
    pub json: Value,
}

/// Every JSON example of the documents; panics on a block without a
/// marker or with a body that is not JSON.
pub fn examples() -> Vec<Example> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = vec![];
    let mut problems = vec![];
    for doc in DOCS {
        let text = std::fs::read_to_string(format!("{root}/{doc}")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            if lines[i].trim() != "```json" {
                i += 1;
                continue;
            }
            let place = format!("{doc}:{}", i + 1);
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].trim() == "```")
                .unwrap_or_else(|| panic!("{place}: unclosed block"));
            let body = lines[i + 1..end].join("\n");
            let name = i
                .checked_sub(1)
                .map(|j| lines[j].trim())
                .and_then(|l| l.strip_prefix("<!-- example: "))
                .and_then(|l| l.strip_suffix(" -->"));
            match (name, serde_json::from_str::<Value>(&body)) {
                (Some(name), Ok(json)) => out.push(Example {
                    place,
                    name: name.to_owned(),
                    json,
                }),
                (None, _) => problems.push(format!("{place}: no <!-- example: NAME --> line")),
                (_, Err(e)) => problems.push(format!("{place}: not JSON: {e}")),
            }
            i = end + 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    out
}

/// Where `example` and `real` differ in their keys, below `path`.
pub fn key_differences(example: &Value, real: &Value, path: &str, out: &mut Vec<String>) {
    match (example, real) {
        (Value::Object(e), Value::Object(r)) => {
            for key in e.keys().filter(|k| !r.contains_key(*k)) {
                out.push(format!("{path}.{key}: not sent by the server"));
            }
            for key in r.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{key}: sent by the server, missing"));
            }
            for (key, value) in e {
                if let Some(r) = r.get(key) {
                    key_differences(value, r, &format!("{path}.{key}"), out);
                }
            }
        }
        // Objects in the example but none in the response: nothing to
        // compare them with (a list of ids may well be empty).
        (Value::Array(e), Value::Array(r))
            if r.is_empty() && e.iter().any(|v| v.is_object() || v.is_array()) =>
        {
            out.push(format!(
                "{path}: the real response is empty (nothing to compare)"
            ));
        }
        (Value::Array(e), Value::Array(r)) => {
            for (i, value) in e.iter().enumerate() {
                if let Some(r) = r.get(i).or(r.first()) {
                    key_differences(value, r, &format!("{path}[{i}]"), out);
                }
            }
        }
        // `null` against a value, or a scalar: values may differ.
        _ => {}
    }
}

/// Checks every example whose name `wanted` accepts against `real[name]`;
/// panics listing every difference, and every such example for which no
/// real response was captured.
pub fn check(real: &BTreeMap<String, Value>, wanted: impl Fn(&str) -> bool) {
    let mut problems = vec![];
    let mut checked = 0;
    for example in examples().iter().filter(|e| wanted(&e.name)) {
        let Some(response) = real.get(&example.name) else {
            problems.push(format!(
                "{} ({}): no real response captured",
                example.place, example.name
            ));
            continue;
        };
        let mut differences = vec![];
        key_differences(&example.json, response, "", &mut differences);
        for d in differences {
            problems.push(format!("{} ({}): {d}", example.place, example.name));
        }
        checked += 1;
    }
    assert!(checked > 0, "no example was checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Examples a test of their own checks: a link preview needs a server that
/// may fetch a page from this machine (`tests/api/previews.rs`).
pub const CHECKED_ELSEWHERE: [&str; 1] = ["push:message.preview"];

/// Whether `name` is checked by the single-server tests.
pub fn single_server(name: &str) -> bool {
    name != "request" && !name.starts_with("federation/") && !CHECKED_ELSEWHERE.contains(&name)
}

/// Whether `name` is checked by the federation tests.
pub fn federation(name: &str) -> bool {
    name.starts_with("federation/")
}
