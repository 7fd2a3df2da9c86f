//! `;name=value` parameters, as found on URIs and on header values.
//!
//! Parameters are kept in order and with their values exactly as written (escapes
//! and quotes included), because printing must reproduce what peers sent: a proxy
//! compares a `branch` or a `tag` byte for byte, and re-quoting or decoding a value
//! would change it. Names compare case-insensitively (RFC 3261 §7.3.1, §19.1.4).

use std::borrow::Cow;
use std::fmt;

use super::scan::{self, Scanner, Syn};

/// One parameter. `value` is `None` for a flag such as `;lr` or `;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name as written.
    pub name: String,
    /// The raw value: escapes kept, quotes kept for a quoted-string value.
    pub value: Option<String>,
}

impl Param {
    /// A parameter with a value (raw: quote it yourself if it needs quoting).
    pub fn new(name: impl Into<String>, value: Option<impl Into<String>>) -> Self {
        Param {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    /// The value with surrounding quotes removed and quoted-pairs resolved.
    pub fn unquoted(&self) -> Option<Cow<'_, str>> {
        let v = self.value.as_deref()?;
        match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
            Some(inner) if inner.contains('\\') => Some(Cow::Owned(
                String::from_utf8_lossy(&scan::unquote(inner.as_bytes())).into_owned(),
            )),
            Some(inner) => Some(Cow::Borrowed(inner)),
            None => Some(Cow::Borrowed(v)),
        }
    }
}

/// An ordered list of parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<Param>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Params(Vec::new())
    }

    /// The first parameter with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// The raw value of a parameter that has one.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name)?.value.as_deref()
    }

    /// Whether a parameter with this name is present, with or without value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets a parameter, replacing the first of that name or appending.
    pub fn set(&mut self, name: impl Into<String>, value: Option<impl Into<String>>) {
        let p = Param::new(name, value);
        match self
            .0
            .iter_mut()
            .find(|q| q.name.eq_ignore_ascii_case(&p.name))
        {
            Some(q) => *q = p,
            None => self.0.push(p),
        }
    }

    /// Appends a parameter even if one of that name exists.
    pub fn push(&mut self, param: Param) {
        self.0.push(param);
    }

    /// Removes every parameter of that name; returns how many were removed.
    pub fn remove(&mut self, name: &str) -> usize {
        let before = self.0.len();
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
        before - self.0.len()
    }

    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Param> {
        self.0.iter()
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Params {
    type Item = &'a Param;
    type IntoIter = std::slice::Iter<'a, Param>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            write!(f, ";{}", p.name)?;
            if let Some(v) = &p.value {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}

/// Parses header parameters: `*( SEMI generic-param )` where SEMI and EQUAL may be
/// surrounded by whitespace, and `gen-value = token / host / quoted-string`. A host
/// value may be an unbracketed IPv6 address (RFC 5118 §4.5 `received=2001:db8::1`),
/// hence `:` in unquoted values. Stops before anything that is not `;`.
pub(crate) fn parse_header_params(s: &mut Scanner<'_>) -> Syn<Params> {
    let mut params = Params::new();
    loop {
        let save = s.clone();
        s.skip_ws();
        if !s.eat(b';') {
            *s = save;
            return Ok(params);
        }
        s.skip_ws();
        let name = s.token("empty or invalid parameter name")?;
        let save = s.clone();
        s.skip_ws();
        let value = if s.eat(b'=') {
            s.skip_ws();
            Some(header_param_value(s)?)
        } else {
            *s = save;
            None
        };
        params.push(Param {
            name: scan::string(name),
            value,
        });
    }
}

fn header_param_value(s: &mut Scanner<'_>) -> Syn<String> {
    let start = s.pos();
    match s.peek() {
        Some(b'"') => {
            s.quoted_string()?;
            // Quoted values may hold UTF-8 text (RFC 3261 qdtext).
            Ok(String::from_utf8_lossy(s.since(start)).into_owned())
        }
        Some(b'[') => {
            s.take_until_any(b"]");
            s.expect(b']', "unterminated '[' in parameter value")?;
            Ok(scan::string(s.since(start)))
        }
        _ => {
            let v = s.take_while(|b| scan::is_token(b) || b == b':');
            if v.is_empty() {
                Err("parameter has '=' but no value")
            } else {
                Ok(scan::string(v))
            }
        }
    }
}

/// RFC 3261 `paramchar` (URI parameters): param-unreserved / unreserved / escaped.
fn is_paramchar(b: u8) -> bool {
    scan::is_unreserved(b) || matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}

/// Parses URI parameters from the text after a URI's host (each starting with `;`),
/// stopping at `?` or the end. No whitespace is allowed inside a URI.
pub(crate) fn parse_uri_params(s: &mut Scanner<'_>) -> Syn<Params> {
    let mut params = Params::new();
    while s.eat(b';') {
        let name = s.take_while(|b| is_paramchar(b) || b == b'%');
        if name.is_empty() {
            return Err("empty URI parameter name");
        }
        scan::check_escaped(name, is_paramchar, "invalid character in URI parameter")?;
        let value = if s.eat(b'=') {
            let v = s.take_while(|b| is_paramchar(b) || b == b'%');
            if v.is_empty() {
                return Err("URI parameter has '=' but no value");
            }
            scan::check_escaped(v, is_paramchar, "invalid character in URI parameter")?;
            Some(scan::string(v))
        } else {
            None
        };
        params.push(Param {
            name: scan::string(name),
            value,
        });
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_params_with_whitespace_and_ipv6() {
        let mut s =
            Scanner::new(b" ;  tag    = 1918181833n ; lr;received=2001:db8::9:255;x=\"a;b\" rest");
        let p = parse_header_params(&mut s).unwrap();
        assert_eq!(p.value("TAG"), Some("1918181833n"));
        assert!(p.contains("lr"));
        assert_eq!(p.value("received"), Some("2001:db8::9:255"));
        assert_eq!(p.get("x").unwrap().unquoted().unwrap(), "a;b");
        assert_eq!(s.rest(), b" rest");
        assert_eq!(
            p.to_string(),
            ";tag=1918181833n;lr;received=2001:db8::9:255;x=\"a;b\""
        );
    }

    #[test]
    fn empty_params_are_errors() {
        assert!(parse_header_params(&mut Scanner::new(b";;")).is_err());
        assert!(parse_header_params(&mut Scanner::new(b";a=")).is_err());
        assert!(parse_uri_params(&mut Scanner::new(b";")).is_err());
        assert!(parse_uri_params(&mut Scanner::new(b";a=%4")).is_err());
    }

    #[test]
    fn edit_params() {
        let mut p = Params::new();
        p.set("tag", Some("a"));
        p.set("TAG", Some("b"));
        p.set("lr", None::<String>);
        assert_eq!(p.to_string(), ";TAG=b;lr");
        assert_eq!(p.remove("tag"), 1);
        assert_eq!(p.len(), 1);
    }
}
