//! The visitor's local calendar time, for "evening offer" or "weekend banner" rules.
//!
//! Hand-written instead of using `chrono` to keep the wasm build small; only the
//! proleptic Gregorian calendar and a fixed UTC offset are needed because the browser
//! (or the edge) already knows the visitor's current offset, DST included.

/// Milliseconds per day.
const MS_PER_DAY: i64 = 86_400_000;

/// The largest real UTC offset (UTC+14, Line Islands; UTC−12 is the smallest), in
/// minutes. Offsets beyond ±14h are clamped: they cannot be real and would only let
/// bad input push the date around.
pub const MAX_UTC_OFFSET_MINUTES: i32 = 14 * 60;

/// Day of the week.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    #[default]
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// From days since Monday (0 = Monday … 6 = Sunday); other values wrap around.
    pub fn from_monday_index(index: i64) -> Weekday {
        match index.rem_euclid(7) {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }

    /// Saturday or Sunday (the weekend in Russia and most of the world).
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Saturday | Weekday::Sunday)
    }
}

/// Meteorological season: three whole months each (Dec–Feb is northern winter).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Season {
    /// December–February in the north, June–August in the south.
    #[default]
    Winter,
    /// March–May in the north, September–November in the south.
    Spring,
    /// June–August in the north, December–February in the south.
    Summer,
    /// September–November in the north, March–May in the south.
    Autumn,
}

/// Which half of the globe the visitor is in; it flips the seasons.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Hemisphere {
    /// Northern hemisphere (the default: the target market and most visitors).
    #[default]
    North,
    /// Southern hemisphere.
    South,
}

/// ISO 3166-1 alpha-2 codes of countries that lie wholly or mostly south of the
/// equator and away from it, where seasons are the reverse of the north's.
const SOUTHERN_COUNTRIES: &[&str] = &[
    "AO", "AR", "AU", "BO", "BR", "BW", "CL", "FJ", "LS", "MG", "MU", "MW", "MZ", "NA", "NZ", "PE",
    "PY", "SZ", "UY", "ZA", "ZM", "ZW",
];

impl Hemisphere {
    /// The hemisphere for an ISO country code (any case), e.g. from the edge's geo
    /// lookup; unknown or missing → `North`.
    pub fn for_country(country: Option<&str>) -> Hemisphere {
        let code = country.unwrap_or("").trim().to_ascii_uppercase();
        if SOUTHERN_COUNTRIES.contains(&code.as_str()) {
            Hemisphere::South
        } else {
            Hemisphere::North
        }
    }
}

/// Coarse part of the day.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PartOfDay {
    /// 00:00–05:59.
    #[default]
    Night,
    /// 06:00–11:59.
    Morning,
    /// 12:00–17:59.
    Afternoon,
    /// 18:00–23:59.
    Evening,
}

impl PartOfDay {
    /// The part of the day an hour (0–23) falls in; larger values count as evening.
    pub fn from_hour(hour: u8) -> PartOfDay {
        match hour {
            0..=5 => PartOfDay::Night,
            6..=11 => PartOfDay::Morning,
            12..=17 => PartOfDay::Afternoon,
            _ => PartOfDay::Evening,
        }
    }
}

/// The visitor's local date and time and what conditions derive from it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalTime {
    /// Proleptic Gregorian year (can be ≤ 0 for absurd timestamps; never panics).
    pub year: i32,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
    /// 0–23.
    pub hour: u8,
    /// 0–59.
    pub minute: u8,
    /// Day of the week.
    pub weekday: Weekday,
    /// 1–366.
    pub day_of_year: u16,
    /// Meteorological season for the hemisphere given.
    pub season: Season,
    /// Night / morning / afternoon / evening by hour.
    pub part_of_day: PartOfDay,
    /// Saturday or Sunday.
    pub is_weekend: bool,
}

impl Default for LocalTime {
    /// The Unix epoch in UTC (1970-01-01, a Thursday), so a default is a real date.
    fn default() -> Self {
        EPOCH
    }
}

/// `local_time(0, 0, Hemisphere::North)`, spelled out so a default costs nothing.
const EPOCH: LocalTime = LocalTime {
    year: 1970,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    weekday: Weekday::Thursday,
    day_of_year: 1,
    season: Season::Winter,
    part_of_day: PartOfDay::Night,
    is_weekend: false,
};

