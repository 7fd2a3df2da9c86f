//! `voxgate sip lint` over the whole RFC 4475 / RFC 5118 torture corpus prints, for every
//! file, the verdict of the message layer (which `host/proto`'s conformance test checks
//! against `expected.tsv`), one tab-separated line per file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn corpus() -> PathBuf {
    manifest_dir().join("../../../shared/conformance/sip-torture")
}

#[test]
fn lint_prints_the_library_verdict_for_every_corpus_file() {
    let tsv = std::fs::read_to_string(corpus().join("expected.tsv"))
        .expect("the SIP torture corpus must be beside the repository");
    let files: Vec<PathBuf> = tsv
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next())
        .map(|f| corpus().join(f))
        .collect();
    assert_eq!(files.len(), 61, "the corpus has 61 messages");

    let out = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(["sip", "lint"])
        .args(&files)
        .output()
        .expect("run voxgate");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per file:\n{stdout}");

    let mut any_rejected = false;
    for (file, line) in files.iter().zip(&lines) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 3, "not FILE<TAB>VERDICT<TAB>REASON: {line:?}");
        assert_eq!(cols[0], file.display().to_string());
        let verdict = voxgate_proto::sip::lint(&std::fs::read(file).expect("read"));
        any_rejected |= matches!(verdict, voxgate_proto::sip::Verdict::Reject { .. });
        assert_eq!(cols[1], verdict.to_string(), "{line}");
        assert!(
            matches!(cols[1], "accept" | "reject" | "drop") || cols[1].starts_with("answer:"),
            "{line}"
        );
    }
    assert!(any_rejected, "the corpus has malformed messages");
    assert_eq!(
        out.status.code(),
        Some(1),
        "exit 1 when any file is rejected"
    );

    let ok = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(["sip", "lint"])
        .arg(corpus().join("rfc4475/wsinv.dat"))
        .output()
        .expect("run voxgate");
    assert!(ok.status.success());
    let missing = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(["sip", "lint", "/nonexistent/message.sip"])
        .output()
        .expect("run voxgate");
    assert_eq!(missing.status.code(), Some(2));
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
