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

// ---------------------------------------------------------------------------------------
// Words

/// One word of a transcript: `norm` is what lexicons match (folded, contractions
/// merged), `surface` what was said (lower-case), for keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) norm: String,
    pub(crate) surface: String,
}

const APOSTROPHES: &[char] = &['\'', '’', '‘', 'ʼ', '`', '´'];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || APOSTROPHES.contains(&c)
}

/// Appends `c` (already lower-case) folded: diacritics of German, Croatian and other
/// Latin-script languages spelt out or dropped, apostrophes dropped.
fn fold_char(c: char, out: &mut String) {
    match c {
        'ä' | 'æ' => out.push_str("ae"),
        'ö' | 'ø' | 'œ' => out.push_str("oe"),
        'ü' => out.push_str("ue"),
        'ß' => out.push_str("ss"),
        'đ' => out.push_str("dj"),
        'č' | 'ć' | 'ç' => out.push('c'),
        'š' | 'ś' => out.push('s'),
        'ž' | 'ź' | 'ż' => out.push('z'),
        'á' | 'à' | 'â' | 'ã' | 'å' | 'ā' => out.push('a'),
        'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ě' => out.push('e'),
        'í' | 'ì' | 'î' | 'ï' => out.push('i'),
        'ó' | 'ò' | 'ô' | 'õ' => out.push('o'),
        'ú' | 'ù' | 'û' | 'ů' => out.push('u'),
        'ñ' | 'ń' | 'ň' => out.push('n'),
        'ł' => out.push('l'),
        'ř' => out.push('r'),
        'ý' => out.push('y'),
        c if APOSTROPHES.contains(&c) => {}
        c => out.push(c),
    }
}

/// The words of `text`, folded and (for English) with contractions merged.
pub(crate) fn tokenize(lex: &Lexicon, text: &str) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(text.len() / 5 + 1);
    for word in text.split(|c: char| !is_word_char(c)) {
        let word = word.trim_matches(|c| APOSTROPHES.contains(&c));
        if word.is_empty() {
            continue;
        }
        let mut surface = String::with_capacity(word.len());
        let mut norm = String::with_capacity(word.len());
        for c in word.chars().flat_map(char::to_lowercase) {
            if APOSTROPHES.contains(&c) {
                surface.push('\'');
            } else {
                surface.push(c);
            }
            fold_char(c, &mut norm);
        }
        if !norm.is_empty() {
            tokens.push(Token { norm, surface });
        }
    }
    if lex.english_merges {
        merge_english(tokens)
    } else {
        tokens
    }
}

/// `does not` → `doesnt`, `it is` → `its` …: the same word however it was written.
fn merge_english(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut iter = tokens.into_iter().peekable();
    while let Some(mut t) = iter.next() {
        if t.norm == "cannot" {
            t.norm = "cant".to_string();
        }
        let merged = iter
            .peek()
            .and_then(|next| english_contraction(&t.norm, &next.norm));
        match merged {
            Some(m) => {
                if let Some(next) = iter.next() {
                    out.push(Token {
                        norm: m.to_string(),
                        surface: format!("{} {}", t.surface, next.surface),
                    });
                }
            }
            None => out.push(t),
        }
    }
    out
}

fn english_contraction(a: &str, b: &str) -> Option<&'static str> {
    Some(match (a, b) {
        ("do", "not") => "dont",
        ("does", "not") => "doesnt",
        ("did", "not") => "didnt",
        ("is", "not") => "isnt",
        ("are", "not") => "arent",
        ("was", "not") => "wasnt",
        ("were", "not") => "werent",
        ("has", "not") => "hasnt",
        ("have", "not") => "havent",
        ("had", "not") => "hadnt",
        ("can", "not") => "cant",
        ("could", "not") => "couldnt",
        ("would", "not") => "wouldnt",
        ("should", "not") => "shouldnt",
        ("will", "not") => "wont",
        ("must", "not") => "mustnt",
        ("need", "not") => "neednt",
        ("i", "am") => "im",
        ("i", "have") => "ive",
        ("i", "will") => "ill",
        ("i", "would") => "id",
        ("it", "is") => "its",
        ("that", "is") => "thats",
        ("what", "is") => "whats",
        ("where", "is") => "wheres",
        ("there", "is") => "theres",
        ("you", "are") => "youre",
        ("they", "are") => "theyre",
        ("let", "us") => "lets",
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// Phrase matching

/// One word of a pattern: a whole word, or a prefix (written with a trailing `*`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Pat {
    Word(Box<str>),
    Prefix(Box<str>),
}

impl Pat {
    fn matches(&self, norm: &str) -> bool {
        match self {
            Pat::Word(w) => **w == *norm,
            Pat::Prefix(p) => norm.starts_with(&**p),
        }
    }
}

/// Finds the longest pattern that starts at a word. Patterns are indexed by their first
/// word (or, for prefixes, by the prefix), so a lookup costs a few hash probes.
#[derive(Debug)]
pub(crate) struct Matcher<P> {
    patterns: Vec<(Vec<Pat>, P)>,
    index: HashMap<Vec<Pat>, usize>,
    by_word: HashMap<Box<str>, Vec<usize>>,
    by_prefix: HashMap<Box<str>, Vec<usize>>,
    /// Lengths (bytes) of the prefixes in `by_prefix`.
    prefix_lens: Vec<usize>,
    /// Patterns given twice with different payloads (a lexicon mistake; tests look).
    conflicts: Vec<String>,
}

impl<P: PartialEq> Matcher<P> {
    fn new() -> Matcher<P> {
        Matcher {
            patterns: Vec::new(),
            index: HashMap::new(),
            by_word: HashMap::new(),
            by_prefix: HashMap::new(),
            prefix_lens: Vec::new(),
            conflicts: Vec::new(),
        }
    }

    /// Adds a pattern; a pattern already present gets `merge(existing, payload)`.
    fn insert(&mut self, pats: Vec<Pat>, payload: P, merge: fn(&mut P, P) -> bool) {
        let Some(first) = pats.first().cloned() else {
            return;
        };
        if let Some(&id) = self.index.get(&pats) {
            if let Some((_, existing)) = self.patterns.get_mut(id)
                && !merge(existing, payload)
            {
                self.conflicts.push(describe(&pats));
            }
            return;
        }
        let id = self.patterns.len();
        self.index.insert(pats.clone(), id);
        self.patterns.push((pats, payload));
        match first {
            Pat::Word(w) => self.by_word.entry(w).or_default().push(id),
            Pat::Prefix(p) => {
                if !self.prefix_lens.contains(&p.len()) {
                    self.prefix_lens.push(p.len());
                }
                self.by_prefix.entry(p).or_default().push(id);
            }
        }
    }

    /// The longest pattern starting at `tokens[i]`: its length in words and payload.
    fn find(&self, tokens: &[Token], i: usize) -> Option<(usize, &P)> {
        let first = &tokens.get(i)?.norm;
        let mut best: Option<(usize, &P)> = None;
        let mut consider = |ids: &Vec<usize>| {
            for &id in ids {
                let Some((pats, payload)) = self.patterns.get(id) else {
                    continue;
                };
                let len = pats.len();
                if best.is_some_and(|(l, _)| l >= len) {
                    continue;
                }
                let Some(words) = tokens.get(i..i + len) else {
                    continue;
                };
                if pats.iter().zip(words).all(|(p, t)| p.matches(&t.norm)) {
                    best = Some((len, payload));
                }
            }
        };
        if let Some(ids) = self.by_word.get(first.as_str()) {
            consider(ids);
        }
        for &l in &self.prefix_lens {
            if let Some(ids) = first.get(..l).and_then(|p| self.by_prefix.get(p)) {
                consider(ids);
            }
        }
        best
    }

    /// Every match, left to right, longest first, not overlapping: `(start, len, payload)`.
    fn scan<'a>(&'a self, tokens: &[Token]) -> Vec<(usize, usize, &'a P)> {
        let mut hits = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            match self.find(tokens, i) {
                Some((len, payload)) => {
                    hits.push((i, len, payload));
                    i += len.max(1);
                }
                None => i += 1,
            }
        }
        hits
    }

    fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

