//! The built-in analyser: word and phrase lexicons with rules, no model, no network.
//!
//! [`LexiconAnalyser`] reads a [`Transcript`] as recognizers give it (lower-case words,
//! no punctuation, some words misheard) and finds sentiment, category, tone and keywords
//! in microseconds for a short call, a few milliseconds at most for a long one (the
//! lexicons are built once, on first use). Lexicons exist for English (`en`, the most thorough), German (`de`)
//! and Croatian (`hr`; `bs`, `sr` and `sh` use it too); any other language is read with
//! the English lexicon. [`Analysis::language`] reports the transcript's own language
//! (its primary subtag; `en` when it names none).
//!
//! # Words
//!
//! Text is cut into words at anything that is not a letter, digit or apostrophe, then
//! folded: apostrophes dropped (`don't` → `dont`), German umlauts spelt out (`ä` → `ae`,
//! `ß` → `ss`), Croatian letters without their marks (`č`, `ć` → `c`, `đ` → `dj`), so
//! transcripts with and without diacritics read alike. English negated auxiliaries and
//! common contractions are merged (`does not` → `doesnt`, `it is` → `its`), so a phrase
//! matches however the recognizer spelt it. Lexicon phrases are folded the same way; a
//! trailing `*` in a lexicon (or tenant) phrase matches any ending (`deliver*`,
//! `narudžb*`), which copes with German and Croatian inflection. At every position the
//! longest matching phrase wins, and phrases never span two turns.
//!
//! # Sentiment
//!
//! Every lexicon hit has a weight (about ±0.5 mild to ±3 strong). A hit is
//! * strengthened by intensifiers right before it (`very`, `really`, `so`, `sehr`,
//!   `jako` …: × 1.15 to 1.5 each) and weakened by downtoners (`a bit`, `slightly`:
//!   × 0.7);
//! * negated by a negator (`not`, `never`, `nicht`, `kein`, `nije` …) in the
//!   [`NEGATION_WINDOW`] words before it, or by `no` / `ne` right before it (or before
//!   its intensifiers: `no good`, `ne baš dobro`, but not `no it was good`, where `no`
//!   answers a question): a positive weight becomes −0.75 × itself (`not good` is
//!   bad), a negative one −0.4 × itself (`not bad` is only mildly good);
//! * weighed × 0.6 in the words before a contrast (`but`, `aber`, `ali`) and × 1.3
//!   after it (`thanks but it is still broken` is negative).
//!
//! Phrases carry their own weight and are not negated by the negators inside them
//! (`not good enough`, `still hasn't arrived`, `no problem`, `ne radi`).
//!
//! Each turn is cut into segments of at most [`SEGMENT_WORDS`] words (about a
//! sentence; recognizers give no punctuation). A segment with hits scores
//! `s = (P − N) / (P + N + 2.5)`, `P` and `N` its summed positive and negative weights:
//! −1..1, and a single mild word (`thanks`) stays neutral. A side's score is the mean of
//! its segments' scores weighted by their strength, `Σ s·|s| / Σ |s|`, so strong
//! segments count more than mild ones, and a long call is judged by what was said in
//! it rather than by its length (ten scripted `sorry`s do not make an agent negative).
//! The label is **positive from [`POSITIVE_FROM`] (0.25) up, negative from
//! [`NEGATIVE_FROM`] (−0.25) down**, neutral in between; a side without any hit scores 0.
//!
//! `overall` is the same mean over everyone's segments, with the **customer's and
//! unknown speakers' segments weighing 1 and the agent's [`AGENT_WEIGHT`] (½)**: agents
//! are polite by script, so their `thank you` and `great` say less about the call than
//! the customer's words. `customer` and `agent` are `None` when that side has no turn
//! with words; [`Speaker::Unknown`] turns (mono recordings) count to `overall` only.
//!
//! # Category
//!
//! Weighted words and phrases point to `complaint`, `question`, `order` (order or sale)
//! and `delivery`; the agent's hits count half. A category *scores* when its sum
//! reaches [`MIN_CATEGORY_SCORE`]; the best one is the call's category, `other` when
//! none scores. A tenant's [`Rules::categories`] add categories (or words to a built-in
//! one); each tenant phrase weighs [`TENANT_PHRASE_WEIGHT`], more than any built-in
//! word, so a tenant's own category wins over a single built-in hit, and wins ties.
//! [`Analysis::categories`] lists every scoring category, best first, scores
//! normalised to sum to 1.
//!
//! # Tone
//!
//! Lexicon hits also mark anger (`unacceptable`, `ridiculous`), impatience (`still`,
//! `again`, `how long`, `for weeks`), anxiety (`worried`, `i hope`), confusion
//! (`i don't understand`, `what do you mean`), apology (`sorry`, `apologise`),
//! politeness (`please`, `thank you`, `could you`), friendliness (`lovely`,
//! `have a nice day`) and calm (`no problem`, `take your time`); a negated marker does
//! not count. Each side gets the first of these that holds (sums of marker weights,
//! `s` the side's sentiment score):
//!
//! 1. `angry`: anger ≥ 2, or anger ≥ 1 and s ≤ −0.5;
//! 2. `frustrated`: anger ≥ 1, or impatience ≥ 1 and s ≤ −0.25, or s ≤ −0.5 without
//!    anxiety or confusion;
//! 3. `impatient`: impatience ≥ 1.5, or impatience ≥ 1 and s < 0;
//! 4. `confused`: confusion ≥ 1 and confusion ≥ anxiety;
//! 5. `anxious`: anxiety ≥ 1;
//! 6. `apologetic`: apology ≥ 1 and apology ≥ friendliness;
//! 7. `friendly`: friendliness ≥ 1 and s ≥ 0.1, or s ≥ 0.5;
//! 8. `polite`: politeness or friendliness ≥ 1;
//! 9. `calm`: calm ≥ 1;
//! 10. `neutral` otherwise.
//!
//! # Keywords
//!
//! The tenant's [`Rules::keywords`] that occur come first, as the tenant wrote them.
//! Then words that are not stop words (of the call's language, plus call-centre filler)
//! and pairs of such words spoken together, ranked by how often they were said (the
//! agent's words count 0.7), words that hit a category lexicon × 2 and strong sentiment
//! words × 1.5, pairs × 1.5; a word already inside a chosen pair is not repeated. At
//! most [`MAX_KEYWORDS`].

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::analyser::{
    AnalyseError, Analyser, Analysis, Polarity, Rules, Sentiment, Sentiments, Speaker, Tones,
    Transcript,
};

