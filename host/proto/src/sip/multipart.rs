//! Splitting `multipart/*` bodies (RFC 2046 §5.1) into parts.
//!
//! Trunks send INVITEs whose body is `multipart/mixed` with the SDP beside an ISUP
//! or XML part; the UAS needs to find the SDP part and may ignore the others. Parts
//! are slices of the body, and their headers use the same parser as SIP headers.

use bytes::Bytes;

use super::error::ParseError;
use super::header::Headers;
use super::parse::{self, Limits};
use super::scan;

/// One body part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's MIME headers (`Content-Type`, `Content-Disposition` …).
    pub headers: Headers,
    /// The part's content.
    pub body: Bytes,
}

/// Splits `body` at `boundary` (the Content-Type parameter, unquoted).
pub fn split_multipart(body: &Bytes, boundary: &str) -> Result<Vec<Part>, ParseError> {
    if boundary.is_empty() || boundary.len() > 70 {
        return Err(ParseError::Multipart("boundary must be 1 to 70 characters"));
    }
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    // The first delimiter may open the body; every later one follows a CRLF, which
    // belongs to the delimiter, not to the preceding part.
    let mut pos = if body.starts_with(delim) {
        0
    } else {
        scan::find(body, 0, &[b"\r\n", delim].concat())
            .map(|p| p + 2)
            .ok_or(ParseError::Multipart("no boundary delimiter"))?
    };
    let next_delim = [b"\r\n", delim].concat();
    let mut parts = Vec::new();
    loop {
        let after = pos + delim.len();
        if body.get(after..after + 2) == Some(b"--") {
            return Ok(parts); // close-delimiter
        }
        // Transport padding (whitespace) may follow a delimiter before its CRLF.
        let line_end = scan::find(body, after, b"\r\n")
            .ok_or(ParseError::Multipart("delimiter line not ended by CRLF"))?;
        if !scan::trim_ws(body.get(after..line_end).unwrap_or_default()).is_empty() {
            return Err(ParseError::Multipart("text after boundary delimiter"));
        }
        let part_start = line_end + 2;
        let part_end = scan::find(body, part_start, &next_delim)
            .ok_or(ParseError::Multipart("missing close delimiter"))?;
        parts.push(parse_part(body, part_start, part_end)?);
        pos = part_end + 2;
    }
}

fn parse_part(body: &Bytes, start: usize, end: usize) -> Result<Part, ParseError> {
    let content = scan::slice(body, start, end);
    // A part without headers starts with the empty line right away.
    if content.starts_with(b"\r\n") {
        return Ok(Part {
            headers: Headers::new(),
            body: scan::slice(&content, 2, content.len()),
        });
    }
    let head_end = scan::find(&content, 0, b"\r\n\r\n").ok_or(ParseError::Multipart(
        "part headers not ended by an empty line",
    ))?;
    let headers = parse::split_headers(&content, 0, head_end + 2, &Limits::default())?;
    Ok(Part {
        headers: Headers::from(headers),
        body: scan::slice(&content, head_end + 4, content.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::HeaderName;

    #[test]
    fn splits_parts() {
        let body = Bytes::from_static(
            b"preamble\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--b1  \r\n\
              Content-Type: application/isup\r\nContent-Disposition: signal;handling=optional\r\n\r\n\x01\x02\r\n--b1\r\n\r\nplain\r\n--b1--\r\nepilogue",
        );
        let parts = split_multipart(&body, "b1").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0].headers.content_type().unwrap().unwrap().subtype,
            "sdp"
        );
        assert_eq!(parts[0].body, "v=0\r\n");
        assert_eq!(parts[1].body, &b"\x01\x02"[..]);
        assert!(parts[1].headers.contains(HeaderName::ContentDisposition));
        assert!(parts[2].headers.is_empty());
        assert_eq!(parts[2].body, "plain");
    }

    #[test]
    fn malformed_multipart() {
        let b = |s: &'static [u8]| Bytes::from_static(s);
        assert!(split_multipart(&b(b"no delimiter"), "x").is_err());
        assert!(split_multipart(&b(b"--x\r\n\r\nunterminated"), "x").is_err());
        assert!(split_multipart(&b(b"--x junk\r\n\r\na\r\n--x--"), "x").is_err());
        assert!(split_multipart(&b(b"--x\r\nNoColon\r\n\r\na\r\n--x--"), "x").is_err());
        assert!(split_multipart(&b(b"--x"), "").is_err());
        assert_eq!(split_multipart(&b(b"--x--"), "x").unwrap(), vec![]);
    }
}
