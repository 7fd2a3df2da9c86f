//! Which agent answers a tenant's call at a given instant ("Zeitfenster").
//!
//! A tenant's `[schedule]` names a default agent and lists weekly windows, holidays and
//! exception days. All times are wall-clock times in the tenant's time zone.
//!
//! # Rules
//!
//! Every calendar date in the tenant's zone follows exactly one plan, by precedence:
//!
//! 1. an **exception** for that date: its own windows replace the weekly ones; outside
//!    them the default agent answers;
//! 2. a **holiday** on that date: the holiday agent answers all day;
//! 3. otherwise the **weekly windows** for that weekday; outside them the default agent.
//!
//! Windows are half-open: `from` is inside, `to` is not. A window whose `to` is not after
//! its `from` runs past midnight and belongs to the date it starts on. Its part after
//! midnight (the *tail*) only runs if the window ran at all (its start date followed the
//! weekly plan, or it is listed in that date's exception) and only if the next date
//! follows the weekly plan too: a holiday or exception owns its whole date, 00:00 to
//! 24:00. So with a Thursday night window 22:00–06:00, a Friday holiday starts at
//! Friday 00:00, and a window that would start on a holiday does not run that night.
//!
//! # Daylight saving time
//!
//! Each wall-clock boundary (a window's `from` or `to`, midnight) becomes an instant on
//! its particular date. A time that does not exist on that date (the spring-forward gap)
//! moves to the moment the clocks jump, so a window from 02:30 on a European
//! spring-forward Sunday starts at 03:00 summer time, and a window inside the gap does
//! not run that day. A time that occurs twice (the fall-back overlap) means its first
//! occurrence, so a window ending at 02:30 on a European fall-back Sunday ends at 02:30
//! summer time, and the repeated 02:00–03:00 hour follows whatever comes after it.
//!
//! # Example
//!
//! ```toml
//! [schedule]
//! default = "after-hours"
//! holiday_agent = "holiday"
//!
//! [[schedule.windows]]
//! days = ["mon-fri"]              # or "mon", "sat-sun", "daily", ...
//! from = "08:00"
//! to = "17:00"                    # "to" before "from" runs past midnight
//! agent = "office"
//!
//! [[schedule.holidays]]
//! date = "--12-25"                # every year; "2026-12-25" for one year
//! name = "Christmas"
//!
//! [[schedule.exceptions]]
//! date = "2026-12-24"
//! windows = [{ from = "08:00", to = "12:00", agent = "office" }]
//! ```

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// How far [`Schedule::next_change`] looks ahead: a week plus a day, so a dashboard
/// always sees the next change of a weekly plan.
pub const NEXT_CHANGE_HORIZON: SignedDuration = SignedDuration::from_hours(8 * 24);

const MINUTES_PER_DAY: u16 = 24 * 60;
const MINUTES_PER_WEEK: u32 = 7 * MINUTES_PER_DAY as u32;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A tenant's `[schedule]` table: which agent answers when.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Answers whenever no window, holiday or exception window applies.
    pub default: String,
    /// Answers on holidays that do not name their own agent; `default` if unset.
    #[serde(default)]
    pub holiday_agent: Option<String>,
    #[serde(default)]
    pub windows: Vec<Window>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

/// A weekly window: on these days, from `from` until `to`, `agent` answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub days: Days,
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    pub agent: String,
}

/// A window of an exception day; like [`Window`] without days.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayWindow {
    pub from: TimeOfDay,
    pub to: TimeOfDay,
    pub agent: String,
}

/// A whole day on which the holiday agent answers.
///
/// `date = "--12-25"` repeats every year. Moveable feasts such as Easter or Whit Monday
/// fall on a different date each year and need one dated entry per year
/// (`date = "2027-03-29"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub date: CalendarDate,
    pub name: String,
    /// Overrides the schedule's `holiday_agent` for this day.
    #[serde(default)]
    pub agent: Option<String>,
}

/// A date with its own windows, replacing the weekly windows that day (also a holiday's,
/// so a recurring holiday can be opened for one year). An empty `windows` list means the
/// default agent answers all day.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    pub date: CalendarDate,
    #[serde(default)]
    pub windows: Vec<DayWindow>,
}

