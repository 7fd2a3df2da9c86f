use super::*;
use jiff::civil::{DateTime, date};

const AGENTS: &[&str] = &["office", "after-hours", "holiday", "night"];

/// The example from the tenant file documentation.
const OFFICE: &str = r#"
time_zone = "Europe/Zagreb"

[schedule]
default = "after-hours"
holiday_agent = "holiday"

[[schedule.windows]]
days = ["mon", "tue", "wed", "thu", "fri"]
from = "08:00"
to = "17:00"
agent = "office"

[[schedule.windows]]
days = ["sat"]
from = "09:00"
to = "13:00"
agent = "office"

[[schedule.holidays]]
date = "2026-12-25"
name = "Christmas"

[[schedule.exceptions]]
date = "2026-12-24"
windows = [{ from = "08:00", to = "12:00", agent = "office" }]
"#;

/// Office hours plus a night line Thursday to Saturday nights, and two holidays.
const NIGHTS: &str = r#"
time_zone = "Europe/Zagreb"

[schedule]
default = "after-hours"
holiday_agent = "holiday"

[[schedule.windows]]
days = ["mon-fri"]
from = "08:00"
to = "17:00"
agent = "office"

[[schedule.windows]]
days = ["sat"]
from = "09:00"
to = "13:00"
agent = "office"

[[schedule.windows]]
days = ["thu", "fri", "sat"]
from = "22:00"
to = "06:00"
agent = "night"

[[schedule.holidays]]
date = "2026-12-25"
name = "Christmas"

[[schedule.holidays]]
date = "--12-26"
name = "St. Stephen's Day"
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Tenant {
    time_zone: String,
    schedule: Schedule,
}

fn parse(text: &str) -> Result<(TimeZone, Schedule), String> {
    let tenant: Tenant = toml::from_str(text).map_err(|e| e.to_string())?;
    let tz = parse_time_zone(&tenant.time_zone).map_err(|e| e.to_string())?;
    tenant
        .schedule
        .validate(AGENTS)
        .map_err(|e| e.to_string())?;
    Ok((tz, tenant.schedule))
}

fn load(text: &str) -> (TimeZone, Schedule) {
    parse(text).unwrap()
}

fn load_in(text: &str, zone: &str) -> (TimeZone, Schedule) {
    let (_, schedule) = load(text);
    (parse_time_zone(zone).unwrap(), schedule)
}

fn error(text: &str) -> String {
    parse(text).unwrap_err()
}

/// A wall-clock time in `tz` that must exist exactly once.
fn local(tz: &TimeZone, civil: &str) -> Timestamp {
    let civil: DateTime = civil.parse().unwrap();
    tz.to_ambiguous_timestamp(civil).unambiguous().unwrap()
}

fn utc(instant: &str) -> Timestamp {
    instant.parse().unwrap()
}

fn agent(schedule: &Schedule, tz: &TimeZone, at: Timestamp) -> String {
    schedule.agent_at(tz, at).agent
}

fn choice(agent: &str, reason: Reason) -> Choice {
    Choice {
        agent: agent.to_owned(),
        reason,
    }
}

fn window(index: usize) -> Reason {
    Reason::Window { index }
}

#[test]
fn weekday_window_includes_from_and_excludes_to() {
    let (tz, s) = load(OFFICE);
    // 2026-03-02 is a Monday.
    let at = |t| s.agent_at(&tz, local(&tz, t));
    assert_eq!(
        at("2026-03-02T07:59:59"),
        choice("after-hours", Reason::Default)
    );
    assert_eq!(at("2026-03-02T08:00"), choice("office", window(0)));
    assert_eq!(at("2026-03-02T16:59:59"), choice("office", window(0)));
    assert_eq!(
        at("2026-03-02T17:00"),
        choice("after-hours", Reason::Default)
    );
    assert_eq!(at("2026-03-06T12:00"), choice("office", window(0)));
}

