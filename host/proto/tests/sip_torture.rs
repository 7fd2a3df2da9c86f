//! Conformance: every message of the RFC 4475 / RFC 5118 torture corpus gets a
//! verdict that `expected.tsv` allows.
//!
//! The corpus lives outside the crate (`../shared/conformance/sip-torture/` from the
//! repository root) and is read relative to `CARGO_MANIFEST_DIR`, so the test works
//! from any working directory. A missing corpus fails the test: a conformance test
//! that passes because it found nothing to check is worse than none.
//!
//! Where the TSV allows several verdicts, `PINNED` records which one voxgate gives
//! and the test holds it to that, so a policy change is a visible diff here rather
//! than a silent drift. Every entry with a choice must be pinned.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use voxgate_proto::sip::{Verdict, lint};

/// Our answer for every entry where `expected.tsv` leaves a choice, and why.
const PINNED: &[(&str, &str, &str)] = &[
    // `either` entries: the policy choices documented in sip::lint.
    (
        "rfc4475/lwsstart.dat",
        "reject",
        "request line is Method SP URI SP Version exactly",
    ),
    (
        "rfc4475/trws.dat",
        "reject",
        "request line is Method SP URI SP Version exactly",
    ),
    (
        "rfc4475/escruri.dat",
        "reject",
        "headers are not allowed in a Request-URI",
    ),
    (
        "rfc4475/baddate.dat",
        "accept",
        "Date is not used, so not judged",
    ),
    (
        "rfc4475/regbadct.dat",
        "reject",
        "a bare addr-spec with '?' is ambiguous",
    ),
    (
        "rfc5118/ipv6-bug-abnf-3-colons",
        "reject",
        "invalid IPv6 per RFC 4291 / RFC 5954",
    ),
    // Registered methods are accepted here; 405 is the UA core's decision.
    (
        "rfc4475/escnull.dat",
        "accept",
        "REGISTER is a registered method",
    ),
    (
        "rfc4475/dblreq.dat",
        "accept",
        "REGISTER; bytes after Content-Length ignored",
    ),
    (
        "rfc4475/unksm2.dat",
        "accept",
        "REGISTER; a non-SIP To is legal syntax",
    ),
    (
        "rfc4475/regaut01.dat",
        "accept",
        "REGISTER; Authorization is not judged",
    ),
    ("rfc4475/cparam01.dat", "accept", "REGISTER"),
    ("rfc4475/cparam02.dat", "accept", "REGISTER"),
    (
        "rfc4475/regescrt.dat",
        "accept",
        "REGISTER; headers are allowed in a Contact URI",
    ),
    // Unknown methods get 501.
    ("rfc4475/intmeth.dat", "answer:501", "unknown method"),
    (
        "rfc4475/esc02.dat",
        "answer:501",
        "RE%47IST%45R is not REGISTER",
    ),
    (
        "rfc4475/mismatch02.dat",
        "answer:501",
        "method is checked before CSeq",
    ),
    (
        "rfc4475/sdp01.dat",
        "answer:406",
        "Accept admits no application/sdp",
    ),
];

fn corpus_dir() -> PathBuf {
    manifest_dir().join("../../../shared/conformance/sip-torture")
}

struct Entry {
    file: String,
    allowed: Vec<String>,
}

fn read_tsv(dir: &Path) -> Result<Vec<Entry>, String> {
    let path = dir.join("expected.tsv");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "the SIP torture corpus is missing: cannot read {}: {e}",
            path.display()
        )
    })?;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(file), Some(expect)) = (cols.next(), cols.next()) else {
            return Err(format!(
                "expected.tsv line {}: not `file<TAB>expect<TAB>note`",
                n + 1
            ));
        };
        entries.push(Entry {
            file: file.to_owned(),
            allowed: expect.split('|').map(str::to_owned).collect(),
        });
    }
    Ok(entries)
}

/// Whether `verdict` satisfies one alternative of the TSV.
fn matches(alternative: &str, verdict: &Verdict) -> bool {
    match (alternative, verdict) {
        ("accept", Verdict::Accept) => true,
        ("reject", Verdict::Reject { .. }) => true,
        ("drop", Verdict::Drop { .. }) => true,
        ("either", Verdict::Accept | Verdict::Reject { .. }) => true,
        (alt, Verdict::Answer { status, .. }) => alt
            .strip_prefix("answer:")
            .is_some_and(|codes| codes.split('/').any(|c| c == status.code().to_string())),
        _ => false,
    }
}

/// Whether an entry leaves a choice (and so must be pinned).
fn has_choice(allowed: &[String]) -> bool {
    allowed.len() > 1 || allowed.iter().any(|a| a == "either" || a.contains('/'))
}

#[test]
fn torture_corpus_verdicts() {
    let dir = corpus_dir();
    let entries = read_tsv(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(!entries.is_empty(), "expected.tsv lists no messages");
    let mut mismatches = Vec::new();
    let mut listed = BTreeSet::new();
    for e in &entries {
        listed.insert(e.file.clone());
        let bytes = match std::fs::read(dir.join(&e.file)) {
            Ok(b) => b,
            Err(err) => {
                mismatches.push(format!("{}: cannot read: {err}", e.file));
                continue;
            }
        };
        let verdict = lint(&bytes);
        // Visible with --nocapture: the whole table, for reviewing reasons.
        println!(
            "{:45} {:11} {}",
            e.file,
            verdict.to_string(),
            verdict.reason()
        );
        let pinned = PINNED.iter().find(|(f, ..)| *f == e.file);
        let allowed = e.allowed.iter().any(|a| matches(a, &verdict));
        let pin_ok = pinned.is_none_or(|(_, want, _)| *want == verdict.to_string());
        if !allowed || !pin_ok {
            mismatches.push(format!(
                "{}: expected {}{}, got {} ({})",
                e.file,
                e.allowed.join("|"),
                pinned.map_or(String::new(), |(_, p, why)| format!(
                    " (pinned: {p}, {why})"
                )),
                verdict,
                verdict.reason()
            ));
        }
        if has_choice(&e.allowed) && pinned.is_none() {
            mismatches.push(format!(
                "{}: allows {} but has no pinned policy in PINNED",
                e.file,
                e.allowed.join("|")
            ));
        }
    }
    for (file, ..) in PINNED {
        if !listed.contains(*file) {
            mismatches.push(format!("{file}: pinned but not listed in expected.tsv"));
        }
    }
    // A message added to the corpus without an expectation would go untested.
    for sub in ["rfc4475", "rfc5118"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            mismatches.push(format!("{sub}/: cannot list directory"));
            continue;
        };
        for f in rd.flatten() {
            let name = format!("{sub}/{}", f.file_name().to_string_lossy());
            if !listed.contains(&name) {
                mismatches.push(format!("{name}: in the corpus but not in expected.tsv"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} corpus entries do not conform:\n  {}",
        mismatches.len(),
        entries.len(),
        mismatches.join("\n  ")
    );
    println!("{} corpus entries conform", entries.len());
}

/// The package directory as cargo gives it when running the tests (at run time: a test
/// binary reused from a checkout elsewhere must not look there).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