/// The agent chosen for an instant and why, for call records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub agent: String,
    pub reason: Reason,
}

/// Which rule picked the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    /// `schedule.windows[index]`, possibly the after-midnight part of yesterday's window.
    Window { index: usize },
    /// A holiday; `date` is the concrete date, also for a recurring holiday.
    Holiday {
        name: String,
        #[serde(serialize_with = "serialize_display")]
        date: Date,
    },
    /// The exception for `date`. `window` indexes its windows; `None` means none of them
    /// covered the instant, so the default agent answered instead of the weekly windows.
    Exception {
        #[serde(serialize_with = "serialize_display")]
        date: Date,
        window: Option<usize>,
    },
    /// Nothing matched.
    Default,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Window { index } => write!(f, "window schedule.windows[{index}]"),
            Reason::Holiday { name, date } => write!(f, "holiday {name:?} on {date}"),
            Reason::Exception {
                date,
                window: Some(index),
            } => write!(f, "exception for {date}, window {index}"),
            Reason::Exception { date, window: None } => {
                write!(f, "exception for {date}, outside its windows")
            }
            Reason::Default => f.write_str("default: no window matched"),
        }
    }
}

fn serialize_display<T: fmt::Display, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// What is wrong with a schedule or time zone, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid time {value:?}: write HH:MM between 00:00 and 24:00, e.g. \"08:00\"")]
    BadTime { value: String },
    #[error(
        "unknown day {value:?}: use mon, tue, wed, thu, fri, sat, sun, a range like \"mon-fri\", or \"daily\""
    )]
    BadDay { value: String },
    #[error("a window has an empty days list: name at least one day, e.g. days = [\"mon-fri\"]")]
    NoDays,
    #[error(
        "invalid date {value:?}: write YYYY-MM-DD for one day (e.g. \"2026-12-25\") or --MM-DD for every year (e.g. \"--12-25\")"
    )]
    BadDate { value: String },
    #[error(
        "{window} starts at 24:00: a window starts between 00:00 and 23:59; start it at 00:00 on the next day instead"
    )]
    StartsAtEndOfDay { window: String },
    #[error(
        "{window} starts and ends at {time}: give it a length; for a whole day use from = \"00:00\", to = \"24:00\""
    )]
    EmptyWindow { window: String, time: String },
    #[error(
        "{first} and {second} overlap {when}: change their times or days so that each moment belongs to one window"
    )]
    Overlap {
        first: String,
        second: String,
        when: String,
    },
    #[error(
        "unknown agent {agent:?} in {used_by}: known agents are {known}; fix the name or add the agent"
    )]
    UnknownAgent {
        agent: String,
        used_by: String,
        known: String,
    },
    #[error("{list} has two entries for {date}: merge them into one")]
    DuplicateDate { list: String, date: String },
    #[error(
        "unknown time zone {name:?}: use an IANA name like Europe/Zagreb (the names under /usr/share/zoneinfo)"
    )]
    UnknownTimeZone { name: String },
    #[error(
        "cannot look up time zone {name:?}: no time zone database found; install the tzdata package (/usr/share/zoneinfo) or point TZDIR at one"
    )]
    NoTimeZoneDatabase { name: String },
}

/// Looks up an IANA time zone (e.g. `Europe/Zagreb`) in the system's database.
pub fn parse_time_zone(name: &str) -> Result<TimeZone, ScheduleError> {
    let db = jiff::tz::db();
    // A missing tzdata package would otherwise look like a typo in every tenant file.
    if db.is_definitively_empty() {
        return Err(ScheduleError::NoTimeZoneDatabase {
            name: name.to_owned(),
        });
    }
    db.get(name.trim())
        .map_err(|_| ScheduleError::UnknownTimeZone {
            name: name.to_owned(),
        })
}