#[test]
fn saturday_window() {
    let (tz, s) = load(OFFICE);
    let at = |t| s.agent_at(&tz, local(&tz, t));
    assert_eq!(
        at("2026-03-07T08:59"),
        choice("after-hours", Reason::Default)
    );
    assert_eq!(at("2026-03-07T09:00"), choice("office", window(1)));
    assert_eq!(at("2026-03-07T12:59:59"), choice("office", window(1)));
    assert_eq!(
        at("2026-03-07T13:00"),
        choice("after-hours", Reason::Default)
    );
}

#[test]
fn sunday_falls_to_default() {
    let (tz, s) = load(OFFICE);
    for t in [
        "2026-03-08T00:00",
        "2026-03-08T10:00",
        "2026-03-08T23:59:59",
    ] {
        assert_eq!(
            s.agent_at(&tz, local(&tz, t)),
            choice("after-hours", Reason::Default),
            "{t}"
        );
    }
}

#[test]
fn overnight_window_runs_on_both_sides_of_midnight() {
    let (tz, s) = load(NIGHTS);
    let at = |t| s.agent_at(&tz, local(&tz, t));
    // Thursday 2026-03-05 night into Friday.
    assert_eq!(
        at("2026-03-05T21:59"),
        choice("after-hours", Reason::Default)
    );
    assert_eq!(at("2026-03-05T22:00"), choice("night", window(2)));
    assert_eq!(at("2026-03-05T23:59:59"), choice("night", window(2)));
    assert_eq!(at("2026-03-06T00:00"), choice("night", window(2)));
    assert_eq!(at("2026-03-06T05:59:59"), choice("night", window(2)));
    assert_eq!(
        at("2026-03-06T06:00"),
        choice("after-hours", Reason::Default)
    );
    assert_eq!(at("2026-03-06T08:00"), choice("office", window(0)));
    // Saturday night's tail lands on Sunday; there is no Sunday night window.
    assert_eq!(at("2026-03-08T05:00"), choice("night", window(2)));
    assert_eq!(
        at("2026-03-09T01:00"),
        choice("after-hours", Reason::Default)
    );
}

#[test]
fn holiday_overrides_window() {
    let (tz, s) = load(OFFICE);
    // 2026-12-25 is a Friday, normally office hours.
    assert_eq!(
        s.agent_at(&tz, local(&tz, "2026-12-25T10:00")),
        choice(
            "holiday",
            Reason::Holiday {
                name: "Christmas".into(),
                date: date(2026, 12, 25)
            }
        )
    );
    assert_eq!(agent(&s, &tz, local(&tz, "2026-12-18T10:00")), "office");
}

#[test]
fn holiday_owns_its_whole_date_around_overnight_windows() {
    let (tz, s) = load(NIGHTS);
    let at = |t| s.agent_at(&tz, local(&tz, t));
    let christmas = Reason::Holiday {
        name: "Christmas".into(),
        date: date(2026, 12, 25),
    };
    // Thursday's night window runs until midnight; the holiday starts at 00:00.
    assert_eq!(at("2026-12-24T23:00"), choice("night", window(2)));
    assert_eq!(at("2026-12-25T00:00"), choice("holiday", christmas.clone()));
    assert_eq!(at("2026-12-25T23:00"), choice("holiday", christmas));
    // Saturday is a holiday too, so Friday's and Saturday's night windows never start,
    // and early Sunday follows Sunday's (empty) plan.
    assert_eq!(
        at("2026-12-26T03:00"),
        choice(
            "holiday",
            Reason::Holiday {
                name: "St. Stephen's Day".into(),
                date: date(2026, 12, 26)
            }
        )
    );
    assert_eq!(
        at("2026-12-27T03:00"),
        choice("after-hours", Reason::Default)
    );
}

#[test]
fn recurring_holiday_applies_every_year() {
    let (tz, s) = load(NIGHTS);
    for year in [2026, 2027, 2031] {
        let at = local(&tz, &format!("{year}-12-26T10:00"));
        assert_eq!(
            s.agent_at(&tz, at).reason,
            Reason::Holiday {
                name: "St. Stephen's Day".into(),
                date: date(year, 12, 26)
            }
        );
    }
    // The dated Christmas is 2026 only: 2027-12-25 is an ordinary Saturday.
    assert_eq!(
        s.agent_at(&tz, local(&tz, "2027-12-25T10:00")),
        choice("office", window(1))
    );
}

