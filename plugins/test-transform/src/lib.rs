//! A transformer for the host's integration tests: it drops an event whose
//! payload is an object with a string `drop` field, giving that string as
//! the reason, and keeps every other event unchanged. It lets tests reach
//! the `202 Accepted` path, which no built-in transform takes.
//!
//! Built from source by the host's tests; never committed as a binary.

use serde_json::Value;

/// The payload field that asks for a drop; its string value is the reason.
pub const DROP_FIELD: &str = "drop";

/// The drop reason `payload` asks for, or `None` to keep the event.
/// A payload that is not JSON is kept: the host's own checks reject those.
pub fn drop_reason(payload: &str) -> Option<String> {
    let doc: Value = serde_json::from_str(payload).ok()?;
    doc.get(DROP_FIELD)?.as_str().map(str::to_owned)
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue: WIT event in, [`crate::drop_reason`], outcome out.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({ world: "transformer", path: "../../wit" });

    struct TestTransform;

    impl Guest for TestTransform {
        fn transform(event: Event) -> Result<TransformOutcome, PluginError> {
            Ok(match crate::drop_reason(&event.payload) {
                Some(reason) => TransformOutcome::Drop(reason),
                None => TransformOutcome::Keep(event),
            })
        }
    }

    export!(TestTransform);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_only_when_asked_with_a_string() {
        assert_eq!(
            drop_reason(r#"{"drop":"maintenance window"}"#).as_deref(),
            Some("maintenance window")
        );
        assert_eq!(drop_reason(r#"{"status":"firing"}"#), None);
        assert_eq!(drop_reason(r#"{"drop":true}"#), None);
        assert_eq!(drop_reason(r#"[{"drop":"x"}]"#), None);
        assert_eq!(drop_reason("not json"), None);
    }
}
