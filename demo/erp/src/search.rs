//! Word matching for product search and FAQ answers.
//!
//! Queries come from speech recognition, so they are short, lower-case-ish and full of
//! filler words ("do you have a …"). Simple word scoring with plural and spelling
//! tolerance is predictable, which matters more here than clever ranking.

use crate::model::{KnowledgeEntry, Product};

/// Filler words that carry no meaning for a shop query. "can" is deliberately absent:
/// it is half of "watering can".
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "at", "be", "buy", "could", "did", "do", "does",
    "for", "from", "get", "got", "had", "has", "have", "hello", "hi", "how", "i", "in", "is", "it",
    "know", "like", "looking", "me", "much", "my", "need", "of", "on", "or", "please", "some",
    "tell", "that", "the", "there", "this", "to", "want", "was", "we", "what", "when", "which",
    "will", "with", "would", "you", "your",
];

/// Spellings a caller from the US (or a recognizer) may use for our British names.
const VARIANTS: &[(&str, &str)] = &[
    ("fertilizer", "fertiliser"),
    ("fertilizers", "fertiliser"),
    ("meter", "metre"),
    ("meters", "metres"),
    ("m", "metres"),
    ("liter", "litre"),
    ("liters", "litres"),
    ("l", "litres"),
    ("kg", "kilo"),
    ("kilos", "kilo"),
    ("kilogram", "kilo"),
    ("kilograms", "kilo"),
    ("bbq", "barbecue"),
    ("barbeque", "barbecue"),
    ("lawnmower", "mower"),
    ("color", "colour"),
    ("gray", "grey"),
];

/// The meaningful words of `text`, lower-cased, spelling variants unified.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .map(|w| {
            VARIANTS
                .iter()
                .find(|(from, _)| *from == w)
                .map_or(w, |(_, to)| (*to).to_owned())
        })
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .filter(|w| w.chars().count() > 1 || w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// How well one query word matches one text word: 2 for the same word (singular or
/// plural), 1 for a clear prefix ("terra" → "terracotta"), 0 otherwise.
fn word_score(query: &str, word: &str) -> u32 {
    if query == word || is_plural_of(query, word) || is_plural_of(word, query) {
        return 2;
    }
    let short = query.len().min(word.len());
    if short >= 4 && (word.starts_with(query) || query.starts_with(word)) {
        return 1;
    }
    0
}

fn is_plural_of(plural: &str, singular: &str) -> bool {
    if let Some(stem) = plural.strip_suffix('s') {
        if stem == singular {
            return true;
        }
        if let Some(stem) = stem.strip_suffix('e') {
            if stem == singular {
                return true;
            }
            if let (Some(stem), Some(sing)) = (stem.strip_suffix('i'), singular.strip_suffix('y')) {
                return stem == sing;
            }
        }
    }
    false
}

fn best(query: &str, words: &[String]) -> u32 {
    words
        .iter()
        .map(|w| word_score(query, w))
        .max()
        .unwrap_or(0)
}

/// Relevance of a product for the query terms; 0 means "does not match".
pub fn product_score(query: &[String], product: &Product) -> u32 {
    let name = terms(&product.name);
    let category = terms(&product.category);
    let description = terms(&product.description);
    let mut score = 0;
    let mut all_in_name = true;
    for q in query {
        let in_name = best(q, &name) * 3;
        let elsewhere = (best(q, &category) * 2).max(best(q, &description));
        if in_name == 0 {
            all_in_name = false;
        }
        score += in_name.max(elsewhere);
    }
    // "large pot" should put "terracotta pot large" above everything merely potted.
    if score > 0 && all_in_name {
        score += 2;
    }
    score
}

/// Ranked matches, best first; ties keep catalogue order so results are stable.
pub fn search_products<'a>(query: &str, products: &'a [Product]) -> Vec<&'a Product> {
    let q = terms(query);
    if q.is_empty() {
        return products.iter().collect();
    }
    let mut scored: Vec<(u32, usize, &Product)> = products
        .iter()
        .enumerate()
        .map(|(i, p)| (product_score(&q, p), i, p))
        .filter(|(s, _, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, p)| p).collect()
}

/// Lowest score the knowledge base answers with; below it a caller is better served by
/// "I don't know" than by a wrong answer read out with confidence.
pub const KNOWLEDGE_THRESHOLD: u8 = 40;

/// The best FAQ entry for a question and its score (0–100).
pub fn best_answer<'a>(
    question: &str,
    entries: &'a [KnowledgeEntry],
) -> Option<(&'a KnowledgeEntry, u8)> {
    let q = terms(question);
    if q.is_empty() {
        return None;
    }
    // Spoken questions ramble; judging by at most four content words keeps
    // "I bought a hose last week, can I send it back" answerable.
    let denominator = u32::try_from(q.len().min(4)).unwrap_or(4) * 2;
    let mut best_entry: Option<(&KnowledgeEntry, u8)> = None;
    for entry in entries {
        let keywords: Vec<String> = entry.keywords.iter().flat_map(|k| terms(k)).collect();
        let points: u32 = q.iter().map(|t| best(t, &keywords)).sum();
        let score = u8::try_from((points * 100 / denominator).min(100)).unwrap_or(100);
        if best_entry.is_none_or(|(_, s)| score > s) {
            best_entry = Some((entry, score));
        }
    }
    best_entry.filter(|(_, s)| *s >= KNOWLEDGE_THRESHOLD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_and_variants() {
        assert_eq!(word_score("hoses", "hose"), 2);
        assert_eq!(word_score("pot", "pots"), 2);
        assert_eq!(word_score("berries", "berry"), 2);
        assert_eq!(word_score("terra", "terracotta"), 1);
        assert_eq!(word_score("pot", "potting"), 0);
        assert_eq!(
            terms("Lawn Fertilizer, 5 kg!"),
            ["lawn", "fertiliser", "5", "kilo"]
        );
        assert_eq!(terms("do you have a watering can"), ["watering", "can"]);
    }
}