#[test]
fn holiday_agent_falls_back_to_schedule_then_default() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.holidays]]
        date = "--01-01"
        name = "New Year"
        [[schedule.holidays]]
        date = "--05-01"
        name = "Labour Day"
        agent = "holiday"
    "#;
    let (tz, s) = load(text);
    assert_eq!(
        agent(&s, &tz, local(&tz, "2027-01-01T10:00")),
        "after-hours"
    );
    assert_eq!(agent(&s, &tz, local(&tz, "2027-05-01T10:00")), "holiday");
}

#[test]
fn dated_holiday_beats_recurring_one_on_the_same_day() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.holidays]]
        date = "--12-25"
        name = "Christmas"
        [[schedule.holidays]]
        date = "2026-12-25"
        name = "Christmas 2026"
        agent = "night"
    "#;
    let (tz, s) = load(text);
    assert_eq!(agent(&s, &tz, local(&tz, "2026-12-25T10:00")), "night");
    assert_eq!(
        agent(&s, &tz, local(&tz, "2027-12-25T10:00")),
        "after-hours"
    );
}

#[test]
fn exception_day_replaces_weekly_windows() {
    let (tz, s) = load(OFFICE);
    let at = |t| s.agent_at(&tz, local(&tz, t));
    let eve = date(2026, 12, 24);
    let exception = |window| Reason::Exception { date: eve, window };
    // 2026-12-24 is a Thursday: office until noon only.
    assert_eq!(
        at("2026-12-24T07:59"),
        choice("after-hours", exception(None))
    );
    assert_eq!(at("2026-12-24T08:00"), choice("office", exception(Some(0))));
    assert_eq!(
        at("2026-12-24T11:59:59"),
        choice("office", exception(Some(0)))
    );
    assert_eq!(
        at("2026-12-24T12:00"),
        choice("after-hours", exception(None))
    );
    assert_eq!(
        at("2026-12-24T16:00"),
        choice("after-hours", exception(None))
    );
    // The Thursday before is a normal day.
    assert_eq!(at("2026-12-17T16:00"), choice("office", window(0)));
}

#[test]
fn exception_beats_holiday_on_the_same_day() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        holiday_agent = "holiday"
        [[schedule.holidays]]
        date = "--12-24"
        name = "Christmas Eve"
        [[schedule.exceptions]]
        date = "2026-12-24"
        windows = [{ from = "08:00", to = "12:00", agent = "office" }]
    "#;
    let (tz, s) = load(text);
    assert_eq!(agent(&s, &tz, local(&tz, "2026-12-24T09:00")), "office");
    assert_eq!(agent(&s, &tz, local(&tz, "2027-12-24T09:00")), "holiday");
}

#[test]
fn overnight_tails_across_exception_days() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"

        [[schedule.windows]]
        days = "mon-fri"
        from = "08:00"
        to = "17:00"
        agent = "office"

        [[schedule.windows]]
        days = ["tue"]
        from = "22:00"
        to = "06:00"
        agent = "night"

        [[schedule.exceptions]]
        date = "2026-12-23"
        windows = [
            { from = "08:00", to = "12:00", agent = "office" },
            { from = "20:00", to = "02:00", agent = "night" },
        ]
    "#;
    let (tz, s) = load(text);
    let at = |t| s.agent_at(&tz, local(&tz, t));
    let exception = |window| Reason::Exception {
        date: date(2026, 12, 23),
        window,
    };
    // Tuesday's night window does not reach into the exception day, which owns its date.
    assert_eq!(at("2026-12-22T23:00"), choice("night", window(1)));
    assert_eq!(
        at("2026-12-23T01:00"),
        choice("after-hours", exception(None))
    );
    // The exception's own overnight window reaches into a normal Thursday.
    assert_eq!(at("2026-12-23T21:00"), choice("night", exception(Some(1))));
    assert_eq!(at("2026-12-24T01:59"), choice("night", exception(Some(1))));
    assert_eq!(
        at("2026-12-24T02:00"),
        choice("after-hours", Reason::Default)
    );
}