fn describe(pats: &[Pat]) -> String {
    pats.iter()
        .map(|p| match p {
            Pat::Word(w) => w.to_string(),
            Pat::Prefix(p) => format!("{p}*"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The patterns a lexicon entry stands for: phrases separated by `,`, words by spaces,
/// alternatives for one word by `/`, a trailing `*` for any ending. Each phrase is folded
/// and merged like transcript text.
fn patterns(lex_merges: bool, entry: &str) -> Vec<Vec<Pat>> {
    let mut out = Vec::new();
    for phrase in entry.split(',') {
        // Expand `a/b c/d` into every combination.
        let mut variants: Vec<Vec<&str>> = vec![Vec::new()];
        for word in phrase.split_whitespace() {
            let alternatives: Vec<&str> = word.split('/').filter(|a| !a.is_empty()).collect();
            let mut next = Vec::with_capacity(variants.len() * alternatives.len());
            for v in &variants {
                for a in &alternatives {
                    let mut v = v.clone();
                    v.push(*a);
                    next.push(v);
                }
            }
            variants = next;
        }
        for words in variants {
            if let Some(p) = pattern(lex_merges, &words) {
                out.push(p);
            }
        }
    }
    out
}

/// One phrase's words as a pattern (`None` if nothing is left of it).
fn pattern(lex_merges: bool, words: &[&str]) -> Option<Vec<Pat>> {
    let mut tokens = Vec::new();
    for w in words {
        let (w, prefix) = match w.strip_suffix('*') {
            Some(w) => (w, true),
            None => (*w, false),
        };
        // A word of a phrase may itself fold into several (`e-mail`).
        let mut parts: Vec<String> = Vec::new();
        for part in w.split(|c: char| !is_word_char(c)) {
            let mut norm = String::new();
            for c in part.chars().flat_map(char::to_lowercase) {
                fold_char(c, &mut norm);
            }
            if !norm.is_empty() {
                parts.push(norm);
            }
        }
        let last = parts.len().saturating_sub(1);
        for (k, norm) in parts.into_iter().enumerate() {
            // The `*` marks the prefix in `norm` itself until merging is done.
            let norm = if prefix && k == last {
                format!("{norm}*")
            } else {
                norm
            };
            tokens.push(Token {
                surface: norm.clone(),
                norm,
            });
        }
    }
    let tokens = if lex_merges {
        merge_english(tokens)
    } else {
        tokens
    };
    let pats: Vec<Pat> = tokens
        .into_iter()
        .filter_map(|t| match t.norm.strip_suffix('*') {
            Some("") => None,
            Some(p) => Some(Pat::Prefix(p.into())),
            None => Some(Pat::Word(t.norm.into())),
        })
        .collect();
    (!pats.is_empty()).then_some(pats)
}

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

// =======================================================================================
// The lexicons. Syntax: phrases separated by `,`; `a/b` alternatives for one word; a
// trailing `*` matches any ending. Write words as people say them; folding (`don't` →
// `dont`, `ü` → `ue`, `č` → `c`) happens when the lexicon is built.

static EN: LexiconData = LexiconData {
    english_merges: true,
    sentiment: EN_SENTIMENT,
    categories: EN_CATEGORIES,
    tones: EN_TONES,
    negators: "not never nothing nobody none neither nor without hardly \
        don't doesn't didn't isn't aren't wasn't weren't hasn't haven't hadn't can't cannot \
        couldn't won't wouldn't shouldn't mustn't needn't ain't",
    short_negators: "no",
    intensifiers: &[
        (
            0.5,
            "extremely incredibly absolutely utterly exceptionally hugely terribly awfully \
            enormously tremendously insanely",
        ),
        (
            0.3,
            "very really so totally completely truly highly super deeply especially \
            particularly thoroughly entirely genuinely seriously such real",
        ),
        (0.15, "too pretty quite rather"),
        (-0.3, "slightly somewhat bit little kinda fairly barely"),
    ],
    contrast: "but however although though",
    stop: EN_STOP,
};

const EN_SENTIMENT: &[(f32, &str)] = &[
    // Said for politeness, not feeling: no weight, but they hide the words inside them.
    (
        0.0,
        "good morning, good afternoon, good evening, good night, good day, goodbye, \
         good bye, kind of, sort of, wrong number, pretty much, how are you, \
         can you recommend, could you recommend, would you recommend, do you recommend, \
         what do you recommend, as good as, good to know, no idea, help me, can you help, \
         could you help, thank you for calling, thanks for calling, thank you for holding, \
         thanks for holding, thank you for waiting, my pleasure, you're welcome",
    ),
    (
        0.3,
        "okay then, fair enough, that's fine, that's okay, it's okay, it's fine, alright then,
         sure, no thank you, no thanks, no thank you very much,
         have a nice/lovely/great/good/wonderful day/weekend/evening/afternoon,
         thank you for your patience, thanks for your patience, thank you for your time,
         thanks for your time",
    ),
    (
        0.6,
        "thank you, thanks, thank u, cheers, ta, welcome, please do",
    ),
    (
        0.8,
        "fine, better, works, working again, not a problem, no problem, no problems, \
         no worries, no rush, cheap, fair, interested, hopefully",
    ),
    (
        1.5,
        "helped, nice one, on time, in time, works fine, works well, fixed, solved, \
         resolved, sorted, lucky, glad to hear, good to hear, looking forward, \
         appreciate, appreciated, appreciate it, enjoy, enjoyed, enjoying, like it, \
         liked it, like them, liked them, quick, quickly, fast, easy, safely, arrived safely",
    ),
    (
        2.0,
        "good, great, nice, happy, glad, pleased, helpful, friendly, kind, polite, \
         impressed, satisfied, recommend, recommended, beautiful, beautifully, fresh, \
         healthy, efficient, reliable, professional, patient, well done, good job, \
         excited, congratulations, grateful, thankful, pleasant, smooth, better than expected, \
         thank you for your help, thanks for your help, thank you for all your help, \
         pleasure, love to, would love, i'd love, best, the best, good as new, works perfectly, \
         works great, lovely service, \
         great service, good service, very kind of you, kind of you, so kind",
    ),
    (
        2.3,
        "thank you so much, thanks so much, thank you very much, thanks very much, \
         thanks a lot, thank you a lot, many thanks, thanks a million, thank you ever so much, \
         much appreciated, really appreciate it, really appreciate",
    ),
    (
        3.0,
        "excellent, amazing, awesome, fantastic, wonderful, brilliant, outstanding, \
         perfect, perfectly, superb, delighted, thrilled, love, loved, loves, loving, \
         lovely, gorgeous, best ever, exceptional, marvellous, marvelous, magnificent, \
         made my day, lifesaver, life saver, over the moon, stunning, incredible, \
         right on time, top notch, spot on, second to none, highly recommend",
    ),
    // Negative.
    (
        -0.3,
        "sorry, wait, hold on, i'm afraid, cancel, return, returned, return it, \
         exchange it, sorry to hear that, sorry to hear, sorry for the inconvenience, \
         sorry about the inconvenience, apologies for the inconvenience, \
         i understand that is frustrating, i understand how frustrating, \
         i understand your frustration, i know how frustrating, i can imagine how frustrating, \
         i can imagine that is frustrating, that must be frustrating",
    ),
    (
        -0.8,
        "waiting, not sure, unsure, expensive, pricey, cancelled, canceled, \
         unfortunately, weeks ago",
    ),
    (
        -1.0,
        "problem, problems, issue, issues, trouble, confused, confusing, concerned, \
         difficult, refund, refunded, a refund, waited, slow, slowly, stuck, \
         not what i expected, too late, price went up, went up, \
         gone up, cheaper somewhere else, cheaper elsewhere, sick",
    ),
    (
        -1.5,
        "worried, worry, worrying, nervous, anxious, scared, afraid, stressed, stressful, \
         complain, complained, complaining, complaint, complaints, money back, late, \
         delayed, delay, delays, missing, lost, mistake, mistakes, error, errors, wrong, \
         cracked, crack, cracks, leaking, leaks, leak, torn, ripped, scratched, dented, \
         bent, chipped, wilted, withered, mouldy, moldy, rotten, shame, pity, sad, \
         ignored, unreliable, overpriced, over priced, for ages, for weeks, for months, \
         for days, again and again, over and over, keep calling, kept calling, every time, \
         on hold, stopped, failed, fail, fails, failure, not happy, don't understand, \
         doesn't make sense, makes no sense, charged me, bad time, wasn't there, \
         wasn't home, too long, took ages, still nothing, nobody answers, \
         nobody answered, no answer, no reply, no response",
    ),
    (
        -2.0,
        "bad, poor, poorly, damaged, damage, faulty, defective, worse, mess, messed up, \
         dead, died, dying, broke, broken, breaks, unhappy, upset, annoyed, annoying, \
         frustrated, frustrating, rude, unhelpful, careless, dirty, ugly, wrong item, \
         wrong size, wrong colour, wrong color, wrong one, wrong address, not what i ordered, \
         i want a refund, i want my money back, want my money back, refund me, \
         nobody called me back, no one called me back, never called me back, \
         nobody called back, nobody showed up, no one showed up, nobody came, \
         no one came, didn't show up, didn't turn up, never showed up, never came, \
         doesn't work, don't work, didn't work, not working, won't work, won't start, \
         won't turn on, doesn't turn on, does nothing, stopped working, \
         still hasn't arrived, still haven't arrived, still not arrived, still not here, \
         hasn't arrived yet, haven't arrived yet, hasn't arrived, haven't arrived, \
         never arrived, never got it, never received, didn't arrive, didn't get, \
         haven't received, hasn't come, still waiting, waiting for weeks, waiting for months,
         waiting for two/three/four/five/six/several/many weeks/months/days,
         waiting for a week/month, waiting for a few/couple weeks/months/days,
         waiting for a couple of weeks/months/days, there's nothing, nothing at the door,
         nothing at my door, nothing came, nothing arrived, nothing here, nothing was delivered,
         it's not here, isn't here, not at my door, \
         waiting for ages, waiting all day, waited all day, all day waiting, \
         charged twice, double charged, charged me twice, charged my card twice,
         charged my account twice, charged us twice, paid twice, taken twice, overcharged,
         poor quality, \
         bad quality, cheap quality, falling apart, fell apart, came apart, \
         disappointed, disappointing, disappointment, let down, let me down",
    ),
    (
        -3.0,
        "unacceptable, not acceptable, terrible, terribly bad, horrible, awful, disgusting, \
         disgraceful, disgrace, outrageous, ridiculous, appalling, atrocious, pathetic, \
         worst, useless, hopeless, furious, livid, angry, hate, hated, scam, rip off, \
         ripped off, rubbish, garbage, shocking, incompetent, nightmare, never again, \
         a joke, absolute joke, waste of money, waste of time, fed up, sick and tired, \
         had enough, not good enough, shameful, lies, lied, liar, lying, insulting, \
         a disaster, disaster, unbelievable, shambles, joke of a",
    ),
];

const EN_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.5,
        "complain*, make a complaint, refund*, money back, my money back, charged twice, \
         double charged, charged me twice, charged my card twice, charged my account twice, \
         charged us twice, paid twice, taken twice, overcharged, overcharge, not what i ordered, \
         stopped working, not happy with, unhappy with, poor quality, bad quality",
    ),
    (
        Cat::Complaint,
        3.0,
        "arrived/came/delivered broken/damaged/dead/cracked/smashed/crushed/wilted,
         arrived in pieces, broken, broke, damage*, faulty, defective, doesn't work, don't work, didn't work, \
         not working, won't work, won't start, won't turn on, doesn't turn on, \
         wrong item, wrong size, wrong colour, wrong color, wrong one, rude, unhelpful, \
         falling apart, fell apart, came apart, dead, died, dying, \
         report a problem, unacceptable, nobody called me back, no one called me back, \
         never called me back, let down, disappointed with",
    ),
    (
        Cat::Complaint,
        2.0,
        "crack*, leak*, torn, ripped, scratch*, dent*, chipped, bent, rotten, mouldy, moldy, \
         wilted, withered, return it, return them, send it back, send them back, \
         replace*, replacement, disappointed, disappointing, poor service, bad service, \
         terrible, awful, rubbish, useless, fault, mistake, wrong",
    ),
    (
        Cat::Complaint,
        1.0,
        "return, returns, exchange, problem, problems, issue, issues, quality, \
         not happy, again and again, keep calling, kept calling, charged, charge",
    ),
    (
        Cat::Complaint,
        0.5,
        "manager, speak to a manager, speak to the manager, speak to your manager",
    ),
    // Not about the shop's business at all.
    (Cat::Complaint, 0.0, "wrong number"),
    (
        Cat::Question,
        0.0,
        "can i speak to, could i speak to, may i speak to, can i talk to, could i talk to",
    ),
    (
        Cat::Delivery,
        3.0,
        "tracking, tracking number, track my, track it, where is my order, \
         where's my order, where is my parcel, where is my package, where is my delivery, \
         where is it, when will it arrive, when will they arrive, when will my order arrive, \
         when will it be delivered, when will they be delivered, still hasn't arrived, \
         still haven't arrived, hasn't arrived, haven't arrived, never arrived, \
         didn't arrive, not arrived, in transit, out for delivery, lost in the post,
         nothing at the door, nothing at my door, nothing came, nothing arrived,
         nothing was delivered, not at my door, \
         delivery address, delivery date, delivery time, shipping cost, postage",
    ),
    (
        Cat::Delivery,
        2.5,
        "deliver*, courier*, parcel*, package*, shipping, shipment, shipped, dispatch*, \
         postman, post office, driver, \
         nobody showed up, no one showed up, didn't show up, never showed up, \
         didn't turn up, nobody came, no one came, left at the door, left outside, \
         van, truck, lorry, send it to, send them to, sent to, ship it, ship them",
    ),
    (
        Cat::Delivery,
        1.5,
        "address, on time, late, delay*, doorstep, door, sent, send, shipping to, post, \
         neighbour, neighbor, showed up, turn up",
    ),
    (Cat::Delivery, 2.0, "arrive, arrived, arrives, arriving, arrival"),
    (Cat::Delivery, 1.0, "came, come, bring, brought"),
    (
        Cat::Order,
        3.0,
        "i'd like to order, i would like to order, i want to order, like to order, \
         place an order, make an order, put in an order, i'd like to buy, i want to buy, \
         want to buy, like to buy, looking to buy, how much is, how much are, how much does, \
         how much do, how much would, how much for, price of, prices of, in stock, \
         out of stock, back in stock, add to my order, add to the order, \
         cancel my order, change my order, gift card, gift voucher, special offer, \
         on sale, discount",
    ),
    (
        Cat::Order,
        2.0,
        "order, orders, buy, buying, purchase*, price, prices, cost, costs, pricing, \
         available, availability, offer, offers, deal, deals, sale, voucher*, coupon*, \
         discount*, reserve, reserved, reservation, quote, catalogue, catalog, \
         pick up, pick it up, pick them up, pickup, collect*, checkout, payment, \
         pay, paying, invoice, cheaper, expensive, interested in, set aside, cancel, \
         to the order, to my order",
    ),
    (
        Cat::Order,
        0.8,
        "ordered, my order, the order, bought, placed, add",
    ),
    (
        Cat::Question,
        3.0,
        "i have a question, i've got a question, quick question, a question about, \
         opening hours, opening times, closing time, what time do you open, \
         what time do you close, are you open, when are you open, when do you open, \
         when do you close, how often should, how often do, how do i, how can i, \
         how should i, is it safe, can you recommend, could you recommend, \
         what do you recommend, which would you recommend, do you recommend",
    ),
    (
        Cat::Question,
        2.0,
        "question, questions, i was wondering, wondering, could you tell me, \
         can you tell me how, can you tell me if, do you know if, do you know how, \
         do you know, how to, how often, how much water, advice, advise, \
         recommend*, suggest*, information, explain, instructions, is it possible, \
         do you sell, do you have any, do you do, do you offer, where are you, \
         where is your, located, directions, parking, park near, open on, open at, \
         open today, open tomorrow, open during, safe for, good for, best for, best way, \
         what kind, which kind, what type, should i, when should",
    ),
    (
        Cat::Question,
        1.0,
        "do you have, can i, is there, are there, is it, does it, what is, what's, \
         which, how, open",
    ),
    (Cat::Question, 0.5, "what, when, why, where, who, could you, can you, would it"),
];

const EN_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "unacceptable, not acceptable, ridiculous, outrageous, disgusting, disgrace*, \
         appalling, pathetic, incompetent, useless, furious, livid, angry, fed up, \
         sick and tired, had enough, a joke, absolute joke, never again, worst, \
         rip off, ripped off, scam, rubbish, lawyer, solicitor, sue you, trading standards, \
         how dare, shut up, stupid, idiot*, damn, bloody, hate, hopeless, \
         not good enough, waste of time, waste of money, liar, lied, lies, shambles",
    ),
    (
        Marker::Impatience,
        1.5,
        "still hasn't arrived, still haven't arrived, still not arrived, still not here, \
         still waiting, still nothing, again and again, over and over, keep calling, \
         kept calling, how many times, every time i call, third time, second time, \
         for weeks, for months, for ages, all day, as soon as possible, asap, right now,
         for two/three/four/five/six/several/many weeks/months/days,
         for a few/couple weeks/months/days, for a couple of weeks/months/days, \
         right away, immediately, hurry, hurry up, urgent, urgently, took ages, too long, \
         how much longer, i need it today, fix this today, sort this out, on hold for",
    ),
    (
        Marker::Impatience,
        1.0,
        "still, again, already, how long, waiting, waited, finally, nobody called me back, \
         no one called me back, never called me back, nobody showed up, no one showed up, \
         on hold, for days, weeks ago, months ago",
    ),
    (
        Marker::Anxiety,
        1.0,
        "worried, worry, worrying, anxious, nervous, concerned, afraid, scared, panic*, \
         stressed, stressful, i hope, hopefully, in time for, what if, is it safe, \
         make sure, need it by, really need",
    ),
    (
        Marker::Confusion,
        1.5,
        "i don't understand, don't understand, didn't understand, don't get it, \
         doesn't make sense, makes no sense, what do you mean, confused, confusing, \
         i'm lost, can you explain, could you explain, explain again, say that again, \
         repeat that, sorry what, pardon, i'm not sure how, not sure how, \
         don't know how, no idea how",
    ),
    (
        Marker::Confusion,
        0.5,
        "not sure, i don't know, unsure, which one, how does it work, how do i, \
         i thought, instructions",
    ),
    (
        Marker::Apology,
        1.0,
        "sorry, apologise, apologize, apologies, my apologies, i apologise, we apologise, \
         so sorry, very sorry, really sorry, sorry about that, sorry for, sorry to hear, \
         forgive, my mistake, our mistake, my fault, our fault, we regret, regret",
    ),
    (
        Marker::Politeness,
        1.0,
        "please, thank you, thanks, would you, could you, may i, if you don't mind, \
         would you mind, sorry to bother you, sorry to bother, excuse me, appreciate, \
         certainly, of course, you're welcome, good morning, good afternoon, \
         good evening, hello, goodbye, sir, madam, kind regards, is there anything else, \
         anything else i can help, thank you for calling, thanks for calling, \
         thank you for your patience, thanks for your patience, bear with me",
    ),
    (
        Marker::Friendliness,
        1.0,
        "lovely, wonderful, brilliant, amazing, awesome, fantastic, thank you so much, \
         thanks so much, thanks a lot, many thanks, really appreciate, have a nice day, \
         have a lovely day, have a great day, have a good day, have a nice weekend, \
         have a good weekend, take care, happy to help, glad to help, my pleasure, \
         glad to hear, good to hear, nice to hear, how are you, nice to meet, \
         love, loved, loves, you've been very helpful, very helpful, so helpful, \
         very kind, so kind, kind of you, enjoy, great, perfect, excellent, \
         best, congratulations, delighted",
    ),
    (
        Marker::Calm,
        1.0,
        "no problem, not a problem, no worries, that's fine, that's okay, it's okay, \
         it's alright, it's fine, take your time, no rush, no hurry, i understand, \
         fair enough, i see, makes sense, sounds good, don't worry, never mind, \
         that's alright, understood, okay, alright, sure",
    ),
];

