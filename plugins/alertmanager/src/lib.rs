//! Built-in transformer for Prometheus Alertmanager webhooks.
//!
//! An Alertmanager notification (webhook payload `version` "4") tells us
//! three things the host acts on: whether the group resolved, how severe it
//! is, and which group it belongs to. This plugin copies them onto the event's
//! typed fields and leaves the payload text untouched. Anything that is not an
//! Alertmanager payload passes through unchanged, so the transform is safe to
//! enable for every source.
//!
//! The gateway links this crate natively and applies the same rule
//! ([`derive`]) to every body it accepts, from the members it scans anyway.
//! So the default pipeline runs no transform: as a plugin, this is for
//! pipelines that list it (it then finds what the gateway already found)
//! and an example of the `transformer` world.

pub mod scan;

use scan::{Raw, first_element, members, text};

/// Prefix of every dedup key this plugin makes, so that keys from other
/// sources can never collide with Alertmanager ones.
pub const DEDUP_PREFIX: &str = "am:";

/// What an Alertmanager payload says about its event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The payload's `status` is `resolved`.
    pub resolved: bool,
    /// Lower-cased `severity` label, if the payload carries one.
    pub severity: Option<String>,
    /// Stable key for the Alertmanager group (see [`dedup_key`]).
    pub dedup_key: String,
}

/// Reads `payload` and, if it is an Alertmanager webhook, returns what it says.
///
/// Returns `Ok(None)` for any other JSON document, and `Err` with a reason
/// when `payload` is not JSON at all.
///
/// Strategy: a payload counts as Alertmanager's when it is an object with
/// `version` "4", an `alerts` array and a string `groupKey`; that is the
/// documented webhook shape and nothing else plausible carries all three.
/// Severity comes from `commonLabels` first, because that is the group's
/// shared value, then from the first alert. The payload is checked in full
/// but only these members are decoded (see `scan`): building the whole
/// document cost most of this plugin's time.
pub fn inspect(payload: &str) -> Result<Option<Derived>, String> {
    let fields = [
        "version",
        "alerts",
        "groupKey",
        "status",
        "commonLabels",
        "receiver",
    ];
    let Some([version, alerts, group_key, status, common, receiver]) =
        members(payload, fields).map_err(|e| format!("payload is not valid JSON: {e}"))?
    else {
        return Ok(None);
    };
    Ok(derive(&Scanned {
        version,
        alerts,
        group_key,
        status,
        common_labels: common,
        receiver,
    }))
}

/// The top-level members of a body that [`derive`] reads, as raw JSON
/// text; `None` where the body has no such member.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scanned<'a> {
    /// `version`.
    pub version: Option<&'a Raw>,
    /// `alerts`.
    pub alerts: Option<&'a Raw>,
    /// `groupKey`.
    pub group_key: Option<&'a Raw>,
    /// `status`.
    pub status: Option<&'a Raw>,
    /// `commonLabels`.
    pub common_labels: Option<&'a Raw>,
    /// `receiver`.
    pub receiver: Option<&'a Raw>,
}

/// What a body with these members says, if it is an Alertmanager webhook
/// (see [`inspect`]). The gateway scans a body once for everything it
/// reads and calls this itself, so its own answers and this plugin's are
/// the same by construction.
pub fn derive(m: &Scanned<'_>) -> Option<Derived> {
    let is_v4 = text(m.version).as_deref() == Some("4");
    let alerts = m.alerts.filter(|a| a.get().starts_with('['));
    let group_key = text(m.group_key);
    let (true, Some(alerts), Some(group_key)) = (is_v4, alerts, group_key) else {
        return None;
    };

    let resolved = text(m.status).is_some_and(|s| s.eq_ignore_ascii_case("resolved"));
    let severity = label(m.common_labels, "severity")
        .or_else(|| label(first_element(alerts).and_then(|a| label_set(a)), "severity"))
        .map(|s| s.to_lowercase());
    let receiver = text(m.receiver).unwrap_or_default();

    Some(Derived {
        resolved,
        severity,
        dedup_key: dedup_key(&receiver, &group_key),
    })
}

/// An alert's `labels`.
fn label_set(alert: &Raw) -> Option<&Raw> {
    members(alert.get(), ["labels"]).ok().flatten()?[0]
}

/// A non-empty string label from a label set, trimmed.
fn label(labels: Option<&Raw>, name: &str) -> Option<String> {
    let [value] = members(labels?.get(), [name]).ok().flatten()?;
    let value = text(value)?;
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The dedup key for an Alertmanager group: `am:` and 16 lower-case hex digits.
///
/// The digits are the 64-bit FNV-1a hash of the receiver's bytes, one zero
/// byte, then the `groupKey`'s bytes. The zero byte keeps `("a", "bc")` and
/// `("ab", "c")` apart.
///
/// Stability: the key is stored in the on-call state and compared across
/// gateway replicas and upgrades, so this function must give the same output
/// for the same input in every process and every version. That is why it is
/// a hand-written FNV-1a with its published constants rather than `std`'s
/// `DefaultHasher`, whose algorithm and seed are allowed to change. Changing
/// this function is a breaking change to stored state.
pub fn dedup_key(receiver: &str, group_key: &str) -> String {
    let mut hash = Fnv1a64::new();
    hash.write(receiver.as_bytes());
    hash.write(&[0]);
    hash.write(group_key.as_bytes());
    format!("{DEDUP_PREFIX}{:016x}", hash.finish())
}

/// 64-bit FNV-1a, as specified by Fowler, Noll and Vo.
struct Fnv1a64(u64);

impl Fnv1a64 {
    /// The FNV-1a 64-bit offset basis.
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    /// The FNV 64-bit prime, 2^40 + 2^8 + 0xb3.
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        Self(Self::OFFSET_BASIS)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue: WIT types in, [`crate::inspect`], WIT types out.

    // The bindings and the allocator are the SDK's.
    use versus_plugin_sdk::{Event, PluginError, TransformOutcome};

    struct Alertmanager;

    impl versus_plugin_sdk::transformer::Guest for Alertmanager {
        fn transform(mut event: Event) -> Result<TransformOutcome, PluginError> {
            match crate::inspect(&event.payload) {
                Err(reason) => Err(PluginError::InvalidInput(reason)),
                Ok(None) => Ok(TransformOutcome::Keep(event)),
                Ok(Some(derived)) => {
                    event.resolved = derived.resolved;
                    // Keep a severity set earlier (e.g. a query override)
                    // when the payload has none of its own.
                    if derived.severity.is_some() {
                        event.severity = derived.severity;
                    }
                    event.dedup_key = Some(derived.dedup_key);
                    Ok(TransformOutcome::Keep(event))
                }
            }
        }
    }

    versus_plugin_sdk::export_transformer!(Alertmanager);
}

#[cfg(test)]
mod tests;
