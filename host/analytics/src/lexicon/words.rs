//! Words: transcripts cut into folded tokens, English contractions merged, and the
//! phrase patterns lexicons are written in, matched longest first.

use std::collections::HashMap;

use super::Lexicon;

/// One word of a transcript: `norm` is what lexicons match (folded, contractions
/// merged), `surface` what was said (lower-case), for keywords.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) norm: String,
    pub(crate) surface: String,
}

pub(super) const APOSTROPHES: &[char] = &['\'', '’', '‘', 'ʼ', '`', '´'];

pub(super) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || APOSTROPHES.contains(&c)
}

/// Appends `c` (already lower-case) folded: diacritics of German, Croatian and other
/// Latin-script languages spelt out or dropped, apostrophes dropped.
pub(super) fn fold_char(c: char, out: &mut String) {
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
pub(super) fn merge_english(tokens: Vec<Token>) -> Vec<Token> {
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

pub(super) fn english_contraction(a: &str, b: &str) -> Option<&'static str> {
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
pub(super) enum Pat {
    Word(Box<str>),
    Prefix(Box<str>),
}

impl Pat {
    pub(super) fn matches(&self, norm: &str) -> bool {
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
    pub(super) patterns: Vec<(Vec<Pat>, P)>,
    pub(super) index: HashMap<Vec<Pat>, usize>,
    pub(super) by_word: HashMap<Box<str>, Vec<usize>>,
    pub(super) by_prefix: HashMap<Box<str>, Vec<usize>>,
    /// Lengths (bytes) of the prefixes in `by_prefix`.
    pub(super) prefix_lens: Vec<usize>,
    /// Patterns given twice with different payloads (a lexicon mistake; tests look).
    pub(super) conflicts: Vec<String>,
}

impl<P: PartialEq> Matcher<P> {
    pub(super) fn new() -> Matcher<P> {
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
    pub(super) fn insert(&mut self, pats: Vec<Pat>, payload: P, merge: fn(&mut P, P) -> bool) {
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
    pub(super) fn find(&self, tokens: &[Token], i: usize) -> Option<(usize, &P)> {
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
    pub(super) fn scan<'a>(&'a self, tokens: &[Token]) -> Vec<(usize, usize, &'a P)> {
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

    pub(super) fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

pub(super) fn describe(pats: &[Pat]) -> String {
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
pub(super) fn patterns(lex_merges: bool, entry: &str) -> Vec<Vec<Pat>> {
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
pub(super) fn pattern(lex_merges: bool, words: &[&str]) -> Option<Vec<Pat>> {
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
