//! Go's reference-time layouts (`2006-01-02 15:04:05`, `Jan _2`, `Z07:00`, …):
//! the layout tokenizer and `Time.Format`; parsing is in [`mod@parse`].
//!
//! Only what templates need: a parsed time keeps the civil fields and UTC
//! offset it was written with and is formatted in that same zone, so no
//! time-zone database is involved.

mod parse;
#[cfg(test)]
mod tests;

pub(crate) use parse::parse;

/// One element of a layout: Go's `std*` constants.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TZ,
    /// `Z0700`-style zones: the flags are (Z variant, colons, seconds, hours only).
    Zone {
        iso: bool,
        colon: bool,
        seconds: bool,
        short: bool,
    },
    /// `.000` (fixed digits, `trim` false) or `.999` (trailing zeros trimmed).
    Frac {
        digits: usize,
        trim: bool,
        sep: char,
    },
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn starts_lower(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

/// Splits `layout` at its first element: (literal prefix, element, rest).
/// Mirrors Go's `nextStdChunk`, including its quirks (`Janet` is literal,
/// `_2006` is `_` then the year).
fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    for i in 0..b.len() {
        let found = |n: usize, std: Std| Some((&layout[..i], Some(std), &layout[i + n..]));
        let hit = match b[i] {
            b'J' if at(i, "January") => found(7, Std::LongMonth),
            b'J' if at(i, "Jan") && !starts_lower(&layout[i + 3..]) => found(3, Std::Month),
            b'M' if at(i, "Monday") => found(6, Std::LongWeekDay),
            b'M' if at(i, "Mon") && !starts_lower(&layout[i + 3..]) => found(3, Std::WeekDay),
            b'M' if at(i, "MST") => found(3, Std::TZ),
            b'0' => match b.get(i + 1) {
                Some(b'1') => found(2, Std::ZeroMonth),
                Some(b'2') => found(2, Std::ZeroDay),
                Some(b'3') => found(2, Std::ZeroHour12),
                Some(b'4') => found(2, Std::ZeroMinute),
                Some(b'5') => found(2, Std::ZeroSecond),
                Some(b'6') => found(2, Std::Year),
                Some(b'0') if b.get(i + 2) == Some(&b'2') => found(3, Std::ZeroYearDay),
                _ => None,
            },
            b'1' if b.get(i + 1) == Some(&b'5') => found(2, Std::Hour),
            b'1' => found(1, Std::NumMonth),
            b'2' if at(i, "2006") => found(4, Std::LongYear),
            b'2' => found(1, Std::Day),
            b'_' if at(i, "_2006") => {
                Some((&layout[..i + 1], Some(Std::LongYear), &layout[i + 5..]))
            }
            b'_' if at(i, "_2") => found(2, Std::UnderDay),
            b'_' if at(i, "__2") => found(3, Std::UnderYearDay),
            b'3' => found(1, Std::Hour12),
            b'4' => found(1, Std::Minute),
            b'5' => found(1, Std::Second),
            b'P' if b.get(i + 1) == Some(&b'M') => found(2, Std::PM),
            b'p' if b.get(i + 1) == Some(&b'm') => found(2, Std::Pm),
            b'-' | b'Z' => {
                let iso = b[i] == b'Z';
                let zone = |colon, seconds, short| Std::Zone {
                    iso,
                    colon,
                    seconds,
                    short,
                };
                let c = char::from(b[i]);
                if at(i, &format!("{c}070000")) {
                    found(7, zone(false, true, false))
                } else if at(i, &format!("{c}07:00:00")) {
                    found(9, zone(true, true, false))
                } else if at(i, &format!("{c}0700")) {
                    found(5, zone(false, false, false))
                } else if at(i, &format!("{c}07:00")) {
                    found(6, zone(true, false, false))
                } else if at(i, &format!("{c}07")) {
                    found(3, zone(false, false, true))
                } else {
                    None
                }
            }
            sep @ (b'.' | b',') if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while b.get(j) == Some(&ch) {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    let std = Std::Frac {
                        digits: j - (i + 1),
                        trim: ch == b'9',
                        sep: char::from(sep),
                    };
                    Some((&layout[..i], Some(std), &layout[j..]))
                }
            }
            _ => None,
        };
        if let Some(hit) = hit {
            return hit;
        }
    }
    (layout, None, "")
}

/// A civil time with the UTC offset it was written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Time {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) min: u32,
    pub(crate) sec: u32,
    pub(crate) nanos: u32,
    /// Seconds east of UTC.
    pub(crate) offset: i32,
    /// The zone's abbreviation; empty for a bare numeric offset (Go's
    /// `FixedZone("", offset)`), which `MST` prints as `-0700`.
    pub(crate) zone: String,
}