/// The tones [`LexiconAnalyser`] gives, and the only ones the LLM analyser may answer.
pub const TONES: &[&str] = &[
    "friendly",
    "polite",
    "calm",
    "neutral",
    "confused",
    "anxious",
    "impatient",
    "frustrated",
    "angry",
    "apologetic",
];

/// The built-in categories, `other` last.
pub const BUILTIN_CATEGORIES: &[&str] = &["complaint", "question", "order", "delivery", "other"];

/// A sentiment score from here up is `positive`.
pub const POSITIVE_FROM: f32 = 0.25;
/// A sentiment score from here down is `negative`.
pub const NEGATIVE_FROM: f32 = -0.25;
/// How much the agent's words count, against the customer's 1, in `overall` sentiment
/// and in categories.
pub const AGENT_WEIGHT: f32 = 0.5;
/// Weight of each hit of a tenant's category phrase (built-in words weigh 0.5 to 3.5).
pub const TENANT_PHRASE_WEIGHT: f32 = 4.0;
/// The least summed weight for a category to count; below it the call is `other`.
pub const MIN_CATEGORY_SCORE: f32 = 1.5;
/// The most keywords reported.
pub const MAX_KEYWORDS: usize = 10;
/// How many words before a sentiment word a negator reaches.
pub const NEGATION_WINDOW: usize = 3;

/// Keeps a single mild word from deciding a side's sentiment (see the module docs).
const DAMPING: f32 = 2.5;
/// Turns are scored in pieces of at most this many words (about a sentence).
pub const SEGMENT_WORDS: usize = 20;
/// Words before and after a contrast (`but`) whose weights it changes.
const CONTRAST_WINDOW: usize = 8;
const BEFORE_CONTRAST: f32 = 0.6;
const AFTER_CONTRAST: f32 = 1.3;
/// A negated positive weight is multiplied by this …
const NEGATED_POSITIVE: f32 = -0.75;
/// … a negated negative one by this.
const NEGATED_NEGATIVE: f32 = -0.4;
/// How much an agent's word counts towards keywords.
const AGENT_KEYWORD_WEIGHT: f32 = 0.7;

/// The built-in analyser (see the [module docs](self) for its rules). Cheap to create
/// and to clone: the lexicons are built once per process.
#[derive(Debug, Clone, Copy)]
pub struct LexiconAnalyser {
    _private: (),
}

