//! The intent engine's vocabulary: what a caller may say in each kind of turn, and
//! what it means.
//!
//! Every turn gets a grammar: the phrases valid now, each mapped to a meaning (an
//! intent with its slots, yes/no, a number, a product). The embedded recognizer is held
//! to exactly those phrases, which is what makes it fast and accurate; typed text
//! (`voxgate chat`) and free-form engines are mapped onto the closest phrase.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use voxgate_speech::recognizer::{Grammar, closest_phrase, normalize_transcript};

/// The built-in skills, as agents name them in config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Intent {
    OrderStatus,
    RepeatOrder,
    NewOrder,
    ProductPrice,
    FrequentItems,
    Recommendations,
    Promotions,
    ComplaintStatus,
    OpenComplaint,
    Faq,
    Human,
    Callback,
    Goodbye,
}

impl Intent {
    pub const ALL: [Intent; 13] = [
        Intent::OrderStatus,
        Intent::RepeatOrder,
        Intent::NewOrder,
        Intent::ProductPrice,
        Intent::FrequentItems,
        Intent::Recommendations,
        Intent::Promotions,
        Intent::ComplaintStatus,
        Intent::OpenComplaint,
        Intent::Faq,
        Intent::Human,
        Intent::Callback,
        Intent::Goodbye,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Intent::OrderStatus => "order-status",
            Intent::RepeatOrder => "repeat-order",
            Intent::NewOrder => "new-order",
            Intent::ProductPrice => "product-price",
            Intent::FrequentItems => "frequent-items",
            Intent::Recommendations => "recommendations",
            Intent::Promotions => "promotions",
            Intent::ComplaintStatus => "complaint-status",
            Intent::OpenComplaint => "open-complaint",
            Intent::Faq => "faq",
            Intent::Human => "human",
            Intent::Callback => "callback",
            Intent::Goodbye => "goodbye",
        }
    }

    /// English phrases; `{product}` and `{qty}` are slots.
    fn phrases_en(self) -> &'static [&'static str] {
        match self {
            Intent::OrderStatus => &[
                "where is my order",
                "where is my package",
                "where is my delivery",
                "order status",
                "what is the status of my order",
                "when will my order arrive",
                "when will my delivery arrive",
                "when will my package arrive",
                "track my order",
                "track my package",
                "has my order shipped",
            ],
            Intent::RepeatOrder => &[
                "repeat my last order",
                "i want to repeat my last order",
                "order the same again",
                "the same as last time",
                "same as last time",
                "reorder my last order",
            ],
            Intent::NewOrder => &[
                "i want to order {product}",
                "i want to order {qty} {product}",
                "i would like {qty} {product}",
                "i want to place an order",
                "new order",
            ],
            Intent::ProductPrice => &[
                "how much is the {product}",
                "how much is a {product}",
                "how much does the {product} cost",
                "what is the price of the {product}",
                "price of the {product}",
            ],
            Intent::FrequentItems => &[
                "what do i usually order",
                "what do i usually buy",
                "my usual order",
                "my usual items",
            ],
            Intent::Recommendations => &[
                "what do you recommend",
                "what would you recommend",
                "any recommendations",
                "can you recommend something",
            ],
            Intent::Promotions => &[
                "do you have any promotions",
                "any promotions",
                "are there any special offers",
                "any special offers",
                "do you have any discounts",
                "what are your offers",
            ],
            Intent::ComplaintStatus => &[
                "what is the status of my complaint",
                "complaint status",
                "any news about my complaint",
                "what happened with my complaint",
            ],
            Intent::OpenComplaint => &[
                "i have a complaint",
                "i want to make a complaint",
                "open a complaint",
                "i want to complain",
                "file a complaint",
            ],
            Intent::Faq => &[
                "what are your opening hours",
                "when are you open",
                "do you deliver on weekends",
                "what is your return policy",
                "how long does delivery take",
                "how much does delivery cost",
            ],
            Intent::Human => &[
                "talk to a human",
                "i want to talk to a human",
                "speak to a person",
                "i want to speak to someone",
                "talk to an agent",
                "speak to an agent",
                "operator",
                "representative",
            ],
            Intent::Callback => &[
                "call me back",
                "please call me back",
                "i want a call back",
                "can someone call me back",
            ],
            Intent::Goodbye => &[
                "goodbye",
                "bye",
                "thank you goodbye",
                "that is all",
                "that is all thank you",
                "no thank you",
                "nothing else",
            ],
        }
    }
}

/// What a phrase means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    Intent {
        intent: Intent,
        product: Option<usize>,
        quantity: Option<u32>,
        /// The words said, for FAQ questions.
        text: String,
    },
    Yes,
    No,
    Number(u32),
    Product(usize),
    /// A complaint subject from [`COMPLAINT_SUBJECTS`].
    Subject(&'static str),
}