const EN_STOP: &str = "
a about above after again against ago all almost along already also although always am
among an and another any anybody anyone anything anyway anywhere are around as at away
back be became because become been before being below between both but by
call called calling calls came can come comes coming could
day days did do does doing done down during
each either else enough even ever every everybody everyone everything everywhere
few first for from further
get gets getting give given go goes going gone got gotten
had has have having he her here hers herself him himself his how however
i if in into is it its itself
just keep kind know known knows
last later least less let lets like likely little look looking lot lots
made make makes making many may maybe me mean means might mine more morning most much
must my myself
need needed needs never new next no nor not now
of off often oh ok okay on once one only onto or other others otherwise our ours
ourselves out over own
part per perhaps please put
quite rather really right
said same say saying says see seem seems seen several shall she should since so some
somebody someone something sometime sometimes somewhere soon sorry still such sure
take taken tell telling than thank thanks that the their theirs them themselves then
there these they thing things think this those though thought through till time times
to today together told tomorrow too took toward towards try trying
um uh uhm umm hmm mm mhm ah er erm eh
under until up upon us use used using usually
very via
want wanted wants was way we well went were what whatever when whenever where wherever
whether which while who whoever whole whom whose why will wish with within without
would
yeah yep yes yet you your yours yourself yourselves yesterday
hello hi hey bye goodbye alright ah actually basically literally anyway anyways
week weeks month months year years hour hours minute minutes second seconds
monday tuesday wednesday thursday friday saturday sunday
two three four five six seven eight nine ten
im ive ill id its thats whats wheres theres youre theyre dont doesnt didnt isnt arent
wasnt werent hasnt havent hadnt cant couldnt wont wouldnt shouldnt youve youll youd
weve well were theyve theyll hes shes wed lets
great good fine nice lovely perfect excellent wonderful amazing awesome fantastic
brilliant thank speak talk ask asked asking help helped wondering calling number
question hear heard understand happy glad
send sent sending show showed shown came bring brought check checked leave left find
found gave kept wait waiting waited ordered bought placed tried says
";

