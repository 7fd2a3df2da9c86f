//! Turn-taking between a call's media and whatever decides what voxgate says.
//!
//! A call's media task hears the caller (speech through VAD and the recognizer, or DTMF)
//! and plays audio; a [`Conversation`] decides what to say and what to listen for next.
//! They meet in a small protocol: the media task reports one [`TurnInput`] per turn, the
//! conversation answers with a [`Reply`]. Keeping that boundary narrow is what lets a
//! fixed route, the intent engine or an LLM drive the same media without the media task
//! knowing which.
//!
//! The driver task here sits between the two: it asks the conversation, synthesizes text
//! replies on the blocking pool (cached), and hands ready audio to the media task, so no
//! synthesis or plugin call ever runs on the task that paces RTP.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use voxgate_speech::recognizer::Grammar;

use crate::media::call::{MediaCommand, Play};
use crate::sip::events::{CallEvent, EventSink};

/// A boxed future, so that conversations can be trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the caller gave in one turn.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnInput {
    /// Recognized speech: lower-case words.
    Speech { text: String, confidence: f32 },
    /// Keypad digits (ended by the terminator, the digit limit or a pause).
    Dtmf { digits: String },
    /// The caller said and pressed nothing before the turn's no-input timeout.
    NoInput,
    /// The caller spoke but nothing valid in this turn was recognized.
    NoMatch,
}

/// Something to say.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// Ready telephone audio (8 kHz), e.g. a greeting prepared at start-up.
    Audio(Arc<[i16]>),
    /// Text for a synthesizer (`espeak-ng` or `flite`) in a language.
    Text {
        text: String,
        language: String,
        voice: String,
    },
}

/// How voxgate listens in a turn.
#[derive(Debug, Clone)]
pub struct Listen {
    /// What the recognizer is held to in this turn. `None`: speech is heard (onset,
    /// barge-in) but not recognized, and reported as no-match.
    pub grammar: Option<Arc<Grammar>>,
    /// Silence after the caller's last word that ends the utterance.
    pub end_silence: Duration,
    /// No speech or key within this long after the prompt: [`TurnInput::NoInput`].
    pub no_input: Option<Duration>,
    /// The caller's speech or a key stops the prompt.
    pub barge_in: bool,
    pub dtmf: DtmfCollect,
}

impl Default for Listen {
    fn default() -> Listen {
        Listen {
            grammar: None,
            end_silence: DEFAULT_END_SILENCE,
            no_input: None,
            barge_in: true,
            dtmf: DtmfCollect::default(),
        }
    }
}

/// Silence that ends an utterance unless a turn says otherwise. WebRTC's classifier
/// already keeps calling 60–100 ms after the last word voiced (its own overhang, with
/// 20 ms frames in aggressive mode), so the caller's real pause is this plus that: short
/// enough for a reply within the 300 ms voice-to-voice budget, long enough that the
/// pauses between the words of one phrase do not split it.
pub const DEFAULT_END_SILENCE: Duration = Duration::from_millis(120);

/// How keypad digits become one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtmfCollect {
    /// The input ends at this many digits.
    pub max_digits: usize,
    /// A key that ends the input (not part of it), usually `#`.
    pub terminator: Option<char>,
    /// The input ends after this long without another key.
    pub inter_digit: Duration,
}

impl Default for DtmfCollect {
    fn default() -> DtmfCollect {
        DtmfCollect {
            max_digits: 16,
            terminator: Some('#'),
            inter_digit: Duration::from_millis(1500),
        }
    }
}

/// What happens once the reply has been played.
#[derive(Debug, Clone)]
pub enum Next {
    /// The caller's turn.
    Listen(Listen),
    /// Keep the line open without expecting anything.
    Wait,
    /// End the call.
    Hangup,
    /// Transfer the caller (SIP REFER) to this URI.
    Transfer(String),
}

/// A conversation's answer to a turn.
#[derive(Debug, Clone)]
pub struct Reply {
    pub say: Option<Prompt>,
    pub next: Next,
}

/// Decides what voxgate says. One per call; called for one turn at a time.
pub trait Conversation: Send {
    /// The opening (greeting), prepared while the phone rings.
    fn begin(&mut self) -> BoxFuture<'_, Reply>;

    /// The answer to the caller's turn.
    fn respond(&mut self, input: TurnInput) -> BoxFuture<'_, Reply>;

    /// The call is over (hung up by either side, or transferred): release what the
    /// conversation holds; returns its call record, if it keeps one.
    fn end(&mut self) -> BoxFuture<'_, Option<serde_json::Value>> {
        Box::pin(async { None })
    }

    /// Live events about what happened since last asked (turns as understood, plugin
    /// calls), for operators watching the call.
    fn take_events(&mut self) -> Vec<CallEvent> {
        Vec::new()
    }
}

/// The driver's side of a call: where the media task sends the caller's turns.
pub type Inputs = mpsc::UnboundedSender<TurnInput>;

/// Starts the driver of one call. It ends when the media task drops its input sender.
pub fn spawn(
    call_id: String,
    mut conversation: Box<dyn Conversation>,
    speech: crate::speech::Speech,
    media: mpsc::UnboundedSender<MediaCommand>,
    events: EventSink,
) -> Inputs {
    let (tx, mut rx) = mpsc::unbounded_channel::<TurnInput>();
    tokio::spawn(async move {
        let reply = conversation.begin().await;
        report(conversation.as_mut(), &events);
        if deliver(&call_id, reply, &speech, &media, &events).await {
            while let Some(input) = rx.recv().await {
                let reply = conversation.respond(input).await;
                report(conversation.as_mut(), &events);
                if !deliver(&call_id, reply, &speech, &media, &events).await {
                    break;
                }
            }
        }
        let record = conversation.end().await;
        report(conversation.as_mut(), &events);
        if let Some(record) = record {
            events.emit(CallEvent::CallRecord { call_id, record });
        }
    });
    tx
}

fn report(conversation: &mut dyn Conversation, events: &EventSink) {
    for e in conversation.take_events() {
        events.emit(e);
    }
}

/// Synthesizes the reply if needed and hands it to the media task; false when the media
/// task is gone.
async fn deliver(
    call_id: &str,
    reply: Reply,
    speech: &crate::speech::Speech,
    media: &mpsc::UnboundedSender<MediaCommand>,
    events: &EventSink,
) -> bool {
    let (audio, text) = match reply.say {
        None => (None, None),
        Some(Prompt::Audio(pcm)) => (Some(pcm), None),
        Some(Prompt::Text {
            text,
            language,
            voice,
        }) => {
            let speech = speech.clone();
            let spoken = text.clone();
            let result = tokio::task::spawn_blocking(move || {
                speech.say(
                    &voice,
                    &language,
                    &spoken,
                    crate::media::audio_file::TELEPHONE_RATE,
                )
            })
            .await;
            match result {
                Ok(Ok(pcm)) => (Some(Arc::<[i16]>::from(pcm.samples.as_slice())), Some(text)),
                Ok(Err(e)) => {
                    // The caller hears nothing for this reply but the turn goes on: a
                    // synthesis failure must not end the call.
                    tracing::warn!("call {call_id}: cannot speak {text:?}: {e}");
                    (None, Some(text))
                }
                Err(e) => {
                    tracing::warn!("call {call_id}: synthesis task failed: {e}");
                    (None, Some(text))
                }
            }
        }
    };
    if let Some(text) = text {
        events.emit(CallEvent::Say {
            call_id: call_id.to_string(),
            text,
        });
    }
    media
        .send(MediaCommand::Play(Box::new(Play {
            audio,
            next: reply.next,
        })))
        .is_ok()
}
