//! Go's `time.Parse(layout, value)`.
//!
//! Zones follow Go running with `Local` = UTC (as in a container): `Z`, a
//! zero offset or the name `UTC` give zone `UTC`; another numeric offset
//! gives a nameless zone; another name (`PST`) is kept with offset zero,
//! since Go cannot know its offset either (`GMT+3` style names do carry one).

use super::{LONG_DAYS, LONG_MONTHS, Std, Time, days_in, is_leap, next_chunk};

/// Go's `skip`: removes the literal `prefix` from `value`, where a run of
/// spaces in the layout matches a run of spaces in the value.
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
    while let Some(p) = prefix.as_bytes().first() {
        if *p == b' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if value.as_bytes().first() != Some(p) {
            return None;
        }
        prefix = &prefix[1..];
        value = &value[1..];
    }
    Some(value)
}

fn digit(s: &str, i: usize) -> Option<u32> {
    s.as_bytes()
        .get(i)
        .filter(|b| b.is_ascii_digit())
        .map(|b| u32::from(b - b'0'))
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let first = digit(s, 0)?;
    match digit(s, 1) {
        Some(second) => Some((first * 10 + second, &s[2..])),
        None if fixed => None,
        None => Some((first, &s[1..])),
    }
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(s: &str, fixed: bool) -> Option<(u32, &str)> {
    let mut n = 0;
    let mut i = 0;
    while i < 3
        && let Some(d) = digit(s, i)
    {
        n = n * 10 + d;
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, &s[i..]))
}

/// Go's `lookup`: an ASCII case-insensitive prefix match against `names`
/// (cut to `len` bytes each when `len` is given).
fn lookup<'a>(names: &[&str], len: Option<usize>, value: &'a str) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = len.and_then(|n| name.get(..n)).unwrap_or(name);
        let head = value.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &value[name.len()..]))
    })
}