/// A wall-clock time in minutes after midnight; 24:00 (1440) is the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(MINUTES_PER_DAY);

    /// `hour` 0–24, `minute` 0–59, and 24 only with minute 0.
    pub fn new(hour: u16, minute: u16) -> Option<TimeOfDay> {
        let valid = minute < 60 && (hour < 24 || (hour == 24 && minute == 0));
        valid.then_some(TimeOfDay(hour * 60 + minute))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl std::str::FromStr for TimeOfDay {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScheduleError::BadTime {
            value: s.to_owned(),
        };
        let (hour, minute) = s.trim().split_once(':').ok_or_else(bad)?;
        let number = |part: &str, lengths: std::ops::RangeInclusive<usize>| {
            let digits = lengths.contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
            digits.then(|| part.parse::<u16>().ok()).flatten()
        };
        // Minutes need both digits, so that "8:5" is not silently taken as 08:05.
        let (Some(hour), Some(minute)) = (number(hour, 1..=2), number(minute, 2..=2)) else {
            return Err(bad());
        };
        TimeOfDay::new(hour, minute).ok_or_else(bad)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromStrVisitor::<TimeOfDay>::new("a time like \"08:00\""))
    }
}

/// A set of weekdays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Days(u8);

impl Days {
    pub const ALL: Days = Days(0b111_1111);

    /// Whether `weekday` (0 = Monday … 6 = Sunday) is in the set.
    fn contains_offset(self, weekday: u8) -> bool {
        weekday < 7 && self.0 & (1 << weekday) != 0
    }

    pub fn contains(self, weekday: jiff::civil::Weekday) -> bool {
        // Monday-zero offsets are 0..=6, so the cast cannot wrap.
        self.contains_offset(weekday.to_monday_zero_offset().unsigned_abs())
    }

    fn parse_item(item: &str) -> Result<Days, ScheduleError> {
        let bad = || ScheduleError::BadDay {
            value: item.to_owned(),
        };
        let lower = item.trim().to_ascii_lowercase();
        if lower == "daily" || lower == "all" {
            return Ok(Days::ALL);
        }
        let index = |name: &str| DAY_NAMES.iter().position(|d| *d == name.trim());
        match lower.split_once('-') {
            None => index(&lower).map(|i| Days(1 << i)).ok_or_else(bad),
            Some((first, last)) => {
                let (Some(first), Some(last)) = (index(first), index(last)) else {
                    return Err(bad());
                };
                // "fri-mon" wraps over the weekend, as people say it.
                let mut days = 0u8;
                let mut day = first;
                loop {
                    days |= 1 << day;
                    if day == last {
                        break;
                    }
                    day = (day + 1) % 7;
                }
                Ok(Days(days))
            }
        }
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Days::ALL {
            return f.write_str("daily");
        }
        let mut parts = Vec::new();
        let mut day = 0u8;
        while day < 7 {
            if !self.contains_offset(day) {
                day += 1;
                continue;
            }
            let start = day;
            while day + 1 < 7 && self.contains_offset(day + 1) {
                day += 1;
            }
            let name = |d: u8| DAY_NAMES[usize::from(d)];
            match day - start {
                0 => parts.push(name(start).to_owned()),
                1 => parts.push(format!("{},{}", name(start), name(day))),
                _ => parts.push(format!("{}-{}", name(start), name(day))),
            }
            day += 1;
        }
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for Days {
    type Err = ScheduleError;

    /// One item: a day, a range such as `mon-fri`, or `daily`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Days::parse_item(s)
    }
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DaysVisitor;

        impl<'de> Visitor<'de> for DaysVisitor {
            type Value = Days;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of days like [\"mon-fri\", \"sat\"]")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Days, E> {
                Days::parse_item(v).map_err(E::custom)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Days, A::Error> {
                let mut days = 0u8;
                while let Some(item) = seq.next_element::<String>()? {
                    days |= Days::parse_item(&item).map_err(de::Error::custom)?.0;
                }
                if days == 0 {
                    return Err(de::Error::custom(ScheduleError::NoDays));
                }
                Ok(Days(days))
            }
        }

        deserializer.deserialize_any(DaysVisitor)
    }
}

/// A holiday's or exception's date: one day, or a month and day every year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarDate {
    On(Date),
    /// Every year; 29 February only counts in leap years.
    Yearly {
        month: i8,
        day: i8,
    },
}

impl CalendarDate {
    pub fn matches(self, date: Date) -> bool {
        match self {
            CalendarDate::On(on) => on == date,
            CalendarDate::Yearly { month, day } => date.month() == month && date.day() == day,
        }
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarDate::On(date) => write!(f, "{date}"),
            CalendarDate::Yearly { month, day } => write!(f, "--{month:02}-{day:02}"),
        }
    }
}

