//! `versus check --data`: every channel's template rendered against a
//! sample alert the way serving renders it (after the transforms, with the
//! data a template sees), so a render-time error shows before deploying.

use serde_json::value::RawValue;

use super::{Incident, Overrides, Transformed, template_data, transform};
use crate::pipeline::Pipeline;

/// Renders each channel's template with the alert `json`, printing one
/// line per channel; the number that failed. Errors when `json` is not a
/// JSON object.
pub async fn render_all(pipeline: &Pipeline, json: &str) -> anyhow::Result<usize> {
    let payload: Box<RawValue> = serde_json::from_str(json)
        .map_err(|e| anyhow::anyhow!("the sample alert is not valid JSON: {e}"))?;
    if !payload.get().trim_start().starts_with('{') {
        anyhow::bail!("the sample alert must be a JSON object, as one alert is posted");
    }
    let incident = Incident::new(payload, Overrides::default());
    let event = match transform(pipeline, &incident).await {
        Transformed::Keep(event) => event,
        Transformed::Dropped(reason) => {
            println!("render: a transform drops this alert ({reason}); nothing would be sent");
            return Ok(0);
        }
    };
    println!("render:");
    let mut failed = 0;
    for channel in &pipeline.channels {
        let data = template_data(&event, channel.ack_in_template, false);
        let path = channel.template_path.display();
        match pipeline.renderer.render(&channel.template, &data).await {
            Ok(text) => println!("  {} ({path}): ok, {} bytes", channel.name, text.len()),
            Err(e) => {
                failed += 1;
                let why = located(&path.to_string(), &e.to_string());
                println!("  {} ({path}): FAILS {why}", channel.name);
            }
        }
    }
    Ok(failed)
}

/// A render error that names the spot (Go's `template: message:3:7: …`,
/// as the built-in renderer words it) said as `at FILE:3:7: …`; any other
/// error as it is.
fn located(path: &str, error: &str) -> String {
    let spot = error.find("template: message:").and_then(|start| {
        let rest = &error[start + "template: message:".len()..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let line = digits(rest);
        let after_line = rest.get(line..)?.strip_prefix(':')?;
        let col = digits(after_line);
        let cause = after_line.get(col..)?.strip_prefix(':')?.trim_start();
        (line > 0 && col > 0).then(|| {
            format!(
                "at {path}:{}:{}: {cause}",
                &rest[..line],
                &after_line[..col]
            )
        })
    });
    spot.unwrap_or_else(|| format!("at {path}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::located;

    #[test]
    fn a_go_error_is_told_at_its_file_line_and_column() {
        let error = "invalid input: template failed: template: message:3:7: executing \"message\" at <.x>: boom";
        assert_eq!(
            located("t.tmpl", error),
            "at t.tmpl:3:7: executing \"message\" at <.x>: boom"
        );
        assert_eq!(
            located("t.tmpl", "plugin trapped"),
            "at t.tmpl: plugin trapped"
        );
        assert_eq!(
            located("t.tmpl", "template: message:3: parse"),
            "at t.tmpl: template: message:3: parse"
        );
    }
}