/// Saturday night until `boundary`, then office from `boundary` until 05:00 on Sunday.
fn dst_config(boundary: &str) -> String {
    format!(
        r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.windows]]
        days = ["sat"]
        from = "22:00"
        to = "{boundary}"
        agent = "night"
        [[schedule.windows]]
        days = ["sun"]
        from = "{boundary}"
        to = "05:00"
        agent = "office"
        "#
    )
}

#[test]
fn spring_forward_in_zagreb_moves_boundaries_in_the_gap_to_the_jump() {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00 UTC; 02:30 does not exist.
    let (tz, s) = load(&dst_config("02:30"));
    assert_eq!(agent(&s, &tz, utc("2026-03-29T00:59:59Z")), "night");
    assert_eq!(agent(&s, &tz, utc("2026-03-29T01:00:00Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-29T02:59:59Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-29T03:00:00Z")), "after-hours");
    assert_eq!(
        s.next_change(&tz, utc("2026-03-28T21:00:00Z")),
        Some(utc("2026-03-29T01:00:00Z"))
    );
    // A week earlier 02:30 CET exists.
    assert_eq!(
        s.next_change(&tz, utc("2026-03-21T21:00:00Z")),
        Some(utc("2026-03-22T01:30:00Z"))
    );
}

#[test]
fn window_inside_the_spring_forward_gap_does_not_run_that_day() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.windows]]
        days = ["sun"]
        from = "02:10"
        to = "02:40"
        agent = "night"
    "#;
    let (tz, s) = load(text);
    assert_eq!(agent(&s, &tz, utc("2026-03-29T01:00:00Z")), "after-hours");
    // The next Sunday it runs at 02:10 CEST.
    assert_eq!(
        s.next_change(&tz, utc("2026-03-28T23:00:00Z")),
        Some(utc("2026-04-05T00:10:00Z"))
    );
}

#[test]
fn fall_back_in_zagreb_uses_the_first_occurrence() {
    // 2026-10-25: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:00-03:00 repeats.
    let (tz, s) = load(&dst_config("02:30"));
    assert_eq!(agent(&s, &tz, utc("2026-10-25T00:29:59Z")), "night");
    assert_eq!(agent(&s, &tz, utc("2026-10-25T00:30:00Z")), "office");
    // The second 02:15 (CET) is after the first 02:30, so the office window has begun.
    let second = utc("2026-10-25T01:15:00Z");
    assert_eq!(tz.to_datetime(second), date(2026, 10, 25).at(2, 15, 0, 0));
    assert_eq!(agent(&s, &tz, second), "office");
    assert_eq!(agent(&s, &tz, utc("2026-10-25T03:59:59Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-10-25T04:00:00Z")), "after-hours");
}

#[test]
fn spring_forward_in_new_york() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00 UTC.
    let (tz, s) = load_in(&dst_config("02:30"), "America/New_York");
    assert_eq!(agent(&s, &tz, utc("2026-03-08T06:59:59Z")), "night");
    assert_eq!(agent(&s, &tz, utc("2026-03-08T07:00:00Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-08T08:59:59Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-08T09:00:00Z")), "after-hours");
}

#[test]
fn fall_back_in_new_york() {
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST at 06:00 UTC; 01:00-02:00 repeats.
    let (tz, s) = load_in(&dst_config("01:30"), "America/New_York");
    assert_eq!(agent(&s, &tz, utc("2026-11-01T05:29:59Z")), "night");
    assert_eq!(agent(&s, &tz, utc("2026-11-01T05:30:00Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-11-01T06:15:00Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-11-01T09:59:59Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-11-01T10:00:00Z")), "after-hours");
    assert_eq!(
        s.next_change(&tz, utc("2026-11-01T05:00:00Z")),
        Some(utc("2026-11-01T05:30:00Z"))
    );
}