impl LexiconAnalyser {
    /// The analyser; builds the lexicons now if no analyser has yet.
    pub fn new() -> LexiconAnalyser {
        LazyLock::force(&LEXICONS);
        LexiconAnalyser { _private: () }
    }

    /// The name in [`Analysis::analyser`].
    pub fn name(&self) -> &'static str {
        "lexicon"
    }
}

impl Default for LexiconAnalyser {
    fn default() -> Self {
        LexiconAnalyser::new()
    }
}

impl Analyser for LexiconAnalyser {
    fn analyse(&self, transcript: &Transcript, rules: &Rules) -> Result<Analysis, AnalyseError> {
        let lex = lexicon_for(&transcript.language);
        let tenant = TenantRules::new(lex, rules);
        let mut call = Call::new(lex, &tenant);
        for turn in &transcript.turns {
            let tokens = tokenize(lex, &turn.text);
            if !tokens.is_empty() {
                call.turn(turn.speaker, &tokens);
            }
        }
        let language = primary_language(&transcript.language);
        Ok(call.finish(
            self.name(),
            if language.is_empty() {
                "en".to_string()
            } else {
                language
            },
        ))
    }
}

/// `en` from `en-GB`, `EN_us`, ` de `.
pub(crate) fn primary_language(tag: &str) -> String {
    tag.trim()
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The lexicon for a language tag (English for languages without their own).
fn lexicon_for(tag: &str) -> &'static Lexicon {
    let lexicons = &*LEXICONS;
    match primary_language(tag).as_str() {
        "de" => &lexicons.de,
        "hr" | "bs" | "sr" | "sh" | "cnr" => &lexicons.hr,
        _ => &lexicons.en,
    }
}

mod de;
mod en;
mod hr;
mod words;

use de::DE;
use en::EN;
use hr::HR;
pub(crate) use words::*;

// ---------------------------------------------------------------------------------------
// Lexicons

/// What a tone-lexicon hit says about the speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Anger,
    Impatience,
    Anxiety,
    Confusion,
    Apology,
    Politeness,
    Friendliness,
    Calm,
}

const MARKERS: usize = 8;

/// Built-in categories by index into [`BUILTIN_CATEGORIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Complaint = 0,
    Question = 1,
    Order = 2,
    Delivery = 3,
}

const OTHER: usize = 4;

/// A language's lexicons as written in this file.
struct LexiconData {
    english_merges: bool,
    sentiment: &'static [(f32, &'static str)],
    categories: &'static [(Cat, f32, &'static str)],
    tones: &'static [(Marker, f32, &'static str)],
    /// Words that negate what follows.
    negators: &'static str,
    /// Negators that reach only the word right after them (`no good`, but not
    /// `no it was good`, where `no` answers a question).
    short_negators: &'static str,
    /// Intensifiers (positive) and downtoners (negative): how much they add.
    intensifiers: &'static [(f32, &'static str)],
    /// Words after which the sentence turns (`but`).
    contrast: &'static str,
    /// Words that are never keywords.
    stop: &'static str,
}

/// A language's lexicons, ready to match.
#[derive(Debug)]
pub(crate) struct Lexicon {
    english_merges: bool,
    sentiment: Matcher<f32>,
    categories: Matcher<Vec<(usize, f32)>>,
    tones: Matcher<Vec<(Marker, f32)>>,
    negators: HashSet<String>,
    short_negators: HashSet<String>,
    intensifiers: HashMap<String, f32>,
    contrast: HashSet<String>,
    stop: HashSet<String>,
}

#[derive(Debug)]
struct Lexicons {
    en: Lexicon,
    de: Lexicon,
    hr: Lexicon,
}

static LEXICONS: LazyLock<Lexicons> = LazyLock::new(|| Lexicons {
    en: Lexicon::build(&EN),
    de: Lexicon::build(&DE),
    hr: Lexicon::build(&HR),
});

/// The single words of a word list (folded; English contractions merged).
fn word_set(merges: bool, list: &str) -> Vec<String> {
    list.split([',', ' ', '\n'])
        .filter(|w| !w.is_empty())
        .filter_map(|w| match pattern(merges, &[w])?.as_slice() {
            [Pat::Word(w)] => Some(w.to_string()),
            _ => None,
        })
        .collect()
}

/// Adds `(key, weight)` pairs to a pattern's; the same key with another weight is a
/// conflict (`false`), the same pair again is fine (`does not` and `doesn't`).
fn merge_weights<K: PartialEq>(old: &mut Vec<(K, f32)>, new: Vec<(K, f32)>) -> bool {
    let mut ok = true;
    for (k, w) in new {
        match old.iter().find(|(o, _)| *o == k) {
            Some((_, v)) => ok &= *v == w,
            None => old.push((k, w)),
        }
    }
    ok
}

