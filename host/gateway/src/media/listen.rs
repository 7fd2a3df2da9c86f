//! The caller's side of a turn: voice activity, the utterance being captured, keypad
//! digits being collected, and the timeouts that end a turn without either.
//!
//! Everything here is driven by the call's pacing tick (one frame of the caller's audio
//! per tick) and measured in milliseconds of media, so it needs no timers of its own.

use std::collections::VecDeque;
use std::time::Duration;

use voxgate_speech::vad::{Vad, VadConfig, VadEvent};

use crate::conversation::Listen;

/// Audio kept from before the detected speech onset: the detector needs a few voiced
/// frames to declare speech, and the words' beginnings are in them.
const PREROLL_SAMPLES: usize = 8000 * 300 / 1000;
/// The longest utterance sent to the recognizer.
const MAX_UTTERANCE_SAMPLES: usize = 8000 * 20;

/// Voice activity on the caller's audio, kept for the whole call once a turn has
/// listened (the classifier's noise model is worth keeping between turns).
pub struct Listener {
    vad: Vad,
    preroll: VecDeque<i16>,
    utterance: Option<Vec<i16>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("vad", &self.vad)
            .finish_non_exhaustive()
    }
}

/// What one frame of the caller's audio did.
#[derive(Debug)]
pub enum Heard {
    /// Speech began `at_ms` into the media.
    Start { at_ms: u64 },
    /// Speech ended: the utterance (captured only while a turn wanted it), when the
    /// last voiced audio was (`at_ms`), how long it lasted, and how much audio has
    /// passed since (the end-of-utterance silence).
    End {
        utterance: Option<Vec<i16>>,
        at_ms: u64,
        duration_ms: u64,
        silence_ms: u64,
    },
}

impl Listener {
    pub fn new() -> Result<Listener, voxgate_speech::SpeechError> {
        Ok(Listener {
            vad: Vad::new(8000, VadConfig::default())?,
            preroll: VecDeque::with_capacity(PREROLL_SAMPLES),
            utterance: None,
        })
    }

    pub fn set_end_silence(&mut self, silence: Duration) {
        self.vad.set_hangover(silence);
    }

    pub fn in_speech(&self) -> bool {
        self.vad.in_speech()
    }

    /// Feeds one frame; `capture` says whether a speech onset now starts an utterance
    /// for the recognizer (a turn is open).
    pub fn push(&mut self, frame: &[i16], capture: bool, heard: &mut Vec<Heard>) {
        if let Some(u) = self.utterance.as_mut()
            && u.len() < MAX_UTTERANCE_SAMPLES
        {
            u.extend_from_slice(frame);
        }
        self.preroll.extend(frame.iter().copied());
        while self.preroll.len() > PREROLL_SAMPLES {
            self.preroll.pop_front();
        }
        let mut event = self.vad.push(frame);
        while let Some(e) = event {
            match e {
                VadEvent::SpeechStart { at_ms } => {
                    if capture {
                        self.utterance = Some(self.preroll.iter().copied().collect());
                    }
                    heard.push(Heard::Start { at_ms });
                }
                VadEvent::SpeechEnd { at_ms, duration_ms } => heard.push(Heard::End {
                    utterance: self.utterance.take(),
                    at_ms,
                    duration_ms,
                    silence_ms: self.vad.position_ms().saturating_sub(at_ms),
                }),
            }
            event = self.vad.next_event();
        }
    }

    /// Drops an utterance being captured (its turn was ended by something else).
    pub fn discard(&mut self) {
        self.utterance = None;
    }
}

/// A turn that is open: the caller may speak or press keys.
#[derive(Debug)]
pub struct Turn {
    pub listen: Listen,
    /// Media time at which silence becomes no-input; set once the prompt has played.
    pub no_input_at: Option<u64>,
    /// Digits pressed so far, and when the input ends without another.
    pub digits: String,
    pub digits_end_at: Option<u64>,
    /// The caller started speaking in this turn.
    pub spoke: bool,
}

