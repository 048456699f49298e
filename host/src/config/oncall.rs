//! What the `oncall:` section must hold before a gateway may page: a
//! provider this build has, and an ACK signing key that is really secret.

use super::ConfigError;
use super::sections::{AWS_INCIDENT_MANAGER, OnCallConfig};
use super::validate::invalid;

/// The on-call provider in the host. The others are escalator plugins
/// (`crate::escalator::NAMES`). Upstream also names `servicenow` and
/// `incident_io`; they are not implemented yet.
pub const PROVIDERS: &[&str] = &[AWS_INCIDENT_MANAGER];

/// Every on-call provider this build has: AWS, then the escalators.
pub fn providers() -> Vec<&'static str> {
    PROVIDERS
        .iter()
        .chain(crate::escalator::NAMES)
        .copied()
        .collect()
}

/// Shortest accepted `oncall.ack_secret`, in bytes: the HMAC-SHA256 key of
/// every ACK link. 32 bytes is SHA-256's own size (RFC 2104 advises no key
/// shorter than the hash output), and what `openssl rand -hex 32` prints
/// half of.
pub const MIN_ACK_SECRET_LEN: usize = 32;

/// Placeholder values the project's own files ship for the ACK secret
/// (`deploy/kubernetes/secret.yaml`): long enough to pass the length check,
/// and public, so a gateway started with one signs links anyone can forge.
/// Compared without regard to ASCII case.
pub const ACK_SECRET_PLACEHOLDERS: &[&str] = &["replace-with-a-long-random-string"];

/// How to make a good key, for the error messages.
const ACK_SECRET_FIX: &str = "set VERSUS_ACK_SECRET (or oncall.ack_secret) to a random value of \
     at least 32 bytes, e.g. the output of `openssl rand -hex 32`, or leave it unset to have one \
     generated and shared through Redis";

/// Whether on-call is switched on (for every alert, or for those that ask).
pub(super) fn is_on(oncall: &OnCallConfig) -> bool {
    oncall.enable || oncall.initialized_only
}

/// Whether this build has the provider `name`.
pub(super) fn has_provider(name: &str) -> bool {
    providers().contains(&name.trim())
}

/// Whether `name` is a user's escalator plugin: not a provider this build
/// has, a valid plugin name, and a plugin directory to load it from
/// (`plugins.dir/<name>.wasm`; a missing file fails the load, naming it).
pub(super) fn is_user_provider(name: &str, plugins_dir: Option<&std::path::Path>) -> bool {
    let name = name.trim();
    !has_provider(name) && plugins_dir.is_some() && super::valid_plugin_name(name)
}

/// The providers every page goes to: `oncall.providers` when set, else
/// `oncall.provider`.
pub fn targets(oncall: &OnCallConfig) -> Vec<String> {
    if oncall.providers.is_empty() {
        vec![oncall.provider.trim().to_string()]
    } else {
        oncall
            .providers
            .iter()
            .map(|p| p.trim().to_string())
            .collect()
    }
}

/// Each target is a provider this build has (its section complete) or one
/// user plugin; `provider` and `providers` do not disagree; no target
/// twice.
fn validate_targets(
    oncall: &OnCallConfig,
    plugins_dir: Option<&std::path::Path>,
) -> Result<(), ConfigError> {
    let key = if oncall.providers.is_empty() {
        "oncall.provider"
    } else {
        "oncall.providers"
    };
    let single = oncall.provider.trim();
    let targets = targets(oncall);
    if key == "oncall.providers"
        && single != AWS_INCIDENT_MANAGER
        && !targets.iter().any(|t| t == single)
    {
        return Err(invalid(
            "oncall.provider",
            &format!(
                "is `{single}`, which oncall.providers does not list: set only oncall.providers \
                 (every provider to page), or add `{single}` to it"
            ),
        ));
    }
    let mut users = 0;
    for (i, name) in targets.iter().enumerate() {
        if targets[..i].contains(name) {
            return Err(invalid(key, &format!("names `{name}` twice")));
        }
        if is_user_provider(name, plugins_dir) {
            users += 1;
            continue;
        }
        if !has_provider(name) {
            return Err(invalid(
                key,
                &format!(
                    "`{name}` is not an on-call provider this build has (it has: {}): set it to \
                     one of those or leave it out (or set ONCALL_PROVIDER), set plugins.dir to \
                     load your own escalator plugin of that name, or turn on-call off \
                     (oncall.enable and oncall.initialized_only)",
                    providers().join(", ")
                ),
            ));
        }
        oncall.sections.validate(name)?;
    }
    if users > 1 {
        return Err(invalid(
            key,
            "names more than one escalator plugin of your own; they would share \
             oncall.plugin_settings: page through one of them",
        ));
    }
    Ok(())
}

