//! DTMF from the three places a caller's key presses arrive: RFC 4733 telephone-events
//! in RTP, in-band tones in the audio, and SIP INFO bodies.
//!
//! PBXs disagree about which one they use (Asterisk defaults to RFC 4733, some trunks
//! only pass tones in-band, older gateways send INFO), so the gateway runs all three
//! and each turns its input into [`Digit`]s exactly once per key press. The hard part
//! is "exactly once": RFC 4733 senders repeat every event several times for
//! robustness and the network loses and reorders packets ([`EventReceiver`]); tones
//! last an unknown time and speech can contain energy at DTMF frequencies
//! ([`InbandDetector`]).
//!
//! For sending, [`EventSender`] produces the RFC 4733 packet sequence for one digit;
//! the caller sends each packet through [`crate::rtp::RtpSender::send_at`] at the
//! given offset.

mod event;
mod inband;
mod info;

pub use event::{EventPacket, EventReceiver, EventSender, ReceivedDigit, TelephoneEvent};
pub use inband::{InbandConfig, InbandDetector};
pub use info::{InfoDigit, parse_info};

/// One DTMF key (RFC 4733 events 0–15) or hook flash (event 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit(u8);

impl Digit {
    /// Hook flash, RFC 4733 event 16.
    pub const FLASH: Digit = Digit(16);

    /// The digit for an RFC 4733 event code 0..=16.
    pub const fn from_event(event: u8) -> Option<Digit> {
        if event <= 16 {
            Some(Digit(event))
        } else {
            None
        }
    }

    /// The digit for a key character: `0`–`9`, `*`, `#`, `A`–`D` (either case), or
    /// `!` for hook flash.
    pub fn from_char(c: char) -> Option<Digit> {
        let e = match c {
            '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            'A'..='D' => c as u8 - b'A' + 12,
            'a'..='d' => c as u8 - b'a' + 12,
            '!' => 16,
            _ => return None,
        };
        Some(Digit(e))
    }

    /// The RFC 4733 event code.
    pub const fn event(self) -> u8 {
        self.0
    }

    /// The key character (`!` for hook flash).
    pub const fn to_char(self) -> char {
        match self.0 {
            0..=9 => (b'0' + self.0) as char,
            10 => '*',
            11 => '#',
            12..=15 => (b'A' + self.0 - 12) as char,
            _ => '!',
        }
    }

    /// The (row, column) frequencies in Hz of the tone pair, `None` for hook flash.
    pub const fn frequencies(self) -> Option<(u32, u32)> {
        // Keypad layout: rows 697/770/852/941 Hz, columns 1209/1336/1477/1633 Hz.
        let (row, col) = match self.0 {
            1 => (0, 0),
            2 => (0, 1),
            3 => (0, 2),
            12 => (0, 3),
            4 => (1, 0),
            5 => (1, 1),
            6 => (1, 2),
            13 => (1, 3),
            7 => (2, 0),
            8 => (2, 1),
            9 => (2, 2),
            14 => (2, 3),
            10 => (3, 0),
            0 => (3, 1),
            11 => (3, 2),
            15 => (3, 3),
            _ => return None,
        };
        let row_hz = match row {
            0 => 697,
            1 => 770,
            2 => 852,
            _ => 941,
        };
        let col_hz = match col {
            0 => 1209,
            1 => 1336,
            2 => 1477,
            _ => 1633,
        };
        Some((row_hz, col_hz))
    }
}

impl std::fmt::Display for Digit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_char())
    }
}

/// Row (low group) frequencies.
pub const ROWS_HZ: [u32; 4] = [697, 770, 852, 941];
/// Column (high group) frequencies.
pub const COLS_HZ: [u32; 4] = [1209, 1336, 1477, 1633];

/// Why a DTMF payload or body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// An RFC 4733 payload shorter than 4 bytes.
    #[error("telephone-event payload of {0} bytes is shorter than 4")]
    ShortPayload(usize),
    /// A SIP INFO Content-Type that carries no DTMF.
    #[error("content type {0:?} does not carry DTMF")]
    ContentType(String),
    /// A SIP INFO body without a recognisable signal.
    #[error("DTMF INFO body: {0}")]
    Body(&'static str),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_map_both_ways() {
        for c in "0123456789*#ABCD!".chars() {
            let d = Digit::from_char(c).unwrap();
            assert_eq!(d.to_char(), c);
            assert_eq!(Digit::from_event(d.event()), Some(d));
        }
        assert_eq!(Digit::from_char('b'), Digit::from_char('B'));
        assert_eq!(Digit::from_char('x'), None);
        assert_eq!(Digit::from_event(17), None);
        assert_eq!(
            Digit::from_char('5').unwrap().frequencies(),
            Some((770, 1336))
        );
        assert_eq!(
            Digit::from_char('#').unwrap().frequencies(),
            Some((941, 1477))
        );
        assert_eq!(Digit::FLASH.frequencies(), None);
        assert_eq!(Digit::from_char('0').unwrap().to_string(), "0");
    }
}
