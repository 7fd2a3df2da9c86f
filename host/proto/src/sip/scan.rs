//! Byte scanner and RFC 3261 character classes shared by all SIP parsers.
//!
//! Every parser in this module walks its input through [`Scanner`], whose methods
//! never index out of bounds: positions only move forward over bytes that `get`
//! returned. Errors at this level are short static descriptions; the caller wraps
//! them with the place they occurred (header name, Request-URI, start line), which
//! keeps error values cheap and the messages precise.

use bytes::Bytes;

/// A low-level syntax error: what is wrong, without where (the caller adds that).
pub(crate) type Syn<T> = Result<T, &'static str>;

/// RFC 3261 `token` characters: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" /
/// "`" / "'" / "~".
pub(crate) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// RFC 3261 `unreserved` = alphanum / mark.
pub(crate) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

/// RFC 3261 `reserved`.
pub(crate) fn is_reserved(b: u8) -> bool {
    matches!(
        b,
        b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b','
    )
}

pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Checks that every `%` in `s` starts a valid `escaped` (`%` HEXDIG HEXDIG) and that
/// all other bytes satisfy `allowed`.
pub(crate) fn check_escaped(s: &[u8], allowed: impl Fn(u8) -> bool, what: &'static str) -> Syn<()> {
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'%' {
            let hex = |j: usize| s.get(j).is_some_and(|c| c.is_ascii_hexdigit());
            if !(hex(i + 1) && hex(i + 2)) {
                return Err("'%' not followed by two hex digits");
            }
            i += 3;
        } else if allowed(b) {
            i += 1;
        } else {
            return Err(what);
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes. Invalid escapes are kept literally: the parsers have
/// already rejected them, and a decoder that cannot fail is easier to use.
pub(crate) fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| hex_val(*x)),
                b.get(i + 2).and_then(|x| hex_val(*x)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses `1*DIGIT` into a `u64`, refusing overflow instead of wrapping.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// Converts bytes the grammar guarantees to be ASCII (tokens, URIs) into a `String`.
/// Lossy on purpose so that a grammar bug can never turn into a panic.
pub(crate) fn string(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

/// Trims SP/HTAB on both sides.
pub(crate) fn trim_ws(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_ws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_ws(b)).map_or(start, |p| p + 1);
    s.get(start..end).unwrap_or_default()
}

/// Finds `needle` in `hay` starting at `from`.
pub(crate) fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    loop {
        let at = i + hay.get(i..)?.iter().position(|&b| b == first)?;
        // Past the end means no later match can fit either.
        if hay.get(at..at + needle.len())? == needle {
            return Some(at);
        }
        i = at + 1;
    }
}

/// `buf[start..end]` as a shared `Bytes`, without a panic path: every caller derives
/// the range from positions found in `buf`, and should that ever be wrong the value is
/// empty rather than the gateway crashing.
pub(crate) fn slice(buf: &Bytes, start: usize, end: usize) -> Bytes {
    if start <= end && end <= buf.len() {
        buf.slice(start..end)
    } else {
        Bytes::new()
    }
}

/// A forward-only cursor over a byte string.
#[derive(Debug, Clone)]
pub(crate) struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Scanner { s, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.s.get(self.pos..).unwrap_or_default()
    }

    /// Everything from `start` (an earlier `pos()`) up to the current position.
    pub(crate) fn since(&self, start: usize) -> &'a [u8] {
        self.s.get(start..self.pos).unwrap_or_default()
    }

    pub(crate) fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect(&mut self, b: u8, what: &'static str) -> Syn<()> {
        if self.eat(b) { Ok(()) } else { Err(what) }
    }

    /// Skips SP/HTAB (folding was already turned into SP); returns whether any was skipped.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.since(start)
    }

    /// Advances to the next unquoted occurrence of a byte in `stop` (or the end) and
    /// returns what was skipped.
    pub(crate) fn take_until_any(&mut self, stop: &[u8]) -> &'a [u8] {
        self.take_while(|b| !stop.contains(&b))
    }

    pub(crate) fn token(&mut self, what: &'static str) -> Syn<&'a [u8]> {
        let t = self.take_while(is_token);
        if t.is_empty() { Err(what) } else { Ok(t) }
    }

    /// Parses a `quoted-string` (the opening quote must be next) and returns its
    /// contents with the quoted-pairs still escaped.
    pub(crate) fn quoted_string(&mut self) -> Syn<&'a [u8]> {
        self.expect(b'"', "expected '\"'")?;
        let start = self.pos;
        loop {
            match self.bump() {
                None => return Err("unterminated quoted string"),
                Some(b'"') => {
                    let end = self.pos - 1;
                    return Ok(self.s.get(start..end).unwrap_or_default());
                }
                Some(b'\\') => match self.bump() {
                    None => return Err("unterminated quoted string"),
                    Some(b'\r' | b'\n') => return Err("line break in quoted-pair"),
                    Some(_) => {}
                },
                // qdtext: LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII. Raw control
                // characters are only legal as a quoted-pair.
                Some(b) if b < 0x20 && b != b'\t' || b == 0x7f => {
                    return Err("control character in quoted string");
                }
                Some(_) => {}
            }
        }
    }
}

/// Resolves quoted-pairs inside the contents of a quoted string.
pub(crate) fn unquote(inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len());
    let mut it = inner.iter();
    while let Some(&b) = it.next() {
        if b == b'\\' {
            if let Some(&n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(b);
        }
    }
    out
}

/// Writes `s` as a quoted-string. Characters that may not appear raw become
/// quoted-pairs; CR and LF cannot be represented at all (quoted-pair excludes them),
/// so they become spaces rather than letting a value break the message framing.
pub(crate) fn quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c < ' ' && c != '\t') || c == '\x7f' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings() {
        let mut s = Scanner::new(br#""a \"b\" \\" rest"#);
        let inner = s.quoted_string().unwrap();
        assert_eq!(unquote(inner), br#"a "b" \"#);
        assert_eq!(s.rest(), b" rest");
        assert!(Scanner::new(b"\"open").quoted_string().is_err());
        assert!(Scanner::new(b"\"a\\").quoted_string().is_err());
        assert!(Scanner::new(b"\"a\x01\"").quoted_string().is_err());
        assert!(Scanner::new(b"\"a\\\x01\"").quoted_string().is_ok());
        let mut q = String::new();
        quote("a\"b\\c\r\n\x00", &mut q);
        assert_eq!(q, "\"a\\\"b\\\\c  \\\x00\"");
    }

    #[test]
    fn numbers_and_escapes() {
        assert_eq!(parse_u64(b"0068"), Some(68));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(unescape("a%41%zz%4"), b"aA%zz%4");
        assert!(check_escaped(b"a%4", is_unreserved, "x").is_err());
        assert!(check_escaped(b"a%41b", is_unreserved, "x").is_ok());
        assert_eq!(trim_ws(b"  a b \t"), b"a b");
        assert_eq!(trim_ws(b"   "), b"");
        assert_eq!(find(b"abcabc", 1, b"abc"), Some(3));
        assert_eq!(find(b"ab", 5, b"abc"), None);
    }
}
