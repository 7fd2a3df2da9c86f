//! `voxgate sip lint`: what voxgate would do with a captured SIP message.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use voxgate_proto::sip::{Verdict, lint};

#[derive(Debug, Subcommand)]
pub(super) enum SipCommand {
    /// For each file print `FILE<TAB>VERDICT<TAB>REASON`, where VERDICT is `accept`,
    /// `reject`, `drop` or `answer:NNN`. Exits 1 if any file is rejected.
    Lint {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub(super) fn run(cmd: SipCommand) -> ExitCode {
    match cmd {
        SipCommand::Lint { files } => {
            let mut rejected = false;
            let mut unreadable = false;
            for file in files {
                // Captured messages are raw bytes (NULs, non-UTF-8 are legal in places).
                match std::fs::read(&file) {
                    Ok(bytes) => {
                        let verdict = lint(&bytes);
                        rejected |= matches!(verdict, Verdict::Reject { .. });
                        let reason = one_line(verdict.reason());
                        println!("{}\t{verdict}\t{reason}", file.display());
                    }
                    Err(e) => {
                        unreadable = true;
                        eprintln!("{}: cannot read: {e}", file.display());
                    }
                }
            }
            if unreadable {
                ExitCode::from(2)
            } else if rejected {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
    }
}

/// Reasons may quote message bytes; keep each report on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