/// Checks the provider (only while on-call is on: a config that leaves it
/// off may name any provider, as upstream's do) and the ACK secret (when it
/// is set at all). Errors never repeat the secret.
pub(super) fn validate(
    oncall: &OnCallConfig,
    plugins_dir: Option<&std::path::Path>,
) -> Result<(), ConfigError> {
    if is_on(oncall) {
        validate_targets(oncall, plugins_dir)?;
    }
    if !(oncall.plugin_settings.is_null() || oncall.plugin_settings.is_object()) {
        return Err(invalid(
            "oncall.plugin_settings",
            "must be a mapping of settings for your escalator plugin",
        ));
    }
    let secret = oncall.ack_secret.trim();
    if secret.is_empty() {
        return Ok(());
    }
    if ACK_SECRET_PLACEHOLDERS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(secret))
    {
        return Err(invalid(
            "oncall.ack_secret",
            &format!(
                "is the placeholder from the example files, so anyone could sign ACK links: \
                 {ACK_SECRET_FIX}"
            ),
        ));
    }
    if secret.len() < MIN_ACK_SECRET_LEN {
        return Err(invalid(
            "oncall.ack_secret",
            &format!(
                "is {} bytes long, shorter than {MIN_ACK_SECRET_LEN}: {ACK_SECRET_FIX}",
                secret.len()
            ),
        ));
    }
    Ok(())
}

impl super::Config {
    /// The escalator plugins on-call pages through, one per target that
    /// is not AWS Incident Manager (which is in the host); none while
    /// on-call is off.
    pub fn escalators(&self) -> Vec<crate::escalator::EscalatorSpec> {
        if !is_on(&self.oncall) {
            return Vec::new();
        }
        targets(&self.oncall)
            .iter()
            .filter_map(|name| self.escalator(name))
            .collect()
    }