pub(crate) fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Time {
    /// The UTC time `secs` seconds and `nanos` after the Unix epoch.
    pub(crate) fn from_unix(secs: i64, nanos: u32) -> Self {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Inverse of `days_from_civil` (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            min: (rem % 3600 / 60) as u32,
            sec: (rem % 60) as u32,
            nanos,
            offset: 0,
            zone: "UTC".into(),
        }
    }
}

/// Go's `appendInt`: decimal, zero-padded to `width`, sign first.
fn push_int(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", n.unsigned_abs()));
}

impl Time {
    fn weekday(&self) -> usize {
        let days = days_from_civil(self.year, self.month, self.day);
        usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)
    }

    fn year_day(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) - days_from_civil(self.year, 1, 1) + 1
    }

    /// Go's `Time.Format(layout)`.
    pub(crate) fn format(&self, layout: &str) -> String {
        let mut out = String::with_capacity(layout.len() + 10);
        let mut rest = layout;
        loop {
            let (prefix, std, suffix) = next_chunk(rest);
            out.push_str(prefix);
            let Some(std) = std else { break };
            rest = suffix;
            self.push_std(&mut out, std);
        }
        out
    }

    fn push_std(&self, out: &mut String, std: Std) {
        let month_name = LONG_MONTHS
            .get(self.month.saturating_sub(1) as usize)
            .copied()
            .unwrap_or("%!Month");
        let hour12 = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        match std {
            Std::Year => push_int(out, self.year.abs() % 100, 2),
            Std::LongYear => push_int(out, self.year, 4),
            Std::Month => out.push_str(month_name.get(..3).unwrap_or(month_name)),
            Std::LongMonth => out.push_str(month_name),
            Std::NumMonth => push_int(out, self.month.into(), 0),
            Std::ZeroMonth => push_int(out, self.month.into(), 2),
            Std::WeekDay => out.push_str(&LONG_DAYS[self.weekday()][..3]),
            Std::LongWeekDay => out.push_str(LONG_DAYS[self.weekday()]),
            Std::Day => push_int(out, self.day.into(), 0),
            Std::UnderDay => {
                if self.day < 10 {
                    out.push(' ');
                }
                push_int(out, self.day.into(), 0);
            }
            Std::ZeroDay => push_int(out, self.day.into(), 2),
            Std::UnderYearDay => {
                let yday = self.year_day();
                if yday < 100 {
                    out.push(' ');
                    if yday < 10 {
                        out.push(' ');
                    }
                }
                push_int(out, yday, 0);
            }
            Std::ZeroYearDay => push_int(out, self.year_day(), 3),
            Std::Hour => push_int(out, self.hour.into(), 2),
            Std::Hour12 => push_int(out, hour12.into(), 0),
            Std::ZeroHour12 => push_int(out, hour12.into(), 2),
            Std::Minute => push_int(out, self.min.into(), 0),
            Std::ZeroMinute => push_int(out, self.min.into(), 2),
            Std::Second => push_int(out, self.sec.into(), 0),
            Std::ZeroSecond => push_int(out, self.sec.into(), 2),
            Std::PM => out.push_str(if self.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => out.push_str(if self.hour >= 12 { "pm" } else { "am" }),
            Std::Zone {
                iso,
                colon,
                seconds,
                short,
            } => {
                if iso && self.offset == 0 {
                    out.push('Z');
                    return;
                }
                let abs = self.offset.unsigned_abs();
                out.push(if self.offset < 0 { '-' } else { '+' });
                push_int(out, (abs / 3600).into(), 2);
                if colon {
                    out.push(':');
                }
                if !short {
                    push_int(out, (abs / 60 % 60).into(), 2);
                }
                if seconds {
                    if colon {
                        out.push(':');
                    }
                    push_int(out, (abs % 60).into(), 2);
                }
            }
            Std::TZ => {
                if self.zone.is_empty() {
                    let minutes = self.offset / 60;
                    out.push(if minutes < 0 { '-' } else { '+' });
                    let minutes = minutes.unsigned_abs();
                    push_int(out, (minutes / 60).into(), 2);
                    push_int(out, (minutes % 60).into(), 2);
                } else {
                    out.push_str(&self.zone);
                }
            }
            Std::Frac { digits, trim, sep } => {
                let all = format!("{:09}", self.nanos);
                let mut n = digits.min(9);
                if trim {
                    while n > 0 && all.as_bytes()[n - 1] == b'0' {
                        n -= 1;
                    }
                    if n == 0 {
                        return;
                    }
                }
                out.push(sep);
                out.push_str(&all[..n]);
            }
        }
    }
}