static DE: LexiconData = LexiconData {
    english_merges: false,
    sentiment: DE_SENTIMENT,
    categories: DE_CATEGORIES,
    tones: DE_TONES,
    negators: "nicht kein keine keinen keiner keinem keines nie niemals nichts niemand ohne \
        weder nirgends",
    short_negators: "",
    intensifiers: &[
        (0.5, "extrem äußerst absolut unglaublich total wahnsinnig"),
        (
            0.3,
            "sehr wirklich so echt voll richtig besonders ganz super höchst zutiefst",
        ),
        (0.15, "zu ziemlich recht"),
        (-0.3, "etwas bisschen leicht kaum wenig"),
    ],
    contrast: "aber jedoch sondern trotzdem allerdings",
    stop: DE_STOP,
};

const DE_SENTIMENT: &[(f32, &str)] = &[
    (
        0.0,
        "guten tag, guten morgen, guten abend, gute nacht, auf wiedersehen, \
         auf wiederhören, gute frage, wie geht es ihnen, können sie mir helfen, \
         was empfehlen sie, können sie empfehlen",
    ),
    (0.3, "nein danke, nein danke schön"),
    (
        0.6,
        "danke, dankeschön, danke schön, bitte schön, gern geschehen",
    ),
    (
        0.8,
        "in ordnung, alles in ordnung, passt, kein problem, keine sorge, macht nichts, \
         besser, funktioniert, geht wieder, günstig, preiswert, hoffentlich",
    ),
    (
        1.5,
        "schnell, pünktlich, rechtzeitig, gerne, gern, geholfen, gelöst, repariert, \
         vielen dank, lieb, einfach, freundlicherweise",
    ),
    (
        2.0,
        "gut, gute, guten, guter, gutes, schön, schöne, schönen, nett, nette, freundlich*, \
         hilfsbereit, zufrieden, glücklich, froh, prima, empfehlen, empfehle, frisch, \
         gesund, zuverlässig, kompetent, geduldig, freue mich, freut mich, gefällt, \
         gefallen, dankbar, herzlichen dank, sehr geholfen, lob, loben, bestens",
    ),
    (
        3.0,
        "toll, super, klasse, wunderbar, wunderschön, perfekt, ausgezeichnet, hervorragend, \
         großartig, fantastisch, phantastisch, begeistert, liebe, lieben, spitze, \
         traumhaft, genial, tausend dank, vielen herzlichen dank, top",
    ),
    (-0.3, "entschuldigung, tut mir leid"),
    (
        -0.8,
        "warte, wartet, warten, teuer, storniert, stornieren, zurückgeben, zurückschicken, \
         umtauschen, unsicher, nicht sicher, leider",
    ),
    (
        -1.0,
        "problem, probleme, problemen, schwierig, verwirrt, verwirrend, langsam, \
         gewartet, erstattung, rückerstattung, verstehe nicht, verstehe das nicht",
    ),
    (
        -1.5,
        "sorge, sorgen, besorgt, angst, nervös, beschwerde, beschweren, reklamation, \
         reklamieren, fehler, fehlt, fehlen, verloren, verspätet, verspätung, spät, \
         falsch, falsche, falschen, falscher, mangel, mängel, seit wochen, seit tagen, \
         seit monaten, wochenlang, tagelang, schon wieder, immer wieder, warteschleife, \
         geld zurück, schade, traurig, ärgerlich, ärgert, gerissen, zerkratzt, \
         verwelkt, eingegangen, undicht, nervig, lästig",
    ),
    (
        -2.0,
        "schlecht, schlechte, schlechter, schlechten, kaputt*, beschädigt*, defekt*, \
         zerbrochen, gebrochen, tot, abgestorben, enttäuscht, enttäuschend, enttäuschung, \
         unzufrieden, sauer, unfreundlich, frech, funktioniert nicht, geht nicht, \
         geht nicht mehr, immer noch nicht, noch nicht angekommen, nicht angekommen, \
         nie angekommen, nicht gekommen, niemand gekommen, niemand ist gekommen, \
         keiner ist gekommen, nicht geliefert, nie geliefert, doppelt abgebucht, \
         zweimal abgebucht, ich will mein geld zurück, ich möchte mein geld zurück, \
         schlimm, ärger, miese, mies",
    ),
    (
        -3.0,
        "furchtbar, schrecklich, katastrophe, katastrophal, unmöglich, unverschämt*, \
         inakzeptabel, nicht akzeptabel, frechheit, skandal*, zumutung, wütend, \
         lächerlich, nie wieder, schlimmste, schlechteste, betrug, abzocke, \
         sauerei, unverschämtheit, das letzte, eine schande, schande",
    ),
];

