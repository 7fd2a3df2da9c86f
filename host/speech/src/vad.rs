//! Voice activity and end of utterance, over WebRTC's VAD (the `webrtc-vad` crate, which
//! bundles libfvad).
//!
//! Audio goes in as 20 ms frames (any chunking is accepted and re-framed); out come
//! [`VadEvent::SpeechStart`] once `start_frames` consecutive frames are voiced, and
//! [`VadEvent::SpeechEnd`] once `hangover` of unvoiced audio follows the last voiced
//! frame (or the utterance reaches `max_utterance`). Times are milliseconds of audio
//! pushed since creation or [`Vad::reset`]. The first `warmup` of audio never starts an
//! utterance: the classifier needs it to learn the line's noise.

#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::time::Duration;

use crate::SpeechError;

/// How eagerly frames are classified as non-speech (WebRTC's modes 0–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VadMode {
    /// Mode 0: most frames count as speech; best for clean audio.
    Quality,
    /// Mode 1.
    LowBitrate,
    /// Mode 2: a good default for telephony.
    #[default]
    Aggressive,
    /// Mode 3: fewest false positives on noisy lines, may clip soft onsets.
    VeryAggressive,
}

impl VadMode {
    fn to_webrtc(self) -> webrtc_vad::VadMode {
        match self {
            VadMode::Quality => webrtc_vad::VadMode::Quality,
            VadMode::LowBitrate => webrtc_vad::VadMode::LowBitrate,
            VadMode::Aggressive => webrtc_vad::VadMode::Aggressive,
            VadMode::VeryAggressive => webrtc_vad::VadMode::VeryAggressive,
        }
    }
}

/// Onset and end-of-utterance parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VadConfig {
    /// Aggressiveness of the frame classifier.
    pub mode: VadMode,
    /// Consecutive voiced 20 ms frames that declare the start of speech.
    pub start_frames: u32,
    /// Unvoiced audio after the last voiced frame that declares the end of speech.
    pub hangover: Duration,
    /// An utterance is cut off (ended) when it lasts this long.
    pub max_utterance: Duration,
    /// Audio at the start of the stream that cannot start an utterance. WebRTC's VAD
    /// calls the first 80–140 ms of any noise speech while its noise model adapts;
    /// speech already under way when the warm-up ends is detected at that point.
    pub warmup: Duration,
}

impl Default for VadConfig {
    fn default() -> VadConfig {
        VadConfig {
            mode: VadMode::Aggressive,
            start_frames: 3,
            hangover: Duration::from_millis(500),
            max_utterance: Duration::from_secs(20),
            warmup: Duration::from_millis(200),
        }
    }
}

/// What the detector noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech began at `at_ms` (the start of the first voiced frame of the onset run).
    SpeechStart { at_ms: u64 },
    /// Speech ended at `at_ms` (the end of the last voiced frame, or the cut-off time
    /// for an over-long utterance); `duration_ms` is measured from its start. It is
    /// reported `hangover` later.
    SpeechEnd { at_ms: u64, duration_ms: u64 },
}

/// Frame length the classifier is fed.
pub const FRAME_MS: u64 = 20;

/// libfvad's instance, movable between threads.
struct Classifier(webrtc_vad::Vad);

// SAFETY: a libfvad instance is a self-contained heap object with no global state and no
// thread affinity; `Classifier` is only used through `&mut`, so it is never accessed from
// two threads at once. (The crate's type is !Send merely because it holds a raw pointer.)
unsafe impl Send for Classifier {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Silence {
        /// Consecutive voiced frames so far and when the run began.
        run: u32,
        run_start_ms: u64,
    },
    Speech {
        start_ms: u64,
        /// End of the last voiced frame.
        last_voiced_end_ms: u64,
    },
}

/// Voice activity and end-of-utterance detector for one audio stream.
pub struct Vad {
    classifier: Classifier,
    rate: u32,
    config: VadConfig,
    frame_len: usize,
    pending: Vec<i16>,
    /// Milliseconds of audio classified so far.
    pos_ms: u64,
    state: State,
    events: VecDeque<VadEvent>,
}