    /// The escalator plugin of target `name`, if it is one.
    fn escalator(&self, name: &str) -> Option<crate::escalator::EscalatorSpec> {
        if is_user_provider(name, self.plugins.dir.as_deref()) {
            // A user's escalator calls only what `plugins.overrides.<name>`
            // allows.
            let settings = match &self.oncall.plugin_settings {
                serde_json::Value::Null => serde_json::json!({}),
                settings => settings.clone(),
            };
            return Some(crate::escalator::EscalatorSpec {
                name: name.to_string(),
                config_json: settings.to_string(),
                limits: self.plugins.limits_for(name),
            });
        }
        self.oncall.sections.spec(name, self)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;

    fn load(yaml: &str) -> Result<Config, String> {
        Config::from_yaml(yaml, Path::new("c.yaml"), |_| None)
            .map(|(c, _)| c)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_provider_we_have_or_none_loads_with_oncall_on() {
        for oncall in [
            "  enable: true\n",
            "  enable: true\n  provider: aws_incident_manager\n",
            "  initialized_only: true\n  provider: ' aws_incident_manager '\n",
        ] {
            let c = load(&format!("oncall:\n{oncall}")).expect(oncall);
            assert!(c.oncall.enable || c.oncall.initialized_only, "{oncall}");
        }
        // Off, any provider loads (upstream configs name theirs).
        load("oncall:\n  provider: servicenow\n").expect("off");
    }

    #[test]
    fn a_real_ack_secret_loads_and_is_never_repeated() {
        let good = "0123456789abcdef0123456789abcdef";
        let c = load(&format!("oncall:\n  ack_secret: {good}\n")).expect("32 bytes");
        assert_eq!(c.oncall.ack_secret, good);
        let short = &good[..31];
        let err = load(&format!("oncall:\n  ack_secret: {short}\n")).expect_err("31 bytes");
        assert!(
            err.contains("VERSUS_ACK_SECRET") && err.contains("openssl rand -hex 32"),
            "{err}"
        );
        assert!(!err.contains(short), "{err}");
    }

    #[test]
    fn pagerduty_is_a_provider_that_needs_its_routing_key() {
        let err = load("oncall:\n  enable: true\n  provider: pagerduty\n").expect_err("no key");
        assert!(
            err.contains("oncall.pagerduty.routing_key") && err.contains("PAGERDUTY_ROUTING_KEY"),
            "{err}"
        );
        let yaml = "oncall:\n  enable: true\n  provider: pagerduty\n  pagerduty:\n    \
                    routing_key: k1\n    api_url: ftp://x\n";
        let err = load(yaml).expect_err("bad url");
        assert!(err.contains("oncall.pagerduty.api_url"), "{err}");
        let yaml = "oncall:\n  enable: true\n  provider: pagerduty\n  pagerduty:\n    \
                    routing_key: k1\n    other_routing_keys:\n      infra: k2\n      unset:\n";
        let c = load(yaml).expect("loads");
        let spec = c.escalators().pop().expect("an escalator");
        assert_eq!(spec.name, "pagerduty");
        assert_eq!(
            spec.limits.allowed_hosts,
            ["https://events.pagerduty.com:443"]
        );
        let settings: serde_json::Value = serde_json::from_str(&spec.config_json).expect("json");
        assert_eq!(settings["routing_key"], "k1");
        assert_eq!(settings["other_routing_keys"]["infra"], "k2");
        // Both keys are masked in the log; the entry left empty is no route.
        let secrets: Vec<&str> = c.secrets().iter().map(|s| s.value).collect();
        assert!(
            secrets.contains(&"k1") && secrets.contains(&"k2"),
            "{secrets:?}"
        );
        let p = &c.oncall.sections;
        assert_eq!(
            p.route("pagerduty", Some("infra")),
            Ok(Some("infra".into()))
        );
        let err = p
            .route("pagerduty", Some("unset"))
            .expect_err("empty entry");
        assert!(err.contains("(known: infra)"), "{err}");
        // AWS stays in the host: no escalator plugin.
        let c = load("oncall:\n  enable: true\n").expect("aws");
        assert!(c.escalators().is_empty());
    }

    #[test]
    fn several_providers_each_page_and_the_single_key_still_works() {
        const PD: &str = "  pagerduty:\n    routing_key: k1\n";
        let yaml = format!(
            "oncall:\n  enable: true\n  providers: [aws_incident_manager, pagerduty]\n{PD}"
        );
        let c = load(&yaml).expect("loads");
        assert_eq!(
            super::targets(&c.oncall),
            ["aws_incident_manager", "pagerduty"]
        );
        let names: Vec<String> = c.escalators().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["pagerduty"]);
        // `provider` may repeat one of them, not name another.
        let agree = yaml.replace("  providers:", "  provider: pagerduty\n  providers:");
        load(&agree).expect("provider is one of providers");
        let err = load(&yaml.replace("  providers:", "  provider: opsgenie\n  providers:"))
            .expect_err("disagree");
        assert!(
            err.contains("oncall.provider") && err.contains("oncall.providers"),
            "{err}"
        );
        let err = load(&format!(
            "oncall:\n  enable: true\n  providers: [pagerduty, pagerduty]\n{PD}"
        ))
        .expect_err("twice");
        assert!(
            err.contains("oncall.providers") && err.contains("twice"),
            "{err}"
        );
        let err = load("oncall:\n  enable: true\n  providers: [aws_incident_manager, pagerduty]\n")
            .expect_err("no routing key");
        assert!(err.contains("oncall.pagerduty.routing_key"), "{err}");
        let err = load("oncall:\n  enable: true\n  providers: [aws_incident_manager, nope]\n")
            .expect_err("unknown");
        assert!(
            err.contains("oncall.providers") && err.contains("`nope`"),
            "{err}"
        );
        // The single key alone: one target.
        let c = load(&format!(
            "oncall:\n  enable: true\n  provider: pagerduty\n{PD}"
        ))
        .expect("one");
        assert_eq!(super::targets(&c.oncall), ["pagerduty"]);
    }

    #[test]
    fn another_provider_is_a_plugin_from_the_plugin_directory() {
        let yaml = "oncall:\n  enable: true\n  provider: my-pager\n  plugin_settings:\n    \
                    url: https://pager.example/page\n    api_token: t0ps3cret-t0ps3cret\n";
        let err = load(yaml).expect_err("no plugins.dir");
        assert!(err.contains("plugins.dir"), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let plugins = format!("plugins:\n  dir: {}\n", dir.path().display());
        let c = load(&format!("{yaml}{plugins}")).expect("loads");
        let spec = c.escalators().pop().expect("the user's escalator");
        assert_eq!(spec.name, "my-pager");
        let settings: serde_json::Value = serde_json::from_str(&spec.config_json).expect("json");
        assert_eq!(settings["url"], "https://pager.example/page");
        assert!(spec.limits.allowed_hosts.is_empty(), "{:?}", spec.limits);
        let secrets: Vec<&str> = c.secrets().iter().map(|s| s.value).collect();
        assert!(secrets.contains(&"t0ps3cret-t0ps3cret"), "{secrets:?}");
        let err = load("oncall:\n  plugin_settings: [1]\n").expect_err("a list");
        assert!(err.contains("oncall.plugin_settings"), "{err}");
    }
}