const DE_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.0,
        "beschwer*, reklamation*, reklamier*, geld zurück, rückerstattung, erstatt*, \
         doppelt abgebucht, zweimal abgebucht, funktioniert nicht, geht nicht mehr, \
         nicht zufrieden, unzufrieden",
    ),
    (
        Cat::Complaint,
        2.5,
        "kaputt*, beschädigt*, defekt*, zerbrochen, gebrochen, tot, abgestorben, \
         eingegangen, verwelkt, falsche ware, falscher artikel, unfreundlich, \
         unverschämt*, inakzeptabel, zurückgeben, zurückschicken, umtausch*, ersatz",
    ),
    (
        Cat::Complaint,
        1.5,
        "fehler, mangel, mängel, falsch*, gerissen, zerkratzt, undicht, problem*, \
         enttäuscht, schlechte qualität, qualität",
    ),
    (
        Cat::Delivery,
        3.0,
        "sendungsverfolgung, sendungsnummer, wo ist mein paket, wo ist meine bestellung, \
         wo ist meine lieferung, wann kommt, wann kommt mein paket, wann wird geliefert, \
         noch nicht angekommen, nicht angekommen, nie angekommen, nicht geliefert, \
         nie geliefert, lieferadresse, lieferzeit, lieferung*, liefertermin, versandkosten",
    ),
    (
        Cat::Delivery,
        2.5,
        "liefer*, geliefert, paket*, sendung*, zustell*, kurier*, versand*, versend*, \
         verschickt, geschickt, angekommen, ankommen, ankunft, bote, fahrer, \
         spedition, dhl, ups, gls, dpd, hermes, post, niemand gekommen, \
         niemand ist gekommen, keiner ist gekommen, inseln, insel",
    ),
    (
        Cat::Delivery,
        1.5,
        "adresse, pünktlich, verspät*, zu spät, tür, nachbar*",
    ),
    (
        Cat::Order,
        3.0,
        "ich möchte bestellen, möchte bestellen, ich würde gerne bestellen, \
         ich möchte kaufen, möchte kaufen, was kostet, wie viel kostet, wieviel kostet, \
         was kosten, auf lager, vorrätig, bestellung aufgeben, bestellung stornieren, \
         gutschein, geschenkgutschein, sonderangebot, rabatt",
    ),
    (
        Cat::Order,
        2.0,
        "bestell*, kaufen, kaufe, preis*, kostet, kosten, verfügbar, angebot*, rabatt*, \
         reservier*, abholen, abholung, bezahlen, zahlung, rechnung, storn*, billiger, \
         teuer, interessiere mich",
    ),
    (Cat::Order, 0.8, "bestellt, gekauft, meine bestellung"),
    (
        Cat::Question,
        3.0,
        "ich habe eine frage, eine frage, öffnungszeiten, wann haben sie geöffnet, \
         wann haben sie offen, haben sie geöffnet, haben sie offen, wie lange haben sie, \
         wie oft, wie kann ich, wie soll ich, können sie empfehlen, was empfehlen sie",
    ),
    (
        Cat::Question,
        2.0,
        "frage, fragen, können sie mir sagen, wissen sie, beratung, tipp, tipps, rat, \
         empfehl*, ist es möglich, geöffnet, offen, parken, parkplatz, wo sind sie, \
         verkaufen sie, führen sie, anleitung, erklären",
    ),
    (
        Cat::Question,
        1.0,
        "haben sie, gibt es, kann ich, kann man, wie, welche, welcher",
    ),
    (Cat::Question, 0.5, "was, wann, wo, warum, wer, können sie"),
];