impl std::fmt::Debug for Vad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vad")
            .field("rate", &self.rate)
            .field("config", &self.config)
            .field("pos_ms", &self.pos_ms)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Vad {
    /// A detector for audio at `rate` Hz (8000 or 16000; 32000 and 48000 also work).
    pub fn new(rate: u32, config: VadConfig) -> Result<Vad, SpeechError> {
        let sample_rate = match rate {
            8000 => webrtc_vad::SampleRate::Rate8kHz,
            16000 => webrtc_vad::SampleRate::Rate16kHz,
            32000 => webrtc_vad::SampleRate::Rate32kHz,
            48000 => webrtc_vad::SampleRate::Rate48kHz,
            _ => return Err(SpeechError::Init(format!("VAD does not support {rate} Hz"))),
        };
        let frame_len = (u64::from(rate) * FRAME_MS / 1000) as usize;
        Ok(Vad {
            classifier: Classifier(webrtc_vad::Vad::new_with_rate_and_mode(
                sample_rate,
                config.mode.to_webrtc(),
            )),
            rate,
            config: VadConfig {
                start_frames: config.start_frames.max(1),
                ..config
            },
            frame_len,
            pending: Vec::with_capacity(frame_len),
            pos_ms: 0,
            state: State::Silence {
                run: 0,
                run_start_ms: 0,
            },
            events: VecDeque::new(),
        })
    }

    /// The sample rate it expects.
    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    /// Samples in one 20 ms frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Milliseconds of audio classified so far.
    pub fn position_ms(&self) -> u64 {
        self.pos_ms
    }

    /// Changes the silence that ends an utterance, from the next frame on (each turn of
    /// a dialog may want its own).
    pub fn set_hangover(&mut self, hangover: Duration) {
        self.config.hangover = hangover;
    }

    /// Inside an utterance (after a start, before its end).
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// Feeds audio: ideally one 20 ms frame, but any length is re-framed. Returns the
    /// next event; with 20 ms frames there is at most one per frame, otherwise further
    /// events wait in [`Vad::next_event`].
    pub fn push(&mut self, pcm: &[i16]) -> Option<VadEvent> {
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = (self.frame_len - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == self.frame_len {
                let frame = std::mem::take(&mut self.pending);
                self.classify(&frame);
                self.pending = frame;
                self.pending.clear();
            }
        }
        self.events.pop_front()
    }

    /// An event not yet returned by [`Vad::push`].
    pub fn next_event(&mut self) -> Option<VadEvent> {
        self.events.pop_front()
    }

    /// Ends the stream: an utterance in progress ends at its last voiced frame.
    pub fn finish(&mut self) -> Option<VadEvent> {
        if let State::Speech {
            start_ms,
            last_voiced_end_ms,
        } = self.state
        {
            self.events.push_back(VadEvent::SpeechEnd {
                at_ms: last_voiced_end_ms,
                duration_ms: last_voiced_end_ms - start_ms,
            });
            self.state = State::Silence {
                run: 0,
                run_start_ms: self.pos_ms,
            };
        }
        self.events.pop_front()
    }

    /// Forgets all state, including the classifier's noise model (position back to 0
    /// and a new warm-up), keeping the configuration.
    pub fn reset(&mut self) {
        if let Ok(fresh) = Vad::new(self.rate, self.config) {
            self.classifier = fresh.classifier;
        }
        self.pending.clear();
        self.pos_ms = 0;
        self.state = State::Silence {
            run: 0,
            run_start_ms: 0,
        };
        self.events.clear();
    }

    fn classify(&mut self, frame: &[i16]) {
        // The frame is exactly 20 ms, which libfvad always accepts.
        let voiced = self.classifier.0.is_voice_segment(frame).unwrap_or(false);
        let frame_start = self.pos_ms;
        let voiced = voiced && frame_start >= self.config.warmup.as_millis() as u64;
        self.pos_ms += FRAME_MS;
        let now = self.pos_ms;
        let hangover = self.config.hangover.as_millis() as u64;
        let max = self.config.max_utterance.as_millis() as u64;
        self.state = match self.state {
            State::Silence { run, run_start_ms } => {
                if !voiced {
                    State::Silence {
                        run: 0,
                        run_start_ms: now,
                    }
                } else {
                    let run_start_ms = if run == 0 { frame_start } else { run_start_ms };
                    let run = run + 1;
                    if run >= self.config.start_frames {
                        self.events.push_back(VadEvent::SpeechStart {
                            at_ms: run_start_ms,
                        });
                        State::Speech {
                            start_ms: run_start_ms,
                            last_voiced_end_ms: now,
                        }
                    } else {
                        State::Silence { run, run_start_ms }
                    }
                }
            }
            State::Speech {
                start_ms,
                last_voiced_end_ms,
            } => {
                let last_voiced_end_ms = if voiced { now } else { last_voiced_end_ms };
                if max > 0 && now - start_ms >= max {
                    self.events.push_back(VadEvent::SpeechEnd {
                        at_ms: now,
                        duration_ms: now - start_ms,
                    });
                    State::Silence {
                        run: 0,
                        run_start_ms: now,
                    }
                } else if !voiced && now - last_voiced_end_ms >= hangover {
                    self.events.push_back(VadEvent::SpeechEnd {
                        at_ms: last_voiced_end_ms,
                        duration_ms: last_voiced_end_ms - start_ms,
                    });
                    State::Silence {
                        run: 0,
                        run_start_ms: now,
                    }
                } else {
                    State::Speech {
                        start_ms,
                        last_voiced_end_ms,
                    }
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn vad_is_send() {
        assert_send::<Vad>();
    }

    #[test]
    fn rejects_odd_rates() {
        assert!(Vad::new(11025, VadConfig::default()).is_err());
        assert!(Vad::new(8000, VadConfig::default()).is_ok());
    }

    #[test]
    fn reframes_any_chunking() {
        let mut vad = Vad::new(8000, VadConfig::default()).unwrap();
        assert_eq!(vad.push(&[0; 37]), None);
        assert_eq!(vad.position_ms(), 0);
        assert_eq!(vad.push(&[0; 500]), None);
        assert_eq!(vad.position_ms(), 60);
    }
}
