//! Header names and the ordered header list of a message.
//!
//! Headers are kept as an ordered list of (name, raw value) pairs, not as a map or a
//! struct of typed fields: order is meaningful (Via, Route, Record-Route, and the
//! relative order of same-named headers, RFC 3261 §7.3.1), a proxy or a B2BUA must
//! forward headers it does not understand untouched, and the transaction and dialog
//! layers add or replace a few headers without re-encoding the others. Values are
//! `bytes::Bytes` slices of the received buffer, so a clone is a reference-count
//! increment and an unfolded value is never copied. Typed views (Via, From, CSeq …)
//! are parsed on demand by the accessors in `typed.rs`.
//!
//! Names are normalised when parsed: compact forms (`i`, `m`, `v` …) and any casing
//! of a known header become one [`HeaderName`] variant, so lookups never need to
//! know how the peer spelled a header, and printing uses the canonical long form.

use std::fmt;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

macro_rules! known_headers {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal $(, $compact:literal)? ; )*) => {
        /// A header name. Known headers are variants (compact forms map to them);
        /// others keep their spelling and compare case-insensitively.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$doc])* #[doc = concat!("`", $name, "`")] $variant, )*
            /// Any other header, as spelled by the sender. Build names with
            /// `HeaderName::from("…")`, which maps known names and compact forms to
            /// their variants; an `Other` holding a known name would not match them.
            Other(Box<str>),
        }

        impl HeaderName {
            /// The canonical spelling (long form for known headers).
            pub fn as_str(&self) -> &str {
                match self {
                    $( HeaderName::$variant => $name, )*
                    HeaderName::Other(s) => s,
                }
            }

            /// The compact form (RFC 3261 §7.3.3 and later extensions), if any.
            pub fn compact(&self) -> Option<&'static str> {
                match self {
                    $( $( HeaderName::$variant => Some($compact), )? )*
                    _ => None,
                }
            }

            fn known(name: &[u8]) -> Option<HeaderName> {
                $(
                    if name.eq_ignore_ascii_case($name.as_bytes())
                        $( || name.eq_ignore_ascii_case($compact.as_bytes()) )?
                    {
                        return Some(HeaderName::$variant);
                    }
                )*
                None
            }

        }
    };
}

known_headers! {
    Accept => "Accept";
    AcceptEncoding => "Accept-Encoding";
    AcceptLanguage => "Accept-Language";
    AlertInfo => "Alert-Info";
    Allow => "Allow";
    AllowEvents => "Allow-Events", "u";
    AuthenticationInfo => "Authentication-Info";
    Authorization => "Authorization";
    CallId => "Call-ID", "i";
    CallInfo => "Call-Info";
    Contact => "Contact", "m";
    ContentDisposition => "Content-Disposition";
    ContentEncoding => "Content-Encoding", "e";
    ContentLanguage => "Content-Language";
    ContentLength => "Content-Length", "l";
    ContentType => "Content-Type", "c";
    CSeq => "CSeq";
    Date => "Date";
    ErrorInfo => "Error-Info";
    Event => "Event", "o";
    Expires => "Expires";
    From => "From", "f";
    Identity => "Identity", "y";
    InReplyTo => "In-Reply-To";
    MaxForwards => "Max-Forwards";
    MimeVersion => "MIME-Version";
    MinExpires => "Min-Expires";
    MinSe => "Min-SE";
    Organization => "Organization";
    PAssertedIdentity => "P-Asserted-Identity";
    PPreferredIdentity => "P-Preferred-Identity";
    Priority => "Priority";
    Privacy => "Privacy";
    ProxyAuthenticate => "Proxy-Authenticate";
    ProxyAuthorization => "Proxy-Authorization";
    ProxyRequire => "Proxy-Require";
    RAck => "RAck";
    Reason => "Reason";
    RecordRoute => "Record-Route";
    ReferTo => "Refer-To", "r";
    ReferredBy => "Referred-By", "b";
    Replaces => "Replaces";
    ReplyTo => "Reply-To";
    Require => "Require";
    RetryAfter => "Retry-After";
    Route => "Route";
    RSeq => "RSeq";
    Server => "Server";
    SessionExpires => "Session-Expires", "x";
    Subject => "Subject", "s";
    SubscriptionState => "Subscription-State";
    Supported => "Supported", "k";
    Timestamp => "Timestamp";
    To => "To", "t";
    Unsupported => "Unsupported";
    UserAgent => "User-Agent";
    Via => "Via", "v";
    Warning => "Warning";
    WwwAuthenticate => "WWW-Authenticate";
}

impl HeaderName {
    /// Classifies a name as received; unknown names keep their spelling.
    pub fn from_bytes(name: &[u8]) -> HeaderName {
        HeaderName::known(name)
            .unwrap_or_else(|| HeaderName::Other(String::from_utf8_lossy(name).into()))
    }

    /// Whether this is a header not in the known list.
    pub fn is_other(&self) -> bool {
        matches!(self, HeaderName::Other(_))
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (HeaderName::Other(a), HeaderName::Other(b)) => a.eq_ignore_ascii_case(b),
            (HeaderName::Other(_), _) | (_, HeaderName::Other(_)) => false,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for HeaderName {}

impl Hash for HeaderName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            HeaderName::Other(s) => {
                for b in s.bytes() {
                    state.write_u8(b.to_ascii_lowercase());
                }
            }
            known => std::mem::discriminant(known).hash(state),
        }
    }
}

impl From<&str> for HeaderName {
    fn from(s: &str) -> Self {
        HeaderName::from_bytes(s.as_bytes())
    }
}

