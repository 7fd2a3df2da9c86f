//! The voxgate gateway: wires the sans-IO protocol core (`voxgate-proto`) and the plugin
//! runtime (`voxgate-runtime`) to tokio, and holds the command-line tools.

pub mod analytics;
pub mod bench;
pub mod cli;
pub mod control;
pub mod conversation;
pub mod dialog;
pub mod media;
pub mod paths;
pub mod sip;
pub mod speech;
pub mod tenant;