const DE_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "unverschämt*, frechheit, skandal*, inakzeptabel, nicht akzeptabel, zumutung, \
         wütend, sauer, nie wieder, katastroph*, lächerlich, ein witz, anwalt, \
         es reicht, reicht mir, die nase voll, abzocke, betrug, sauerei, idiot*",
    ),
    (
        Marker::Impatience,
        1.5,
        "immer noch nicht, schon wieder, immer wieder, seit wochen, seit tagen, \
         seit monaten, wochenlang, tagelang, wie lange noch, sofort, dringend, \
         zum dritten mal, zum zweiten mal",
    ),
    (
        Marker::Impatience,
        1.0,
        "immer noch, noch nicht, endlich, warte, warten, gewartet, warteschleife, heute noch",
    ),
    (
        Marker::Anxiety,
        1.0,
        "sorge, sorgen, besorgt, angst, nervös, hoffentlich, ich hoffe, rechtzeitig, \
         ist das sicher, was wenn",
    ),
    (
        Marker::Confusion,
        1.5,
        "verstehe nicht, verstehe das nicht, verstehe ich nicht, verwirrt, verwirrend, \
         was meinen sie, wie bitte, keine ahnung, unklar, können sie das erklären",
    ),
    (
        Marker::Confusion,
        0.5,
        "ich weiß nicht, nicht sicher, unsicher",
    ),
    (
        Marker::Apology,
        1.0,
        "entschuldigung, entschuldigen sie, tut mir leid, tut uns leid, es tut mir leid, \
         es tut uns leid, bedauer*, verzeihung, mein fehler, unser fehler",
    ),
    (
        Marker::Politeness,
        1.0,
        "bitte, danke, vielen dank, könnten sie, würden sie, dürfte ich, guten tag, \
         guten morgen, guten abend, gerne, gern geschehen, auf wiederhören, \
         auf wiedersehen, entschuldigen sie die störung, herr, frau",
    ),
    (
        Marker::Friendliness,
        1.0,
        "schönen tag, schönes wochenende, einen schönen tag, freut mich, freue mich, \
         sehr nett, wunderbar, super, toll, herzlichen dank, vielen herzlichen dank, \
         tausend dank, liebe grüße, perfekt, klasse, prima",
    ),
    (
        Marker::Calm,
        1.0,
        "kein problem, keine sorge, alles klar, macht nichts, in ordnung, passt, \
         keine eile, kein stress, verstehe, verstanden, lassen sie sich zeit",
    ),
];

