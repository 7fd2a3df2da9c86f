//! The protocol layer of voxgate, written sans-IO.
//!
//! This crate turns bytes into values and values into bytes. It opens no sockets,
//! reads no clock, spawns no task and depends on no runtime: the gateway's I/O
//! drivers (tokio, in `host/gateway`) hand it what arrived and send what it returns.
//! That split is the quinn-proto / webrtc-rs `rtc` model, and it is chosen for three
//! reasons:
//!
//! * **Determinism.** The same input always gives the same output, so RFC 3261 timers
//!   can later run in virtual time in tests and a failing case replays exactly.
//! * **Fuzzing.** Every parser is a plain function over `&[u8]` that can be driven by
//!   `cargo fuzz` without a runtime (see [`sip::parse_datagram`], [`sip::StreamFramer`]
//!   and [`sip::lint`]).
//! * **Robustness.** A panic in the gateway drops live calls, so nothing here panics
//!   on input: no `unwrap`, no out-of-bounds indexing (enforced by
//!   `clippy::indexing_slicing` outside tests), checked arithmetic on numbers read
//!   from the wire, and every buffer is bounded by [`sip::Limits`].
//!
//! Today the crate holds the SIP message layer ([`sip`]): parsing (RFC 3261 grammar
//! with the RFC 5118 IPv6 forms), printing, builders, stream framing and the checks a
//! UAS applies to a request before it processes it. Transactions, dialogs, SDP and
//! RTP are meant to be added beside it and to build on its types.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod codec;
pub mod dtmf;
pub mod rtp;
pub mod sip;