impl std::str::FromStr for CalendarDate {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScheduleError::BadDate {
            value: s.to_owned(),
        };
        // Fixed widths, so that "2026-12-5" or "26-12-25" are not guessed at.
        fn digits<T: std::str::FromStr>(part: &str, len: usize) -> Option<T> {
            let valid = part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
            valid.then(|| part.parse().ok()).flatten()
        }
        let trimmed = s.trim();
        if let Some(month_day) = trimmed.strip_prefix("--") {
            let (month, day) = month_day.split_once('-').ok_or_else(bad)?;
            let (Some(month), Some(day)) = (digits(month, 2), digits(day, 2)) else {
                return Err(bad());
            };
            // A leap year, so that --02-29 is accepted.
            Date::new(2000, month, day).map_err(|_| bad())?;
            return Ok(CalendarDate::Yearly { month, day });
        }
        let mut parts = trimmed.split('-');
        let (Some(year), Some(month), Some(day), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let (Some(year), Some(month), Some(day)) =
            (digits(year, 4), digits(month, 2), digits(day, 2))
        else {
            return Err(bad());
        };
        Date::new(year, month, day)
            .map(CalendarDate::On)
            .map_err(|_| bad())
    }
}

impl<'de> Deserialize<'de> for CalendarDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(FromStrVisitor::<CalendarDate>::new(
            "a date like \"2026-12-25\" or \"--12-25\"",
        ))
    }
}

/// Deserializes a quoted string through `FromStr`, so config errors carry our messages.
struct FromStrVisitor<T> {
    expecting: &'static str,
    target: std::marker::PhantomData<T>,
}

impl<T> FromStrVisitor<T> {
    fn new(expecting: &'static str) -> Self {
        FromStrVisitor {
            expecting,
            target: std::marker::PhantomData,
        }
    }
}

impl<T> Visitor<'_> for FromStrVisitor<T>
where
    T: std::str::FromStr<Err = ScheduleError>,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in quotes", self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// The plan a calendar date follows (see the module docs).
#[derive(Debug, Clone, Copy)]
enum Plan<'a> {
    Exception(&'a Exception),
    Holiday(&'a Holiday),
    Weekly,
}

/// A window's interval relative to the start of its day, in minutes; `end` exceeds a
/// day for windows that run past midnight.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(from: TimeOfDay, to: TimeOfDay) -> Span {
        let start = u32::from(from.minutes());
        let mut end = u32::from(to.minutes());
        if end <= start {
            end += u32::from(MINUTES_PER_DAY);
        }
        Span { start, end }
    }

    fn overlap(self, other: Span) -> Option<Span> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start < end).then_some(Span { start, end })
    }
}

impl Schedule {
    /// Checks what deserializing cannot: window lengths, overlaps, duplicate dates, and
    /// that every agent named exists. Call it once after loading; [`Schedule::agent_at`]
    /// never fails on an invalid schedule; overlaps then go to yesterday's overnight
    /// window first, then to the earlier window in the list.
    pub fn validate(&self, known_agents: &[&str]) -> Result<(), ScheduleError> {
        self.check_agents(known_agents)?;
        for (index, window) in self.windows.iter().enumerate() {
            check_length(window.from, window.to, || weekly_label(index, window))?;
        }
        for (e, exception) in self.exceptions.iter().enumerate() {
            for (index, window) in exception.windows.iter().enumerate() {
                check_length(window.from, window.to, || {
                    exception_label(e, exception, index, window)
                })?;
            }
        }
        self.check_weekly_overlaps()?;
        self.check_exception_overlaps()?;
        check_duplicates(self.holidays.iter().map(|h| h.date), "schedule.holidays")?;
        check_duplicates(
            self.exceptions.iter().map(|e| e.date),
            "schedule.exceptions",
        )?;
        Ok(())
    }

    /// The agent that answers a call at `at`, for a tenant in `tz`.
    pub fn agent_at(&self, tz: &TimeZone, at: Timestamp) -> Choice {
        // Only fails within a day of the ends of jiff's range (years ±9999).
        self.choose(tz, at).unwrap_or_else(|| Choice {
            agent: self.default.clone(),
            reason: Reason::Default,
        })
    }

