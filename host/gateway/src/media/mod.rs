//! Media: audio files, and (with SIP) the per-call RTP engine.

pub mod audio_file;
pub mod call;
pub mod listen;
pub mod ports;
pub mod recording;