/// Go's `parseNanoseconds`: `value[..n]` is a separator and digits.
fn nanoseconds(value: &str, n: usize) -> Option<u32> {
    if !matches!(value.as_bytes().first(), Some(b'.' | b',')) {
        return None;
    }
    let digits = value.get(1..n.min(10))?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut ns: u32 = digits.parse().unwrap_or(0);
    for _ in digits.len()..9 {
        ns *= 10;
    }
    Some(ns)
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn zone_len(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if let Some(rest) = value.strip_prefix("GMT") {
        return Some(3 + gmt_suffix_len(rest));
    }
    if b[0] == b'+' || b[0] == b'-' {
        let (n, _) = signed_hours(value)?;
        return Some(n);
    }
    let upper = b
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if b[3] == b'T' || value.starts_with("WITA") => Some(4),
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: `+h`/`-hh` (at most 23 hours) after a zone
/// name, as its length and signed hours.
fn signed_hours(value: &str) -> Option<(usize, i32)> {
    let sign = match value.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = value[1..].bytes().take_while(u8::is_ascii_digit).count();
    let hours: u64 = value[1..=digits].parse().ok()?;
    let hours = i32::try_from(hours).ok().filter(|h| *h <= 23)?;
    Some((1 + digits, sign * hours))
}

fn gmt_suffix_len(value: &str) -> usize {
    signed_hours(value).map_or(0, |(n, _)| n)
}

/// Parses `value` with the Go `layout`, as `time.Parse` does.
pub(crate) fn parse(layout: &str, value: &str) -> Option<Time> {
    let mut layout = layout;
    let mut value = value;
    let (mut year, mut month, mut day, mut yday) = (0i64, None, None, None);
    let (mut hour, mut min, mut sec, mut nanos) = (0u32, 0u32, 0u32, 0u32);
    let (mut am, mut pm) = (false, false);
    let mut utc = false;
    let mut offset: Option<i32> = None;
    let mut zone_name = String::new();

    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        value = skip(value, prefix)?;
        let Some(std) = std else {
            if !value.is_empty() {
                return None;
            }
            break;
        };
        layout = suffix;
        match std {
            Std::Year => {
                let y: i64 = value.get(..2)?.parse().ok()?;
                value = &value[2..];
                year = if y >= 69 { y + 1900 } else { y + 2000 };
            }
            Std::LongYear => {
                digit(value, 0)?;
                year = value.get(..4)?.parse().ok()?;
                value = &value[4..];
            }
            Std::Month | Std::LongMonth => {
                let len = (std == Std::Month).then_some(3);
                let (m, rest) = lookup(&LONG_MONTHS, len, value)?;
                month = Some(u32::try_from(m).ok()? + 1);
                value = rest;
            }
            Std::NumMonth | Std::ZeroMonth => {
                let (m, rest) = getnum(value, std == Std::ZeroMonth)?;
                if !(1..=12).contains(&m) {
                    return None;
                }
                month = Some(m);
                value = rest;
            }
            Std::WeekDay | Std::LongWeekDay => {
                let len = (std == Std::WeekDay).then_some(3);
                value = lookup(&LONG_DAYS, len, value)?.1;
            }
            Std::Day | Std::UnderDay | Std::ZeroDay => {
                if std == Std::UnderDay {
                    value = value.strip_prefix(' ').unwrap_or(value);
                }
                let (d, rest) = getnum(value, std == Std::ZeroDay)?;
                day = Some(d);
                value = rest;
            }
            Std::UnderYearDay | Std::ZeroYearDay => {
                if std == Std::UnderYearDay {
                    for _ in 0..2 {
                        value = value.strip_prefix(' ').unwrap_or(value);
                    }
                }
                let (d, rest) = getnum3(value, std == Std::ZeroYearDay)?;
                yday = Some(d);
                value = rest;
            }
            Std::Hour => {
                (hour, value) = getnum(value, false)?;
                if hour >= 24 {
                    return None;
                }
            }
            Std::Hour12 | Std::ZeroHour12 => {
                (hour, value) = getnum(value, std == Std::ZeroHour12)?;
                if hour > 12 {
                    return None;
                }
            }
            Std::Minute | Std::ZeroMinute => {
                (min, value) = getnum(value, std == Std::ZeroMinute)?;
                if min >= 60 {
                    return None;
                }
            }
            Std::Second | Std::ZeroSecond => {
                (sec, value) = getnum(value, std == Std::ZeroSecond)?;
                if sec >= 60 {
                    return None;
                }
                // A fractional second in the value that the layout does not
                // mention is accepted anyway.
                let b = value.as_bytes();
                if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
                    let next_is_frac = matches!(next_chunk(layout).1, Some(Std::Frac { .. }));
                    if !next_is_frac {
                        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                        nanos = nanoseconds(value, n)?;
                        value = &value[n..];
                    }
                }
            }
            Std::PM | Std::Pm => {
                let (a, p) = if std == Std::PM {
                    ("AM", "PM")
                } else {
                    ("am", "pm")
                };
                let head = value.get(..2)?;
                if head == p {
                    pm = true;
                } else if head == a {
                    am = true;
                } else {
                    return None;
                }
                value = &value[2..];
            }
            Std::Zone {
                iso,
                colon,
                seconds,
                short,
            } => {
                if iso && !seconds && value.starts_with('Z') {
                    value = &value[1..];
                    utc = true;
                    continue;
                }
                let b = value.as_bytes();
                let (h, m, s, len) = match (colon, seconds, short) {
                    (true, false, _) if b.len() >= 6 && b[3] == b':' => (1..3, 4..6, None, 6),
                    (true, true, _) if b.len() >= 9 && b[3] == b':' && b[6] == b':' => {
                        (1..3, 4..6, Some(7..9), 9)
                    }
                    (false, true, _) if b.len() >= 7 => (1..3, 3..5, Some(5..7), 7),
                    (false, false, true) if b.len() >= 3 => (1..3, 0..0, None, 3),
                    (false, false, false) if b.len() >= 5 => (1..3, 3..5, None, 5),
                    _ => return None,
                };
                let two = |r: std::ops::Range<usize>| -> Option<i32> {
                    if r.is_empty() {
                        return Some(0);
                    }
                    let (n, _) = getnum(value.get(r)?, true)?;
                    i32::try_from(n).ok()
                };
                let total = (two(h)? * 60 + two(m)?) * 60 + s.map_or(Some(0), two)?;
                offset = Some(match b[0] {
                    b'+' => total,
                    b'-' => -total,
                    _ => return None,
                });
                value = &value[len..];
            }
            Std::TZ => {
                if value.starts_with("UTC") {
                    value = &value[3..];
                    utc = true;
                    continue;
                }
                let n = zone_len(value)?;
                zone_name = value[..n].to_string();
                value = &value[n..];
            }
            Std::Frac { digits, trim, .. } => {
                if trim {
                    let b = value.as_bytes();
                    if b.len() < 2 || !matches!(b[0], b'.' | b',') || !b[1].is_ascii_digit() {
                        continue;
                    }
                    let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                    nanos = nanoseconds(value, n)?;
                    value = &value[n..];
                } else {
                    let n = 1 + digits;
                    if value.len() < n {
                        return None;
                    }
                    nanos = nanoseconds(value, n)?;
                    value = value.get(n..)?;
                }
            }
        }
    }

    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }

    let (month, day) = match yday {
        Some(yd) => {
            let max = if is_leap(year) { 366 } else { 365 };
            if yd < 1 || yd > max {
                return None;
            }
            let mut m = 1;
            let mut d = yd;
            while d > days_in(m, year) {
                d -= days_in(m, year);
                m += 1;
            }
            if month.is_some_and(|mm| mm != m) || day.is_some_and(|dd| dd != d) {
                return None;
            }
            (m, d)
        }
        None => (month.unwrap_or(1), day.unwrap_or(1)),
    };
    if day < 1 || day > days_in(month, year) {
        return None;
    }

    let (offset, zone) = if utc {
        (0, "UTC".to_string())
    } else if let Some(off) = offset {
        // Go reuses `Local` (here UTC) when the offset matches it.
        if off == 0 && (zone_name.is_empty() || zone_name == "UTC") {
            (0, "UTC".to_string())
        } else {
            (off, zone_name)
        }
    } else if !zone_name.is_empty() {
        let gmt = zone_name
            .strip_prefix("GMT")
            .and_then(signed_hours)
            .map_or(0, |(_, h)| h * 3600);
        (gmt, zone_name)
    } else {
        (0, "UTC".to_string())
    };

    Some(Time {
        year,
        month,
        day,
        hour,
        min,
        sec,
        nanos,
        offset,
        zone,
    })
}