#[test]
fn quarter_hour_offset_in_kathmandu() {
    // +05:45 all year: Monday 08:00 local is 02:15 UTC.
    let (tz, s) = load_in(OFFICE, "Asia/Kathmandu");
    assert_eq!(agent(&s, &tz, utc("2026-03-02T02:14:59Z")), "after-hours");
    assert_eq!(agent(&s, &tz, utc("2026-03-02T02:15:00Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-02T11:14:59Z")), "office");
    assert_eq!(agent(&s, &tz, utc("2026-03-02T11:15:00Z")), "after-hours");
    assert_eq!(
        s.next_change(&tz, utc("2026-03-02T00:00:00Z")),
        Some(utc("2026-03-02T02:15:00Z"))
    );
}

#[test]
fn next_change_finds_the_next_different_agent() {
    let (tz, s) = load(OFFICE);
    let next = |t| s.next_change(&tz, local(&tz, t));
    assert_eq!(
        next("2026-03-02T07:00"),
        Some(local(&tz, "2026-03-02T08:00"))
    );
    assert_eq!(
        next("2026-03-02T08:00"),
        Some(local(&tz, "2026-03-02T17:00"))
    );
    assert_eq!(
        next("2026-03-06T18:00"),
        Some(local(&tz, "2026-03-07T09:00"))
    );
    // Saturday afternoon: nothing on Sunday, so Monday morning.
    assert_eq!(
        next("2026-03-07T13:00"),
        Some(local(&tz, "2026-03-09T08:00"))
    );
    // Christmas Eve ends at noon, Christmas is a holiday.
    assert_eq!(
        next("2026-12-24T09:00"),
        Some(local(&tz, "2026-12-24T12:00"))
    );
    assert_eq!(
        next("2026-12-24T12:00"),
        Some(local(&tz, "2026-12-25T00:00"))
    );
}

#[test]
fn next_change_ignores_reason_changes_and_gives_up_after_eight_days() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.windows]]
        days = "daily"
        from = "08:00"
        to = "12:00"
        agent = "office"
        [[schedule.windows]]
        days = "daily"
        from = "12:00"
        to = "17:00"
        agent = "office"
    "#;
    let (tz, s) = load(text);
    assert_eq!(
        s.next_change(&tz, local(&tz, "2026-03-02T09:00")),
        Some(local(&tz, "2026-03-02T17:00"))
    );
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.holidays]]
        date = "2026-03-11"
        name = "Far away"
        agent = "holiday"
    "#;
    let (tz, s) = load(text);
    assert_eq!(s.next_change(&tz, local(&tz, "2026-03-02T09:00")), None);
    assert_eq!(
        s.next_change(&tz, local(&tz, "2026-03-04T09:00")),
        Some(local(&tz, "2026-03-11T00:00"))
    );
}

#[test]
fn rejects_overlapping_windows_on_the_same_day() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.windows]]
        days = ["mon-fri"]
        from = "08:00"
        to = "17:00"
        agent = "office"
        [[schedule.windows]]
        days = ["fri"]
        from = "16:00"
        to = "20:00"
        agent = "night"
    "#;
    assert_eq!(
        error(text),
        "schedule.windows[0] (mon-fri 08:00-17:00, agent \"office\") and \
         schedule.windows[1] (fri 16:00-20:00, agent \"night\") overlap on fri 16:00-17:00: \
         change their times or days so that each moment belongs to one window"
    );
}

#[test]
fn rejects_overlaps_across_midnight_and_the_week_end() {
    let windows = |a: &str, b: &str| {
        format!(
            r#"
            time_zone = "Europe/Zagreb"
            [schedule]
            default = "after-hours"
            [[schedule.windows]]
            {a}
            agent = "night"
            [[schedule.windows]]
            {b}
            agent = "office"
            "#
        )
    };
    // Sunday night's tail runs into Monday morning.
    let err = error(&windows(
        r#"days = ["sun"]
           from = "22:00"
           to = "06:00""#,
        r#"days = ["mon"]
           from = "05:00"
           to = "09:00""#,
    ));
    assert!(err.contains("overlap on mon 05:00-06:00"), "{err}");
    let err = error(&windows(
        r#"days = ["fri"]
           from = "22:00"
           to = "03:00""#,
        r#"days = ["fri"]
           from = "23:00"
           to = "01:00""#,
    ));
    assert!(err.contains("overlap from fri 23:00 to sat 01:00"), "{err}");
    // Touching windows are fine: `to` is exclusive.
    load(&windows(
        r#"days = ["fri"]
           from = "17:00"
           to = "08:00""#,
        r#"days = ["sat"]
           from = "08:00"
           to = "13:00""#,
    ));
}

