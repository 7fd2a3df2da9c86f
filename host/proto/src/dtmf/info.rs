//! DTMF in SIP INFO bodies.
//!
//! Two informal formats exist, both still sent by PBXs configured for "SIP INFO"
//! DTMF: `application/dtmf-relay` (Cisco; `Signal=5` and `Duration=160` lines) and
//! `application/dtmf` (the bare key). Neither has a specification to be strict about,
//! so the reader accepts what deployed devices send: any line ending, spaces around
//! `=`, keys in any case, and the numeric codes 10/11 some send for `*`/`#`.

use super::{Digit, DtmfError};

/// A key press reported in a SIP INFO body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InfoDigit {
    /// The key.
    pub digit: Digit,
    /// Duration in milliseconds when the body gives one.
    pub duration_ms: Option<u32>,
}

fn signal(value: &str) -> Option<Digit> {
    let v = value.trim();
    let mut chars = v.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ => v.parse::<u8>().ok().and_then(Digit::from_event),
    }
}

/// Reads the key from an INFO body given its Content-Type (parameters are ignored).
pub fn parse_info(content_type: &str, body: &[u8]) -> Result<InfoDigit, DtmfError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let text = std::str::from_utf8(body).map_err(|_| DtmfError::Body("not UTF-8"))?;
    match essence.as_str() {
        "application/dtmf-relay" => {
            let mut digit = None;
            let mut duration_ms = None;
            for line in text.lines() {
                let Some((key, value)) = line.split_once('=') else {
                    continue;
                };
                let key = key.trim();
                if key.eq_ignore_ascii_case("signal") {
                    digit = Some(signal(value).ok_or(DtmfError::Body("unknown Signal"))?);
                } else if key.eq_ignore_ascii_case("duration") {
                    duration_ms = value.trim().parse().ok();
                }
            }
            let digit = digit.ok_or(DtmfError::Body("no Signal line"))?;
            Ok(InfoDigit { digit, duration_ms })
        }
        "application/dtmf" => {
            let digit = signal(text).ok_or(DtmfError::Body("not a key"))?;
            Ok(InfoDigit {
                digit,
                duration_ms: None,
            })
        }
        _ => Err(DtmfError::ContentType(content_type.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    #[test]
    fn dtmf_relay() {
        let d = parse_info("application/dtmf-relay", b"Signal=5\r\nDuration=160\r\n").unwrap();
        assert_eq!(
            d,
            InfoDigit {
                digit: key('5'),
                duration_ms: Some(160)
            }
        );
        let d = parse_info(
            "Application/DTMF-Relay; charset=x",
            b"signal= #\nduration = 250",
        )
        .unwrap();
        assert_eq!((d.digit, d.duration_ms), (key('#'), Some(250)));
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=10\r\n")
                .unwrap()
                .digit,
            key('*')
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=11")
                .unwrap()
                .digit,
            key('#')
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Duration=160\r\n"),
            Err(DtmfError::Body("no Signal line"))
        );
        assert_eq!(
            parse_info("application/dtmf-relay", b"Signal=Z\r\n"),
            Err(DtmfError::Body("unknown Signal"))
        );
    }

    #[test]
    fn dtmf_plain_and_others() {
        assert_eq!(
            parse_info("application/dtmf", b"9\r\n").unwrap().digit,
            key('9')
        );
        assert_eq!(
            parse_info("application/dtmf", b" b ").unwrap().digit,
            key('B')
        );
        assert!(parse_info("application/dtmf", b"").is_err());
        assert!(parse_info("application/dtmf", &[0xFF]).is_err());
        assert!(matches!(
            parse_info("application/sdp", b"v=0"),
            Err(DtmfError::ContentType(_))
        ));
    }
}
