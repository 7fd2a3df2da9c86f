//! Speech recognition: feed PCM frames of one utterance, get partial and final results.

use crate::SpeechError;

/// What the caller may say in this turn. Grammar and keyphrase modes are what make the
/// embedded recognizer fast and accurate; free dictation is for engines that do it well.
#[derive(Debug, Clone, PartialEq)]
pub enum Grammar {
    /// Exactly one of these phrases (each a sequence of words).
    Phrases(Vec<String>),
    /// A JSGF grammar text (`#JSGF V1.0; grammar g; public <s> = …;`).
    Jsgf(String),
    /// Spot any of these phrases inside free speech, each with a detection threshold
    /// (PocketSphinx keyphrase `kws_threshold`, e.g. `1e-20`).
    Keyphrases(Vec<(String, f64)>),
    /// Free speech (a language model), for engines that handle it.
    Free,
}

/// A recognition result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Recognized words, lower case, single spaces.
    pub text: String,
    /// 0.0 to 1.0; engines without a calibrated score map theirs as best they can.
    pub confidence: f32,
    /// A final result for the utterance (after [`Recognizer::finish`]).
    pub is_final: bool,
}

/// One recognizer, used for one utterance at a time.
pub trait Recognizer: Send {
    /// The sample rate `feed` expects.
    fn sample_rate(&self) -> u32;

    /// Starts an utterance with what may be said now.
    fn start(&mut self, grammar: &Grammar) -> Result<(), SpeechError>;

    /// Feeds audio of the utterance; may return a partial result.
    fn feed(&mut self, pcm: &[i16]) -> Result<Option<Hypothesis>, SpeechError>;

    /// Ends the utterance and returns the final result, `None` if nothing matched.
    fn finish(&mut self) -> Result<Option<Hypothesis>, SpeechError>;
}

