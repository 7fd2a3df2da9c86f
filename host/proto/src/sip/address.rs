//! name-addr / addr-spec values: From, To, Contact, Route, Record-Route, Refer-To.
//!
//! The two forms differ in where parameters belong. In `<sip:a@b;x>;y` the `x` is a
//! URI parameter and `y` a header parameter; in the bare `sip:a@b;y` form every
//! parameter is a header parameter (RFC 3261 §20). So a bare addr-spec ends at the
//! first `;`, and one containing `?` or `,` is refused (RFC 4475 §3.1.2.13): it is
//! ambiguous, and guessing would split a Contact list in the wrong place.
//!
//! The grammar is applied strictly where leniency would change meaning: no space
//! inside `< >` (RFC 4475 §3.1.2.14), a display name is either tokens or one quoted
//! string (§3.1.2.15), quotes must balance (§3.1.2.6).

use std::fmt;

use super::error::ParseError;
use super::param::{self, Params};
use super::scan::{self, Scanner, Syn};
use super::uri::{self, Uri};

/// A URI with optional display name and header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Display name, unquoted and unescaped (lossy UTF-8).
    pub display_name: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`, `lr` of a Route is a URI parameter).
    pub params: Params,
}

impl Address {
    /// An address with just a URI.
    pub fn new(uri: impl Into<Uri>) -> Self {
        Address {
            display_name: None,
            uri: uri.into(),
            params: Params::new(),
        }
    }

    /// The `tag` parameter (From / To).
    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// Parses one address with its parameters, such as a From, To or Refer-To value.
    pub fn parse(value: &[u8]) -> Result<Address, ParseError> {
        Address::parse_raw(value).map_err(ParseError::Address)
    }

    pub(crate) fn parse_raw(value: &[u8]) -> Syn<Address> {
        let mut s = Scanner::new(value);
        let a = scan_address(&mut s, false)?;
        s.skip_ws();
        if s.is_empty() {
            Ok(a)
        } else {
            Err("unexpected text after address")
        }
    }
}

impl fmt::Display for Address {
    /// Always prints the `<…>` form, which is unambiguous whatever the URI holds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display_name {
            let mut q = String::with_capacity(d.len() + 2);
            scan::quote(d, &mut q);
            write!(f, "{q} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// The value of the Contact headers of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactList {
    /// `Contact: *` (REGISTER: remove all bindings).
    Wildcard,
    /// Zero or more addresses, in order.
    Addresses(Vec<Address>),
}

/// Scans `( name-addr / addr-spec ) *( SEMI param )`. With `name_addr_only`, the
/// bare addr-spec form is refused (Route, Record-Route).
pub(crate) fn scan_address(s: &mut Scanner<'_>, name_addr_only: bool) -> Syn<Address> {
    s.skip_ws();
    let (display_name, angle) = match s.peek() {
        Some(b'"') => {
            let inner = s.quoted_string()?;
            s.skip_ws();
            if s.peek() != Some(b'<') {
                return Err("quoted display name must be followed by '<'");
            }
            (
                Some(String::from_utf8_lossy(&scan::unquote(inner)).into_owned()),
                true,
            )
        }
        Some(b'<') => (None, true),
        _ => {
            // A display name of tokens ends where '<' begins; anything else means
            // there is no display name and this is an addr-spec.
            let mut look = s.clone();
            let start = look.pos();
            loop {
                look.skip_ws();
                if look.take_while(scan::is_token).is_empty() {
                    break;
                }
            }
            let words = scan::trim_ws(look.since(start));
            if look.peek() == Some(b'<') && !words.is_empty() {
                *s = look;
                (Some(scan::string(words)), true)
            } else {
                // No display name, so an addr-spec. A '<' before any ':' means the
                // sender meant a display name but wrote something that is not one
                // (RFC 4475 §3.1.2.15: `Bell, Alexander <sip:…>`).
                let lt = s.rest().iter().position(|&b| b == b'<');
                let colon = s.rest().iter().position(|&b| b == b':');
                if lt.is_some_and(|lt| colon.is_none_or(|c| lt < c)) {
                    return Err("display name must be tokens or a quoted string");
                }
                (None, false)
            }
        }
    };
    let uri = if angle {
        s.expect(b'<', "expected '<'")?;
        let inner = s.take_until_any(b">");
        s.expect(b'>', "missing '>'")?;
        if inner.first().copied().is_some_and(scan::is_ws)
            || inner.last().copied().is_some_and(scan::is_ws)
        {
            return Err("whitespace inside <…>");
        }
        uri::parse_uri(inner)?
    } else {
        if name_addr_only {
            return Err("value must be in <…> form");
        }
        // addr-spec: the URI ends at the first ';' (header parameters follow),
        // whitespace or ','.
        let spec = s.take_until_any(b"; \t,");
        if spec.contains(&b'?') {
            return Err("a URI with '?' must be enclosed in <…>");
        }
        uri::parse_uri(spec)?
    };
    let params = param::parse_header_params(s)?;
    Ok(Address {
        display_name,
        uri,
        params,
    })
}

/// Parses a comma-separated list of addresses (Contact, Route, Record-Route).
pub(crate) fn parse_address_list(value: &[u8], name_addr_only: bool) -> Syn<Vec<Address>> {
    let mut s = Scanner::new(value);
    let mut out = Vec::new();
    loop {
        out.push(scan_address(&mut s, name_addr_only)?);
        s.skip_ws();
        if s.is_empty() {
            return Ok(out);
        }
        s.expect(b',', "expected ',' between addresses")?;
    }
}

/// Parses one Contact header value: `*` or a list of addresses.
pub(crate) fn parse_contact(value: &[u8]) -> Syn<ContactList> {
    if scan::trim_ws(value) == b"*" {
        Ok(ContactList::Wildcard)
    } else {
        parse_address_list(value, false).map(ContactList::Addresses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Address {
        Address::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn forms() {
        let a = addr("\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com> ; tag = 98asjd8");
        assert_eq!(a.display_name.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(a.tag(), Some("98asjd8"));
        let a = addr("caller<sip:caller@example.com>;tag=323");
        assert_eq!(a.display_name.as_deref(), Some("caller"));
        let a = addr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;tag=x");
        assert_eq!(
            a.display_name.as_deref(),
            Some("token1~` token2'+_ token3*%!.-")
        );
        // addr-spec: ;user=phone is a header parameter here.
        let a = addr("sip:+16505552222@ss1.example.net;user=phone");
        assert_eq!(a.params.value("user"), Some("phone"));
        assert!(a.uri.as_sip().unwrap().params.is_empty());
        let a = addr("<sip:+1@gw1.example.net;unknownparam>");
        assert!(a.uri.as_sip().unwrap().params.contains("unknownparam"));
        let a = addr("isbn:2983792873");
        assert_eq!(a.uri.scheme(), "isbn");
        let a = addr("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>");
        assert_eq!(a.uri.as_sip().unwrap().headers.len(), 1);
        assert_eq!(
            addr("\"A \\\"B\\\"\" <sip:a@b>;tag=1").to_string(),
            "\"A \\\"B\\\"\" <sip:a@b>;tag=1"
        );
    }

    #[test]
    fn rfc4475_invalid_forms() {
        for bad in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "\"Joe\" <sip:joe@example.org>;;;;",
            "<sip:a@b",
            "sip:a@b junk",
            "",
        ] {
            assert!(
                Address::parse(bad.as_bytes()).is_err(),
                "{bad:?} should fail"
            );
        }
    }

    #[test]
    fn lists_and_wildcard() {
        assert_eq!(parse_contact(b" * ").unwrap(), ContactList::Wildcard);
        let ContactList::Addresses(l) =
            parse_contact(b"\"a,b\" <sip:a@b>;q=0.5 , sip:c@d;expires=3").unwrap()
        else {
            panic!()
        };
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].params.value("expires"), Some("3"));
        assert!(parse_address_list(b"sip:a@b", true).is_err());
        assert!(parse_address_list(b"<sip:a@b>,", false).is_err());
    }
}
