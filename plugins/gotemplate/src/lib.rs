//! The built-in `gotemplate` renderer: Go `text/template` templates, rendered
//! byte for byte as upstream Versus (Go) renders them.
//!
//! - Data is a JSON document decoded as Go's `encoding/json` decodes it into
//!   `map[string]interface{}` (every number a float64, a repeated key keeps
//!   its last value, the top level must be an object or `null`). Only the
//!   top-level members the template can read are built (see `reads`); the
//!   rest are checked as JSON all the same.
//! - Missing keys behave as with Go's `missingkey=default`: they print
//!   `<no value>` and are false in `if`.
//! - The function map is upstream Versus's (`upper`, `default`, `replace`,
//!   `formatTime`, …) on top of Go's builtins; see "Template functions"
//!   below for every function's argument order.
//! - Values print as Go's `fmt` prints them (`1e+06`, `map[a:1]`), in
//!   actions and in `print`, `printf`, `toString`, ….
//!
//! The parser is the `gotmpl` crate's; the executor is ours (`exec/`), a
//! step-by-step port of Go's, so that errors name the line, column and
//! node Go names. Natively, the host calls [`render`],
//! [`check`] and [`Prepared`]; as a component, the `renderer` world's
//! `render` and `validate` exports wrap [`Parsed`] (templates kept parsed
//! for the instance's next calls) and [`check`].
//!
//! [`check`] rejects what Go's parser rejects, including what gotmpl lets
//! through: unbalanced blocks, undefined functions and undeclared
//! variables.
//!
//! The differential test (`tests/integration/template_diff`) renders a
//! corpus of templates with Go's own `text/template` and with this crate;
//! docs/templates.md lists what still differs and why. Known differences,
//! all on inputs alert templates do not meet:
//! - a cut inside a character (`truncate`, `slice` on a string) gives
//!   U+FFFD for each stray byte: Go keeps the bytes, which are not UTF-8;
//! - `range` over an integer and `{{else with}}` work, as in Go 1.22 and
//!   1.23 (upstream is built with Go 1.26);
//! - JSON nested deeper than 256 levels is refused (Go: 10 000);
//! - `regexMatch` lacks `\p{…}` classes and Unicode case folding;
//! - `%q` decides which characters to escape without Unicode's category
//!   tables, and `%x` on floats and the `#` flag on `%e %f %g` are not
//!   supported.
//!
//! # Template functions
//!
//! ## Versus functions
//!
//! Upstream Versus registers plain Go functions (`strings.ReplaceAll`,
//! `strings.TrimPrefix`, …) whose *first* parameter is the string to work
//! on. In a pipeline the piped value becomes the *last* argument, so
//! `{{ .x | replace "a" "b" }}` calls `replace "a" "b" .x` — replacing `b`
//! by `.x` inside `"a"`. Upstream's own documentation shows such pipelines,
//! but its code behaves as below, and so do we: templates render exactly as
//! they did under upstream. Write `{{ replace .x "a" "b" }}`.
//!
//! | Function | Arguments, in call order | Result |
//! |---|---|---|
//! | `upper` | `s` | `strings.ToUpper`: rune by rune, simple mappings (`ß` stays `ß`) |
//! | `lower` | `s` | `strings.ToLower` |
//! | `title` | `s` | `cases.Title(language.English)`: first cased letter of each word upper, the rest lower (`hELLO wORLD` → `Hello World`, `3rd` → `3Rd`) |
//! | `default` | `value, fallback` | `fallback` if `value` is nil, missing or `""`, else `value` (`0` and `false` are kept). Piped, `{{ .x \| default "y" }}` is `default "y" .x` and so always gives `"y"`; write `{{ default .x "y" }}` |
//! | `replace` | `s, old, new` | `strings.ReplaceAll(s, old, new)` |
//! | `replaceAll` | `s, old, new` | same as `replace` |
//! | `contains` | `s, substr` | `strings.Contains(s, substr)` |
//! | `trimPrefix` | `s, prefix` | `strings.TrimPrefix(s, prefix)` |
//! | `trimSuffix` | `s, suffix` | `strings.TrimSuffix(s, suffix)` |
//! | `split` | `s, sep` | `strings.Split(s, sep)`: a list of strings (`sep` `""` splits into characters) |
//! | `join` | `list, sep` | `strings.Join(list, sep)`: `list` must be a `[]string`, as `split` and `stringSlice` make; a JSON list is a `[]interface {}`, refused as in Go: write `join (stringSlice .list) sep` |
//! | `truncate` | `s, n` | the first `n` bytes of `s` (all of `s` if shorter). A character cut in half leaves U+FFFD per stray byte (Go leaves the bytes). `n` must be an integer, such as a literal or `len`: JSON numbers are float64 and are refused, as in Go. Negative `n` is an error |
//! | `formatTime` | `s` | `s` parsed as RFC 3339 and printed as `2006-01-02 15:04:05` in its own offset; `Invalid time` if it does not parse |
//! | `format` | `layout, t` | the time string `t` (RFC 3339, RFC 1123, RFC 822, RFC 850, `2006-01-02 15:04:05`, `2006-01-02`, `01/02/2006`, …) printed with the Go `layout`; `Invalid time format` if it does not parse; `Unsupported type for format: T` for a non-string |
//! | `toString` | `v` | `fmt.Sprintf("%v", v)` (nil prints `<nil>`) |
//! | `stringSlice` | `list` | the list with every element turned into its `%v` string |
//! | `escapeHTML` | `v` | `html.EscapeString(fmt.Sprint(v))`: `<` `>` `&` `'` `"` become `&lt;` `&gt;` `&amp;` `&#39;` `&#34;` |
//! | `dict` | `k1, v1, k2, v2, …` | a map; an odd count or a non-string key is an error |
//! | `list` | `v…` | a list of the arguments |
//! | `append` | `list, v…` | a new list with the values added (nil counts as an empty list) |
//! | `add` | `a, b` | `int + int` is an int; with a float64 (any JSON number) the sum is a float64; anything else concatenates the two `%v` strings (`add "a" 1` → `a1`) |
//! | `regexMatch` | `pattern, s` | whether `s` contains a match of the RE2 `pattern`; an invalid pattern gives `false`. Perl classes (`\d \w \s \b`) are ASCII, as in Go; `\p{…}` classes and Unicode case folding are not supported (the match is `false`) |
//! | `now` | | the current time in UTC as an RFC 3339 string with nanoseconds (Go returns a `time.Time`; `format` and `formatTime` read either), so `{{ now \| format "2006-01-02 15:04:05" }}` works as upstream |
//! | `env` | `name` | always `""`: it reads no environment at all. Upstream reads the gateway's environment; here templates cannot (no secret can reach a message), but upstream templates that call `env` still parse and render |
//! | `include` | `name, data` | always `""`: upstream's stub, registered so that templates calling it parse (it includes nothing there either) |
//!
//! `dict`'s maps have upstream's method `Set`: `{{ $d.Set "k" "v" }}`
//! sets the key and gives the map, and `$d` sees the key afterwards (a
//! copy of the map made before the call does not: Go's map is shared).
//!
//! ## Go's builtins
//!
//! `and or not len index slice call eq ne lt le gt ge` are gotmpl's, with
//! Go's semantics (upstream Versus replaces several of them with looser
//! versions; we keep Go's). `print println printf html js urlquery` are
//! re-implemented here so that values print as Go's `fmt` prints them.
//!
//! Every function checks its argument count and types and returns an error
//! instead of panicking.

