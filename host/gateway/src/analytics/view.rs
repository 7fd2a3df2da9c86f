//! Analyses as the API shows them, KPIs over many, and the CSV export.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use voxgate_store::AnalysisRow;

use crate::control::tenants::rfc3339;

fn parsed(text: Option<&str>) -> Value {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null)
}

/// One analysis; the transcript only when asked for (lists leave it out).
pub fn analysis(tenant: &str, row: &AnalysisRow, with_transcript: bool) -> Value {
    let mut v = json!({
        "id": row.id,
        "call_id": row.call_id,
        "tenant": tenant,
        "source": row.source,
        "status": row.status,
        "progress": row.progress,
        "attempts": row.attempts,
        "error": row.error,
        "created_at": rfc3339(row.created_at),
        "finished_at": row.finished_at.map(rfc3339),
        "credits": row.credits,
        "recording_ms": row.recording_ms,
        "metadata": parsed(Some(&row.metadata)),
        "result": parsed(row.result.as_deref()),
    });
    if with_transcript && let Some(o) = v.as_object_mut() {
        o.insert("transcript".into(), parsed(row.transcript.as_deref()));
    }
    v
}

fn score(row: &AnalysisRow) -> Option<f64> {
    let result: Value = serde_json::from_str(row.result.as_deref()?).ok()?;
    result.pointer("/sentiment/overall/score")?.as_f64()
}

#[derive(Default)]
struct Group {
    count: u64,
    sentiments: BTreeMap<String, u64>,
    categories: BTreeMap<String, u64>,
    score_sum: f64,
    scored: u64,
}

impl Group {
    fn add(&mut self, row: &AnalysisRow, score: Option<f64>) {
        self.count += 1;
        *self.sentiments.entry(row.sentiment.clone()).or_default() += 1;
        *self.categories.entry(row.category.clone()).or_default() += 1;
        if let Some(s) = score {
            self.score_sum += s;
            self.scored += 1;
        }
    }

    fn json(&self, key: (&str, &str)) -> Value {
        let n = |label: &str| self.sentiments.get(label).copied().unwrap_or(0);
        let top = self
            .categories
            .iter()
            .max_by_key(|(name, n)| (**n, std::cmp::Reverse((*name).clone())))
            .map(|(name, _)| name.clone());
        let mut v = json!({
            "count": self.count,
            "positive": n("positive"),
            "negative": n("negative"),
            "neutral": n("neutral"),
            "score": (self.scored > 0).then(|| self.score_sum / self.scored as f64),
            "top_category": top,
        });
        if let Some(o) = v.as_object_mut() {
            o.insert(key.0.into(), Value::String(key.1.into()));
        }
        v
    }
}

/// KPIs over `rows`: counts by status, sentiment and category, sentiment per day (in
/// UTC), and the same per queue, agent and department. Only finished analyses count
/// toward sentiment and categories.
pub fn kpis(rows: &[AnalysisRow]) -> Value {
    let mut sentiment: BTreeMap<&str, u64> =
        [("positive", 0), ("negative", 0), ("neutral", 0)].into();
    let mut categories: BTreeMap<String, u64> = BTreeMap::new();
    let mut days: BTreeMap<String, Group> = BTreeMap::new();
    let mut by: [HashMap<String, Group>; 3] = Default::default();
    let (mut done, mut failed, mut pending) = (0u64, 0u64, 0u64);
    for row in rows {
        match row.status.as_str() {
            "done" => done += 1,
            "failed" => {
                failed += 1;
                continue;
            }
            _ => {
                pending += 1;
                continue;
            }
        }
        if let Some(n) = sentiment.get_mut(row.sentiment.as_str()) {
            *n += 1;
        }
        *categories.entry(row.category.clone()).or_default() += 1;
        let s = score(row);
        let day = rfc3339(row.date_time)
            .get(..10)
            .unwrap_or_default()
            .to_string();
        days.entry(day).or_default().add(row, s);
        for (map, key) in by
            .iter_mut()
            .zip([&row.queue, &row.agent_id, &row.department])
        {
            let key = if key.is_empty() {
                "(none)"
            } else {
                key.as_str()
            };
            map.entry(key.to_string()).or_default().add(row, s);
        }
    }
    let grouped = |map: &HashMap<String, Group>| -> Vec<Value> {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by_key(|k| (std::cmp::Reverse(map[*k].count), (*k).clone()));
        keys.into_iter().map(|k| map[k].json(("key", k))).collect()
    };
    let [queue, agent, department] = &by;
    json!({
        "total": rows.len(),
        "done": done,
        "failed": failed,
        "pending": pending,
        "sentiment": sentiment,
        "categories": categories,
        "over_time": days.iter().map(|(d, g)| g.json(("day", d))).collect::<Vec<_>>(),
        "by_queue": grouped(queue),
        "by_agent": grouped(agent),
        "by_department": grouped(department),
    })
}

/// The CSV export's columns.
pub const CSV_COLUMNS: [&str; 19] = [
    "id",
    "call_id",
    "source",
    "status",
    "date_time",
    "duration_s",
    "caller_id",
    "queue",
    "agent_id",
    "department",
    "call_topic",
    "category",
    "sentiment",
    "sentiment_score",
    "customer_sentiment",
    "agent_sentiment",
    "customer_tone",
    "agent_tone",
    "keywords",
];

/// One CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`,
/// `-` or `@` gets a `'` so that a spreadsheet does not run it as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Analyses as CSV (RFC 4180, CRLF line ends, a header row).
pub fn csv(rows: &[AnalysisRow]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for row in rows {
        let meta = parsed(Some(&row.metadata));
        let result = parsed(row.result.as_deref());
        let m = |k: &str| match meta.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let r = |p: &str| match result.pointer(p) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let keywords = result
            .get("keywords")
            .and_then(Value::as_array)
            .map(|k| {
                k.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default();
        let fields = [
            row.id.clone(),
            row.call_id.clone(),
            row.source.clone(),
            row.status.clone(),
            rfc3339(row.date_time),
            m("duration"),
            m("caller_id"),
            row.queue.clone(),
            row.agent_id.clone(),
            row.department.clone(),
            m("call_topic"),
            row.category.clone(),
            row.sentiment.clone(),
            r("/sentiment/overall/score"),
            r("/sentiment/customer/label"),
            r("/sentiment/agent/label"),
            r("/tone/customer"),
            r("/tone/agent"),
            keywords,
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("-0.25"), "-0.25");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
    }
}