impl Lexicon {
    fn build(data: &LexiconData) -> Lexicon {
        let m = data.english_merges;
        let mut sentiment = Matcher::new();
        for &(weight, entry) in data.sentiment {
            for p in patterns(m, entry) {
                sentiment.insert(p, weight, |old, new| *old == new);
            }
        }
        let mut categories = Matcher::new();
        for &(cat, weight, entry) in data.categories {
            for p in patterns(m, entry) {
                categories.insert(p, vec![(cat as usize, weight)], merge_weights);
            }
        }
        let mut tones = Matcher::new();
        for &(marker, weight, entry) in data.tones {
            for p in patterns(m, entry) {
                tones.insert(p, vec![(marker, weight)], merge_weights);
            }
        }
        let mut intensifiers = HashMap::new();
        for &(boost, list) in data.intensifiers {
            for w in word_set(m, list) {
                intensifiers.insert(w, boost);
            }
        }
        Lexicon {
            english_merges: m,
            sentiment,
            categories,
            tones,
            negators: word_set(m, data.negators).into_iter().collect(),
            short_negators: word_set(m, data.short_negators).into_iter().collect(),
            intensifiers,
            contrast: word_set(m, data.contrast).into_iter().collect(),
            stop: word_set(m, data.stop).into_iter().collect(),
        }
    }

    fn is_negator(&self, norm: &str) -> bool {
        self.negators.contains(norm) || self.short_negators.contains(norm)
    }

    /// Whether a negator stands in the window before `start` (not before `floor`, where
    /// the previous hit ended, and not across a contrast).
    fn negated(&self, tokens: &[Token], start: usize, floor: usize) -> bool {
        let from = start.saturating_sub(NEGATION_WINDOW).max(floor);
        for (j, t) in tokens.iter().enumerate().take(start).skip(from).rev() {
            if self.contrast.contains(&t.norm) {
                return false;
            }
            if self.short_negators.contains(&t.norm) {
                // Reaches over intensifiers only (`ne baš dobro`).
                let between = tokens.get(j + 1..start).unwrap_or_default();
                if between
                    .iter()
                    .all(|b| self.intensifiers.contains_key(&b.norm))
                {
                    return true;
                }
            } else if self.is_negator(&t.norm) {
                return true;
            }
        }
        false
    }

    /// The product of the intensifiers right before `start` (negators may stand among
    /// them: `not very good`).
    fn intensity(&self, tokens: &[Token], start: usize, floor: usize) -> f32 {
        let mut factor = 1.0;
        let mut j = start;
        while j > floor && start - j < 3 {
            j -= 1;
            let Some(t) = tokens.get(j) else { break };
            if let Some(boost) = self.intensifiers.get(&t.norm) {
                factor *= 1.0 + boost;
            } else if !self.is_negator(&t.norm) {
                break;
            }
        }
        factor
    }

    /// Whether a word can be a keyword.
    fn is_content(&self, t: &Token) -> bool {
        t.norm.chars().count() >= 3
            && t.norm.chars().any(char::is_alphabetic)
            && !self.stop.contains(&t.norm)
            && !self.is_negator(&t.norm)
            && !self.intensifiers.contains_key(&t.norm)
            && !self.contrast.contains(&t.norm)
    }
}

// ---------------------------------------------------------------------------------------
// A tenant's rules, compiled for one call

#[derive(Debug)]
struct TenantRules {
    /// Category names after the built-ins (as the tenant wrote them, trimmed).
    names: Vec<String>,
    /// Phrase → indexes into the call's category scores.
    categories: Matcher<Vec<usize>>,
    /// Keywords as the tenant wrote them, and their patterns.
    keywords: Vec<String>,
    keyword_matcher: Matcher<Vec<usize>>,
}

/// The categories a call may get: the built-ins, then the tenant's own (names trimmed;
/// one differing from a built-in or an earlier one only in case is the same category).
pub(crate) fn category_names(rules: &Rules) -> Vec<String> {
    let mut names: Vec<String> = BUILTIN_CATEGORIES.iter().map(|b| b.to_string()).collect();
    for name in rules.categories.keys() {
        category_index(&mut names, name);
    }
    names
}