mod data;
mod exec;
mod funcs;
mod gofmt;
mod parsed;
mod prepared;
mod reads;
mod structure;
mod timefmt;
mod tree;

#[cfg(target_arch = "wasm32")]
mod component;

#[cfg(test)]
mod tests;

use std::fmt;

/// Name the template is parsed under; it appears in error messages
/// (`template: message:3: …`).
const NAME: &str = "message";

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The data is not a JSON object.
    Data(String),
    /// The template does not parse, or calls an undefined function.
    Parse(String),
    /// Executing the template failed (bad argument, wrong type, …).
    Exec(String),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::Data(msg) => write!(f, "invalid template data: {msg}"),
            RenderError::Parse(msg) => write!(f, "template does not parse: {msg}"),
            RenderError::Exec(msg) => write!(f, "template failed: {msg}"),
        }
    }
}

impl std::error::Error for RenderError {}

pub use prepared::Prepared;

/// Renders `template` with `data_json` (a JSON document) as Go's
/// text/template would, with the Versus function map.
///
/// # Errors
///
/// See [`Prepared::parse`] and [`Prepared::render_json`].
pub fn render(template: &str, data_json: &str) -> Result<String, RenderError> {
    Prepared::parse(template)?.render_json(data_json)
}

pub use parsed::Parsed;

/// Parse-only check (used to validate templates at config load).
///
/// # Errors
///
/// See [`Prepared::parse`].
pub fn check(template: &str) -> Result<(), RenderError> {
    Prepared::parse(template).map(|_| ())
}