/// The local calendar time at `now_ms` (Unix milliseconds, UTC) for a visitor
/// `utc_offset_minutes` east of UTC (Moscow: `+180`; New York in winter: `-300`).
///
/// Note the sign: JavaScript's `Date#getTimezoneOffset()` is minutes *west* of UTC,
/// so the browser layer must pass its negation. The offset is clamped to
/// ±[`MAX_UTC_OFFSET_MINUTES`]. Works for any `i64`, including negative (pre-1970)
/// timestamps, using Howard Hinnant's `civil_from_days` algorithm.
pub fn local_time(now_ms: i64, utc_offset_minutes: i32, hemisphere: Hemisphere) -> LocalTime {
    let offset = utc_offset_minutes.clamp(-MAX_UTC_OFFSET_MINUTES, MAX_UTC_OFFSET_MINUTES);
    let local_ms = now_ms.saturating_add(i64::from(offset) * 60_000);
    let days = local_ms.div_euclid(MS_PER_DAY);
    let ms_of_day = local_ms.rem_euclid(MS_PER_DAY);
    // Both in range by construction (0..24, 0..60); the fallbacks are unreachable.
    let hour = u8::try_from(ms_of_day / 3_600_000).unwrap_or(0);
    let minute = u8::try_from(ms_of_day / 60_000 % 60).unwrap_or(0);

    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 (day 0) was a Thursday, index 3 counting from Monday.
    let weekday = Weekday::from_monday_index(days.rem_euclid(7) + 3);
    LocalTime {
        year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
        month,
        day,
        hour,
        minute,
        weekday,
        day_of_year: day_of_year(year, month, day),
        season: season(month, hemisphere),
        part_of_day: PartOfDay::from_hour(hour),
        is_weekend: weekday.is_weekend(),
    }
}

/// Days from `a_ms` to `b_ms` (positive when `b` is later), fractional. Computed in
/// `i128` so extreme inputs cannot overflow.
pub fn days_between(a_ms: i64, b_ms: i64) -> f64 {
    (i128::from(b_ms) - i128::from(a_ms)) as f64 / MS_PER_DAY as f64
}

/// Howard Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>): days
/// since 1970-01-01 → (year, month 1–12, day 1–31) in the proleptic Gregorian
/// calendar. Exact for every `i64` day count the callers can produce (|days| < 2^47).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a "year".
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of March-based year, [0, 365]
    let mp = (5 * doy + 2) / 153; // March = 0, [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