/// Where `name` is in `names`, added at the end if new; `None` for an empty name.
fn category_index(names: &mut Vec<String>, name: &str) -> Option<usize> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let lower = name.to_lowercase();
    match names.iter().position(|n| n.to_lowercase() == lower) {
        Some(i) => Some(i),
        None => {
            names.push(name.to_string());
            Some(names.len() - 1)
        }
    }
}

/// The tenant's keywords said in a transcript, in the tenant's order, as written.
pub(crate) fn tenant_keywords(transcript: &Transcript, rules: &Rules) -> Vec<String> {
    if rules.keywords.is_empty() {
        return Vec::new();
    }
    let lex = lexicon_for(&transcript.language);
    let tenant = TenantRules::new(
        lex,
        &Rules {
            keywords: rules.keywords.clone(),
            ..Rules::default()
        },
    );
    let mut found = vec![false; tenant.keywords.len()];
    for turn in &transcript.turns {
        let tokens = tokenize(lex, &turn.text);
        for (_, _, ids) in tenant.keyword_matcher.scan(&tokens) {
            for &id in ids {
                if let Some(f) = found.get_mut(id) {
                    *f = true;
                }
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for (k, _) in tenant.keywords.iter().zip(&found).filter(|(_, f)| **f) {
        if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
            out.push(k.clone());
        }
    }
    out
}

impl TenantRules {
    fn new(lex: &Lexicon, rules: &Rules) -> TenantRules {
        let mut all: Vec<String> = BUILTIN_CATEGORIES.iter().map(|b| b.to_string()).collect();
        let mut categories = Matcher::new();
        for (name, phrases) in &rules.categories {
            let Some(index) = category_index(&mut all, name) else {
                continue;
            };
            for phrase in phrases {
                // A tenant's phrase is one phrase: commas in it separate nothing.
                let words: Vec<&str> = phrase.split_whitespace().collect();
                if let Some(p) = pattern(lex.english_merges, &words) {
                    categories.insert(p, vec![index], |old, new| {
                        for t in new {
                            if !old.contains(&t) {
                                old.push(t);
                            }
                        }
                        true
                    });
                }
            }
        }
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_matcher = Matcher::new();
        for k in &rules.keywords {
            let k = k.trim();
            let words: Vec<&str> = k.split_whitespace().collect();
            if let Some(p) = pattern(lex.english_merges, &words) {
                let id = keywords.len();
                keywords.push(k.to_string());
                keyword_matcher.insert(p, vec![id], |old, new| {
                    old.extend(new);
                    true
                });
            }
        }
        TenantRules {
            names: all.split_off(BUILTIN_CATEGORIES.len()),
            categories,
            keywords,
            keyword_matcher,
        }
    }
}

// ---------------------------------------------------------------------------------------
// One call

/// Segment scores, averaged by their strength: `Σ s·|s| / Σ |s|`.
#[derive(Debug, Default, Clone, Copy)]
struct Mean {
    signed: f32,
    strength: f32,
}

impl Mean {
    fn add(&mut self, s: f32, weight: f32) {
        self.signed += weight * s * s.abs();
        self.strength += weight * s.abs();
    }

    fn score(&self) -> f32 {
        if self.strength > 0.0 {
            round3((self.signed / self.strength).clamp(-1.0, 1.0))
        } else {
            0.0
        }
    }
}

#[derive(Debug, Default, Clone)]
struct Side {
    spoke: bool,
    sentiment: Mean,
    markers: [f32; MARKERS],
}

impl Side {
    fn score(&self) -> f32 {
        self.sentiment.score()
    }
}

/// A segment's score from its summed positive and negative weights.
fn segment_score(positive: f32, negative: f32) -> f32 {
    (positive - negative) / (positive + negative + DAMPING)
}

fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

fn sentiment(score: f32) -> Sentiment {
    let label = if score >= POSITIVE_FROM {
        Polarity::Positive
    } else if score <= NEGATIVE_FROM {
        Polarity::Negative
    } else {
        Polarity::Neutral
    };
    Sentiment { label, score }
}

/// A keyword candidate.
#[derive(Debug)]
struct Candidate {
    surface: String,
    /// Words of it (normalised), to leave out words already inside a chosen phrase.
    words: Vec<String>,
    count: f32,
    bonus: f32,
    first: usize,
}

const CUSTOMER: usize = 0;
const AGENT: usize = 1;
const UNKNOWN: usize = 2;

struct Call<'a> {
    lex: &'a Lexicon,
    tenant: &'a TenantRules,
    sides: [Side; 3],
    /// Every side's segments, the agent's weighing [`AGENT_WEIGHT`].
    overall: Mean,
    categories: Vec<f32>,
    candidates: HashMap<String, Candidate>,
    tenant_keywords: Vec<bool>,
    words_seen: usize,
}

impl<'a> Call<'a> {
    fn new(lex: &'a Lexicon, tenant: &'a TenantRules) -> Call<'a> {
        Call {
            lex,
            tenant,
            sides: Default::default(),
            overall: Mean::default(),
            categories: vec![0.0; BUILTIN_CATEGORIES.len() + tenant.names.len()],
            candidates: HashMap::new(),
            tenant_keywords: vec![false; tenant.keywords.len()],
            words_seen: 0,
        }
    }

    fn turn(&mut self, speaker: Speaker, tokens: &[Token]) {
        let lex = self.lex;
        let side = match speaker {
            Speaker::Customer => CUSTOMER,
            Speaker::Agent => AGENT,
            Speaker::Unknown => UNKNOWN,
        };
        let topic_weight = if side == AGENT { AGENT_WEIGHT } else { 1.0 };
        let n = tokens.len();

        // Contrast: what comes after `but` counts more than what came before.
        let mut contrast = vec![1.0f32; n];
        for (c, t) in tokens.iter().enumerate() {
            if lex.contrast.contains(&t.norm) {
                for f in contrast
                    .iter_mut()
                    .take(c)
                    .skip(c.saturating_sub(CONTRAST_WINDOW))
                {
                    *f *= BEFORE_CONTRAST;
                }
                for f in contrast.iter_mut().skip(c + 1).take(CONTRAST_WINDOW) {
                    *f *= AFTER_CONTRAST;
                }
            }
        }

        // Per word: 1 hit a category lexicon, 2 a strong sentiment word (keyword bonus).
        let mut bonus = vec![1.0f32; n];

        // Summed positive and negative weights per segment of the turn.
        let mut segments = vec![(0.0f32, 0.0f32); n.div_ceil(SEGMENT_WORDS)];
        let s = &mut self.sides[side];
        s.spoke = true;
        let mut floor = 0;
        for (start, len, &weight) in lex.sentiment.scan(tokens) {
            if weight != 0.0 {
                let mut w = weight
                    * lex.intensity(tokens, start, floor)
                    * contrast.get(start).copied().unwrap_or(1.0);
                if lex.negated(tokens, start, floor) {
                    w *= if w > 0.0 {
                        NEGATED_POSITIVE
                    } else {
                        NEGATED_NEGATIVE
                    };
                }
                if let Some((positive, negative)) = segments.get_mut(start / SEGMENT_WORDS) {
                    if w > 0.0 {
                        *positive += w;
                    } else {
                        *negative -= w;
                    }
                }
                if weight.abs() >= 2.0 {
                    for b in bonus.iter_mut().skip(start).take(len) {
                        *b = b.max(1.5);
                    }
                }
            }
            floor = start + len;
        }
        for &(positive, negative) in &segments {
            if positive + negative > 0.0 {
                let score = segment_score(positive, negative);
                s.sentiment.add(score, 1.0);
                self.overall.add(score, topic_weight);
            }
        }

        let mut floor = 0;
        for (start, len, marks) in lex.tones.scan(tokens) {
            if !lex.negated(tokens, start, floor) {
                for &(m, w) in marks {
                    if let Some(v) = s.markers.get_mut(m as usize) {
                        *v += w;
                    }
                }
            }
            floor = start + len;
        }

        for (start, len, cats) in lex.categories.scan(tokens) {
            for &(c, w) in cats {
                if let Some(v) = self.categories.get_mut(c) {
                    *v += w * topic_weight;
                }
            }
            for b in bonus.iter_mut().skip(start).take(len) {
                *b = 2.0;
            }
        }

        if !self.tenant.categories.is_empty() {
            for (start, len, targets) in self.tenant.categories.scan(tokens) {
                for &c in targets {
                    if let Some(v) = self.categories.get_mut(c) {
                        *v += TENANT_PHRASE_WEIGHT * topic_weight;
                    }
                }
                for b in bonus.iter_mut().skip(start).take(len) {
                    *b = 2.0;
                }
            }
        }
        if !self.tenant.keyword_matcher.is_empty() {
            for (_, _, ids) in self.tenant.keyword_matcher.scan(tokens) {
                for &id in ids {
                    if let Some(found) = self.tenant_keywords.get_mut(id) {
                        *found = true;
                    }
                }
            }
        }

        // Keyword candidates: content words, and pairs of them said together.
        let said = if side == AGENT {
            AGENT_KEYWORD_WEIGHT
        } else {
            1.0
        };
        let content: Vec<bool> = tokens.iter().map(|t| lex.is_content(t)).collect();
        for (i, t) in tokens.iter().enumerate() {
            if !content.get(i).copied().unwrap_or(false) {
                continue;
            }
            let b = bonus.get(i).copied().unwrap_or(1.0);
            let position = self.words_seen + i;
            self.candidates
                .entry(t.norm.clone())
                .and_modify(|c| {
                    c.count += said;
                    c.bonus = c.bonus.max(b);
                })
                .or_insert_with(|| Candidate {
                    surface: t.surface.clone(),
                    words: vec![t.norm.clone()],
                    count: said,
                    bonus: b,
                    first: position,
                });
            if let (Some(next), Some(true)) = (tokens.get(i + 1), content.get(i + 1).copied())
                && next.norm != t.norm
            {
                let key = format!("{} {}", t.norm, next.norm);
                let b = (b + bonus.get(i + 1).copied().unwrap_or(1.0)) / 2.0 * 1.5;
                self.candidates
                    .entry(key)
                    .and_modify(|c| {
                        c.count += said;
                        c.bonus = c.bonus.max(b);
                    })
                    .or_insert_with(|| Candidate {
                        surface: format!("{} {}", t.surface, next.surface),
                        words: vec![t.norm.clone(), next.norm.clone()],
                        count: said,
                        bonus: b,
                        first: position,
                    });
            }
        }
        self.words_seen += n;
    }

    fn finish(self, analyser: &str, language: String) -> Analysis {
        let [customer, agent, _] = &self.sides;
        let side_sentiment = |s: &Side| s.spoke.then(|| sentiment(s.score()));
        let sentiment = Sentiments {
            overall: sentiment(self.overall.score()),
            customer: side_sentiment(customer),
            agent: side_sentiment(agent),
        };
        let tone = Tones {
            customer: customer.spoke.then(|| tone(customer).to_string()),
            agent: agent.spoke.then(|| tone(agent).to_string()),
        };

        // Categories: tenant ones first on a tie, then the built-ins in their order.
        let name = |i: usize| -> String {
            match BUILTIN_CATEGORIES.get(i) {
                Some(b) => b.to_string(),
                None => self
                    .tenant
                    .names
                    .get(i - BUILTIN_CATEGORIES.len())
                    .cloned()
                    .unwrap_or_default(),
            }
        };
        let rank = |i: usize| {
            if i >= BUILTIN_CATEGORIES.len() {
                i - BUILTIN_CATEGORIES.len()
            } else {
                self.tenant.names.len() + i
            }
        };
        let mut scored: Vec<(usize, f32)> = self
            .categories
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, s)| s >= MIN_CATEGORY_SCORE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(rank(a.0).cmp(&rank(b.0))));
        let total: f32 = scored.iter().map(|&(_, s)| s).sum();
        let categories: Vec<(String, f32)> = if scored.is_empty() {
            vec![(name(OTHER), 1.0)]
        } else {
            scored
                .iter()
                .map(|&(i, s)| (name(i), round3(s / total)))
                .collect()
        };
        let category = categories
            .first()
            .map(|(c, _)| c.clone())
            .unwrap_or_else(|| name(OTHER));

        let keywords = self.keywords();
        Analysis {
            analyser: analyser.to_string(),
            language,
            sentiment,
            category,
            categories,
            tone,
            keywords,
        }
    }

    fn keywords(&self) -> Vec<String> {
        let mut tenant_words: Vec<Vec<Token>> = Vec::new();
        let mut out: Vec<String> = Vec::new();
        let mut covered: HashSet<&str> = HashSet::new();
        for (k, _) in self
            .tenant
            .keywords
            .iter()
            .zip(&self.tenant_keywords)
            .filter(|(_, found)| **found)
        {
            if out.len() >= MAX_KEYWORDS {
                return out;
            }
            if !out.iter().any(|o| o.to_lowercase() == k.to_lowercase()) {
                out.push(k.clone());
                tenant_words.push(tokenize(self.lex, k));
            }
        }
        for words in &tenant_words {
            for w in words {
                covered.insert(w.norm.trim_end_matches('*'));
            }
        }
        let mut ranked: Vec<&Candidate> = self.candidates.values().collect();
        ranked.sort_by(|a, b| {
            (b.count * b.bonus)
                .total_cmp(&(a.count * a.bonus))
                .then(a.words.len().cmp(&b.words.len()).reverse())
                .then(a.first.cmp(&b.first))
        });
        for c in ranked {
            if out.len() >= MAX_KEYWORDS {
                break;
            }
            // A word already inside a reported phrase, or a pair whose words were all
            // reported, adds nothing.
            if c.words.iter().all(|w| covered.contains(w.as_str())) || out.contains(&c.surface) {
                continue;
            }
            out.push(c.surface.clone());
            for w in &c.words {
                covered.insert(w);
            }
        }
        out
    }
}

