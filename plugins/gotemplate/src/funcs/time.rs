//! `formatTime` and `format`: time strings reprinted with Go layouts.

use gotmpl::{TemplateError, Value};

use super::{string_arg, want_args};
use crate::gofmt::type_name;
use crate::timefmt;

type Result = std::result::Result<Value, TemplateError>;

/// Go's `time.RFC3339`.
const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

/// The layouts upstream's `format` tries, in its order, after RFC 3339.
const FORMAT_LAYOUTS: [&str; 12] = [
    RFC3339,
    "2006-01-02T15:04:05.999999999Z07:00", // RFC3339Nano
    "Mon, 02 Jan 2006 15:04:05 MST",       // RFC1123
    "Mon, 02 Jan 2006 15:04:05 -0700",     // RFC1123Z
    "02 Jan 06 15:04 MST",                 // RFC822
    "02 Jan 06 15:04 -0700",               // RFC822Z
    "Monday, 02-Jan-06 15:04:05 MST",      // RFC850
    "2006-01-02T15:04:05",
    "2006-01-02 15:04:05",
    "2006/01/02 15:04:05",
    "2006-01-02",
    "01/02/2006",
];

/// `now`: the current time (the plugin's WASI wall clock) in UTC, as an
/// RFC 3339 string with nanoseconds, which `format` and `formatTime` read.
pub(super) fn now(args: &[Value]) -> Result {
    want_args("now", args, 0)?;
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    let t = timefmt::Time::from_unix(secs, since.subsec_nanos());
    Ok(Value::String(
        t.format("2006-01-02T15:04:05.999999999Z07:00").into(),
    ))
}

/// `formatTime s`: RFC 3339 in, `2006-01-02 15:04:05` out.
pub(super) fn format_time(args: &[Value]) -> Result {
    want_args("formatTime", args, 1)?;
    let s = string_arg("formatTime", &args[0])?;
    let text = match timefmt::parse(RFC3339, s) {
        Some(t) => t.format("2006-01-02 15:04:05"),
        None => "Invalid time".to_string(),
    };
    Ok(Value::String(text.into()))
}

/// `format layout t`: a time string reprinted with a Go layout.
pub(super) fn format(args: &[Value]) -> Result {
    want_args("format", args, 2)?;
    let layout = string_arg("format", &args[0])?;
    let text = match &args[1] {
        Value::String(s) => FORMAT_LAYOUTS
            .iter()
            .find_map(|l| timefmt::parse(l, s))
            .map_or_else(|| "Invalid time format".to_string(), |t| t.format(layout)),
        other => format!("Unsupported type for format: {}", type_name(other)),
    };
    Ok(Value::String(text.into()))
}
