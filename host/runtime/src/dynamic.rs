//! Calling a plugin function by name with JSON arguments, for tools (`voxgate plugin
//! call`, plugin test suites) that do not know the function at compile time.
//!
//! JSON mirrors the WIT: records are objects keyed by WIT field names, enums are their
//! case name, variants are `"case"` or `{"case": payload}`, options are `null` or the
//! value, results are `{"ok": …}` / `{"err": …}`, flags are arrays of names, tuples and
//! lists are arrays.

use std::sync::Arc;

use serde_json::{Map, Value as Json};
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Type, Val};

use crate::bindings::{CallContext, PluginError};
use crate::call::{CallError, CallReport};
use crate::capability::Capability;
use crate::engine::Runtime;
use crate::plugin::PluginVersion;
use crate::tenant::TenantEnv;

impl Runtime {
    /// Calls `interface.function` (e.g. `contacts.lookup-by-phone`) of `version` with
    /// `args`, a JSON array of the parameters after the call context.
    pub async fn call_json(
        &self,
        tenant: &Arc<TenantEnv>,
        version: &Arc<PluginVersion>,
        ctx: &CallContext,
        function: &str,
        args: &Json,
    ) -> (Result<Json, CallError>, Option<CallReport>) {
        let bad = |message: String| CallError::BadCall {
            function: function.to_string(),
            message,
        };
        let prepared = (|| {
            let (iface, fname) = function.split_once('.').ok_or_else(|| {
                bad("name it INTERFACE.FUNCTION, e.g. contacts.lookup-by-phone".into())
            })?;
            let cap = Capability::from_name(iface)
                .ok_or_else(|| bad(format!("`{iface}` is not a voxgate interface")))?;
            if !version.serves(cap) {
                return Err(bad(format!(
                    "the plugin does not export `{cap}`; it exports {}",
                    list(version.capabilities.iter().map(|c| c.name()))
                )));
            }
            let iface_name = cap.export_name(&version.wit_version);
            let engine = self.engine();
            let ty = version.component.component_type();
            let Some(ComponentItem::ComponentInstance(inst)) =
                ty.get_export(engine, &iface_name).map(|e| e.ty)
            else {
                return Err(bad(format!("`{iface_name}` is not an exported instance")));
            };
            let Some(ComponentItem::ComponentFunc(fty)) =
                inst.get_export(engine, fname).map(|e| e.ty)
            else {
                let names: Vec<String> = inst.exports(engine).map(|(n, _)| n.to_string()).collect();
                return Err(bad(format!(
                    "`{iface}` has no function `{fname}`; it has {}",
                    list(names.iter().map(String::as_str))
                )));
            };
            let params = params_from_json(&fty, ctx, args).map_err(bad)?;
            let iface_idx = version
                .component
                .get_export_index(None, &iface_name)
                .ok_or_else(|| bad(format!("cannot find `{iface_name}`")))?;
            let func_idx = version
                .component
                .get_export_index(Some(&iface_idx), fname)
                .ok_or_else(|| bad(format!("cannot find `{fname}`")))?;
            Ok((params, func_idx, fty.results().len()))
        })();
        let (params, func_idx, n_results) = match prepared {
            Ok(p) => p,
            Err(e) => return (Err(e), None),
        };
        let label = leak_label(function);
        let (result, report) = self
            .invoke(
                tenant,
                version,
                &ctx.call_id,
                label,
                async |store, instance| {
                    let func = instance
                        .get_func(&mut *store, func_idx)
                        .ok_or_else(|| wasmtime::Error::msg("export vanished"))?;
                    let mut results = vec![Val::Bool(false); n_results];
                    func.call_async(&mut *store, &params, &mut results).await?;
                    Ok(split_result(results))
                },
            )
            .await;
        (result, Some(report))
    }
}

