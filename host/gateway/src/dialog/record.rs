//! The record of one call: who called whom, which agent answered and why, every turn,
//! every plugin call with its version and duration, every transaction, and how it
//! ended. It is what operators read after the fact and what analytics start from.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct CallRecord {
    pub call_id: String,
    pub tenant: String,
    pub caller: String,
    pub called: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// Agents in the order they spoke, with why each was chosen.
    pub agents: Vec<AgentUse>,
    pub contact: Option<ContactRef>,
    pub turns: Vec<Turn>,
    pub plugin_calls: Vec<PluginCall>,
    pub transactions: Vec<TransactionRef>,
    pub transfers: Vec<String>,
    /// The plugin versions the call was pinned to at its start (short ids).
    pub plugin_versions: Vec<String>,
    /// `completed`, `transferred`, `caller-hung-up`, `escalated-after-error`.
    pub outcome: String,
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AgentUse {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContactRef {
    pub id: String,
    pub name: String,
    pub tier: String,
}

/// One turn: the caller's input or the agent's words.
#[derive(Debug, Clone, Serialize)]
pub struct Turn {
    /// `caller` or `agent`.
    pub who: &'static str,
    pub text: String,
    /// `speech`, `dtmf`, `no-input`, `no-match` (caller turns).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PluginCall {
    pub function: String,
    pub arguments: String,
    /// `ok` or the error kind (`not-found`, `unavailable`, `trap`, `deadline` …).
    pub outcome: String,
    pub result: String,
    pub duration_us: u64,
    pub plugin: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransactionRef {
    pub kind: String,
    pub transaction_id: String,
    pub summary: String,
    /// `prepared`, `committed`, `aborted`, `failed`.
    pub state: String,
    pub reference: Option<String>,
}

/// Plugin values as they go into the record: short enough to read.
pub fn brief(text: String) -> String {
    const MAX: usize = 400;
    if text.len() <= MAX {
        return text;
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}
