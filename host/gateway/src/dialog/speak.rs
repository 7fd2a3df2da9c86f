//! Turning plugin data into words a caller hears: prices, dates in the tenant's time
//! zone, lists, statuses.

use voxgate_runtime::{Money, complaints, orders};

/// "29 euros 99", "1 pound", "15 dollars 50": minor units as two decimals, which every
/// currency the demo tenants use has.
pub fn money(m: &Money) -> String {
    let (major, minor) = (m.amount / 100, (m.amount % 100).abs());
    let (one, many) = match m.currency.as_str() {
        "EUR" => ("euro", "euros"),
        "GBP" => ("pound", "pounds"),
        "USD" => ("dollar", "dollars"),
        "CHF" => ("franc", "francs"),
        other => (other, other),
    };
    let unit = if major == 1 { one } else { many };
    if minor == 0 {
        format!("{major} {unit}")
    } else {
        format!("{major} {unit} {minor:02}")
    }
}

/// "Tuesday, 24 November" for an RFC 3339 time, in `tz`; the text as it is if it does
/// not parse.
pub fn date(rfc3339: &str, tz: &jiff::tz::TimeZone) -> String {
    match rfc3339.parse::<jiff::Timestamp>() {
        Ok(t) => t.to_zoned(tz.clone()).strftime("%A, %-d %B").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// "today between 14:00 and 17:00", "on Tuesday, 24 November", "between Tuesday, 24
/// November and Wednesday, 25 November".
pub fn eta(
    earliest: Option<&str>,
    latest: Option<&str>,
    now: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> Option<String> {
    let parse = |s: &str| {
        s.parse::<jiff::Timestamp>()
            .ok()
            .map(|t| t.to_zoned(tz.clone()))
    };
    let today = now.to_zoned(tz.clone()).date();
    let day = |z: &jiff::Zoned| {
        let d = z.date();
        if d == today {
            "today".to_string()
        } else if today.tomorrow().ok() == Some(d) {
            "tomorrow".to_string()
        } else {
            format!("on {}", z.strftime("%A, %-d %B"))
        }
    };
    match (earliest.and_then(parse), latest.and_then(parse)) {
        (Some(a), Some(b)) if a.date() == b.date() => Some(format!(
            "{} between {} and {}",
            day(&a),
            a.strftime("%H:%M"),
            b.strftime("%H:%M")
        )),
        (Some(a), Some(b)) => Some(format!(
            "{} or {}",
            day(&a),
            day(&b).trim_start_matches("on ")
        )),
        (Some(a), None) | (None, Some(a)) => Some(day(&a)),
        (None, None) => None,
    }
}

/// "a, b and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

pub fn order_status(s: orders::OrderStatus) -> &'static str {
    use orders::OrderStatus as S;
    match s {
        S::Pending => "pending",
        S::Confirmed => "confirmed",
        S::Processing => "being prepared",
        S::Shipped => "shipped",
        S::OutForDelivery => "out for delivery",
        S::Delivered => "delivered",
        S::Cancelled => "cancelled",
        S::Returned => "returned",
    }
}

pub fn complaint_status(s: complaints::ComplaintStatus) -> &'static str {
    use complaints::ComplaintStatus as S;
    match s {
        S::Open => "open",
        S::InProgress => "being worked on",
        S::WaitingForCustomer => "waiting for your reply",
        S::Resolved => "resolved",
        S::Closed => "closed",
    }
}

/// Whether an order is still on its way (the one a caller asks about).
pub fn in_flight(s: orders::OrderStatus) -> bool {
    use orders::OrderStatus as S;
    matches!(
        s,
        S::Pending | S::Confirmed | S::Processing | S::Shipped | S::OutForDelivery
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_dates_and_lists_read_naturally() {
        let m = |amount, c: &str| Money {
            amount,
            currency: c.into(),
        };
        assert_eq!(money(&m(2999, "EUR")), "29 euros 99");
        assert_eq!(money(&m(100, "GBP")), "1 pound");
        assert_eq!(money(&m(5005, "USD")), "50 dollars 05");
        let tz = jiff::tz::TimeZone::get("Europe/Zagreb").unwrap();
        assert_eq!(date("2026-11-24T10:00:00Z", &tz), "Tuesday, 24 November");
        let now: jiff::Timestamp = "2026-11-23T09:00:00Z".parse().unwrap();
        assert_eq!(
            eta(
                Some("2026-11-24T09:00:00Z"),
                Some("2026-11-24T15:00:00Z"),
                now,
                &tz
            )
            .unwrap(),
            "tomorrow between 10:00 and 16:00"
        );
        assert_eq!(
            eta(
                Some("2026-11-26T09:00:00Z"),
                Some("2026-11-27T15:00:00Z"),
                now,
                &tz
            )
            .unwrap(),
            "on Thursday, 26 November or Friday, 27 November"
        );
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
    }
}
