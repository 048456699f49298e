//! Native unit tests for the Slack channel.

mod bodies;
mod channel;
mod config;
mod responses;
mod split;

use crate::Config;

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
