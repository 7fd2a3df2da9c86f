//! SIP settings: where to listen, limits, and what each called number gets.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::transport::Listen;

/// The `[sip]` table of the gateway's config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// `udp:ADDR`, `tcp:ADDR` (and `tls:ADDR` with `tls_cert`/`tls_key`).
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The address put in Contact and SDP `c=` lines; defaults to the first listen IP.
    pub public_ip: Option<IpAddr>,
    /// Calls at once; above it new INVITEs get 503 with Retry-After.
    #[serde(default = "default_max_calls")]
    pub max_calls: usize,
    /// Seconds Retry-After tells a caller over the limit to wait.
    #[serde(default = "default_retry_after")]
    pub retry_after_secs: u32,
    /// A call with no RTP from the caller for this long is hung up with BYE.
    #[serde(default = "default_rtp_timeout")]
    pub rtp_timeout_secs: u64,
    /// Where callers' audio is recorded (one WAV per call); no recording when unset.
    pub record_dir: Option<PathBuf>,
    /// Call events as JSON lines (started, dtmf, transfer, ended with RTP statistics).
    pub events_file: Option<PathBuf>,
    /// What each called number gets.
    #[serde(default)]
    pub routes: Vec<Route>,
}

/// One called number.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The number as dialled: matched against the Request-URI user part (then the To
    /// user part), ignoring a leading `+` and visual separators.
    pub number: String,
    /// A WAV file played after answering (any rate and channel count).
    pub prompt: Option<PathBuf>,
    /// Text spoken after answering (instead of `prompt`), synthesized once at start.
    pub say: Option<String>,
    /// The language `say` is spoken in (BCP 47).
    #[serde(default = "default_language")]
    pub language: String,
    /// The synthesizer for `say`: `espeak-ng` (every language) or `flite` (English).
    #[serde(default = "default_voice")]
    pub voice: String,
    /// Phrases the caller may say: voice activity detection finds each utterance and
    /// the recognizer matches it against these (US English words from the CMU
    /// dictionary). Empty: voxgate does not listen.
    #[serde(default)]
    pub listen: Vec<String>,
    /// Stop the prompt the moment the caller starts speaking (default: on when
    /// listening).
    pub barge_in: Option<bool>,
    /// Said after each input (a recognized phrase or keys); `{text}` becomes what was
    /// heard. Setting it makes the route listen for keys even without phrases.
    pub reply: Option<String>,
    /// Said when the caller spoke but no phrase matched.
    pub no_match_say: Option<String>,
    /// Said when the caller was silent for `no_input_ms` after a prompt.
    pub no_input_say: Option<String>,
    pub no_input_ms: Option<u64>,
    /// Consecutive no-inputs after which voxgate hangs up.
    #[serde(default = "default_max_no_input")]
    pub max_no_input: u32,
    /// Silence after the caller's last word that ends an utterance.
    pub end_silence_ms: Option<u64>,
    /// Keys that make one input (ended early by `#` or a 1.5 s pause).
    pub dtmf_max_digits: Option<usize>,
    /// Ring this long (180 Ringing) before answering.
    #[serde(default)]
    pub ring_ms: u64,
    /// What happens when the prompt ends.
    #[serde(default)]
    pub after_prompt: AfterPrompt,
    /// The SIP URI a transfer sends the caller to.
    pub transfer_to: Option<String>,
}

/// What happens when the prompt has been played.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterPrompt {
    /// Stay on the line until the caller hangs up (or stops sending RTP).
    #[default]
    Wait,
    /// Say goodbye: voxgate sends BYE.
    Hangup,
    /// Transfer the caller to `transfer_to` with REFER.
    Transfer,
}

fn default_max_no_input() -> u32 {
    3
}
fn default_language() -> String {
    "en".into()
}
fn default_voice() -> String {
    "espeak-ng".into()
}
fn default_listen() -> Vec<String> {
    vec!["udp:127.0.0.1:5060".into(), "tcp:127.0.0.1:5060".into()]
}
fn default_max_calls() -> usize {
    1000
}
fn default_retry_after() -> u32 {
    5
}
fn default_rtp_timeout() -> u64 {
    30
}

/// Why a SIP config is unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("listen entry `{0}`: expected udp:ADDR, tcp:ADDR or tls:ADDR, e.g. udp:0.0.0.0:5060")]
    Listen(String),
    #[error("tls listener needs tls_cert and tls_key")]
    TlsFiles,
    #[error("route `{0}`: after_prompt = \"transfer\" needs transfer_to")]
    TransferTarget(String),
    #[error("route `{number}`: transfer_to `{uri}` is not a SIP URI")]
    BadTarget { number: String, uri: String },
    #[error("two routes for number `{0}`")]
    DuplicateRoute(String),
    #[error("route `{0}`: give either prompt (a WAV file) or say (text), not both")]
    PromptAndSay(String),
    #[error("route `{number}`: voice `{voice}` is not a synthesizer; use espeak-ng or flite")]
    Voice { number: String, voice: String },
    #[error("route `{0}`: an empty phrase in listen")]
    EmptyPhrase(String),
    #[error("route `{0}`: end_silence_ms must be between 100 and 3000")]
    EndSilence(String),
}

