//! `voxgate chat`: a tenant's dialog without SIP. Lines typed (or piped) are the
//! caller's turns, the agent's replies are printed; `--wav` feeds recorded speech
//! through the recognizer instead. The same engine, plugins and call record as a phone
//! call, so an integrator can try a tenant end to end on a laptop.
//!
//! A line of keys (`1`, `42#`) is DTMF, an empty line is silence (no input), anything
//! else is what the caller said.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use crate::conversation::{Conversation, Next, Prompt, Reply, TurnInput};
use crate::dialog::TenantRuntime;
use crate::dialog::engine::AgentConversation;

#[derive(Debug, Args)]
pub(super) struct ChatArgs {
    /// The tenant's id.
    #[arg(long, default_value = "demo")]
    tenant: String,
    /// The caller's number (E.164); empty for a withheld number.
    #[arg(long, default_value = "")]
    from: String,
    /// The time of the call (RFC 3339), which picks the agent; default now.
    #[arg(long)]
    at: Option<String>,
    /// The tenant file (default: the embedded demo tenant, with its demo ERP started
    /// in this process).
    #[arg(long)]
    tenant_file: Option<PathBuf>,
    /// Directory with the demo plugins (for the embedded demo tenant).
    #[arg(long)]
    plugins: Option<PathBuf>,
    /// WAV files spoken by the caller, one per turn, instead of typed lines.
    #[arg(long)]
    wav: Vec<PathBuf>,
    /// Write the call record (JSON) here at the end.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Tenants' data: transaction journals and call records.
    #[arg(long, default_value_os_t = crate::paths::data_dir())]
    data_dir: PathBuf,
}

pub(super) async fn run(args: ChatArgs) -> anyhow::Result<()> {
    let now = match &args.at {
        Some(at) => at.parse::<jiff::Timestamp>().with_context(|| {
            format!("--at {at}: expected RFC 3339, e.g. 2026-11-23T10:00:00+01:00")
        })?,
        None => jiff::Timestamp::now(),
    };
    let speech = crate::speech::Speech::new(None)?;
    let tenant = load_tenant(&args, speech.clone()).await?;
    if tenant.config.id != args.tenant {
        bail!(
            "the tenant file is for tenant `{}`, not `{}`",
            tenant.config.id,
            args.tenant
        );
    }
    let called = tenant.config.numbers.first().cloned().unwrap_or_default();
    let call_id = format!("chat-{}", std::process::id());
    let mut conversation =
        AgentConversation::new(tenant.clone(), &call_id, &args.from, &called, now);
    let reply = conversation.begin().await;
    let mut listen = show(&reply);
    let mut wavs = args.wav.iter();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    while let Some(turn) = listen.take() {
        let input = if args.wav.is_empty() {
            match lines.next() {
                Some(line) => typed(&line?),
                None => break,
            }
        } else {
            let Some(path) = wavs.next() else { break };
            heard(&speech, path, turn.grammar.clone()).await?
        };
        let reply = conversation.respond(input).await;
        listen = show(&reply);
    }
    let record = conversation.end().await;
    if let (Some(path), Some(record)) = (&args.record, record) {
        std::fs::write(path, serde_json::to_vec_pretty(&record)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// Prints the agent's reply; returns the turn it opens, if the call goes on.
fn show(reply: &Reply) -> Option<crate::conversation::Listen> {
    if let Some(Prompt::Text { text, .. }) = &reply.say {
        println!("agent: {text}");
    }
    match &reply.next {
        Next::Listen(l) => Some(l.clone()),
        Next::Wait => None,
        Next::Hangup => {
            println!("[hangup]");
            None
        }
        Next::Transfer(target) => {
            println!("[transfer {target}]");
            None
        }
    }
}

fn typed(line: &str) -> TurnInput {
    let line = line.trim();
    if line.is_empty() {
        TurnInput::NoInput
    } else if line
        .chars()
        .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    {
        TurnInput::Dtmf {
            digits: line.trim_end_matches('#').to_string(),
        }
    } else {
        TurnInput::Speech {
            text: line.to_string(),
            confidence: 1.0,
        }
    }
}

async fn heard(
    speech: &crate::speech::Speech,
    path: &std::path::Path,
    grammar: Option<Arc<voxgate_speech::recognizer::Grammar>>,
) -> anyhow::Result<TurnInput> {
    let p = path.to_path_buf();
    let pcm = tokio::task::spawn_blocking(move || {
        crate::media::audio_file::read_wav(&p, crate::media::audio_file::TELEPHONE_RATE)
    })
    .await??;
    let Some(grammar) = grammar else {
        return Ok(TurnInput::NoMatch);
    };
    let r = speech.recognize(grammar, pcm).await?;
    Ok(match r.hypothesis {
        Some(h) => {
            println!("caller ({}): {}", path.display(), h.text);
            TurnInput::Speech {
                text: h.text,
                confidence: h.confidence,
            }
        }
        None => TurnInput::NoMatch,
    })
}

/// The tenant from `--tenant-file`, or the embedded demo with its ERP started here.
async fn load_tenant(
    args: &ChatArgs,
    speech: crate::speech::Speech,
) -> anyhow::Result<Arc<TenantRuntime>> {
    let runtime = voxgate_runtime::Runtime::new(voxgate_runtime::RuntimeConfig {
        cache_dir: crate::paths::code_cache_dir(),
        ..voxgate_runtime::RuntimeConfig::default()
    })?;
    let config = match &args.tenant_file {
        Some(path) => crate::tenant::TenantConfig::load(path)?,
        None => {
            let erp = super::demo::start_demo_erp("127.0.0.1:0".parse()?).await?;
            super::demo::demo_tenant(erp, args.plugins.clone())?
        }
    };
    let tenant = TenantRuntime::load(config, &runtime, speech, Some(args.data_dir.clone())).await?;
    tenant.recover(crate::dialog::journal::Claim::AtStart).await;
    Ok(tenant)
}
