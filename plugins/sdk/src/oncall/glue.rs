//! [`export_escalator!`](crate::export_escalator): the component glue of
//! an [`Escalator`](crate::oncall::Escalator). It converts the WIT types,
//! sends HTTP through the host import, logs a failed call and maps errors
//! back to WIT.

/// Exports an [`Escalator`](crate::oncall::Escalator) implementation as the
/// plugin's `versus:oncall/escalator@0.1.0` world. Call it once at the
/// crate root with the type's name, e.g.
/// `versus_plugin_sdk::export_escalator!(PagerDuty);`.
#[macro_export]
macro_rules! export_escalator {
    ($escalator:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::channel::versus::gateway::log::{Level, log};
            use $crate::channel::versus::gateway::types::PluginError;
            use $crate::escalator::versus::oncall::types as wit;
            use $crate::oncall;

            fn incident(i: wit::Incident) -> oncall::Incident {
                oncall::Incident {
                    id: i.id,
                    title: i.title,
                    severity: i.severity,
                    dedup_key: i.dedup_key,
                    summary: i.summary,
                    source: i.source,
                    labels_json: i.labels_json,
                    links: i
                        .links
                        .into_iter()
                        .map(|l| oncall::Link {
                            text: l.text,
                            url: l.url,
                        })
                        .collect(),
                    route: i.route,
                }
            }

            fn receipt(r: wit::EscalationReceipt) -> oncall::Receipt {
                oncall::Receipt {
                    id: r.id,
                    url: r.url,
                }
            }

            fn logged(op: &str, e: oncall::Error) -> PluginError {
                log(Level::Warn, &format!("{op} failed: {e}"));
                e.into()
            }

            struct Component;

            impl $crate::escalator::Guest for Component {
                fn validate_config(config_json: String) -> Result<(), PluginError> {
                    <$escalator as oncall::Escalator>::validate_config(&config_json)
                        .map_err(Into::into)
                }

                fn start(
                    i: wit::Incident,
                    config_json: String,
                ) -> Result<wit::EscalationReceipt, PluginError> {
                    <$escalator as oncall::Escalator>::start(
                        &incident(i),
                        &config_json,
                        &mut oncall::send_through_host,
                    )
                    .map(|r| wit::EscalationReceipt {
                        id: r.id,
                        url: r.url,
                    })
                    .map_err(|e| logged("start", e))
                }

                fn acknowledges() -> bool {
                    <$escalator as oncall::Escalator>::ACKNOWLEDGES
                }

                fn acknowledge(
                    i: wit::Incident,
                    r: wit::EscalationReceipt,
                    who: Option<String>,
                    config_json: String,
                ) -> Result<(), PluginError> {
                    <$escalator as oncall::Escalator>::acknowledge(
                        &incident(i),
                        &receipt(r),
                        who.as_deref(),
                        &config_json,
                        &mut oncall::send_through_host,
                    )
                    .map_err(|e| logged("acknowledge", e))
                }

                fn resolve(
                    i: wit::Incident,
                    r: wit::EscalationReceipt,
                    config_json: String,
                ) -> Result<(), PluginError> {
                    <$escalator as oncall::Escalator>::resolve(
                        &incident(i),
                        &receipt(r),
                        &config_json,
                        &mut oncall::send_through_host,
                    )
                    .map_err(|e| logged("resolve", e))
                }
            }

    $crate::escalator::export_escalator_world!(Component with_types_in $crate::escalator);
        };
    };
}