/// A side's tone by the rules in the module docs.
fn tone(side: &Side) -> &'static str {
    let m = |k: Marker| side.markers.get(k as usize).copied().unwrap_or(0.0);
    let s = side.score();
    let anger = m(Marker::Anger);
    let impatience = m(Marker::Impatience);
    let anxiety = m(Marker::Anxiety);
    let confusion = m(Marker::Confusion);
    let apology = m(Marker::Apology);
    let politeness = m(Marker::Politeness);
    let friendliness = m(Marker::Friendliness);
    let calm = m(Marker::Calm);
    if anger >= 2.0 || (anger >= 1.0 && s <= -0.5) {
        "angry"
    } else if anger >= 1.0
        || (impatience >= 1.0 && s <= -0.25)
        || (s <= -0.5 && anxiety < 1.0 && confusion < 1.0)
    {
        "frustrated"
    } else if impatience >= 1.5 || (impatience >= 1.0 && s < 0.0) {
        "impatient"
    } else if confusion >= 1.0 && confusion >= anxiety {
        "confused"
    } else if anxiety >= 1.0 {
        "anxious"
    } else if apology >= 1.0 && apology >= friendliness {
        "apologetic"
    } else if (friendliness >= 1.0 && s >= 0.1) || s >= 0.5 {
        "friendly"
    } else if politeness >= 1.0 || friendliness >= 1.0 {
        "polite"
    } else if calm >= 1.0 {
        "calm"
    } else {
        "neutral"
    }
}

