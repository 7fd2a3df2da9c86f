//! `voxgate chat` as a caller uses it: the real binary, lines typed in, the agent's
//! replies and the call record read back.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

/// What one chat produced.
pub struct Chat {
    /// What the agent said, and `[hangup]` / `[transfer URI]`.
    pub lines: Vec<String>,
    pub record: Value,
    pub stderr: String,
}

impl Chat {
    pub fn said(&self) -> String {
        self.lines.join("\n")
    }

    /// The agent's reply to the `n`th caller line (0: the greeting).
    pub fn reply(&self, n: usize) -> &str {
        self.lines.get(n).map(String::as_str).unwrap_or_default()
    }
}

pub fn chat(tenant: &Path, dir: &Path, from: &str, at: &str, input: &[&str]) -> Chat {
    let record = dir.join(format!("record-{}.json", super::baresip::unique("chat")));
    let mut child = Command::new(env!("CARGO_BIN_EXE_voxgate"))
        .args(["chat", "--tenant", "demo", "--from", from, "--at", at])
        .arg("--tenant-file")
        .arg(tenant)
        .arg("--record")
        .arg(&record)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env(
            "VOXGATE_CACHE_DIR",
            std::env::temp_dir().join("voxgate-chat-test-cache"),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start voxgate chat");
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in input {
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "voxgate chat failed:\n{stdout}\n{stderr}"
    );
    let lines = stdout
        .lines()
        .map(|l| l.strip_prefix("agent: ").unwrap_or(l).to_string())
        .collect();
    let record: Value = std::fs::read(&record)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    assert_complete(&record);
    Chat {
        lines,
        record,
        stderr,
    }
}

/// Every journey's record has its turns, each plugin call with its version and
/// duration, an outcome and a summary.
pub fn assert_complete(r: &Value) {
    let turns = r["turns"].as_array().map(Vec::len).unwrap_or(0);
    assert!(turns > 0, "no turns in the record: {r:#}");
    assert!(
        !r["outcome"].as_str().unwrap_or_default().is_empty(),
        "{r:#}"
    );
    assert!(
        !r["summary"].as_str().unwrap_or_default().is_empty(),
        "{r:#}"
    );
    let calls = r["plugin_calls"].as_array().expect("plugin calls");
    assert!(!calls.is_empty(), "no plugin calls in the record: {r:#}");
    for c in calls {
        assert!(!c["version"].as_str().unwrap_or_default().is_empty(), "{c}");
        assert!(c["duration_us"].as_u64().is_some_and(|d| d > 0), "{c}");
    }
}
