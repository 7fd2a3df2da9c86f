//! The SIP message layer: parse, inspect, edit, build, print, lint.
//!
//! # Shape
//!
//! * [`parse_datagram`] turns one UDP datagram into a [`Message`]; [`StreamFramer`]
//!   cuts a TCP/TLS byte stream into messages. Both take arbitrary bytes, never
//!   panic, and are bounded by [`Limits`]. Errors are [`ParseError`] values that name
//!   the header or line at fault.
//! * A [`Message`] is a [`Request`] or a [`Response`] with public fields. Headers are
//!   an ordered list of raw values ([`Headers`]) with typed accessors
//!   ([`Headers::vias`], [`Headers::cseq`], [`Headers::from_address`] …) that parse on demand.
//!   The parser has already run those accessors' grammars over the message, so on
//!   a parsed message they only fail when a header is absent.
//! * [`Request::builder`] and [`Response::reply`] create messages; `to_bytes` and
//!   `Display` print them. Printing always yields correctly framed bytes, and a
//!   parsed message prints to one that parses back to the same values.
//! * [`lint`] applies the checks a UAS makes before processing a request and says
//!   what to do with it ([`Verdict`]).
//!
//! ```
//! use voxgate_proto::sip::{self, Message, Response, StatusCode, Verdict};
//!
//! let datagram = b"OPTIONS sip:support@gw.example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP pbx.example.com;branch=z9hG4bK776asdhds\r\n\
//!     Max-Forwards: 70\r\n\
//!     To: <sip:support@gw.example.com>\r\n\
//!     From: \"PBX\" <sip:pbx@example.com>;tag=1928301774\r\n\
//!     i: a84b4c76e66710\r\n\
//!     CSeq: 63104 OPTIONS\r\n\
//!     l: 0\r\n\r\n";
//! assert_eq!(sip::lint(datagram), Verdict::Accept);
//! let Message::Request(req) = sip::parse_datagram(datagram)? else { unreachable!() };
//! assert_eq!(req.headers.call_id()?, "a84b4c76e66710");
//! assert_eq!(req.headers.top_via()?.branch(), Some("z9hG4bK776asdhds"));
//! let ok = Response::reply(&req, StatusCode::OK).to_tag("gw1").build();
//! assert!(ok.to_bytes().starts_with(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP pbx.example.com"));
//! # Ok::<(), sip::ParseError>(())
//! ```
//!
//! # Why it is strict where it is
//!
//! The grammar is RFC 3261 §25 with the RFC 5118 IPv6 fixes, tested against the
//! RFC 4475 torture corpus. It is liberal where nothing depends on the detail
//! (unknown headers are kept as raw bytes, Call-ID is any visible ASCII, header
//! values need not be UTF-8) and strict where leniency lets two parsers disagree
//! about a message: line ends, the request line, Content-Length, quoting, angle
//! brackets, IPv6 literals. When a proxy and a UA read one message differently,
//! calls fail in ways nobody can debug; refusing early with a precise 400 is kinder.

mod address;
mod build;
pub mod dialog;
pub mod endpoint;
mod error;
mod header;
mod lint;
mod message;
mod multipart;
mod param;
mod parse;
mod print;
mod scan;
mod stream;
pub mod txn;
mod typed;
mod uri;
mod via;

pub use address::{Address, ContactList};
pub use build::{RequestBuilder, ResponseBuilder};
pub use dialog::{Dialog, DialogError, DialogId, DialogSet, DialogState};
pub use endpoint::{
    ClientTxnId, Endpoint, EndpointConfig, EndpointStats, Event, Peer, ServerTxnId, Transmit,
    TxnError,
};
pub use error::ParseError;
pub use header::{Header, HeaderName, Headers};
pub use lint::{UasPolicy, Verdict, check_request, check_response, lint, lint_with};
pub use message::{Message, Method, Request, Response, StatusCode, Version};
pub use multipart::{Part, split_multipart};
pub use param::{Param, Params};
pub use parse::{Limits, parse_datagram, parse_datagram_with};
pub use stream::{StreamEvent, StreamFramer};
pub use txn::{TimerConfig, TxnState};
pub use typed::{CSeq, MediaType};
pub use uri::{AbsoluteUri, Host, SipUri, TelUri, Uri, UriHeader};
pub use via::{Transport, Via};

#[cfg(test)]
mod corpus_tests;