const DE_STOP: &str = "
aber alle allem allen aller alles als also am an ander andere anderen auch auf aus
bei beim bin bis bitte bist da dabei dadurch dafür dagegen daher damit dann dar darauf
darum das dass dein deine dem den denn der des dessen deshalb dich die dies diese diesem
diesen dieser dieses dir doch dort du durch ein eine einem einen einer eines einfach
einmal er es etwa etwas euch euer eure für gegen gehabt gewesen habe haben hat hatte
hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im in ins ist ja
jede jedem jeden jeder jedes jetzt kann kannst können könnte könnten man manche mehr
mein meine meinem meinen meiner mich mir mit muss musste müssen nach nein noch nun nur
ob oder ohne schon sehr sein seine seinem seinen seiner seit sich sie sind so solche
soll sollte sondern um und uns unser unsere unter viel vom von vor wann war waren warum
was weil welche welchem welchen welcher welches wenn wer werde werden wie wieder will
wir wird wirst wo wollen wollte würde würden zu zum zur zwar zwischen
ah äh ähm hm hallo tschüss okay ok ja jawohl genau gut also mal halt eben gerade
danke dankeschön tag morgen abend heute gestern woche wochen monat monate jahr jahre
stunde stunden minute minuten montag dienstag mittwoch donnerstag freitag samstag
sonntag zwei drei vier fünf sechs sieben acht neun zehn frage fragen sagen gesagt
möchte möchten würde gerne gern wissen glaube denke bisschen guten gute guter gutes
hallo tag vielen dank bitte schön
";

static HR: LexiconData = LexiconData {
    english_merges: false,
    sentiment: HR_SENTIMENT,
    categories: HR_CATEGORIES,
    tones: HR_TONES,
    negators: "nije nisu nisam nismo niste nisi nema nemam nemamo nemate nemaju \
        nikad nikada ništa nitko niti bez neću neće nećemo nećete nemojte nemoj",
    short_negators: "ne",
    intensifiers: &[
        (0.5, "izuzetno iznimno potpuno totalno skroz jako"),
        (0.3, "vrlo stvarno zaista baš tako previše zbilja posebno"),
        (0.15, "prilično dosta"),
        (-0.3, "malo pomalo donekle"),
    ],
    contrast: "ali no nego međutim",
    stop: HR_STOP,
};

const HR_SENTIMENT: &[(f32, &str)] = &[
    (
        0.0,
        "dobar dan, dobro jutro, dobra večer, laku noć, doviđenja, do viđenja, \
         kako ste, možete li mi pomoći, što preporučujete, možete li preporučiti, \
         dobro došli, dobrodošli",
    ),
    (0.3, "ne hvala, ne hvala vam"),
    (0.6, "hvala, hvala vam, zahvaljujem"),
    (
        0.8,
        "u redu, sve u redu, nema problema, nema veze, ništa strašno, bolje, \
         radi, povoljno, povoljan, jeftino, nadam se",
    ),
    (
        1.5,
        "brzo, brza, brzi, na vrijeme, pomogli, pomogla, pomogao, riješeno, riješili, \
         popravljeno, hvala lijepa, lijepo hvala, korisn*, jednostavno",
    ),
    (
        2.0,
        "dobar, dobra, dobro, dobri, dobre, lijep*, zadovolj*, sretan, sretna, sretni, \
         ljubazn*, preporučujem, preporučila, preporučio, svjež*, zdrav*, pouzdan*, \
         strpljiv*, drago mi je, hvala puno, puno hvala, hvala vam puno, \
         hvala vam puno puno, zahvaln*, sviđa, svidjelo, volim, bravo",
    ),
    (
        3.0,
        "odlič*, super, sjajn*, izvrsn*, savršen*, prekrasn*, predivn*, divn*, \
         fantastičn*, obožavam, oduševljen*, najljepša hvala, najbolji, najbolja, \
         najbolje, top",
    ),
    (
        -0.3,
        "oprostite, žao mi je, nažalost ne, čekajte, samo malo",
    ),
    (
        -0.8,
        "čekam, čekamo, čekali, čeka, skupo, skup, skupa, otkazati, otkazao, otkazala, \
         vratiti, nisam siguran, nisam sigurna, nažalost, opet, ponovno",
    ),
    (
        -1.0,
        "problem, problema, problemi, problemom, teško, zbunjen*, sporo, spor, \
         povrat novca, prekasno, ne razumijem, ne shvaćam",
    ),
    (
        -1.5,
        "zabrinut*, brine me, brinem, bojim se, strah, nervoz*, žalb*, prigovor*, \
         pritužb*, reklamacij*, greška, greške, grešku, kasni, kasno, kašnjenje, \
         kašnjenja, nedostaje, izgubljen*, pogrešn*, krivo, krivi, tjednima, danima, \
         mjesecima, šteta, tužan, tužna, smeta, napuknut*, puknut*, \
         ogreben*, curi, uvenu*, osuši*",
    ),
    (
        -2.0,
        "loš*, pokvar*, slomljen*, razbijen*, oštećen*, mrtv*, uginul*, razočaran*, \
         razočaravaju*, nezadovolj*, ljut*, neljubazn*, nepristojn*, ne radi, \
         ne funkcionira, ne valja, još nije stiglo, još nije stigao, još nije stigla, \
         još nisu stigli, nije stiglo, nije stigao, nije stigla, nisu stigli, \
         nikad nije stiglo, nitko nije došao, nitko nije javio, nitko se nije javio, \
         nitko me nije nazvao, dvaput naplaćeno, dva puta naplatili, \
         vratite mi novac, hoću povrat novca, želim povrat novca",
    ),
    (
        -3.0,
        "grozn*, užasn*, strašn*, katastrof*, neprihvatljiv*, sramot*, bezobraz*, \
         bijesan, bijesna, prevara, prevaranti, nikad više, dosta mi je, \
         najgori, najgora, najgore, očajn*, jadno, smiješno",
    ),
];

