//! The environment: `${VAR}` expansion of the raw text and the variables
//! that override keys after parsing. Lookups go through a function so tests
//! can pass their own variables instead of changing the process environment.

use std::str::FromStr;

use super::{Config, ConfigError, lenient};

/// Reads a variable from the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Replaces `${VAR}` with the variable's value (empty when unset), as
/// upstream Versus does. `$` not followed by `{` is left alone.
pub fn expand_env(text: &str) -> String {
    expand_with(text, process_env)
}

/// [`expand_env`] with the variable lookup passed in.
pub fn expand_with(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push_str(&lookup(&after[..end]).unwrap_or_default());
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Applies the environment overrides to a parsed config. A variable wins
/// over the file when it is set and not blank. Upstream Versus reads the
/// same variables, so deployments that set them keep working. Each
/// built-in channel's variables (`SLACK_TOKEN`, `TELEGRAM_CHAT_ID`, …) are
/// read by its module in `channel`; the others are:
///
/// | Variable                                 | Key                                          |
/// |------------------------------------------|----------------------------------------------|
/// | `HOST`                                   | `host`                                       |
/// | `PORT`                                   | `port`                                       |
/// | `PUBLIC_HOST`                            | `public_host`                                |
/// | `DEBUG_BODY`                             | `alert.debug_body`                           |
/// | `PROXY_URL`                              | `proxy.url`                                  |
/// | `PROXY_USERNAME`                         | `proxy.username`                             |
/// | `PROXY_PASSWORD`                         | `proxy.password`                             |
/// | `ONCALL_ENABLE`                          | `oncall.enable`                              |
/// | `ONCALL_INITIALIZED_ONLY`                | `oncall.initialized_only`                    |
/// | `ONCALL_WAIT_MINUTES`                    | `oncall.wait_minutes`                        |
/// | `ONCALL_PROVIDER`                        | `oncall.provider`                            |
/// | `AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN` | `oncall.aws_incident_manager.response_plan_arn` |
/// | `VERSUS_ACK_SECRET` (ours)               | `oncall.ack_secret`                          |
/// | `REDIS_HOST`                             | `redis.host`                                 |
/// | `REDIS_PORT`                             | `redis.port`                                 |
/// | `REDIS_PASSWORD`                         | `redis.password`                             |
/// | `REDIS_DB`                               | `redis.db`                                   |
/// | `REDIS_INSECURE_SKIP_VERIFY`             | `redis.insecure_skip_verify`                 |
/// | `REDIS_TLS` (ours)                       | `redis.tls`                                  |
/// | `REDIS_URL` (ours)                       | `redis.url`                                  |
/// | `REDIS_KEY_PREFIX` (ours)                | `redis.key_prefix`                           |
/// | `REDIS_CLUSTER`                          | `redis.cluster`                              |
/// | `REDIS_CA_CERT`                          | `redis.ca_cert`                              |
///
/// Booleans accept `true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`; a
/// value that does not parse is an error naming the variable.
pub fn apply_env_overrides(
    config: &mut Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let o = EnvReader(env);
    o.text("HOST", &mut config.host);
    o.parsed("PORT", &mut config.port, "a port number (1-65535)")?;
    o.text("PUBLIC_HOST", &mut config.public_host);

    o.flag("DEBUG_BODY", &mut config.alert.debug_body)?;
    // Each built-in channel reads its own (see `channel`).
    config.alert.channels.read_env(&o)?;
    o.text("PROXY_URL", &mut config.proxy.url);
    o.text("PROXY_USERNAME", &mut config.proxy.username);
    o.text("PROXY_PASSWORD", &mut config.proxy.password);

    let oncall = &mut config.oncall;
    // Each built-in escalator reads its own (see `escalator`).
    oncall.sections.read_env(&o)?;
    o.flag("ONCALL_ENABLE", &mut oncall.enable)?;
    o.flag("ONCALL_INITIALIZED_ONLY", &mut oncall.initialized_only)?;
    o.parsed(
        "ONCALL_WAIT_MINUTES",
        &mut oncall.wait_minutes,
        "a number of minutes, e.g. 3 or 0.5",
    )?;
    o.text("ONCALL_PROVIDER", &mut oncall.provider);
    o.text(
        "AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN",
        &mut oncall.aws_incident_manager.response_plan_arn,
    );
    o.text("VERSUS_ACK_SECRET", &mut oncall.ack_secret);

    let redis = &mut config.redis;
    o.text("REDIS_HOST", &mut redis.host);
    o.parsed("REDIS_PORT", &mut redis.port, "a port number (1-65535)")?;
    o.text("REDIS_PASSWORD", &mut redis.password);
    o.parsed("REDIS_DB", &mut redis.db, "a database number, e.g. 0")?;
    o.flag(
        "REDIS_INSECURE_SKIP_VERIFY",
        &mut redis.insecure_skip_verify,
    )?;
    o.flag("REDIS_TLS", &mut redis.tls)?;
    if let Some(url) = o.get("REDIS_URL") {
        redis.url = Some(url);
    }
    o.text("REDIS_KEY_PREFIX", &mut redis.key_prefix);
    o.flag("REDIS_CLUSTER", &mut redis.cluster)?;
    o.text("REDIS_CA_CERT", &mut redis.ca_cert);
    Ok(())
}

/// Setters that read one variable each.
pub struct EnvReader<'a>(&'a dyn Fn(&str) -> Option<String>);

impl EnvReader<'_> {
    /// The variable's value when it is set and not blank.
    pub fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    /// Text: replaces the value when the variable is set and not blank.
    pub fn text(&self, var: &str, slot: &mut String) {
        if let Some(v) = self.get(var) {
            *slot = v;
        }
    }

    /// A boolean (`true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`).
    pub fn flag(&self, var: &str, slot: &mut bool) -> Result<(), ConfigError> {
        if let Some(v) = self.get(var) {
            *slot = lenient::parse_bool(&v).ok_or_else(|| bad(var, &v, "true or false"))?;
        }
        Ok(())
    }

    /// A value of type `T`; `what` says what is expected.
    pub fn parsed<T: FromStr>(
        &self,
        var: &str,
        slot: &mut T,
        what: &str,
    ) -> Result<(), ConfigError> {
        if let Some(v) = self.get(var) {
            *slot = v.trim().parse().map_err(|_| bad(var, &v, what))?;
        }
        Ok(())
    }
}

fn bad(var: &str, value: &str, what: &str) -> ConfigError {
    ConfigError::Env {
        var: var.to_string(),
        message: format!("`{value}` is not {what}: fix or unset the variable"),
    }
}