impl From<&HeaderName> for HeaderName {
    fn from(n: &HeaderName) -> Self {
        n.clone()
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field: a name and its raw value (folding replaced by single spaces,
/// surrounding whitespace trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Normalised name.
    pub name: HeaderName,
    /// Raw value bytes. Usually UTF-8, but kept as bytes because peers do send
    /// Latin-1 display names and a gateway should not drop a call over them.
    pub value: Bytes,
}

impl Header {
    /// A header from a name and anything convertible to bytes (`&'static str`,
    /// `String`, `Vec<u8>`, `Bytes`). CR and LF in the value are printed as spaces,
    /// so a value can never inject a header.
    pub fn new(name: impl Into<HeaderName>, value: impl Into<Bytes>) -> Self {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The value as text, if it is UTF-8.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// The ordered header fields of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers(Vec::new())
    }

    /// Number of header fields (a comma list in one field counts once).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All fields in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }

    /// The first field with this name.
    pub fn get(&self, name: impl Into<HeaderName>) -> Option<&Header> {
        let name = name.into();
        self.0.iter().find(|h| h.name == name)
    }

    /// The first value with this name.
    pub fn value(&self, name: impl Into<HeaderName>) -> Option<&Bytes> {
        self.get(name).map(|h| &h.value)
    }

    /// Every field with this name, in order.
    pub fn get_all(&self, name: impl Into<HeaderName>) -> impl Iterator<Item = &Header> {
        let name = name.into();
        self.0.iter().filter(move |h| h.name == name)
    }

    /// How many fields have this name.
    pub fn count(&self, name: impl Into<HeaderName>) -> usize {
        self.get_all(name).count()
    }

    /// Whether a field with this name exists.
    pub fn contains(&self, name: impl Into<HeaderName>) -> bool {
        self.get(name).is_some()
    }

    /// Appends a field.
    pub fn push(&mut self, header: Header) {
        self.0.push(header);
    }

    /// Appends a field built from a name and a value.
    pub fn append(&mut self, name: impl Into<HeaderName>, value: impl Into<Bytes>) {
        self.0.push(Header::new(name, value));
    }

    /// Inserts a field before all others of the same name (where a proxy puts its
    /// Via or Record-Route), or at the end if there is none.
    pub fn prepend(&mut self, header: Header) {
        match self.0.iter().position(|h| h.name == header.name) {
            Some(i) => self.0.insert(i, header),
            None => self.0.push(header),
        }
    }

    /// Replaces every field of this name by one field at the position of the first,
    /// or appends it if there was none.
    pub fn set(&mut self, name: impl Into<HeaderName>, value: impl Into<Bytes>) {
        let header = Header::new(name, value);
        match self.0.iter().position(|h| h.name == header.name) {
            Some(i) => {
                let name = header.name.clone();
                if let Some(slot) = self.0.get_mut(i) {
                    *slot = header;
                }
                let mut idx = 0;
                self.0.retain(|h| {
                    let keep = idx <= i || h.name != name;
                    idx += 1;
                    keep
                });
            }
            None => self.0.push(header),
        }
    }

    /// Removes every field of this name; returns how many were removed.
    pub fn remove(&mut self, name: impl Into<HeaderName>) -> usize {
        let name = name.into();
        let before = self.0.len();
        self.0.retain(|h| h.name != name);
        before - self.0.len()
    }

    /// Removes and returns the first field of this name (a proxy popping its Route).
    pub fn remove_first(&mut self, name: impl Into<HeaderName>) -> Option<Header> {
        let name = name.into();
        let i = self.0.iter().position(|h| h.name == name)?;
        Some(self.0.remove(i))
    }
}

impl From<Vec<Header>> for Headers {
    fn from(v: Vec<Header>) -> Self {
        Headers(v)
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive_names() {
        for (raw, want) in [
            ("i", HeaderName::CallId),
            ("CALL-id", HeaderName::CallId),
            ("m", HeaderName::Contact),
            ("f", HeaderName::From),
            ("T", HeaderName::To),
            ("v", HeaderName::Via),
            ("L", HeaderName::ContentLength),
            ("c", HeaderName::ContentType),
            ("k", HeaderName::Supported),
            ("s", HeaderName::Subject),
            ("e", HeaderName::ContentEncoding),
            ("o", HeaderName::Event),
            ("u", HeaderName::AllowEvents),
            ("r", HeaderName::ReferTo),
            ("b", HeaderName::ReferredBy),
            ("cseq", HeaderName::CSeq),
        ] {
            assert_eq!(HeaderName::from(raw), want, "{raw}");
        }
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert_eq!(HeaderName::CallId.compact(), Some("i"));
        let other = HeaderName::from("X-Tenant");
        assert!(other.is_other());
        assert_eq!(other, HeaderName::from("x-tenant"));
        assert_ne!(other, HeaderName::Via);
        assert_eq!(HeaderName::from("C%6Fntact").as_str(), "C%6Fntact");
    }

    #[test]
    fn edit_headers_keeps_order() {
        let mut h = Headers::new();
        h.append("Via", "a");
        h.append("To", "t");
        h.append("v", "b");
        h.prepend(Header::new(HeaderName::Via, "z"));
        let vias: Vec<_> = h
            .get_all(HeaderName::Via)
            .map(|x| x.value.clone())
            .collect();
        assert_eq!(vias, ["z", "a", "b"]);
        h.set("via", "only");
        assert_eq!(h.count(HeaderName::Via), 1);
        assert_eq!(h.iter().next().unwrap().value, "only");
        assert_eq!(h.len(), 2);
        h.set("X-New", "1");
        assert_eq!(h.value("x-new").unwrap(), "1");
        assert_eq!(h.remove_first("To").unwrap().value, "t");
        assert_eq!(h.remove("via"), 1);
        assert_eq!(h.len(), 1);
    }
}