/// Lower case, punctuation removed, single spaces: the form [`Hypothesis::text`] has,
/// for engines that transcribe free text (Whisper, HTTP services).
///
/// Bracketed non-speech annotations that transcribers emit (`[BLANK_AUDIO]`, `(music)`,
/// `*laughs*`) are dropped. An apostrophe inside a word stays (`where's`, `o'clock`),
/// because dropping it changes words (`it's` → `its`); so does a `.` or `,` between
/// digits (`3.5`). Letters of every script are kept as they are, combining marks
/// included; only punctuation goes.
pub fn normalize_transcript(text: &str) -> String {
    let chars: Vec<char> = strip_annotations(text).chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let between = |f: fn(char) -> bool| prev.is_some_and(f) && next.is_some_and(f);
        if c.is_whitespace() || c == '-' || c == '/' || c == '_' || c == '–' || c == '—' {
            out.push(' ');
        } else if c == '\'' || c == '’' || c == 'ʼ' {
            if between(char::is_alphanumeric) {
                out.push('\'');
            }
        } else if c == '.' || c == ',' {
            if between(|c| c.is_ascii_digit()) {
                out.push(c);
            }
        } else if !is_punctuation(c) {
            out.extend(c.to_lowercase());
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Punctuation ASCII and the common Unicode marks (CJK, Arabic, quotes, ellipsis).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || "“”„‟‘‚‛«»‹›¿¡…·•。、，．！？：；「」『』【】〈〉《》（）［］｛｝〜～・،؛؟۔।॥"
            .contains(c)
}

/// Drops `[…]`, `(…)` and `*…*` spans (an opener without its closer stays as text).
fn strip_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['[', '(', '*']) {
        // All three openers and closers are ASCII: byte offsets are char boundaries.
        let close = match rest.as_bytes().get(start) {
            Some(b'[') => ']',
            Some(b'(') => ')',
            _ => '*',
        };
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find(close) {
            Some(len) => {
                out.push(' ');
                rest = &after[len + 1..];
            }
            None => {
                out.push_str(&rest[start..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A transcript matched to one of a grammar's phrases.
#[derive(Debug, Clone, PartialEq)]
pub struct PhraseMatch {
    /// Index of the phrase in the grammar.
    pub index: usize,
    /// The phrase, normalized like a transcript.
    pub phrase: String,
    /// Word-level edit distance (a substitution of similar words costs less than 1).
    pub distance: f32,
    /// 1.0 for the same words, falling to 0 as the distance reaches the word count.
    pub similarity: f32,
}

/// The phrase closest to a free transcript, if it is close enough: a word-level edit
/// distance of at most a third of the phrase's words.
///
/// Engines that transcribe freely (Whisper, HTTP services) use this for
/// [`Grammar::Phrases`] so that "Where's my order?" counts as `where is my order`.
/// Both sides are normalized ([`normalize_transcript`]) and English contractions are
/// expanded before comparing (`where's` → `where is`, `can't` → `can not`). Substituting
/// a word costs its character edit distance over its length, so a spelling variant
/// (`ok`/`okay`) costs less than a different word. Ties go to the earlier phrase.
pub fn closest_phrase<S: AsRef<str>>(transcript: &str, phrases: &[S]) -> Option<PhraseMatch> {
    let said = comparable_words(&normalize_transcript(transcript));
    if said.is_empty() {
        return None;
    }
    let mut best: Option<PhraseMatch> = None;
    for (index, phrase) in phrases.iter().enumerate() {
        let normalized = normalize_transcript(phrase.as_ref());
        let words = comparable_words(&normalized);
        if words.is_empty() {
            continue;
        }
        let distance = word_distance(&said, &words);
        if distance > words.len() as f32 / 3.0 + 1e-4 {
            continue;
        }
        let longest = words.len().max(said.len()) as f32;
        let similarity = (1.0 - distance / longest).clamp(0.0, 1.0);
        if best.as_ref().is_none_or(|b| distance < b.distance - 1e-4) {
            best = Some(PhraseMatch {
                index,
                phrase: normalized,
                distance,
                similarity,
            });
        }
    }
    best
}

/// Words of a normalized text with English contractions expanded and other
/// apostrophes dropped, for comparison only.
fn comparable_words(normalized: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in normalized.split(' ').filter(|w| !w.is_empty()) {
        if !word.contains('\'') {
            out.push(word.to_string());
            continue;
        }
        match word {
            "can't" => out.extend(["can".to_string(), "not".to_string()]),
            "won't" => out.extend(["will".to_string(), "not".to_string()]),
            "shan't" => out.extend(["shall".to_string(), "not".to_string()]),
            _ => {
                let expansion = [
                    ("n't", "not"),
                    ("'re", "are"),
                    ("'m", "am"),
                    ("'ll", "will"),
                    ("'ve", "have"),
                    ("'d", "would"),
                    ("'s", "is"),
                ]
                .into_iter()
                .find_map(|(suffix, full)| {
                    word.strip_suffix(suffix)
                        .filter(|stem| !stem.is_empty() && !stem.contains('\''))
                        .map(|stem| (stem, full))
                });
                match expansion {
                    Some((stem, full)) => out.extend([stem.to_string(), full.to_string()]),
                    None => out.push(word.replace('\'', "")),
                }
            }
        }
    }
    out
}

/// Levenshtein distance over words; substitution costs the words' normalized character
/// distance (0 for equal words, 1 for entirely different ones).
fn word_distance(a: &[String], b: &[String]) -> f32 {
    let mut prev: Vec<f32> = (0..=b.len()).map(|j| j as f32).collect();
    let mut cur = vec![0.0f32; b.len() + 1];
    for (i, wa) in a.iter().enumerate() {
        cur[0] = (i + 1) as f32;
        for (j, wb) in b.iter().enumerate() {
            let sub = prev[j] + char_similarity_cost(wa, wb);
            let del = prev[j + 1] + 1.0;
            let ins = cur[j] + 1.0;
            cur[j + 1] = sub.min(del).min(ins);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Character edit distance over the longer word's length: 0.0 to 1.0.
fn char_similarity_cost(a: &str, b: &str) -> f32 {
    if a == b {
        return 0.0;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] as f32 / longest as f32
}

/// The text a transcriber's prompt gets from a grammar: its phrases (or keyphrases) as
/// a comma-separated list, at most `max_chars` long (whole phrases only). Transcription
/// models treat a prompt as preceding context, so the phrases' words become likelier.
pub fn prompt_from_grammar(grammar: &Grammar, max_chars: usize) -> Option<String> {
    let phrases: Vec<&str> = match grammar {
        Grammar::Phrases(p) => p.iter().map(String::as_str).collect(),
        Grammar::Keyphrases(k) => k.iter().map(|(p, _)| p.as_str()).collect(),
        Grammar::Jsgf(_) | Grammar::Free => return None,
    };
    let mut prompt = String::new();
    for phrase in phrases {
        let phrase = phrase.split_whitespace().collect::<Vec<_>>().join(" ");
        let phrase = phrase.replace('\0', "");
        if phrase.is_empty() {
            continue;
        }
        let extra = if prompt.is_empty() { 0 } else { 2 } + phrase.len();
        if prompt.len() + extra > max_chars {
            break;
        }
        if !prompt.is_empty() {
            prompt.push_str(", ");
        }
        prompt.push_str(&phrase);
    }
    (!prompt.is_empty()).then_some(prompt)
}

/// The first keyphrase whose words occur, in order and adjacent, in a free transcript
/// (compared as [`closest_phrase`] does: normalized, contractions expanded).
pub fn spotted_keyphrase<S: AsRef<str>>(transcript: &str, keyphrases: &[S]) -> Option<String> {
    let said = comparable_words(&normalize_transcript(transcript));
    keyphrases.iter().find_map(|k| {
        let normalized = normalize_transcript(k.as_ref());
        let words = comparable_words(&normalized);
        (!words.is_empty() && said.windows(words.len()).any(|w| w == words.as_slice()))
            .then_some(normalized)
    })
}

/// A final hypothesis from a free transcript and the engine's confidence in it:
///
/// * [`Grammar::Phrases`]: the closest phrase when one is close enough
///   ([`closest_phrase`]), the confidence scaled by how close;
/// * [`Grammar::Keyphrases`]: the first keyphrase said inside the transcript
///   ([`spotted_keyphrase`]), with the engine's confidence;
/// * otherwise, and when nothing matched, the normalized transcript itself.
///
/// `None` for an empty transcript. Unlike PocketSphinx, which always answers with some
/// phrase of the grammar, speech outside the phrases comes back as what was said: a
/// text that is not one of the phrases tells the caller that none matched.
pub fn final_hypothesis(
    transcript: &str,
    engine_confidence: f32,
    grammar: Option<&Grammar>,
) -> Option<Hypothesis> {
    let text = normalize_transcript(transcript);
    if text.is_empty() {
        return None;
    }
    let confidence = engine_confidence.clamp(0.0, 1.0);
    let hypothesis = |text: String, confidence: f32| Hypothesis {
        text,
        confidence,
        is_final: true,
    };
    match grammar {
        Some(Grammar::Phrases(phrases)) => {
            if let Some(m) = closest_phrase(&text, phrases) {
                return Some(hypothesis(m.phrase, confidence * m.similarity));
            }
        }
        Some(Grammar::Keyphrases(keyphrases)) => {
            let phrases: Vec<&str> = keyphrases.iter().map(|(p, _)| p.as_str()).collect();
            if let Some(phrase) = spotted_keyphrase(&text, &phrases) {
                return Some(hypothesis(phrase, confidence));
            }
        }
        Some(Grammar::Jsgf(_) | Grammar::Free) | None => {}
    }
    Some(hypothesis(text, confidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_a_hypothesis() {
        assert_eq!(
            normalize_transcript(" Where's my  order?! "),
            "where's my order"
        );
        assert_eq!(
            normalize_transcript("[BLANK_AUDIO] Yes, please. (laughs)"),
            "yes please"
        );
        assert_eq!(
            normalize_transcript("It costs 3.50, OK?"),
            "it costs 3.50 ok"
        );
        assert_eq!(normalize_transcript("e-mail/fax"), "e mail fax");
        assert_eq!(normalize_transcript("„Dobar dan!“"), "dobar dan");
        assert_eq!(normalize_transcript("Grüße, Ärger"), "grüße ärger");
        assert_eq!(normalize_transcript("你好。谢谢！"), "你好谢谢");
        // Devanagari combining marks stay; the danda is punctuation.
        assert_eq!(normalize_transcript("नमस्ते।"), "नमस्ते");
        assert_eq!(normalize_transcript("?!..."), "");
        assert_eq!(
            normalize_transcript("unbalanced (paren [noise] end"),
            "unbalanced paren end"
        );
    }

    #[test]
    fn maps_to_the_closest_phrase() {
        let phrases = ["where is my order", "talk to a human", "yes", "no"];
        let m = closest_phrase("Where's my order?", &phrases).unwrap();
        assert_eq!((m.index, m.phrase.as_str()), (0, "where is my order"));
        assert!(m.similarity > 0.99, "{m:?}");
        let m = closest_phrase("I'd like to talk to a human", &phrases);
        assert_eq!(m, None, "three extra words out of four");
        let m = closest_phrase("talk to the human", &phrases).unwrap();
        assert_eq!(m.index, 1);
        assert!(m.similarity < 1.0 && m.similarity > 0.6, "{m:?}");
        assert_eq!(closest_phrase("yes", &phrases).unwrap().index, 2);
        assert_eq!(closest_phrase("yeah", &phrases), None);
        assert_eq!(closest_phrase("the weather today", &phrases), None);
        assert_eq!(closest_phrase("", &phrases), None);
        assert_eq!(closest_phrase("yes", &[] as &[&str]), None);
    }

    #[test]
    fn final_hypothesis_maps_phrases_and_keeps_free_text() {
        let g = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
        let h = final_hypothesis("Where's my order?", 0.8, Some(&g)).unwrap();
        assert_eq!(h.text, "where is my order");
        assert!((h.confidence - 0.8).abs() < 1e-6);
        assert!(h.is_final);
        let h = final_hypothesis("What's the weather?", 0.9, Some(&g)).unwrap();
        assert_eq!(h.text, "what's the weather");
        let h = final_hypothesis("Hello there.", 1.5, Some(&Grammar::Free)).unwrap();
        assert_eq!((h.text.as_str(), h.confidence), ("hello there", 1.0));
        assert_eq!(final_hypothesis(" [BLANK_AUDIO] ", 0.9, None), None);
    }

    #[test]
    fn keyphrases_are_spotted_inside_the_transcript() {
        let k = Grammar::Keyphrases(vec![
            ("talk to a human".into(), 1e-20),
            ("agent".into(), 1e-10),
        ]);
        let h = final_hypothesis("Can I talk to a human, please?", 0.7, Some(&k)).unwrap();
        assert_eq!((h.text.as_str(), h.confidence), ("talk to a human", 0.7));
        let h = final_hypothesis("I'd like an Agent.", 0.7, Some(&k)).unwrap();
        assert_eq!(h.text, "agent");
        let h = final_hypothesis("talk to an agency", 0.7, Some(&k)).unwrap();
        assert_eq!(h.text, "talk to an agency");
    }

    #[test]
    fn prompt_lists_phrases_within_the_bound() {
        let g = Grammar::Phrases(vec!["where is my order".into(), "talk to a human".into()]);
        assert_eq!(
            prompt_from_grammar(&g, 100).as_deref(),
            Some("where is my order, talk to a human")
        );
        assert_eq!(
            prompt_from_grammar(&g, 20).as_deref(),
            Some("where is my order")
        );
        assert_eq!(prompt_from_grammar(&Grammar::Free, 100), None);
        let k = Grammar::Keyphrases(vec![("hey voxgate".into(), 1e-20)]);
        assert_eq!(prompt_from_grammar(&k, 100).as_deref(), Some("hey voxgate"));
    }
}
