//! Conformance suites: plugin calls with the answers they must give, run against any
//! component, whatever language it was written in.
//!
//! A suite is one JSON file (`suite.json` in a folder, or the file itself):
//!
//! ```json
//! {
//!   "name": "demo-shop",
//!   "config": {"erp-base-url": "http://127.0.0.1:8700"},
//!   "allow-hosts": ["127.0.0.1:8700"],
//!   "context": {"caller": "+442079460123", "language": "en"},
//!   "cases": [
//!     {"name": "a known caller", "function": "contacts.lookup-by-phone",
//!      "args": ["+442079460123"], "expect": {"ok": {"id": "c-1005", "tier": "standard"}}},
//!     {"name": "an unknown number", "function": "contacts.lookup-by-phone",
//!      "args": ["+15550000000"], "expect": {"error": "not-found"}},
//!     {"name": "reserve", "function": "transactions.prepare", "args": [{"…": "…"}],
//!      "context": {"idempotency-key": "suite-1"}, "expect": {"ok": {"summary": "$some"}},
//!      "save": {"tx": "/transaction-id"}},
//!     {"name": "commit", "function": "transactions.commit", "args": ["${tx}"],
//!      "expect": {"ok": {"reference": "$some"}}}
//!   ]
//! }
//! ```
//!
//! An expected value matches when every key it names matches (a plugin may return more
//! than a suite checks), arrays match element by element and have the same length, and
//! other values are equal. `"$any"` matches anything, `"$some"` anything but null.
//! `save` keeps a part of a result (a JSON pointer) under a name; `${name}` in a later
//! case's arguments, context or expected result is replaced by it. An expected error is the kind of
//! failure: a WIT error case (`not-found`, `invalid`, `unavailable`, `conflict`,
//! `denied`, `internal`) or a failed call (`trap`, `deadline`, `memory-limit`, …),
//! optionally with `"message-contains"`. Cases for interfaces the plugin does not export
//! are skipped and reported as such.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::bindings::CallContext;
use crate::call::CallError;
use crate::capability::Capability;
use crate::dynamic::call_error_json;
use crate::engine::Runtime;
use crate::plugin::PluginVersion;
use crate::tenant::TenantEnvBuilder;

/// Why a suite could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read suite {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("suite {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// The call context fields a suite or case may set; the rest come from defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ContextOverrides {
    pub tenant: Option<String>,
    pub call_id: Option<String>,
    pub caller: Option<String>,
    pub called: Option<String>,
    pub language: Option<String>,
    pub idempotency_key: Option<String>,
}

impl ContextOverrides {
    /// The overrides with `${name}` references replaced by saved values.
    fn substituted(&self, vars: &BTreeMap<String, Json>) -> Result<ContextOverrides, String> {
        let sub = |v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    substitute_str(s, vars).map(|j| match j {
                        Json::String(s) => s,
                        other => other.to_string(),
                    })
                })
                .transpose()
        };
        Ok(ContextOverrides {
            tenant: sub(&self.tenant)?,
            call_id: sub(&self.call_id)?,
            caller: sub(&self.caller)?,
            called: sub(&self.called)?,
            language: sub(&self.language)?,
            idempotency_key: sub(&self.idempotency_key)?,
        })
    }
}

