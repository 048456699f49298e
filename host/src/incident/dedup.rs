//! Dedup keys: which alerts are the same problem, so that a repeat joins
//! the open incident instead of paging again and a resolve cancels it. One
//! rule for each kind of sender the gateway recognises, first match wins:
//! - Alertmanager (webhook v4): the receiver and `groupKey`, as the
//!   `alertmanager` transform computes it (`am:…`);
//! - CloudWatch, bare or wrapped by SNS in `Message`: `AlarmArn`, else
//!   `AlarmName` with `AWSAccountId` and `Region` (`cw:…`);
//! - Grafana, and any sender with a top-level `groupKey` (`gk:…`);
//! - any JSON object: a top-level `dedup_key` or `fingerprint` (`key:…`).
//!
//! The `?dedup_key=` query override wins over all of them. Keys are hashed
//! to a fixed length, so a sender's long identifiers never make long Redis
//! keys, and prefixed by their rule, so two rules never collide.

use alertmanager::scan::{members, text};
use sha2::{Digest, Sha256};

use super::facts::Members;

/// The key of an alert body, if its sender is recognised.
pub fn of(payload: &str) -> Option<String> {
    from(&Members::scan(payload)?)
}

/// The key of an alert body with these `members`, if its sender is
/// recognised.
pub(super) fn from(m: &Members<'_>) -> Option<String> {
    let group_key = text(m.am.group_key);
    if text(m.am.version).as_deref() == Some("4")
        && let Some(group) = &group_key
    {
        let receiver = text(m.am.receiver).unwrap_or_default();
        return Some(alertmanager::dedup_key(&receiver, group));
    }
    let (arn, name) = (text(m.alarm_arn), text(m.alarm_name));
    if let Some(alarm) = alarm(arn, name, text(m.account), text(m.region)) {
        return Some(alarm);
    }
    if let Some(inner) = text(m.message)
        && let Ok(Some([arn, name, account, region])) =
            members(&inner, ["AlarmArn", "AlarmName", "AWSAccountId", "Region"])
        && let Some(alarm) = alarm(text(arn), text(name), text(account), text(region))
    {
        return Some(alarm);
    }
    if let Some(group) = group_key {
        return Some(hashed("gk:", &group));
    }
    text(m.dedup_key)
        .or_else(|| text(m.fingerprint))
        .map(|k| given(&k))
}

/// The key for a sender's own identifier (`dedup_key`, `fingerprint` or
/// `?dedup_key=`).
pub fn given(key: &str) -> String {
    hashed("key:", key)
}

fn alarm(
    arn: Option<String>,
    name: Option<String>,
    account: Option<String>,
    region: Option<String>,
) -> Option<String> {
    match (arn, name) {
        (Some(arn), _) => Some(hashed("cw:", &arn)),
        (None, Some(name)) => Some(hashed(
            "cw:",
            &format!(
                "{name}\n{}\n{}",
                account.unwrap_or_default(),
                region.unwrap_or_default()
            ),
        )),
        (None, None) => None,
    }
}

/// `prefix` and the first 16 hex digits of the SHA-256 of `identity`.
fn hashed(prefix: &str, identity: &str) -> String {
    let digest = Sha256::digest(identity.as_bytes());
    format!("{prefix}{}", &hex::encode(digest)[..16])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(v: serde_json::Value) -> Option<String> {
        of(&v.to_string())
    }

    #[test]
    fn each_sender_has_its_key() {
        let am = include_str!("../../../tests/fixtures/alertmanager/critical.json");
        assert_eq!(
            of(am),
            Some("am:f95f60a72c4c733f".into()),
            "as the transform pins it"
        );

        let cw = json!({"AlarmName": "cpu", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:cpu", "NewStateValue": "ALARM"});
        let cw_ok = json!({"AlarmName": "cpu", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:cpu", "NewStateValue": "OK"});
        let in_sns = json!({"Type": "Notification", "Message": cw_ok.to_string()});
        assert!(key(cw.clone()).is_some_and(|k| k.starts_with("cw:")));
        assert_eq!(key(cw.clone()), key(cw_ok));
        assert_eq!(key(cw), key(in_sns));
        // Without an ARN: the name in its account and region.
        let named = |account: &str| json!({"AlarmName": "cpu", "AWSAccountId": account, "Region": "EU (Ireland)"});
        assert_eq!(key(named("1")), key(named("1")));
        assert_ne!(key(named("1")), key(named("2")));

        let grafana = |state: &str| json!({"version": "1", "groupKey": "{}:{alertname=\"cpu\"}", "status": state});
        assert!(key(grafana("firing")).is_some_and(|k| k.starts_with("gk:")));
        assert_eq!(key(grafana("firing")), key(grafana("resolved")));

        assert_eq!(
            key(json!({"dedup_key": "db-1/disk"})),
            Some(given("db-1/disk"))
        );
        assert_eq!(key(json!({"fingerprint": "ab12"})), Some(given("ab12")));
        assert_eq!(key(json!({"title": "disk full"})), None);
        assert_eq!(key(json!({"dedup_key": 7})), None);
        assert_eq!(of("[1]"), None);
    }

    #[test]
    fn rules_never_collide() {
        assert_ne!(hashed("gk:", "x"), hashed("key:", "x"));
        assert_eq!(given("x").len(), "key:".len() + 16);
    }
}