impl SipConfig {
    /// Parses the listen entries.
    pub fn listeners(&self) -> Result<Vec<Listen>, ConfigError> {
        self.listen
            .iter()
            .map(|entry| {
                let (kind, addr) = entry
                    .split_once(':')
                    .ok_or_else(|| ConfigError::Listen(entry.clone()))?;
                let addr: SocketAddr = addr
                    .parse()
                    .map_err(|_| ConfigError::Listen(entry.clone()))?;
                match kind {
                    "udp" => Ok(Listen::Udp(addr)),
                    "tcp" => Ok(Listen::Tcp(addr)),
                    "tls" => match (&self.tls_cert, &self.tls_key) {
                        (Some(cert), Some(key)) => Ok(Listen::Tls {
                            addr,
                            cert: cert.clone(),
                            key: key.clone(),
                        }),
                        _ => Err(ConfigError::TlsFiles),
                    },
                    _ => Err(ConfigError::Listen(entry.clone())),
                }
            })
            .collect()
    }

    /// Checks what serde cannot: listeners, transfer targets, duplicate numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listeners()?;
        let mut seen = std::collections::HashSet::new();
        for r in &self.routes {
            if !seen.insert(normalize_number(&r.number)) {
                return Err(ConfigError::DuplicateRoute(r.number.clone()));
            }
            if r.prompt.is_some() && r.say.is_some() {
                return Err(ConfigError::PromptAndSay(r.number.clone()));
            }
            if r.voice != "espeak-ng" && r.voice != "flite" {
                return Err(ConfigError::Voice {
                    number: r.number.clone(),
                    voice: r.voice.clone(),
                });
            }
            if r.listen.iter().any(|p| p.trim().is_empty()) {
                return Err(ConfigError::EmptyPhrase(r.number.clone()));
            }
            if r.end_silence_ms
                .is_some_and(|ms| !(100..=3000).contains(&ms))
            {
                return Err(ConfigError::EndSilence(r.number.clone()));
            }
            match (&r.after_prompt, &r.transfer_to) {
                (AfterPrompt::Transfer, None) => {
                    return Err(ConfigError::TransferTarget(r.number.clone()));
                }
                (_, Some(uri)) if !(uri.starts_with("sip:") || uri.starts_with("sips:")) => {
                    return Err(ConfigError::BadTarget {
                        number: r.number.clone(),
                        uri: uri.clone(),
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The route for a dialled number, if any.
    pub fn route(&self, dialled: &str) -> Option<&Route> {
        let wanted = normalize_number(dialled);
        if wanted.is_empty() {
            return None;
        }
        self.routes
            .iter()
            .find(|r| normalize_number(&r.number) == wanted)
    }

    /// Whether a route's prompt stops when the caller speaks.
    pub fn barge_in(route: &Route) -> bool {
        route.barge_in.unwrap_or(route.listens())
    }

    pub fn rtp_timeout(&self) -> Duration {
        Duration::from_secs(self.rtp_timeout_secs.max(1))
    }
}

/// A number as compared: digits and letters only (`+1 (202) 555-0100` → `12025550100`).
impl Route {
    /// A route with every default, for numbers a tenant answers.
    pub fn for_number(number: &str) -> Route {
        Route {
            number: number.to_string(),
            prompt: None,
            say: None,
            language: default_language(),
            voice: default_voice(),
            listen: Vec::new(),
            barge_in: None,
            reply: None,
            no_match_say: None,
            no_input_say: None,
            no_input_ms: None,
            max_no_input: default_max_no_input(),
            end_silence_ms: None,
            dtmf_max_digits: None,
            ring_ms: 0,
            after_prompt: AfterPrompt::Wait,
            transfer_to: None,
        }
    }

    /// The caller has turns on this route (phrases to say or keys to press).
    pub fn listens(&self) -> bool {
        !self.listen.is_empty() || self.reply.is_some() || self.no_input_ms.is_some()
    }
}

pub fn normalize_number(n: &str) -> String {
    n.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> SipConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn routes_match_dialled_numbers_loosely() {
        let c = config(
            r#"
            [[routes]]
            number = "+1 202 555 0100"
            prompt = "welcome.wav"
            "#,
        );
        assert!(c.route("12025550100").is_some());
        assert!(c.route("+1-202-555-0100").is_some());
        assert!(c.route("12025550101").is_none());
        assert!(c.route("").is_none());
        c.validate().unwrap();
    }

    #[test]
    fn bad_configs_say_what_is_wrong() {
        let c = config("listen = [\"udp-127.0.0.1:5060\"]");
        assert_eq!(
            c.validate(),
            Err(ConfigError::Listen("udp-127.0.0.1:5060".into()))
        );
        let c = config("listen = [\"tls:127.0.0.1:5061\"]");
        assert_eq!(c.validate(), Err(ConfigError::TlsFiles));
        let c = config(
            r#"
            [[routes]]
            number = "100"
            after_prompt = "transfer"
            "#,
        );
        assert_eq!(c.validate(), Err(ConfigError::TransferTarget("100".into())));
        let c = config(
            r#"
            [[routes]]
            number = "100"
            [[routes]]
            number = "1-0-0"
            "#,
        );
        assert_eq!(
            c.validate(),
            Err(ConfigError::DuplicateRoute("1-0-0".into()))
        );
        assert!(toml::from_str::<SipConfig>("unknown_key = 1").is_err());
    }
}