/// Report labels are `&'static str` so the typed hot path never allocates for them; the
/// dynamic path is for tools, and interns the few names it sees.
fn leak_label(function: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(&n) = names.get(function) {
        return n;
    }
    let n: &'static str = Box::leak(function.to_string().into_boxed_str());
    names.insert(n);
    n
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = items.collect();
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

fn params_from_json(
    fty: &ComponentFunc,
    ctx: &CallContext,
    args: &Json,
) -> Result<Vec<Val>, String> {
    let params: Vec<(String, Type)> = fty.params().map(|(n, t)| (n.to_string(), t)).collect();
    let Some(((_, first), rest)) = params.split_first() else {
        return Err("function takes no call-context".into());
    };
    let args: &[Json] = match args {
        Json::Array(a) => a,
        Json::Null => &[],
        _ => return Err("arguments must be a JSON array, e.g. '[\"+442079460123\"]'".into()),
    };
    if args.len() != rest.len() {
        let names: Vec<String> = rest.iter().map(|(n, _)| n.clone()).collect();
        return Err(format!(
            "takes {} argument(s) after the call context ({}), got {}",
            rest.len(),
            names.join(", "),
            args.len()
        ));
    }
    let mut out = Vec::with_capacity(params.len());
    out.push(ctx_val(first, ctx)?);
    for ((name, ty), arg) in rest.iter().zip(args) {
        out.push(from_json(ty, arg).map_err(|e| format!("argument `{name}`: {e}"))?);
    }
    Ok(out)
}

fn ctx_val(ty: &Type, ctx: &CallContext) -> Result<Val, String> {
    let json = serde_json::json!({
        "tenant": ctx.tenant,
        "call-id": ctx.call_id,
        "caller": ctx.caller,
        "called": ctx.called,
        "language": ctx.language,
        "idempotency-key": ctx.idempotency_key,
    });
    from_json(ty, &json).map_err(|e| format!("call-context: {e}"))
}

/// Splits a `result<T, error>` into the value or the plugin's error.
fn split_result(results: Vec<Val>) -> Result<Json, PluginError> {
    let Some(first) = results.into_iter().next() else {
        return Ok(Json::Null);
    };
    match first {
        Val::Result(Ok(v)) => Ok(v.map(|v| to_json(&v)).unwrap_or(Json::Null)),
        Val::Result(Err(Some(e))) => Err(plugin_error(&e)),
        Val::Result(Err(None)) => Err(PluginError::Internal("error without a value".into())),
        other => Ok(to_json(&other)),
    }
}

fn plugin_error(v: &Val) -> PluginError {
    let (case, msg) = match v {
        Val::Variant(case, payload) => (
            case.as_str(),
            match payload.as_deref() {
                Some(Val::String(s)) => s.clone(),
                Some(other) => to_json(other).to_string(),
                None => String::new(),
            },
        ),
        other => ("internal", to_json(other).to_string()),
    };
    match case {
        "not-found" => PluginError::NotFound(msg),
        "invalid" => PluginError::Invalid(msg),
        "unavailable" => PluginError::Unavailable(msg),
        "conflict" => PluginError::Conflict(msg),
        "denied" => PluginError::Denied(msg),
        _ => PluginError::Internal(msg),
    }
}

/// The plugin error as JSON, in the same convention as values.
pub fn plugin_error_json(e: &PluginError) -> Json {
    let (case, msg) = match e {
        PluginError::NotFound(m) => ("not-found", m),
        PluginError::Invalid(m) => ("invalid", m),
        PluginError::Unavailable(m) => ("unavailable", m),
        PluginError::Conflict(m) => ("conflict", m),
        PluginError::Denied(m) => ("denied", m),
        PluginError::Internal(m) => ("internal", m),
    };
    let mut map = Map::new();
    map.insert(case.into(), Json::String(msg.clone()));
    Json::Object(map)
}

/// A failed call as JSON: `{"error": {"not-found": "…"}}` for the plugin's own answer,
/// `{"error": {"kind": "deadline", "message": "…"}}` when the call itself failed.
pub fn call_error_json(e: &crate::call::CallError) -> Json {
    let inner = match e {
        crate::call::CallError::Plugin(pe) => plugin_error_json(pe),
        other => serde_json::json!({"kind": other.kind(), "message": other.to_string()}),
    };
    serde_json::json!({ "error": inner })
}

/// Converts JSON to a component value of type `ty`.
pub fn from_json(ty: &Type, v: &Json) -> Result<Val, String> {
    fn int<T: TryFrom<i64> + TryFrom<u64>>(v: &Json, what: &str) -> Result<T, String> {
        let n = match v {
            Json::Number(n) => n,
            other => return Err(format!("expected {what}, got {}", kind(other))),
        };
        if let Some(i) = n.as_i64() {
            T::try_from(i).map_err(|_| format!("{i} is out of range for {what}"))
        } else if let Some(u) = n.as_u64() {
            T::try_from(u).map_err(|_| format!("{u} is out of range for {what}"))
        } else {
            Err(format!("{n} is not an integer ({what})"))
        }
    }
    Ok(match ty {
        Type::Bool => Val::Bool(
            v.as_bool()
                .ok_or_else(|| format!("expected true or false, got {}", kind(v)))?,
        ),
        Type::S8 => Val::S8(int(v, "s8")?),
        Type::U8 => Val::U8(int(v, "u8")?),
        Type::S16 => Val::S16(int(v, "s16")?),
        Type::U16 => Val::U16(int(v, "u16")?),
        Type::S32 => Val::S32(int(v, "s32")?),
        Type::U32 => Val::U32(int(v, "u32")?),
        Type::S64 => Val::S64(int(v, "s64")?),
        Type::U64 => Val::U64(int(v, "u64")?),
        Type::Float32 => Val::Float32(
            v.as_f64()
                .ok_or_else(|| format!("expected a number, got {}", kind(v)))? as f32,
        ),
        Type::Float64 => Val::Float64(
            v.as_f64()
                .ok_or_else(|| format!("expected a number, got {}", kind(v)))?,
        ),
        Type::Char => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("expected a one-character string, got {}", kind(v)))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(format!("expected one character, got {s:?}")),
            }
        }
        Type::String => Val::String(
            v.as_str()
                .ok_or_else(|| format!("expected a string, got {}", kind(v)))?
                .to_string(),
        ),
        Type::List(l) => {
            let items = v
                .as_array()
                .ok_or_else(|| format!("expected an array, got {}", kind(v)))?;
            let elem = l.ty();
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| from_json(&elem, x).map_err(|e| format!("[{i}]: {e}")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(r) => {
            let obj = v
                .as_object()
                .ok_or_else(|| format!("expected an object, got {}", kind(v)))?;
            let fields: Vec<_> = r.fields().collect();
            if let Some(unknown) = obj
                .keys()
                .find(|k| !fields.iter().any(|f| f.name == k.as_str()))
            {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                return Err(format!(
                    "unknown field `{unknown}`; fields are {}",
                    names.join(", ")
                ));
            }
            let mut out = Vec::with_capacity(fields.len());
            for f in fields {
                let value = match obj.get(f.name) {
                    Some(x) => x,
                    None if matches!(f.ty, Type::Option(_)) => &Json::Null,
                    None => return Err(format!("missing field `{}`", f.name)),
                };
                out.push((
                    f.name.to_string(),
                    from_json(&f.ty, value).map_err(|e| format!("{}: {e}", f.name))?,
                ));
            }
            Val::Record(out)
        }
        Type::Tuple(t) => {
            let items = v
                .as_array()
                .ok_or_else(|| format!("expected an array, got {}", kind(v)))?;
            let types: Vec<Type> = t.types().collect();
            if items.len() != types.len() {
                return Err(format!(
                    "expected {} items, got {}",
                    types.len(),
                    items.len()
                ));
            }
            Val::Tuple(
                types
                    .iter()
                    .zip(items)
                    .map(|(t, x)| from_json(t, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Variant(var) => {
            let cases: Vec<_> = var.cases().collect();
            let (name, payload) = match v {
                Json::String(s) => (s.as_str(), None),
                Json::Object(o) if o.len() == 1 => match o.iter().next() {
                    Some((k, x)) => (k.as_str(), Some(x)),
                    None => return Err("empty object".into()),
                },
                other => {
                    return Err(format!(
                        "expected \"case\" or {{\"case\": value}}, got {}",
                        kind(other)
                    ));
                }
            };
            let Some(case) = cases.iter().find(|c| c.name == name) else {
                let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
                return Err(format!(
                    "unknown case `{name}`; cases are {}",
                    names.join(", ")
                ));
            };
            let payload = match (&case.ty, payload) {
                (Some(t), Some(x)) => Some(Box::new(
                    from_json(t, x).map_err(|e| format!("{name}: {e}"))?,
                )),
                (Some(_), None) => {
                    return Err(format!("case `{name}` needs a value: {{\"{name}\": …}}"));
                }
                (None, None) | (None, Some(Json::Null)) => None,
                (None, Some(_)) => return Err(format!("case `{name}` takes no value")),
            };
            Val::Variant(name.to_string(), payload)
        }
        Type::Enum(e) => {
            let s = v
                .as_str()
                .ok_or_else(|| format!("expected a case name, got {}", kind(v)))?;
            if !e.names().any(|n| n == s) {
                let names: Vec<&str> = e.names().collect();
                return Err(format!(
                    "unknown case `{s}`; cases are {}",
                    names.join(", ")
                ));
            }
            Val::Enum(s.to_string())
        }
        Type::Option(o) => match v {
            Json::Null => Val::Option(None),
            x => Val::Option(Some(Box::new(from_json(&o.ty(), x)?))),
        },
        Type::Result(r) => {
            let obj = v
                .as_object()
                .filter(|o| o.len() == 1)
                .ok_or_else(|| "expected {\"ok\": …} or {\"err\": …}".to_string())?;
            match (obj.get("ok"), obj.get("err")) {
                (Some(x), None) => Val::Result(Ok(match r.ok() {
                    Some(t) => Some(Box::new(from_json(&t, x)?)),
                    None => None,
                })),
                (None, Some(x)) => Val::Result(Err(match r.err() {
                    Some(t) => Some(Box::new(from_json(&t, x)?)),
                    None => None,
                })),
                _ => return Err("expected {\"ok\": …} or {\"err\": …}".into()),
            }
        }
        Type::Flags(f) => {
            let items = v
                .as_array()
                .ok_or_else(|| format!("expected an array of flag names, got {}", kind(v)))?;
            let mut out = Vec::new();
            for item in items {
                let s = item.as_str().ok_or("flag names are strings")?;
                if !f.names().any(|n| n == s) {
                    return Err(format!("unknown flag `{s}`"));
                }
                out.push(s.to_string());
            }
            Val::Flags(out)
        }
        other => return Err(format!("type {other:?} cannot be given as JSON")),
    })
}

/// Converts a component value to JSON.
pub fn to_json(v: &Val) -> Json {
    match v {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(n) => Json::from(*n),
        Val::U8(n) => Json::from(*n),
        Val::S16(n) => Json::from(*n),
        Val::U16(n) => Json::from(*n),
        Val::S32(n) => Json::from(*n),
        Val::U32(n) => Json::from(*n),
        Val::S64(n) => Json::from(*n),
        Val::U64(n) => Json::from(*n),
        Val::Float32(n) => Json::from(f64::from(*n)),
        Val::Float64(n) => Json::from(*n),
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Val::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Val::Variant(case, None) | Val::Enum(case) => Json::String(case.clone()),
        Val::Variant(case, Some(payload)) => {
            let mut m = Map::new();
            m.insert(case.clone(), to_json(payload));
            Json::Object(m)
        }
        Val::Option(None) => Json::Null,
        Val::Option(Some(x)) => to_json(x),
        Val::Result(r) => {
            let (k, x) = match r {
                Ok(x) => ("ok", x),
                Err(x) => ("err", x),
            };
            let mut m = Map::new();
            m.insert(k.into(), x.as_deref().map(to_json).unwrap_or(Json::Null));
            Json::Object(m)
        }
        Val::Flags(names) => Json::Array(names.iter().map(|n| Json::String(n.clone())).collect()),
        Val::Map(pairs) => Json::Array(
            pairs
                .iter()
                .map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)]))
                .collect(),
        ),
        other => Json::String(format!("<{other:?}>")),
    }
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