/// What a case expects back.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawExpectation")]
pub enum Expectation {
    /// A result that matches this value.
    Ok(Json),
    /// A failure of this kind, whose message contains the given text if one is given.
    Error {
        kind: String,
        message_contains: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawExpectation {
    // `"ok": null` (a function returning nothing) must differ from no `ok` at all.
    #[serde(default, deserialize_with = "present")]
    ok: Option<Json>,
    error: Option<String>,
    message_contains: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Json>, D::Error> {
    Json::deserialize(d).map(Some)
}

impl TryFrom<RawExpectation> for Expectation {
    type Error = String;
    fn try_from(raw: RawExpectation) -> Result<Self, String> {
        match (raw.ok, raw.error, raw.message_contains) {
            (Some(ok), None, None) => Ok(Expectation::Ok(ok)),
            (None, Some(kind), message_contains) => Ok(Expectation::Error {
                kind,
                message_contains,
            }),
            (Some(_), None, Some(_)) => {
                Err("`message-contains` goes with an expected `error`, not `ok`".into())
            }
            _ => Err("`expect` needs exactly one of `ok` or `error`".into()),
        }
    }
}

/// One call and what it must answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// INTERFACE.FUNCTION, e.g. `orders.get`.
    pub function: String,
    /// The arguments after the call context.
    #[serde(default)]
    pub args: Vec<Json>,
    #[serde(default)]
    pub context: ContextOverrides,
    pub expect: Expectation,
    /// Tenant settings for this case only: a value replaces the suite's, null removes it
    /// (to check what a plugin says when a setting is missing or points elsewhere).
    #[serde(default)]
    pub config: BTreeMap<String, Option<String>>,
    /// NAME → JSON pointer into the result, kept for later cases.
    #[serde(default)]
    pub save: BTreeMap<String, String>,
}

/// A whole suite: the tenant settings it needs and its cases, in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Suite {
    pub name: String,
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub config: BTreeMap<String, String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    #[serde(default)]
    pub context: ContextOverrides,
    pub cases: Vec<Case>,
}

impl Suite {
    /// Reads `path`: a suite file, or a folder holding `suite.json`.
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let file = if path.is_dir() {
            path.join("suite.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|source| SuiteError::Read {
            path: file.clone(),
            source,
        })?;
        let suite: Suite = serde_json::from_str(&text).map_err(|e| SuiteError::Invalid {
            path: file.clone(),
            message: e.to_string(),
        })?;
        suite.check().map_err(|message| SuiteError::Invalid {
            path: file,
            message,
        })?;
        Ok(suite)
    }