    /// When the answering agent next changes after `at`, if within
    /// [`NEXT_CHANGE_HORIZON`]. Changes of reason with the same agent do not count.
    pub fn next_change(&self, tz: &TimeZone, at: Timestamp) -> Option<Timestamp> {
        let horizon = at.checked_add(NEXT_CHANGE_HORIZON).ok()?;
        let current = self.agent_at(tz, at).agent;
        // The agent can only change at midnight or at a boundary some window names, so
        // probing those instants finds every change.
        let mut boundaries = BTreeSet::from([TimeOfDay::MIDNIGHT]);
        for window in &self.windows {
            boundaries.extend([window.from, window.to]);
        }
        for window in self.exceptions.iter().flat_map(|e| &e.windows) {
            boundaries.extend([window.from, window.to]);
        }
        let mut candidates = BTreeSet::new();
        let mut date = day_containing(tz, at)?;
        let last = day_containing(tz, horizon)?.tomorrow().ok()?;
        while date <= last {
            for &time in &boundaries {
                if let Some(instant) = wall_to_instant(tz, date, time)
                    && at < instant
                    && instant <= horizon
                {
                    candidates.insert(instant);
                }
            }
            date = date.tomorrow().ok()?;
        }
        candidates
            .into_iter()
            .find(|&instant| self.agent_at(tz, instant).agent != current)
    }

    fn choose(&self, tz: &TimeZone, at: Timestamp) -> Option<Choice> {
        let day = day_containing(tz, at)?;
        let day_end = wall_to_instant(tz, day, TimeOfDay::END_OF_DAY)?;
        match self.plan(day) {
            Plan::Holiday(holiday) => Some(Choice {
                agent: self.holiday_agent_for(holiday).to_owned(),
                reason: Reason::Holiday {
                    name: holiday.name.clone(),
                    date: day,
                },
            }),
            Plan::Exception(exception) => {
                for (index, window) in exception.windows.iter().enumerate() {
                    if covers_own_part(tz, day, day_end, window.from, window.to, at)? {
                        return Some(Choice {
                            agent: window.agent.clone(),
                            reason: Reason::Exception {
                                date: day,
                                window: Some(index),
                            },
                        });
                    }
                }
                Some(Choice {
                    agent: self.default.clone(),
                    reason: Reason::Exception {
                        date: day,
                        window: None,
                    },
                })
            }
            Plan::Weekly => {
                if let Some(choice) = self.tail_from_yesterday(tz, day, at)? {
                    return Some(choice);
                }
                for (index, window) in self.windows.iter().enumerate() {
                    if window.days.contains(day.weekday())
                        && covers_own_part(tz, day, day_end, window.from, window.to, at)?
                    {
                        return Some(Choice {
                            agent: window.agent.clone(),
                            reason: Reason::Window { index },
                        });
                    }
                }
                Some(Choice {
                    agent: self.default.clone(),
                    reason: Reason::Default,
                })
            }
        }
    }

    /// The after-midnight part of a window that started yesterday, on a `day` that
    /// follows the weekly plan. `Some(None)`: no tail covers `at`.
    fn tail_from_yesterday(
        &self,
        tz: &TimeZone,
        day: Date,
        at: Timestamp,
    ) -> Option<Option<Choice>> {
        let yesterday = day.yesterday().ok()?;
        let day_start = wall_to_instant(tz, day, TimeOfDay::MIDNIGHT)?;
        let in_tail = |from: TimeOfDay, to: TimeOfDay| -> Option<bool> {
            if to > from {
                return Some(false);
            }
            Some(day_start <= at && at < wall_to_instant(tz, day, to)?)
        };
        match self.plan(yesterday) {
            Plan::Holiday(_) => {}
            Plan::Exception(exception) => {
                for (index, window) in exception.windows.iter().enumerate() {
                    if in_tail(window.from, window.to)? {
                        return Some(Some(Choice {
                            agent: window.agent.clone(),
                            reason: Reason::Exception {
                                date: yesterday,
                                window: Some(index),
                            },
                        }));
                    }
                }
            }
            Plan::Weekly => {
                for (index, window) in self.windows.iter().enumerate() {
                    if window.days.contains(yesterday.weekday()) && in_tail(window.from, window.to)?
                    {
                        return Some(Some(Choice {
                            agent: window.agent.clone(),
                            reason: Reason::Window { index },
                        }));
                    }
                }
            }
        }
        Some(None)
    }