/// Phrases valid in one turn and their meanings.
#[derive(Debug, Clone, Default)]
pub struct TurnGrammar {
    phrases: Vec<String>,
    meanings: HashMap<String, Meaning>,
    /// The same phrases as a compact JSGF grammar, when expanding the slots would make
    /// thousands of alternatives (the main menu's product and quantity slots).
    jsgf: Option<String>,
}

impl TurnGrammar {
    fn add(&mut self, phrase: &str, meaning: Meaning) {
        let p = normalize_transcript(phrase);
        if p.is_empty() || self.meanings.contains_key(&p) {
            return;
        }
        self.phrases.push(p.clone());
        self.meanings.insert(p, meaning);
    }

    /// What the recognizer is held to in this turn.
    pub fn recognizer_grammar(&self) -> Arc<Grammar> {
        Arc::new(match &self.jsgf {
            Some(j) => Grammar::Jsgf(j.clone()),
            None => Grammar::Phrases(self.phrases.clone()),
        })
    }

    /// The meaning of what was said or typed: the phrase itself, else the closest one
    /// (typed text and free transcripts are rarely word for word).
    pub fn understand(&self, said: &str) -> Option<(Meaning, f32)> {
        let text = normalize_transcript(said);
        if let Some(m) = self.meanings.get(&text) {
            return Some((m.clone(), 1.0));
        }
        let best = closest_phrase(&text, &self.phrases)?;
        let m = self.meanings.get(&best.phrase)?;
        Some((m.clone(), best.similarity))
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }
}

/// A product as the caller names it.
#[derive(Debug, Clone)]
pub struct SpokenProduct {
    pub sku: String,
    pub name: String,
    /// Names the caller may use: the catalog name with numbers as words, and the name
    /// up to its first number ("garden hose" for "garden hose 25 metres").
    pub spoken: Vec<String>,
}

impl SpokenProduct {
    pub fn new(sku: &str, name: &str) -> SpokenProduct {
        let words = spoken_words(name);
        let mut spoken = vec![words.clone()];
        let short: Vec<&str> = name
            .split_whitespace()
            .take_while(|w| !w.chars().any(|c| c.is_ascii_digit()))
            .collect();
        if !short.is_empty() && short.len() < name.split_whitespace().count() {
            spoken.push(normalize_transcript(&short.join(" ")));
        }
        SpokenProduct {
            sku: sku.to_string(),
            name: name.to_string(),
            spoken,
        }
    }
}

/// The main menu of an agent: its intents' phrases with product and quantity slots
/// filled from the catalog, the agent's own phrases, and its FAQ questions. Phrases
/// with a word `known` rejects (not in the recognizer's dictionary) are left out.
pub fn main_menu(
    intents: &[Intent],
    extra: &std::collections::BTreeMap<Intent, Vec<String>>,
    faq: &[String],
    products: &[SpokenProduct],
    known: &dyn Fn(&str) -> bool,
) -> TurnGrammar {
    let all_known = |text: &str| text.split_whitespace().all(known);
    let products: Vec<(usize, &str)> = products
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.spoken.iter().map(move |n| (i, n.as_str())))
        .filter(|(_, n)| all_known(n) && all_known(&pluralize(n)))
        .collect();
    let mut g = TurnGrammar::default();
    let mut alternatives = Vec::new();
    for &intent in intents {
        let own = extra.get(&intent).map(Vec::as_slice).unwrap_or_default();
        let faq_questions = if intent == Intent::Faq { faq } else { &[] };
        let templates = intent
            .phrases_en()
            .iter()
            .copied()
            .chain(own.iter().map(String::as_str))
            .chain(faq_questions.iter().map(String::as_str));
        for t in templates {
            let t = normalize_template(t);
            let fixed = t.replace("{product}", "").replace("{qty}", "");
            if !all_known(&fixed) {
                tracing::debug!("phrase `{t}` has words the recognizer does not know");
                continue;
            }
            if (t.contains("{product}") || t.contains("{qty}")) && products.is_empty() {
                continue;
            }
            expand(&mut g, intent, &t, &products);
            alternatives.push(jsgf_alternative(&t));
        }
    }
    if !products.is_empty() {
        let names = |plural: bool| {
            let mut v: Vec<String> = products
                .iter()
                .map(|(_, n)| if plural { pluralize(n) } else { n.to_string() })
                .collect();
            v.sort();
            v.dedup();
            v.join(" | ")
        };
        let many: Vec<&str> = (2..=MAX_SPOKEN_QUANTITY).map(number_word).collect();
        g.jsgf = Some(format!(
            "#JSGF V1.0;\ngrammar menu;\n<product> = {};\n<products> = {};\n\
             <quantity> = one <product> | ( {} ) ( <product> | <products> );\n\
             public <turn> = {};\n",
            names(false),
            names(true),
            many.join(" | "),
            alternatives.join(" | ")
        ));
    }
    g
}