/// Lexicon diagnostics for tests: patterns given twice with different weights, per
/// language.
#[cfg(test)]
fn lexicon_conflicts() -> Vec<String> {
    let l = &*LEXICONS;
    let mut out = Vec::new();
    for (code, lex) in [("en", &l.en), ("de", &l.de), ("hr", &l.hr)] {
        for c in &lex.sentiment.conflicts {
            out.push(format!("{code} sentiment: {c}"));
        }
        for c in &lex.categories.conflicts {
            out.push(format!("{code} categories: {c}"));
        }
        for c in &lex.tones.conflicts {
            out.push(format!("{code} tones: {c}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> &'static Lexicon {
        &LEXICONS.en
    }

    fn norms(lex: &Lexicon, text: &str) -> Vec<String> {
        tokenize(lex, text).into_iter().map(|t| t.norm).collect()
    }

    #[test]
    fn words_are_folded_and_merged() {
        assert_eq!(
            norms(en(), "It's NOT working, I don't think it does not… cannot"),
            [
                "its", "not", "working", "i", "dont", "think", "it", "doesnt", "cant"
            ]
        );
        assert_eq!(
            norms(&LEXICONS.hr, "Narudžba još nije stigla, loše!"),
            ["narudzba", "jos", "nije", "stigla", "lose"]
        );
        assert_eq!(norms(&LEXICONS.de, "Schöne Grüße"), ["schoene", "gruesse"]);
        let t = tokenize(en(), "we do not");
        assert_eq!(t.last().map(|t| t.surface.as_str()), Some("do not"));
    }

    #[test]
    fn patterns_expand_alternatives_and_prefixes() {
        let p = patterns(true, "waiting for two/three weeks, deliver*");
        assert_eq!(p.len(), 3);
        assert_eq!(
            p.get(2),
            Some(&vec![Pat::Prefix("deliver".into())]),
            "{p:?}"
        );
        assert_eq!(
            patterns(true, "it does not work"),
            vec![vec![
                Pat::Word("it".into()),
                Pat::Word("doesnt".into()),
                Pat::Word("work".into())
            ]]
        );
    }

    #[test]
    fn longest_phrase_wins() {
        let lex = en();
        let tokens = tokenize(lex, "it still hasn't arrived");
        let hits = lex.sentiment.scan(&tokens);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits.first().map(|h| (h.0, h.1)), Some((1, 3)));
    }

    #[test]
    fn lexicons_have_no_conflicting_duplicates() {
        let conflicts = lexicon_conflicts();
        assert!(conflicts.is_empty(), "{conflicts:#?}");
    }
}