#[test]
fn rejects_exception_tail_overlapping_the_next_days_window() {
    let text = r#"
        time_zone = "Europe/Zagreb"
        [schedule]
        default = "after-hours"
        [[schedule.windows]]
        days = ["thu"]
        from = "01:00"
        to = "05:00"
        agent = "office"
        [[schedule.exceptions]]
        date = "2026-12-23"
        windows = [{ from = "20:00", to = "02:00", agent = "night" }]
    "#;
    assert_eq!(
        error(text),
        "schedule.exceptions[0].windows[0] (2026-12-23 20:00-02:00, agent \"night\") and \
         schedule.windows[0] (thu 01:00-05:00, agent \"office\") overlap on the next day, \
         thu, 01:00-02:00: change their times or days so that each moment belongs to one window"
    );
    // No overlap when the next day is a holiday, which owns its whole date.
    load(&format!(
        "{text}\n[[schedule.holidays]]\ndate = \"2026-12-24\"\nname = \"Eve\"\n"
    ));
}

#[test]
fn rejects_unknown_agent() {
    let text = OFFICE.replace(
        "to = \"17:00\"\nagent = \"office\"",
        "to = \"17:00\"\nagent = \"ofice\"",
    );
    assert_eq!(
        error(&text),
        "unknown agent \"ofice\" in schedule.windows[0] (mon-fri 08:00-17:00, agent \"ofice\"): \
         known agents are office, after-hours, holiday, night; fix the name or add the agent"
    );
    let text = OFFICE.replace("holiday_agent = \"holiday\"", "holiday_agent = \"xmas\"");
    assert!(
        error(&text).starts_with("unknown agent \"xmas\" in schedule.holiday_agent:"),
        "{}",
        error(&text)
    );
}

#[test]
fn rejects_bad_times() {
    for bad in [
        "25:00", "24:30", "08:60", "0800", "8:5", "08:00:00", "", "noon",
    ] {
        let text = OFFICE.replace(
            "from = \"08:00\"\nto = \"17:00\"",
            &format!("from = \"{bad}\"\nto = \"17:00\""),
        );
        let err = error(&text);
        assert!(
            err.contains(&format!(
                "invalid time {bad:?}: write HH:MM between 00:00 and 24:00, e.g. \"08:00\""
            )),
            "{err}"
        );
    }
    let text = OFFICE.replace("to = \"17:00\"", "to = 17");
    let err = error(&text);
    assert!(
        err.contains("expected a time like \"08:00\" in quotes"),
        "{err}"
    );
}

#[test]
fn time_of_day_parsing() {
    assert_eq!("8:00".parse::<TimeOfDay>(), Ok(TimeOfDay(480)));
    assert_eq!("00:00".parse::<TimeOfDay>(), Ok(TimeOfDay::MIDNIGHT));
    assert_eq!("24:00".parse::<TimeOfDay>(), Ok(TimeOfDay::END_OF_DAY));
    assert_eq!(TimeOfDay::END_OF_DAY.to_string(), "24:00");
    assert!("-1:00".parse::<TimeOfDay>().is_err());
}

#[test]
fn rejects_empty_windows_and_starts_at_24_00() {
    let text = OFFICE.replace("to = \"17:00\"", "to = \"08:00\"");
    assert_eq!(
        error(&text),
        "schedule.windows[0] (mon-fri 08:00-08:00, agent \"office\") starts and ends at 08:00: \
         give it a length; for a whole day use from = \"00:00\", to = \"24:00\""
    );
    let text = OFFICE.replace(
        "from = \"08:00\"\nto = \"17:00\"",
        "from = \"24:00\"\nto = \"06:00\"",
    );
    assert!(
        error(&text).starts_with(
            "schedule.windows[0] (mon-fri 24:00-06:00, agent \"office\") starts at 24:00"
        ),
        "{}",
        error(&text)
    );
}