/// Gregorian leap year rule.
fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// 1-based day of the year.
fn day_of_year(year: i64, month: u8, day: u8) -> u16 {
    const BEFORE_MONTH: [u16; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let before = BEFORE_MONTH
        .get(usize::from(month.saturating_sub(1)))
        .copied()
        .unwrap_or(0);
    let leap = u16::from(month > 2 && is_leap(year));
    before + leap + u16::from(day)
}

/// Meteorological season of a month, flipped for the southern hemisphere.
fn season(month: u8, hemisphere: Hemisphere) -> Season {
    let north = match month {
        3..=5 => Season::Spring,
        6..=8 => Season::Summer,
        9..=11 => Season::Autumn,
        _ => Season::Winter,
    };
    match hemisphere {
        Hemisphere::North => north,
        Hemisphere::South => match north {
            Season::Winter => Season::Summer,
            Season::Spring => Season::Autumn,
            Season::Summer => Season::Winter,
            Season::Autumn => Season::Spring,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Hemisphere::{North, South};
    use PartOfDay::*;
    use Season::*;
    use Weekday::*;

    // One positional argument per field keeps the expectation table compact.
    #[allow(clippy::too_many_arguments)]
    fn lt(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        weekday: Weekday,
        day_of_year: u16,
        season: Season,
    ) -> LocalTime {
        LocalTime {
            year,
            month,
            day,
            hour,
            minute,
            weekday,
            day_of_year,
            season,
            part_of_day: PartOfDay::from_hour(hour),
            is_weekend: weekday.is_weekend(),
        }
    }

    #[test]
    fn default_is_the_epoch() {
        assert_eq!(LocalTime::default(), local_time(0, 0, North));
    }

    #[test]
    fn known_timestamps() {
        // (unix seconds, offset minutes, hemisphere, expected)
        let cases = [
            // 2026-11-27T15:00Z in Moscow.
            (
                1_795_791_600,
                180,
                North,
                lt(2026, 11, 27, 18, 0, Friday, 331, Autumn),
            ),
            (0, 0, North, lt(1970, 1, 1, 0, 0, Thursday, 1, Winter)),
            // Leap days.
            (
                1_709_208_000,
                0,
                North,
                lt(2024, 2, 29, 12, 0, Thursday, 60, Winter),
            ),
            (
                951_782_400,
                0,
                North,
                lt(2000, 2, 29, 0, 0, Tuesday, 60, Winter),
            ),
            (
                1_735_689_540,
                0,
                North,
                lt(2024, 12, 31, 23, 59, Tuesday, 366, Winter),
            ),
            // 1900 is not a leap year: March 1st is day 60.
            (
                -2_203_891_200,
                0,
                North,
                lt(1900, 3, 1, 0, 0, Thursday, 60, Spring),
            ),
            // Negative timestamps.
            (
                -31_536_000,
                0,
                North,
                lt(1969, 1, 1, 0, 0, Wednesday, 1, Winter),
            ),
            (
                -11_670_976_800,
                0,
                North,
                lt(1600, 2, 29, 6, 0, Tuesday, 60, Winter),
            ),
            (
                -30_610_224_000,
                0,
                North,
                lt(1000, 1, 1, 0, 0, Wednesday, 1, Winter),
            ),
            // Offsets crossing midnight and the year boundary.
            (
                1_798_756_200,
                180,
                North,
                lt(2027, 1, 1, 1, 30, Friday, 1, Winter),
            ),
            (
                1_767_232_800,
                -300,
                North,
                lt(2025, 12, 31, 21, 0, Wednesday, 365, Winter),
            ),
            // Southern hemisphere: January is summer, November is spring.
            (
                1_767_232_800,
                0,
                South,
                lt(2026, 1, 1, 2, 0, Thursday, 1, Summer),
            ),
            (
                1_795_791_600,
                660,
                South,
                lt(2026, 11, 28, 2, 0, Saturday, 332, Spring),
            ),
        ];
        for (secs, offset, hemisphere, expected) in cases {
            assert_eq!(
                local_time(secs * 1000, offset, hemisphere),
                expected,
                "{secs} {offset}"
            );
        }
    }

    #[test]
    fn negative_millisecond_rounds_down() {
        let t = local_time(-1, 0, North);
        assert_eq!(
            (t.year, t.month, t.day, t.hour, t.minute, t.weekday),
            (1969, 12, 31, 23, 59, Wednesday)
        );
    }

    #[test]
    fn offset_is_clamped() {
        assert_eq!(local_time(0, 10_000, North), local_time(0, 840, North));
        assert_eq!(local_time(0, i32::MIN, North), local_time(0, -840, North));
    }

    #[test]
    fn parts_of_day_and_weekend() {
        let base = 1_795_737_600_000; // 2026-11-27T00:00Z, Friday
        let hours = [
            (0, Night),
            (5, Night),
            (6, Morning),
            (11, Morning),
            (12, Afternoon),
            (17, Afternoon),
            (18, Evening),
            (23, Evening),
        ];
        for (h, part) in hours {
            let t = local_time(base + h * 3_600_000, 0, North);
            assert_eq!((t.hour, t.part_of_day), (h as u8, part));
        }
        assert!(!local_time(base, 0, North).is_weekend);
        assert!(local_time(base + MS_PER_DAY, 0, North).is_weekend);
        assert!(local_time(base + 2 * MS_PER_DAY, 0, North).is_weekend);
        assert_eq!(local_time(base + 3 * MS_PER_DAY, 0, North).weekday, Monday);
    }

    #[test]
    fn every_day_round_trips_for_400_years() {
        // Consecutive days must advance the date by exactly one, over a full
        // Gregorian cycle on both sides of the epoch.
        let mut prev = civil_from_days(-146_097 - 1);
        for d in -146_097..146_097 {
            let cur = civil_from_days(d);
            let next_day = if prev.1 == cur.1 {
                (prev.0, prev.1, prev.2 + 1)
            } else {
                cur
            };
            assert_eq!(cur, next_day, "day {d}");
            if prev.1 != cur.1 {
                assert_eq!(cur.2, 1, "month starts on day 1 at {d}");
            }
            prev = cur;
        }
    }

    #[test]
    fn extremes_do_not_panic() {
        for ms in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX] {
            for offset in [i32::MIN, -840, 0, 840, i32::MAX] {
                for h in [North, South] {
                    let t = local_time(ms, offset, h);
                    assert!((1..=12).contains(&t.month));
                    assert!((1..=31).contains(&t.day));
                    assert!(t.hour < 24 && t.minute < 60);
                    assert!((1..=366).contains(&t.day_of_year));
                }
            }
        }
    }

    #[test]
    fn days_between_works() {
        assert_eq!(days_between(0, MS_PER_DAY), 1.0);
        assert_eq!(days_between(MS_PER_DAY, 0), -1.0);
        assert_eq!(days_between(0, MS_PER_DAY / 2), 0.5);
        assert!(days_between(i64::MIN, i64::MAX) > 0.0);
        assert!(days_between(i64::MAX, i64::MIN) < 0.0);
    }

    #[test]
    fn hemisphere_for_country() {
        assert_eq!(Hemisphere::for_country(Some("au")), South);
        assert_eq!(Hemisphere::for_country(Some(" BR ")), South);
        assert_eq!(Hemisphere::for_country(Some("RU")), North);
        assert_eq!(Hemisphere::for_country(None), North);
    }

    #[test]
    fn serializes_lowercase() {
        let json =
            serde_json::to_value(local_time(1_795_791_600_000, 180, North)).unwrap_or_default();
        assert_eq!(json["weekday"], "friday");
        assert_eq!(json["season"], "autumn");
        assert_eq!(json["partOfDay"], "evening");
        assert_eq!(json["dayOfYear"], 331);
        assert_eq!(json["isWeekend"], false);
    }

    proptest::proptest! {
        #[test]
        fn any_input_gives_valid_fields(ms in proptest::num::i64::ANY, off in proptest::num::i32::ANY) {
            let t = local_time(ms, off, North);
            proptest::prop_assert!((1..=12).contains(&t.month));
            proptest::prop_assert!((1..=31).contains(&t.day));
            proptest::prop_assert!(t.hour < 24 && t.minute < 60);
        }
    }
}
