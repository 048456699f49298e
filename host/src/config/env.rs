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
/// same variables, so deployments that set them keep working:
///
/// | Variable                                 | Key                                          |
/// |------------------------------------------|----------------------------------------------|
/// | `HOST`                                   | `host`                                       |
/// | `PORT`                                   | `port`                                       |
/// | `PUBLIC_HOST`                            | `public_host`                                |
/// | `DEBUG_BODY`                             | `alert.debug_body`                           |
/// | `SLACK_ENABLE`                           | `alert.slack.enable`                         |
/// | `SLACK_TOKEN`                            | `alert.slack.token`                          |
/// | `SLACK_CHANNEL_ID`                       | `alert.slack.channel_id`                     |
/// | `SLACK_API_URL` (ours)                   | `alert.slack.api_url`                        |
/// | `TELEGRAM_ENABLE`                        | `alert.telegram.enable`                      |
/// | `TELEGRAM_BOT_TOKEN`                     | `alert.telegram.bot_token`                   |
/// | `TELEGRAM_CHAT_ID`                       | `alert.telegram.chat_id`                     |
/// | `TELEGRAM_USE_PROXY`                     | `alert.telegram.use_proxy`                   |
/// | `TELEGRAM_API_URL` (ours)                | `alert.telegram.api_url`                     |
/// | `EMAIL_ENABLE`                           | `alert.email.enable`                         |
/// | `SMTP_HOST`                              | `alert.email.smtp_host`                      |
/// | `SMTP_PORT`                              | `alert.email.smtp_port`                      |
/// | `SMTP_USERNAME`                          | `alert.email.username`                       |
/// | `SMTP_PASSWORD`                          | `alert.email.password`                       |
/// | `EMAIL_TO`                               | `alert.email.to`                             |
/// | `EMAIL_SUBJECT`                          | `alert.email.subject`                        |
/// | `EMAIL_FROM` (ours)                      | `alert.email.from`                           |
/// | `SMTP_TLS` (ours)                        | `alert.email.tls`                            |
/// | `VIBER_ENABLE`                           | `alert.viber.enable`                         |
/// | `VIBER_API_TYPE`                         | `alert.viber.api_type`                       |
/// | `VIBER_BOT_TOKEN`                        | `alert.viber.bot_token`                      |
/// | `VIBER_USER_ID`                          | `alert.viber.user_id`                        |
/// | `VIBER_CHANNEL_ID`                       | `alert.viber.channel_id`                     |
/// | `VIBER_USE_PROXY`                        | `alert.viber.use_proxy`                      |
/// | `VIBER_API_URL` (ours)                   | `alert.viber.api_url`                        |
/// | `MSTEAMS_ENABLE`                         | `alert.msteams.enable`                       |
/// | `MSTEAMS_POWER_AUTOMATE_URL`             | `alert.msteams.power_automate_url`           |
/// | `LARK_ENABLE`                            | `alert.lark.enable`                          |
/// | `LARK_WEBHOOK_URL`                       | `alert.lark.webhook_url`                     |
/// | `LARK_USE_PROXY`                         | `alert.lark.use_proxy`                       |
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
///
/// Booleans accept `true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`; a
/// value that does not parse is an error naming the variable.
pub fn apply_env_overrides(
    config: &mut Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let o = Overrides(env);
    o.text("HOST", &mut config.host);
    o.parsed("PORT", &mut config.port, "a port number (1-65535)")?;
    o.text("PUBLIC_HOST", &mut config.public_host);

    let alert = &mut config.alert;
    o.flag("DEBUG_BODY", &mut alert.debug_body)?;
    o.flag("SLACK_ENABLE", &mut alert.slack.enable)?;
    o.text("SLACK_TOKEN", &mut alert.slack.token);
    o.text("SLACK_CHANNEL_ID", &mut alert.slack.channel_id);
    o.text("SLACK_API_URL", &mut alert.slack.api_url);
    o.flag("TELEGRAM_ENABLE", &mut alert.telegram.enable)?;
    o.text("TELEGRAM_BOT_TOKEN", &mut alert.telegram.bot_token);
    o.text("TELEGRAM_CHAT_ID", &mut alert.telegram.chat_id);
    o.flag("TELEGRAM_USE_PROXY", &mut alert.telegram.use_proxy)?;
    o.text("TELEGRAM_API_URL", &mut alert.telegram.api_url);
    let email = &mut alert.email;
    o.flag("EMAIL_ENABLE", &mut email.enable)?;
    o.text("SMTP_HOST", &mut email.smtp_host);
    o.parsed("SMTP_PORT", &mut email.smtp_port, "a port number (1-65535)")?;
    o.text("SMTP_USERNAME", &mut email.username);
    o.text("SMTP_PASSWORD", &mut email.password);
    o.text("EMAIL_TO", &mut email.to);
    o.text("EMAIL_SUBJECT", &mut email.subject);
    o.text("EMAIL_FROM", &mut email.from);
    o.text("SMTP_TLS", &mut email.tls);
    let viber = &mut alert.viber;
    o.flag("VIBER_ENABLE", &mut viber.enable)?;
    o.text("VIBER_API_TYPE", &mut viber.api_type);
    o.text("VIBER_BOT_TOKEN", &mut viber.bot_token);
    o.text("VIBER_USER_ID", &mut viber.user_id);
    o.text("VIBER_CHANNEL_ID", &mut viber.channel_id);
    o.flag("VIBER_USE_PROXY", &mut viber.use_proxy)?;
    o.text("VIBER_API_URL", &mut viber.api_url);
    o.flag("MSTEAMS_ENABLE", &mut alert.msteams.enable)?;
    o.text(
        "MSTEAMS_POWER_AUTOMATE_URL",
        &mut alert.msteams.power_automate_url,
    );
    o.flag("LARK_ENABLE", &mut alert.lark.enable)?;
    o.text("LARK_WEBHOOK_URL", &mut alert.lark.webhook_url);
    o.flag("LARK_USE_PROXY", &mut alert.lark.use_proxy)?;
    o.text("PROXY_URL", &mut config.proxy.url);
    o.text("PROXY_USERNAME", &mut config.proxy.username);
    o.text("PROXY_PASSWORD", &mut config.proxy.password);

    let oncall = &mut config.oncall;
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
    Ok(())
}

/// Setters that read one variable each.
struct Overrides<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Overrides<'_> {
    /// The variable's value when it is set and not blank.
    fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn text(&self, var: &str, slot: &mut String) {
        if let Some(v) = self.get(var) {
            *slot = v;
        }
    }

    fn flag(&self, var: &str, slot: &mut bool) -> Result<(), ConfigError> {
        if let Some(v) = self.get(var) {
            *slot = lenient::parse_bool(&v).ok_or_else(|| bad(var, &v, "true or false"))?;
        }
        Ok(())
    }

    fn parsed<T: FromStr>(&self, var: &str, slot: &mut T, what: &str) -> Result<(), ConfigError> {
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