/// What a key press did to the open turn.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    /// More digits may follow.
    Collecting,
    /// The input is complete.
    Done(String),
}

impl Turn {
    pub fn new(listen: Listen) -> Turn {
        Turn {
            listen,
            no_input_at: None,
            digits: String::new(),
            digits_end_at: None,
            spoke: false,
        }
    }

    /// The prompt has been heard: the no-input clock starts.
    pub fn prompt_done(&mut self, media_ms: u64) {
        if let Some(d) = self.listen.no_input {
            self.no_input_at = Some(media_ms + d.as_millis() as u64);
        }
    }

    pub fn key(&mut self, digit: char, media_ms: u64) -> KeyOutcome {
        self.no_input_at = None;
        let rules = &self.listen.dtmf;
        if Some(digit) == rules.terminator {
            let mut digits = std::mem::take(&mut self.digits);
            if digits.is_empty() {
                // A lone terminator is an answer in itself ("press # to continue").
                digits.push(digit);
            }
            return KeyOutcome::Done(digits);
        }
        self.digits.push(digit);
        if self.digits.len() >= rules.max_digits.max(1) {
            return KeyOutcome::Done(std::mem::take(&mut self.digits));
        }
        self.digits_end_at = Some(media_ms + rules.inter_digit.as_millis() as u64);
        KeyOutcome::Collecting
    }

    /// Digits whose pause has run out.
    pub fn digits_due(&mut self, media_ms: u64) -> Option<String> {
        match self.digits_end_at {
            Some(at) if media_ms >= at && !self.digits.is_empty() => {
                self.digits_end_at = None;
                Some(std::mem::take(&mut self.digits))
            }
            _ => None,
        }
    }

    /// True when the turn has timed out with nothing from the caller.
    pub fn no_input_due(&self, media_ms: u64, in_speech: bool) -> bool {
        !self.spoke
            && !in_speech
            && self.digits.is_empty()
            && self.no_input_at.is_some_and(|at| media_ms >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::DtmfCollect;

    fn turn(max_digits: usize) -> Turn {
        Turn::new(Listen {
            no_input: Some(Duration::from_millis(3000)),
            dtmf: DtmfCollect {
                max_digits,
                terminator: Some('#'),
                inter_digit: Duration::from_millis(1000),
            },
            ..Listen::default()
        })
    }

    #[test]
    fn digits_end_at_the_terminator_the_limit_or_a_pause() {
        let mut t = turn(4);
        assert_eq!(t.key('1', 0), KeyOutcome::Collecting);
        assert_eq!(t.key('2', 100), KeyOutcome::Collecting);
        assert_eq!(t.key('#', 200), KeyOutcome::Done("12".into()));

        let mut t = turn(2);
        assert_eq!(t.key('4', 0), KeyOutcome::Collecting);
        assert_eq!(t.key('2', 10), KeyOutcome::Done("42".into()));

        let mut t = turn(8);
        assert_eq!(t.key('7', 0), KeyOutcome::Collecting);
        assert_eq!(t.digits_due(999), None);
        assert_eq!(t.digits_due(1000), Some("7".into()));
        assert_eq!(t.digits_due(5000), None);

        let mut t = turn(8);
        assert_eq!(t.key('#', 0), KeyOutcome::Done("#".into()));
    }

    #[test]
    fn no_input_counts_from_the_end_of_the_prompt_and_any_key_cancels_it() {
        let mut t = turn(4);
        assert!(
            !t.no_input_due(10_000, false),
            "not before the prompt is done"
        );
        t.prompt_done(1000);
        assert!(!t.no_input_due(3999, false));
        assert!(t.no_input_due(4000, false));
        assert!(!t.no_input_due(4000, true), "not while the caller speaks");
        t.key('1', 4000);
        assert!(!t.no_input_due(9000, false));
    }
}