const HR_CATEGORIES: &[(Cat, f32, &str)] = &[
    (
        Cat::Complaint,
        3.0,
        "reklamacij*, žalb*, prigovor*, pritužb*, povrat novca, vratite mi novac, \
         vratiti novac, dvaput naplaćeno, dva puta naplatili, nezadovolj*, ne radi, \
         ne funkcionira",
    ),
    (
        Cat::Complaint,
        2.5,
        "pokvar*, slomljen*, razbijen*, oštećen*, mrtv*, uginul*, uvenu*, osuši*, \
         neljubazn*, nepristojn*, bezobraz*, neprihvatljiv*, zamjen*, vratiti, \
         napuknut*, puknut*",
    ),
    (
        Cat::Complaint,
        1.5,
        "greška, greške, grešku, pogrešn*, krivo, krivi, ogreben*, curi, kvalitet*, \
         problem*, razočaran*",
    ),
    (
        Cat::Delivery,
        3.0,
        "praćenje pošiljke, broj za praćenje, gdje je moj paket, gdje je moja narudžba, \
         gdje je moja pošiljka, kad će stići, kada će stići, kad stiže, kada stiže, \
         još nije stiglo, još nije stigao, još nije stigla, još nisu stigli, \
         nije stiglo, nije stigao, nije stigla, nisu stigli, nikad nije stiglo, \
         adresa dostave, adresu dostave, troškovi dostave, nitko nije došao",
    ),
    (
        Cat::Delivery,
        2.5,
        "dostav*, isporu*, paket*, pošiljk*, kurir*, praćenj*, stig*, stići, stiže, \
         poslan*, poslali, poslati, šaljete, pošta, poštom, poštu, gls, dpd, overseas, \
         vozač, otok, otoke, otoku, otoka",
    ),
    (
        Cat::Delivery,
        1.5,
        "adres*, kasni, kašnjenj*, na vrijeme, vrata, susjed*",
    ),
    (
        Cat::Order,
        3.0,
        "htio bih naručiti, htjela bih naručiti, želim naručiti, želio bih naručiti, \
         željela bih naručiti, htio bih kupiti, htjela bih kupiti, želim kupiti, \
         koliko košta, koliko koštaju, koja je cijena, na zalihi, na stanju, \
         imate li na stanju, poklon bon, poklon bonove, otkazati narudžbu",
    ),
    (
        Cat::Order,
        2.0,
        "naruč*, narudžb*, kupi*, kupovin*, cijen*, košta, koštaju, dostupn*, ponud*, \
         popust*, akcij*, rezerv*, preuzeti, preuzimanje, platiti, plaćanje, račun, \
         otkaz*, jeftinij*, skuplj*",
    ),
    (
        Cat::Order,
        0.8,
        "naručio, naručila, naručili, kupio, kupila, moja narudžba",
    ),
    (
        Cat::Question,
        3.0,
        "imam pitanje, jedno pitanje, radno vrijeme, do kada radite, kada radite, \
         kad radite, radite li, jeste li otvoreni, koliko često, kako da, kako mogu, \
         možete li preporučiti, što preporučujete",
    ),
    (
        Cat::Question,
        2.0,
        "pitanje, pitanja, zanima me, zanimalo bi me, možete li mi reći, \
         znate li, savjet*, preporuč*, je li moguće, da li je moguće, otvoren*, \
         parking, parkirati, gdje se nalazite, prodajete li, upute, objasniti",
    ),
    (
        Cat::Question,
        1.0,
        "imate li, ima li, mogu li, je li, da li, kako, koji, koja, koje",
    ),
    (
        Cat::Question,
        0.5,
        "što, kada, kad, gdje, zašto, tko, možete li",
    ),
];

const HR_TONES: &[(Marker, f32, &str)] = &[
    (
        Marker::Anger,
        1.0,
        "sramot*, bezobraz*, neprihvatljiv*, bijes*, ljut*, prevar*, nikad više, \
         dosta mi je, odvjetnik*, katastrof*, smiješno, grozn*, užasn*, idiot*",
    ),
    (
        Marker::Impatience,
        1.5,
        "još uvijek nije, još nije, tjednima, mjesecima, danima, hitno, odmah, \
         koliko još, po treći put, treći put, drugi put",
    ),
    (
        Marker::Impatience,
        1.0,
        "još uvijek, opet, ponovno, konačno, čekam, čekamo, čekali, na čekanju",
    ),
    (
        Marker::Anxiety,
        1.0,
        "zabrinut*, brine me, brinem, bojim se, strah, nadam se, na vrijeme za, nervoz*, \
         je li sigurno",
    ),
    (
        Marker::Confusion,
        1.5,
        "ne razumijem, ne shvaćam, zbunjen*, kako to mislite, što mislite, nije mi jasno, \
         možete li objasniti, možete li ponoviti, molim ponovite",
    ),
    (
        Marker::Confusion,
        0.5,
        "ne znam, nisam siguran, nisam sigurna",
    ),
    (
        Marker::Apology,
        1.0,
        "ispričavam se, isprik*, žao mi je, jako mi je žao, oprostite, nažalost, \
         moja greška, naša greška",
    ),
    (
        Marker::Politeness,
        1.0,
        "molim, molim vas, hvala, hvala vam, izvolite, dobar dan, dobro jutro, \
         dobra večer, biste li, doviđenja, poštovani, gospodine, gospođo, \
         oprostite na smetnji, zahvaljujem",
    ),
    (
        Marker::Friendliness,
        1.0,
        "puno hvala, hvala puno, hvala vam puno, najljepša hvala, ugodan dan, \
         lijep pozdrav, drago mi je, divno, super, odlično, sretno, uživajte, \
         lijepo, prekrasno",
    ),
    (
        Marker::Calm,
        1.0,
        "nema problema, u redu, ništa strašno, polako, nema žurbe, dogovoreno, \
         razumijem, naravno, nema veze",
    ),
];

const HR_STOP: &str = "
a ako ali bi bih bila bili bilo bio bismo biste biti blizu bude budu da do dok dva
gdje i ih ili im iz ja je jedan jedna jedno jer jesam jesi jest jeste jesu još ju
k kad kada kako kao koja koje koji kojih kojima koju kroz li me mene meni mi mnogo
moj moja moje moji moju mora može možete mu na nad nakon nam nama nas naš naša naše
naši ne nego neka neki nekog neku nešto netko ni nije nisam nismo niste nisu niti no
o od odmah on ona oni ono onda opet ova ovaj ovdje ove ovo pa pak po pod poslije
pored prema pri prije sa sam samo se sebe sebi si smo ste sve svi svoj svoja svoje
svoju što ta tada taj tako također te tebe tebi ti to toga tome tu tvoj tvoja tvoje
u uz vam vama vas vaš vaša vaše vi više vrlo za zar zato zbog želim želio željela
htio htjela bih hvala molim dobar dan dobro jutro halo bok ok okej evo eto ovako
dakle znači znate znam mislim imam imate ima imamo danas sutra jučer tjedan tjedna
mjesec mjeseca godina godine sat sati minuta ponedjeljak utorak srijeda četvrtak petak
subota nedjelja dva tri četiri pet šest sedam osam devet deset pitanje reći rekli
";

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