    fn plan(&self, date: Date) -> Plan<'_> {
        // A dated entry beats a yearly one on the same day: it is the more specific.
        fn pick<T>(items: &[T], date: Date, date_of: impl Fn(&T) -> CalendarDate) -> Option<&T> {
            let matching = || items.iter().filter(|item| date_of(item).matches(date));
            matching()
                .find(|item| matches!(date_of(item), CalendarDate::On(_)))
                .or_else(|| matching().next())
        }
        if let Some(exception) = pick(&self.exceptions, date, |e| e.date) {
            Plan::Exception(exception)
        } else if let Some(holiday) = pick(&self.holidays, date, |h| h.date) {
            Plan::Holiday(holiday)
        } else {
            Plan::Weekly
        }
    }

    fn holiday_agent_for<'a>(&'a self, holiday: &'a Holiday) -> &'a str {
        holiday
            .agent
            .as_deref()
            .or(self.holiday_agent.as_deref())
            .unwrap_or(&self.default)
    }

    fn check_agents(&self, known_agents: &[&str]) -> Result<(), ScheduleError> {
        let check = |agent: &str, used_by: &dyn Fn() -> String| {
            if known_agents.contains(&agent) {
                return Ok(());
            }
            let known = if known_agents.is_empty() {
                "none (define agents first)".to_owned()
            } else {
                known_agents.join(", ")
            };
            Err(ScheduleError::UnknownAgent {
                agent: agent.to_owned(),
                used_by: used_by(),
                known,
            })
        };
        check(&self.default, &|| "schedule.default".to_owned())?;
        if let Some(agent) = &self.holiday_agent {
            check(agent, &|| "schedule.holiday_agent".to_owned())?;
        }
        for (index, window) in self.windows.iter().enumerate() {
            check(&window.agent, &|| weekly_label(index, window))?;
        }
        for (index, holiday) in self.holidays.iter().enumerate() {
            if let Some(agent) = &holiday.agent {
                check(agent, &|| {
                    format!("schedule.holidays[{index}] ({:?})", holiday.name)
                })?;
            }
        }
        for (e, exception) in self.exceptions.iter().enumerate() {
            for (index, window) in exception.windows.iter().enumerate() {
                check(&window.agent, &|| {
                    exception_label(e, exception, index, window)
                })?;
            }
        }
        Ok(())
    }

    /// Lays every weekly window on a Monday-to-Sunday line of minutes, wrapping Sunday
    /// night into Monday, so overlaps across midnight are caught too.
    fn check_weekly_overlaps(&self) -> Result<(), ScheduleError> {
        let segments = |window: &Window| {
            let span = Span::of(window.from, window.to);
            let mut out = Vec::new();
            for day in 0..7u8 {
                if !window.days.contains_offset(day) {
                    continue;
                }
                let base = u32::from(day) * u32::from(MINUTES_PER_DAY);
                let (start, end) = (base + span.start, base + span.end);
                if end > MINUTES_PER_WEEK {
                    out.push(Span {
                        start,
                        end: MINUTES_PER_WEEK,
                    });
                    out.push(Span {
                        start: 0,
                        end: end - MINUTES_PER_WEEK,
                    });
                } else {
                    out.push(Span { start, end });
                }
            }
            out
        };
        let all: Vec<Vec<Span>> = self.windows.iter().map(segments).collect();
        for (i, first) in self.windows.iter().enumerate() {
            for (j, second) in self.windows.iter().enumerate().skip(i + 1) {
                let overlap = all[i]
                    .iter()
                    .flat_map(|a| all[j].iter().filter_map(move |b| a.overlap(*b)))
                    .min_by_key(|span| span.start);
                if let Some(span) = overlap {
                    return Err(ScheduleError::Overlap {
                        first: weekly_label(i, first),
                        second: weekly_label(j, second),
                        when: describe_week_span(span),
                    });
                }
            }
        }
        Ok(())
    }

    /// Windows of one exception must not overlap each other, nor may their
    /// after-midnight part overlap the next day's weekly windows.
    fn check_exception_overlaps(&self) -> Result<(), ScheduleError> {
        for (e, exception) in self.exceptions.iter().enumerate() {
            let windows = &exception.windows;
            for (i, first) in windows.iter().enumerate() {
                let first_span = Span::of(first.from, first.to);
                for (j, second) in windows.iter().enumerate().skip(i + 1) {
                    if let Some(span) = first_span.overlap(Span::of(second.from, second.to)) {
                        return Err(ScheduleError::Overlap {
                            first: exception_label(e, exception, i, first),
                            second: exception_label(e, exception, j, second),
                            when: describe_day_span(span),
                        });
                    }
                }
                let day = u32::from(MINUTES_PER_DAY);
                if first_span.end <= day {
                    continue;
                }
                let tail = Span {
                    start: 0,
                    end: first_span.end - day,
                };
                for weekday in self.weekdays_after(exception.date) {
                    for (w, window) in self.windows.iter().enumerate() {
                        if !window.days.contains_offset(weekday) {
                            continue;
                        }
                        let span = Span::of(window.from, window.to);
                        if let Some(overlap) = tail.overlap(span) {
                            return Err(ScheduleError::Overlap {
                                first: exception_label(e, exception, i, first),
                                second: weekly_label(w, window),
                                when: format!(
                                    "on the next day, {}, {}",
                                    DAY_NAMES[usize::from(weekday)],
                                    describe_day_span(overlap)
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Weekdays (0 = Monday) of the days after `date` that follow the weekly plan, so
    /// an exception's overnight tail reaches into them. A yearly date falls on every
    /// weekday over the years.
    fn weekdays_after(&self, date: CalendarDate) -> Vec<u8> {
        let dated = |date: Date| self.plan(date).is_weekly().then_some(date.weekday());
        match date {
            CalendarDate::On(date) => date
                .tomorrow()
                .ok()
                .and_then(dated)
                .map(|w| w.to_monday_zero_offset().unsigned_abs())
                .into_iter()
                .collect(),
            CalendarDate::Yearly { month, day } => {
                // Whether the next month-day is a yearly holiday or exception does not
                // depend on the year, except after 28 February: try a leap year and not.
                let next_is_weekly = [2000, 2001].iter().any(|&year| {
                    Date::new(year, month, day)
                        .and_then(|d| d.tomorrow())
                        .is_ok_and(|next| self.yearly_plan_is_weekly(next))
                });
                if next_is_weekly {
                    (0..7).collect()
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn yearly_plan_is_weekly(&self, date: Date) -> bool {
        let yearly_match =
            |d: CalendarDate| matches!(d, CalendarDate::Yearly { .. }) && d.matches(date);
        !self.exceptions.iter().any(|e| yearly_match(e.date))
            && !self.holidays.iter().any(|h| yearly_match(h.date))
    }
}

impl Plan<'_> {
    fn is_weekly(&self) -> bool {
        matches!(self, Plan::Weekly)
    }
}

fn check_length(
    from: TimeOfDay,
    to: TimeOfDay,
    label: impl Fn() -> String,
) -> Result<(), ScheduleError> {
    if from == TimeOfDay::END_OF_DAY {
        return Err(ScheduleError::StartsAtEndOfDay { window: label() });
    }
    if from == to {
        return Err(ScheduleError::EmptyWindow {
            window: label(),
            time: from.to_string(),
        });
    }
    Ok(())
}

fn check_duplicates(
    dates: impl Iterator<Item = CalendarDate>,
    list: &str,
) -> Result<(), ScheduleError> {
    let mut seen = BTreeSet::new();
    for date in dates {
        let key = date.to_string();
        if !seen.insert(key.clone()) {
            return Err(ScheduleError::DuplicateDate {
                list: list.to_owned(),
                date: key,
            });
        }
    }
    Ok(())
}

fn weekly_label(index: usize, window: &Window) -> String {
    format!(
        "schedule.windows[{index}] ({} {}-{}, agent {:?})",
        window.days, window.from, window.to, window.agent
    )
}

fn exception_label(e: usize, exception: &Exception, index: usize, window: &DayWindow) -> String {
    format!(
        "schedule.exceptions[{e}].windows[{index}] ({} {}-{}, agent {:?})",
        exception.date, window.from, window.to, window.agent
    )
}

fn minutes_label(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// "on fri 16:00-17:00", or "from sun 23:00 to mon 02:00" across midnight.
fn describe_week_span(span: Span) -> String {
    let day_len = u32::from(MINUTES_PER_DAY);
    let day_name = |minutes: u32| DAY_NAMES[(minutes / day_len) as usize % 7];
    let start_day = span.start / day_len;
    // An end at exactly midnight reads as 24:00 of the same day.
    let end_day = (span.end - 1) / day_len;
    let end_in_day = span.end - end_day * day_len;
    if start_day == end_day {
        format!(
            "on {} {}-{}",
            day_name(span.start),
            minutes_label(span.start % day_len),
            minutes_label(end_in_day)
        )
    } else {
        format!(
            "from {} {} to {} {}",
            day_name(span.start),
            minutes_label(span.start % day_len),
            day_name(span.end - 1),
            minutes_label(end_in_day)
        )
    }
}

/// Like [`describe_week_span`] for a span relative to one day (an exception's).
fn describe_day_span(span: Span) -> String {
    let day_len = u32::from(MINUTES_PER_DAY);
    if span.end <= day_len {
        format!("{}-{}", minutes_label(span.start), minutes_label(span.end))
    } else {
        format!(
            "{}-{} the next day",
            minutes_label(span.start % day_len),
            minutes_label(span.end - day_len)
        )
    }
}

/// Whether the part of a window on its start `day` (up to `day_end`) covers `at`.
fn covers_own_part(
    tz: &TimeZone,
    day: Date,
    day_end: Timestamp,
    from: TimeOfDay,
    to: TimeOfDay,
    at: Timestamp,
) -> Option<bool> {
    let start = wall_to_instant(tz, day, from)?;
    let end = if to > from {
        wall_to_instant(tz, day, to)?
    } else {
        day_end
    };
    Some(start <= at && at < end)
}

/// The tenant-zone calendar date whose [start, next start) contains `at`.
///
/// Usually the local date; it differs only where an overlap straddles midnight, because
/// a day starts at the first occurrence of its midnight.
fn day_containing(tz: &TimeZone, at: Timestamp) -> Option<Date> {
    let local = tz.to_datetime(at).date();
    if at < wall_to_instant(tz, local, TimeOfDay::MIDNIGHT)? {
        return local.yesterday().ok();
    }
    if at >= wall_to_instant(tz, local, TimeOfDay::END_OF_DAY)? {
        return local.tomorrow().ok();
    }
    Some(local)
}

/// The instant a wall-clock time on `date` means: a time in a spring-forward gap moves
/// to the moment the clocks jump, a time in a fall-back overlap means its first
/// occurrence. `None` only at the ends of jiff's range.
fn wall_to_instant(tz: &TimeZone, date: Date, time: TimeOfDay) -> Option<Timestamp> {
    if time >= TimeOfDay::END_OF_DAY {
        return wall_to_instant(tz, date.tomorrow().ok()?, TimeOfDay::MIDNIGHT);
    }
    let hour = i8::try_from(time.minutes() / 60).ok()?;
    let minute = i8::try_from(time.minutes() % 60).ok()?;
    let civil = date.to_datetime(Time::new(hour, minute, 0, 0).ok()?);
    let ambiguous = tz.to_ambiguous_timestamp(civil);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { .. } => {
            // `earlier` reads the wall time with the offset in force after the jump,
            // which lands just before the jump; the next transition is the jump itself.
            // `later` lands after it, so it bounds the answer should the data be odd.
            let before_jump = ambiguous.earlier().ok()?;
            let after_jump = ambiguous.later().ok()?;
            let jump = tz
                .following(before_jump)
                .next()
                .map(|transition| transition.timestamp());
            Some(jump.map_or(after_jump, |jump| jump.min(after_jump)))
        }
        AmbiguousOffset::Unambiguous { .. } | AmbiguousOffset::Fold { .. } => {
            ambiguous.earlier().ok()
        }
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