    fn check(&self) -> Result<(), String> {
        if self.cases.is_empty() {
            return Err("it has no cases".into());
        }
        for (i, case) in self.cases.iter().enumerate() {
            let at = format!("case {} (`{}`)", i + 1, case.name);
            if !case.function.contains('.') {
                return Err(format!(
                    "{at}: `function` is INTERFACE.FUNCTION, got `{}`",
                    case.function
                ));
            }
            for pointer in case.save.values() {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(format!(
                        "{at}: `save` takes JSON pointers such as `/transaction-id`, got `{pointer}`"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    pub name: String,
    pub function: String,
    pub passed: bool,
    /// Not run: the plugin does not export the case's interface (a contacts-only CRM
    /// plugin runs the contacts part of a whole-shop suite).
    pub skipped: bool,
    /// Why it failed; empty when it passed.
    pub detail: String,
    /// What the plugin answered: the result, or `{"error": …}`.
    pub answer: Json,
    pub duration: Duration,
}

fn apply(base: &mut CallContext, o: &ContextOverrides) {
    let set = |field: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            field.clone_from(v);
        }
    };
    set(&mut base.tenant, &o.tenant);
    set(&mut base.call_id, &o.call_id);
    set(&mut base.caller, &o.caller);
    set(&mut base.called, &o.called);
    set(&mut base.language, &o.language);
    if o.idempotency_key.is_some() {
        base.idempotency_key.clone_from(&o.idempotency_key);
    }
}

/// Replaces `${name}` with saved values: a string that is only a reference becomes the
/// saved value itself (numbers stay numbers), otherwise the text is spliced in.
fn substitute(value: &Json, vars: &BTreeMap<String, Json>) -> Result<Json, String> {
    Ok(match value {
        Json::String(s) => substitute_str(s, vars)?,
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| substitute(v, vars))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute(v, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

fn substitute_str(s: &str, vars: &BTreeMap<String, Json>) -> Result<Json, String> {
    let lookup = |name: &str| {
        vars.get(name)
            .cloned()
            .ok_or_else(|| format!("`${{{name}}}` was not saved by an earlier passing case"))
    };
    if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && !name.contains("${")
    {
        return lookup(name);
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed `${{` in `{s}`"));
        };
        match lookup(&after[..end])? {
            Json::String(v) => out.push_str(&v),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(Json::String(out))
}

/// Where `got` differs from what `want` asks for, or `None` when it matches.
pub fn mismatch(want: &Json, got: &Json) -> Option<String> {
    fn walk(want: &Json, got: &Json, path: &mut String) -> Option<String> {
        let at = |p: &str| {
            if p.is_empty() {
                "/".to_string()
            } else {
                p.to_string()
            }
        };
        match want {
            Json::String(s) if s == "$any" => None,
            Json::String(s) if s == "$some" => got
                .is_null()
                .then(|| format!("at {}: expected a value, got null", at(path))),
            Json::Object(w) => {
                let Some(g) = got.as_object() else {
                    return Some(format!("at {}: expected an object, got {got}", at(path)));
                };
                for (k, wv) in w {
                    let len = path.len();
                    path.push('/');
                    path.push_str(k);
                    let found = match g.get(k) {
                        Some(gv) => walk(wv, gv, path),
                        None => Some(format!("at {path}: missing")),
                    };
                    path.truncate(len);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            Json::Array(w) => {
                let Some(g) = got.as_array() else {
                    return Some(format!("at {}: expected an array, got {got}", at(path)));
                };
                if w.len() != g.len() {
                    return Some(format!(
                        "at {}: expected {} items, got {}",
                        at(path),
                        w.len(),
                        g.len()
                    ));
                }
                for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    let found = walk(wv, gv, path);
                    path.truncate(len);
                    if found.is_some() {
                        return found;
                    }
                }
                None
            }
            other => {
                (other != got).then(|| format!("at {}: expected {other}, got {got}", at(path)))
            }
        }
    }
    walk(want, got, &mut String::new())
}

fn error_message(e: &CallError) -> String {
    match e {
        CallError::Plugin(pe) => crate::call::describe_plugin_error(pe),
        other => other.to_string(),
    }
}

/// Runs every case in order against fresh instances of `version`, as the tenant `env`
/// builds (with each case's own settings on top).
pub async fn run(
    runtime: &Runtime,
    env: &TenantEnvBuilder,
    version: &Arc<PluginVersion>,
    suite: &Suite,
) -> Vec<CaseOutcome> {
    let base = env.clone().build();
    let mut vars: BTreeMap<String, Json> = BTreeMap::new();
    let mut outcomes = Vec::with_capacity(suite.cases.len());
    for (i, case) in suite.cases.iter().enumerate() {
        let tenant = if case.config.is_empty() {
            base.clone()
        } else {
            let mut b = env.clone();
            for (k, v) in &case.config {
                b = match v {
                    Some(v) => b.config(k.clone(), v.clone()),
                    None => b.without_config(k),
                };
            }
            b.build()
        };
        let mut ctx = CallContext {
            tenant: tenant.id().to_string(),
            call_id: format!("suite-{}-{}", suite.name, i + 1),
            caller: String::new(),
            called: String::new(),
            language: "en".into(),
            idempotency_key: None,
        };
        apply(&mut ctx, &suite.context);
        let mut outcome = CaseOutcome {
            name: case.name.clone(),
            function: case.function.clone(),
            passed: false,
            skipped: false,
            detail: String::new(),
            answer: Json::Null,
            duration: Duration::ZERO,
        };
        let interface = case.function.split('.').next().unwrap_or_default();
        if let Some(cap) = Capability::from_name(interface)
            && !version.serves(cap)
        {
            outcome.skipped = true;
            outcome.detail = format!("the plugin does not export `{interface}`");
            outcomes.push(outcome);
            continue;
        }
        let prepared = case.context.substituted(&vars).and_then(|overrides| {
            apply(&mut ctx, &overrides);
            substitute(&Json::Array(case.args.clone()), &vars)
        });
        let args = match prepared {
            Ok(a) => a,
            Err(why) => {
                outcome.detail = why;
                outcomes.push(outcome);
                continue;
            }
        };
        let started = std::time::Instant::now();
        let (result, _) = runtime
            .call_json(&tenant, version, &ctx, &case.function, &args)
            .await;
        outcome.duration = started.elapsed();
        let failure = match (&result, &case.expect) {
            (Ok(got), Expectation::Ok(want)) => match substitute(want, &vars) {
                Ok(want) => mismatch(&want, got),
                Err(why) => Some(why),
            },
            (Ok(got), Expectation::Error { kind, .. }) => {
                Some(format!("expected a `{kind}` error, got a result: {got}"))
            }
            (
                Err(e),
                Expectation::Error {
                    kind,
                    message_contains,
                },
            ) => {
                let message = error_message(e);
                if e.kind() != kind {
                    Some(format!("expected a `{kind}` error, got {message}"))
                } else {
                    message_contains
                        .as_ref()
                        .filter(|needle| !message.contains(needle.as_str()))
                        .map(|needle| format!("error message lacks `{needle}`: {message}"))
                }
            }
            (Err(e), Expectation::Ok(_)) => {
                Some(format!("expected a result, got {}", error_message(e)))
            }
        };
        outcome.answer = match &result {
            Ok(v) => v.clone(),
            Err(e) => call_error_json(e),
        };
        match failure {
            Some(why) => outcome.detail = why,
            None => {
                outcome.passed = true;
                for (name, pointer) in &case.save {
                    match outcome.answer.pointer(pointer) {
                        Some(v) => {
                            vars.insert(name.clone(), v.clone());
                        }
                        None => {
                            outcome.passed = false;
                            outcome.detail = format!(
                                "cannot save `{name}`: the answer has nothing at `{pointer}`"
                            );
                        }
                    }
                }
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expected_values_are_subsets() {
        let got =
            json!({"id": "c-1", "tier": "vip", "email": null, "lines": [{"sku": "A", "q": 2}]});
        assert_eq!(mismatch(&json!({"id": "c-1"}), &got), None);
        assert_eq!(mismatch(&json!({"lines": [{"sku": "A"}]}), &got), None);
        assert_eq!(
            mismatch(&json!({"email": "$any", "tier": "$some"}), &got),
            None
        );
        assert_eq!(
            mismatch(&json!({"email": "$some"}), &got).as_deref(),
            Some("at /email: expected a value, got null")
        );
        assert_eq!(
            mismatch(&json!({"lines": [{"sku": "B"}]}), &got).as_deref(),
            Some("at /lines/0/sku: expected \"B\", got \"A\"")
        );
        assert_eq!(
            mismatch(&json!({"lines": []}), &got).as_deref(),
            Some("at /lines: expected 0 items, got 1")
        );
        assert_eq!(
            mismatch(&json!({"phone": "x"}), &got).as_deref(),
            Some("at /phone: missing")
        );
    }

    #[test]
    fn saved_values_are_substituted() {
        let mut vars = BTreeMap::new();
        vars.insert("tx".to_string(), json!("t-9"));
        vars.insert("n".to_string(), json!(3));
        assert_eq!(
            substitute(&json!(["${tx}"]), &vars).unwrap(),
            json!(["t-9"])
        );
        assert_eq!(
            substitute(&json!({"q": "${n}"}), &vars).unwrap(),
            json!({"q": 3})
        );
        assert_eq!(
            substitute(&json!("order ${tx} x${n}"), &vars).unwrap(),
            json!("order t-9 x3")
        );
        let err = substitute(&json!("${nope}"), &vars).unwrap_err();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn suites_that_cannot_run_are_refused() {
        let no_expectation = serde_json::from_value::<Suite>(json!({
            "name": "x",
            "cases": [{"name": "a", "function": "contacts.lookup-by-phone", "expect": {}}]
        }));
        let err = no_expectation.unwrap_err().to_string();
        assert!(err.contains("exactly one"), "{err}");
        let bad: Suite = serde_json::from_value(json!({
            "name": "x",
            "cases": [{"name": "a", "function": "lookup", "expect": {"error": "not-found"}}]
        }))
        .unwrap();
        assert!(bad.check().unwrap_err().contains("INTERFACE.FUNCTION"));
        let unknown_key = serde_json::from_value::<Suite>(json!({
            "name": "x", "cases": [], "colour": "blue"
        }));
        assert!(unknown_key.is_err());
    }
}
