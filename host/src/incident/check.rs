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
                println!("  {} ({path}): FAILS: {e}", channel.name);
            }
        }
    }
    Ok(failed)
}