/// Every word the agent's fixed phrases use (slots aside), for the dictionary check.
pub fn vocabulary(
    intents: &[Intent],
    extra: &std::collections::BTreeMap<Intent, Vec<String>>,
    faq: &[String],
) -> std::collections::HashSet<String> {
    let mut words = std::collections::HashSet::new();
    let mut add = |t: &str| {
        for w in normalize_template(t).split_whitespace() {
            if !w.starts_with('{') {
                words.insert(w.to_string());
            }
        }
    };
    for &i in intents {
        i.phrases_en().iter().for_each(|p| add(p));
        extra.get(&i).into_iter().flatten().for_each(|p| add(p));
    }
    faq.iter().for_each(|p| add(p));
    for g in [yes_no(), quantities(), complaint_subjects()] {
        g.phrases.iter().for_each(|p| add(p));
    }
    words
}

/// Lower case, single spaces, slots kept.
fn normalize_template(t: &str) -> String {
    t.split_whitespace()
        .map(|w| {
            if w == "{product}" || w == "{qty}" {
                w.to_string()
            } else {
                normalize_transcript(w)
            }
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One template as a JSGF alternative: `{qty} {product}` is a quantity with its
/// product, a lone `{product}` the product.
fn jsgf_alternative(template: &str) -> String {
    let t = template
        .replace("{qty} {product}", "<quantity>")
        .replace("{product}", "<product>")
        .replace(
            "{qty}",
            "( one | two | three | four | five | six | seven | eight | nine | ten )",
        );
    format!("( {t} )")
}

/// Quantities said as words in order phrases.
const MAX_SPOKEN_QUANTITY: u32 = 10;

fn expand(g: &mut TurnGrammar, intent: Intent, template: &str, products: &[(usize, &str)]) {
    let meaning = |product, quantity, text: &str| Meaning::Intent {
        intent,
        product,
        quantity,
        text: text.to_string(),
    };
    let has_product = template.contains("{product}");
    let has_qty = template.contains("{qty}");
    if !has_product && !has_qty {
        g.add(template, meaning(None, None, template));
        return;
    }
    for &(i, name) in products {
        let with_product = template.replace("{product}", name);
        if has_qty {
            for q in 1..=MAX_SPOKEN_QUANTITY {
                let text = with_product.replace("{qty}", number_word(q));
                g.add(&text, meaning(Some(i), Some(q), &text));
                if q > 1 {
                    // Callers say "two garden hoses".
                    let plural = pluralize(&text);
                    g.add(&plural, meaning(Some(i), Some(q), &plural));
                }
            }
        } else {
            g.add(&with_product, meaning(Some(i), None, &with_product));
        }
    }
}

/// Puts the last word in the plural the simple English way.
pub fn pluralize(text: &str) -> String {
    let Some((head, last)) = text.rsplit_once(' ') else {
        return text.to_string();
    };
    let plural = if last.ends_with("ss")
        || last.ends_with("sh")
        || last.ends_with("ch")
        || last.ends_with('x')
    {
        format!("{last}es")
    } else if last.ends_with('s') {
        // Already plural ("gloves", "shears", "metres").
        last.to_string()
    } else if last.ends_with('y') && !last.ends_with("ey") {
        format!("{}ies", last.trim_end_matches('y'))
    } else {
        format!("{last}s")
    };
    format!("{head} {plural}")
}

/// Yes or no, for confirmations.
pub fn yes_no() -> TurnGrammar {
    let mut g = TurnGrammar::default();
    for p in [
        "yes",
        "yes please",
        "yes that is right",
        "that is right",
        "correct",
        "confirm",
        "go ahead",
        "okay",
    ] {
        g.add(p, Meaning::Yes);
    }
    for p in [
        "no",
        "no thanks",
        "no thank you",
        "cancel",
        "that is wrong",
        "stop",
    ] {
        g.add(p, Meaning::No);
    }
    g
}

/// A quantity.
pub fn quantities() -> TurnGrammar {
    let mut g = TurnGrammar::default();
    for q in 1..=20 {
        g.add(number_word(q), Meaning::Number(q));
    }
    g
}

/// A product name.
pub fn product_names(products: &[SpokenProduct], known: &dyn Fn(&str) -> bool) -> TurnGrammar {
    let mut g = TurnGrammar::default();
    for (i, p) in products.iter().enumerate() {
        for name in p.spoken.iter().filter(|n| n.split_whitespace().all(known)) {
            g.add(name, Meaning::Product(i));
            g.add(&format!("the {name}"), Meaning::Product(i));
        }
    }
    g
}

/// What a complaint is about, as the caller says it, and the subject recorded.
pub const COMPLAINT_SUBJECTS: &[(&str, &str)] = &[
    ("it arrived damaged", "arrived damaged"),
    ("damaged", "arrived damaged"),
    ("it is broken", "item broken"),
    ("broken", "item broken"),
    ("wrong item", "wrong item delivered"),
    ("i got the wrong item", "wrong item delivered"),
    ("something is missing", "item missing from delivery"),
    ("missing item", "item missing from delivery"),
    ("it never arrived", "delivery never arrived"),
    ("late delivery", "delivery late"),
    ("poor quality", "poor quality"),
];

pub fn complaint_subjects() -> TurnGrammar {
    let mut g = TurnGrammar::default();
    for (said, subject) in COMPLAINT_SUBJECTS {
        g.add(said, Meaning::Subject(subject));
    }
    g
}

/// A number 0–20 as an English word.
pub fn number_word(n: u32) -> &'static str {
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS.get(n as usize).copied().unwrap_or("many")
}

/// Text with its numbers (up to 9999) spelled out, lower case.
pub fn spoken_words(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| match w.parse::<u32>() {
            Ok(n) => number_words(n),
            Err(_) => w.to_string(),
        })
        .collect();
    normalize_transcript(&words.join(" "))
}

/// A number up to 9999 in English words.
pub fn number_words(n: u32) -> String {
    const TENS: [&str; 10] = [
        "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    match n {
        0..=20 => number_word(n).to_string(),
        21..=99 => {
            let (t, u) = (n / 10, n % 10);
            let tens = TENS.get(t as usize).copied().unwrap_or_default();
            if u == 0 {
                tens.to_string()
            } else {
                format!("{tens} {}", number_word(u))
            }
        }
        100..=999 => {
            let rest = n % 100;
            let head = format!("{} hundred", number_word(n / 100));
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_words(rest))
            }
        }
        1000..=9999 => {
            let rest = n % 1000;
            let head = format!("{} thousand", number_words(n / 1000));
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_words(rest))
            }
        }
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Vec<SpokenProduct> {
        vec![
            SpokenProduct::new("KH-1001", "garden hose 25 metres"),
            SpokenProduct::new("KH-4002", "garden gloves"),
        ]
    }

    #[test]
    fn products_are_named_with_spelled_numbers_and_a_short_form() {
        let p = SpokenProduct::new("KH-1001", "garden hose 25 metres");
        assert_eq!(p.spoken, ["garden hose twenty five metres", "garden hose"]);
        assert_eq!(number_words(1600), "one thousand six hundred");
    }

    #[test]
    fn the_main_menu_understands_slots_exactly_and_typed_text_approximately() {
        let g = main_menu(
            &Intent::ALL,
            &Default::default(),
            &["Do you sell gift cards?".to_string()],
            &catalog(),
            &|_| true,
        );
        let Grammar::Jsgf(jsgf) = &*g.recognizer_grammar() else {
            panic!("the main menu is a JSGF grammar");
        };
        assert!(
            jsgf.contains(
                "<products> = garden gloves | garden hose twenty five metres | garden hoses"
            ),
            "{jsgf}"
        );
        let (m, c) = g.understand("I would like two garden gloves").unwrap();
        assert_eq!(c, 1.0);
        assert!(matches!(
            m,
            Meaning::Intent {
                intent: Intent::NewOrder,
                product: Some(1),
                quantity: Some(2),
                ..
            }
        ));
        let (m, _) = g.understand("how much is the garden hose").unwrap();
        assert!(matches!(
            m,
            Meaning::Intent {
                intent: Intent::ProductPrice,
                product: Some(0),
                ..
            }
        ));
        let (m, c) = g.understand("Where's my order?").unwrap();
        assert!(matches!(
            m,
            Meaning::Intent {
                intent: Intent::OrderStatus,
                ..
            }
        ));
        assert!(c > 0.5);
        let (m, _) = g.understand("do you sell gift cards").unwrap();
        assert!(matches!(
            m,
            Meaning::Intent {
                intent: Intent::Faq,
                ..
            }
        ));
        assert!(g.understand("the weather in paris tomorrow").is_none());
    }

    #[test]
    fn confirmations_quantities_and_subjects() {
        assert_eq!(yes_no().understand("yes please").unwrap().0, Meaning::Yes);
        assert_eq!(yes_no().understand("no").unwrap().0, Meaning::No);
        assert_eq!(
            quantities().understand("twelve").unwrap().0,
            Meaning::Number(12)
        );
        assert_eq!(
            complaint_subjects()
                .understand("it arrived damaged")
                .unwrap()
                .0,
            Meaning::Subject("arrived damaged")
        );
        assert_eq!(
            product_names(&catalog(), &|_| true)
                .understand("the garden gloves")
                .unwrap()
                .0,
            Meaning::Product(1)
        );
    }
}