#[test]
fn rejects_bad_day_names() {
    for bad in ["mo", "monday", "mon-xyz", "weekdays"] {
        let text = OFFICE.replace("days = [\"sat\"]", &format!("days = [\"{bad}\"]"));
        let err = error(&text);
        assert!(
            err.contains(&format!(
                "unknown day {bad:?}: use mon, tue, wed, thu, fri, sat, sun, a range like \"mon-fri\", or \"daily\""
            )),
            "{err}"
        );
    }
    let text = OFFICE.replace("days = [\"sat\"]", "days = []");
    assert!(error(&text).contains("empty days list"), "{}", error(&text));
}

#[test]
fn day_sets_parse_and_print() {
    let days = |items: &[&str]| {
        items
            .iter()
            .map(|i| i.parse::<Days>().unwrap().0)
            .fold(0, |a, b| a | b)
    };
    assert_eq!(Days(days(&["mon-fri"])).to_string(), "mon-fri");
    assert_eq!(Days(days(&["sat-sun"])).to_string(), "sat,sun");
    assert_eq!(Days(days(&["fri-mon"])).to_string(), "mon,fri-sun");
    assert_eq!(
        Days(days(&["Mon", "wed", "fri"])).to_string(),
        "mon,wed,fri"
    );
    assert_eq!(Days(days(&["all"])), Days::ALL);
    assert_eq!(Days(days(&["daily"])).to_string(), "daily");
}

#[test]
fn rejects_bad_dates_and_duplicates() {
    for bad in [
        "2026-02-30",
        "2026-12-5",
        "26-12-25",
        "--13-01",
        "--02-30",
        "12/25",
    ] {
        let text = OFFICE.replace("date = \"2026-12-25\"", &format!("date = \"{bad}\""));
        let err = error(&text);
        assert!(
            err.contains(&format!("invalid date {bad:?}: write YYYY-MM-DD")),
            "{err}"
        );
    }
    let text =
        format!("{OFFICE}\n[[schedule.holidays]]\ndate = \"2026-12-25\"\nname = \"Again\"\n");
    assert_eq!(
        error(&text),
        "schedule.holidays has two entries for 2026-12-25: merge them into one"
    );
    // Leap day recurs only in leap years.
    let text = OFFICE.replace("date = \"2026-12-25\"", "date = \"--02-29\"");
    let (tz, s) = load(&text);
    assert_eq!(agent(&s, &tz, local(&tz, "2028-02-29T10:00")), "holiday");
    assert_eq!(agent(&s, &tz, local(&tz, "2027-03-01T10:00")), "office");
}

#[test]
fn rejects_unknown_fields() {
    let text = OFFICE.replace(
        "agent = \"office\"\n\n[[schedule.windows]]",
        "agnet = \"office\"\n\n[[schedule.windows]]",
    );
    let err = error(&text);
    assert!(err.contains("unknown field `agnet`"), "{err}");
}

#[test]
fn rejects_unknown_time_zone() {
    assert_eq!(
        parse_time_zone("Europe/Zagrb").unwrap_err().to_string(),
        "unknown time zone \"Europe/Zagrb\": use an IANA name like Europe/Zagreb \
         (the names under /usr/share/zoneinfo)"
    );
    assert!(parse_time_zone("CET+1").is_err());
    assert!(parse_time_zone("Asia/Kathmandu").is_ok());
}

#[test]
fn reasons_read_well_in_call_records() {
    assert_eq!(window(2).to_string(), "window schedule.windows[2]");
    assert_eq!(
        Reason::Holiday {
            name: "Christmas".into(),
            date: date(2026, 12, 25)
        }
        .to_string(),
        "holiday \"Christmas\" on 2026-12-25"
    );
    assert_eq!(
        Reason::Exception {
            date: date(2026, 12, 24),
            window: None
        }
        .to_string(),
        "exception for 2026-12-24, outside its windows"
    );
}
