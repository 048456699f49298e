//! [`export_chat_channel!`](crate::export_chat_channel): the component glue
//! of a [`Channel`](crate::chat::Channel). It converts the WIT types, sends
//! HTTP through the host import, logs a failed call and maps errors back
//! to WIT.

/// Exports a [`Channel`](crate::chat::Channel) implementation as the
/// plugin's `versus:gateway/channel@0.2.0` world: `deliver`, `update` (told
/// of every [`Change`](crate::chat::Change), paging failed included) and
/// `validate-config`. Call it once at the crate root with the type's name,
/// e.g. `versus_plugin_sdk::export_chat_channel!(Telegram);`. The plugin
/// crate needs no other dependency for it: the bindings live in the SDK.
#[macro_export]
macro_rules! export_chat_channel {
    ($channel:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::channel::versus::gateway::http;
            use $crate::channel::versus::gateway::log::{Level, log};
            use $crate::channel::versus::gateway::types::{Event, PluginError, Receipt};
            use $crate::channel_v2::versus::gateway0_2_0::status::StatusChange;
            use $crate::chat;

            struct Component;

            impl $crate::channel_v2::Guest for Component {
                fn deliver(
                    message: String,
                    event: Event,
                    config_json: String,
                ) -> Result<Receipt, PluginError> {
                    let info = chat::EventInfo::from(event);
                    let outcome = <$channel as chat::Channel>::deliver(
                        &message,
                        &info,
                        &config_json,
                        &mut chat::send_through_host,
                    );
                    match outcome {
                        Ok(r) => Ok(Receipt {
                            destination: r.destination,
                            message_id: r.message_id,
                        }),
                        Err(e) => {
                            log(Level::Warn, &format!("delivery failed: {e}"));
                            Err(e.into())
                        }
                    }
                }

                fn update(
                    receipt: Receipt,
                    change: StatusChange,
                    message: String,
                    event: Event,
                    config_json: String,
                ) -> Result<(), PluginError> {
                    let receipt = chat::Receipt {
                        destination: receipt.destination,
                        message_id: receipt.message_id,
                    };
                    let change = match change {
                        StatusChange::Acknowledged => chat::Change::Acknowledged,
                        StatusChange::Escalated => chat::Change::Escalated,
                        StatusChange::Resolved => chat::Change::Resolved,
                        StatusChange::PagingFailed => chat::Change::PagingFailed,
                    };
                    <$channel as chat::Channel>::update(
                        &receipt,
                        change,
                        &message,
                        &chat::EventInfo::from(event),
                        &config_json,
                        &mut chat::send_through_host,
                    )
                    .map_err(|e| {
                        log(Level::Warn, &format!("update failed: {e}"));
                        e.into()
                    })
                }

                fn validate_config(config_json: String) -> Result<(), PluginError> {
                    <$channel as chat::Channel>::validate_config(&config_json).map_err(Into::into)
                }
            }

    $crate::channel_v2::export_channel_v2!(Component with_types_in $crate::channel_v2);
        };
    };
}
