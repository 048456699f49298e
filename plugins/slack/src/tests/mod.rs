//! Native unit tests for the Slack channel.

mod bodies;
mod channel;
mod config;
mod responses;
mod split;

use crate::{Config, EventInfo};

/// The incident id of the test events.
const ID: &str = "0b9f6c1e";

/// An alert's event: resolved or not, with an ACK link or not.
fn event(resolved: bool, ack_url: Option<&str>) -> EventInfo {
    EventInfo {
        id: ID.into(),
        resolved,
        severity: None,
        ack_url: ack_url.map(str::to_string),
        payload: "{}".into(),
    }
}

/// An update's event, carrying `payload` (what the gateway says of the
/// change).
fn facts(payload: &str) -> EventInfo {
    EventInfo {
        payload: payload.into(),
        ..event(false, None)
    }
}

/// A config with only the required keys.
fn minimal() -> Config {
    Config::parse(r#"{"token":"xoxb-test","channel_id":"C0123"}"#).expect("minimal config")
}

/// A config with `message_properties` merged in.
fn with_props(props: &str) -> Config {
    Config::parse(&format!(
        r#"{{"token":"xoxb-test","channel_id":"C0123","message_properties":{props}}}"#
    ))
    .expect("config with message_properties")
}
