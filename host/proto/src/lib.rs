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
//!
//! The media side is sans-IO in the same way: [`sdp`] parses, prints and negotiates
//! session descriptions (offer/answer for the UAS and for voxgate's own re-INVITEs);
//! [`rtp`] reads and writes RTP and RTCP and keeps the RFC 3550 receive statistics;
//! [`codec`] holds G.711 and G.722; [`dtmf`] turns RFC 4733 events, in-band tones and
//! SIP INFO bodies into key presses; [`jitter`] turns a received RTP stream into one
//! PCM frame per pacing tick, concealing losses. Time enters only as `Instant`s and
//! RTP timestamps passed in by the caller. The fuzzing entry points are
//! [`sdp::SessionDescription::parse`], [`rtp::RtpPacket::parse`] and
//! [`rtp::rtcp::parse_compound`].
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod codec;
pub mod dtmf;
pub mod jitter;
pub mod rtp;
pub mod sdp;
pub mod sip;
