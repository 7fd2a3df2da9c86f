//! Word error rate: how far a transcript is from what was said.

/// Word-level edit distance between `reference` and `hypothesis` (substitutions,
/// deletions and insertions all cost 1) and the number of reference words. Words are
/// compared after lower-casing and dropping punctuation.
pub fn word_errors(reference: &str, hypothesis: &str) -> (usize, usize) {
    let words = |s: &str| -> Vec<String> {
        voxgate_speech::recognizer::normalize_transcript(s)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let r = words(reference);
    let h = words(hypothesis);
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    let mut row = vec![0; h.len() + 1];
    for (i, rw) in r.iter().enumerate() {
        row[0] = i + 1;
        for (j, hw) in h.iter().enumerate() {
            let substitution = prev[j] + usize::from(rw != hw);
            row[j + 1] = substitution.min(prev[j + 1] + 1).min(row[j] + 1);
        }
        std::mem::swap(&mut prev, &mut row);
    }
    (prev[h.len()], r.len())
}

/// [`word_errors`] as a rate (errors per reference word; 0 for an empty reference).
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let (errors, words) = word_errors(reference, hypothesis);
    if words == 0 {
        0.0
    } else {
        errors as f64 / words as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_substitutions_deletions_and_insertions() {
        assert_eq!(
            word_errors("where is my order", "where is my order"),
            (0, 4)
        );
        assert_eq!(
            word_errors("where is my order", "where it my order"),
            (1, 4)
        );
        assert_eq!(word_errors("where is my order", "where my order"), (1, 4));
        assert_eq!(
            word_errors("where is my order", "oh where is my order now"),
            (2, 4)
        );
        assert_eq!(
            word_errors("Where is my order?", "where is my order"),
            (0, 4)
        );
        assert_eq!(word_errors("", "noise"), (1, 0));
        assert!((word_error_rate("a b c d", "a x c") - 0.5).abs() < 1e-9);
    }
}
