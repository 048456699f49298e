//! The upstream chat channels beyond Slack (`alert.telegram`, …): their
//! sections, the warnings when one is enabled but cannot work, and the
//! channel each one becomes.

mod sections;

use std::collections::BTreeMap;

use serde_json::json;

pub use sections::{
    DEFAULT_SMTP_TIMEOUT, DEFAULT_TELEGRAM_API_URL, DEFAULT_VIBER_API_URL, EmailConfig, LarkConfig,
    MsTeamsConfig, SmtpSecurity, SmtpServer, TelegramConfig, ViberConfig,
};

use super::channels::{ChannelSpec, origin_of, spec};
use super::{Config, ConfigError};

impl Config {
    /// The enabled upstream chat channels other than Slack, in upstream's
    /// order.
    pub(super) fn chat_channels(&self) -> Vec<ChannelSpec> {
        let mut out = Vec::new();
        let telegram = &self.alert.telegram;
        if telegram.is_effective() {
            let config = json!({
                "bot_token": telegram.bot_token.trim(),
                "chat_id": telegram.chat_id.trim(),
                "api_url": telegram.api_url.trim(),
            });
            let mut spec = self.chat_spec(
                "telegram",
                &telegram.template_path,
                &config,
                &[&telegram.api_url],
            );
            spec.proxy = self.proxy.for_channel(telegram.use_proxy);
            out.push(spec);
        }
        let email = &self.alert.email;
        if email.is_effective()
            && let Some(server) = email.server()
        {
            let config = json!({ "to": email.to.trim(), "subject": email.subject.trim() });
            let mut spec = self.chat_spec("email", &email.template_path, &config, &[]);
            spec.smtp = Some(server);
            out.push(spec);
        }
        let viber = &self.alert.viber;
        if viber.is_effective() {
            let config = json!({
                "api_type": if viber.is_channel() { "channel" } else { "bot" },
                "bot_token": viber.bot_token.trim(),
                "user_id": viber.user_id.trim(),
                "channel_id": viber.channel_id.trim(),
                "api_url": viber.api_url.trim(),
            });
            let mut spec =
                self.chat_spec("viber", &viber.template_path, &config, &[&viber.api_url]);
            spec.proxy = self.proxy.for_channel(viber.use_proxy);
            out.push(spec);
        }
        let teams = &self.alert.msteams;
        if teams.enable && !teams.power_automate_url.trim().is_empty() {
            let config = json!({
                "power_automate_url": teams.power_automate_url.trim(),
                "other_power_urls": teams.other_power_urls,
            });
            let urls = with_others(&teams.power_automate_url, &teams.other_power_urls);
            out.push(self.chat_spec("msteams", &teams.template_path, &config, &urls));
        }
        let lark = &self.alert.lark;
        if lark.enable && !lark.webhook_url.trim().is_empty() {
            let config = json!({
                "webhook_url": lark.webhook_url.trim(),
                "other_webhook_urls": lark.other_webhook_urls,
            });
            let urls = with_others(&lark.webhook_url, &lark.other_webhook_urls);
            let mut spec = self.chat_spec("lark", &lark.template_path, &config, &urls);
            spec.proxy = self.proxy.for_channel(lark.use_proxy);
            out.push(spec);
        }
        out
    }

    /// A channel whose plugin may call exactly the origins of `urls`,
    /// unless `plugins.overrides.<name>.allowed_hosts` says otherwise.
    fn chat_spec(
        &self,
        name: &str,
        template_path: &std::path::Path,
        config: &serde_json::Value,
        urls: &[&str],
    ) -> ChannelSpec {
        let mut limits = self.plugins.limits_for(name);
        let overridden = self
            .plugins
            .overrides
            .get(name)
            .is_some_and(|o| o.allowed_hosts.is_some());
        if !overridden {
            let mut hosts: Vec<String> = urls.iter().filter_map(|u| origin_of(u)).collect();
            hosts.sort();
            hosts.dedup();
            limits.allowed_hosts = hosts;
        }
        spec(name, name, template_path, config, limits)
    }

    /// Warnings for chat channels that are enabled but cannot work (they
    /// stay off), and for upstream options we do not implement.
    pub(super) fn settle_chat(&self, warnings: &mut Vec<String>) {
        let telegram = &self.alert.telegram;
        if telegram.enable && !telegram.is_effective() {
            warnings.push(
                "alert.telegram.enable is true but alert.telegram.bot_token or chat_id is empty: \
                 Telegram is disabled; set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"
                    .into(),
            );
        }
        let email = &self.alert.email;
        if email.enable && !email.is_effective() {
            warnings.push(
                "alert.email.enable is true but alert.email.smtp_host, to or username is empty: \
                 email is disabled; set SMTP_HOST, EMAIL_TO and SMTP_USERNAME"
                    .into(),
            );
        }
        let viber = &self.alert.viber;
        if viber.enable && !viber.is_effective() {
            let (key, var) = if viber.is_channel() {
                ("channel_id", "VIBER_CHANNEL_ID")
            } else {
                ("user_id", "VIBER_USER_ID")
            };
            warnings.push(format!(
                "alert.viber.enable is true but alert.viber.bot_token or {key} is empty: Viber is \
                 disabled; set VIBER_BOT_TOKEN and {var}"
            ));
        }
        let teams = &self.alert.msteams;
        if teams.enable && teams.power_automate_url.trim().is_empty() {
            warnings.push(
                "alert.msteams.enable is true but alert.msteams.power_automate_url is empty: \
                 Teams is disabled; set MSTEAMS_POWER_AUTOMATE_URL"
                    .into(),
            );
        }
        let lark = &self.alert.lark;
        if lark.enable && lark.webhook_url.trim().is_empty() {
            warnings.push(
                "alert.lark.enable is true but alert.lark.webhook_url is empty: Lark is \
                 disabled; set LARK_WEBHOOK_URL"
                    .into(),
            );
        }
    }

    /// Checks the URLs of the enabled chat channels.
    pub(super) fn validate_chat(&self) -> Result<(), ConfigError> {
        let telegram = &self.alert.telegram;
        if telegram.is_effective() {
            check_url(
                "alert.telegram.api_url",
                &telegram.api_url,
                "https://api.telegram.org/ (or set TELEGRAM_API_URL)",
            )?;
        }
        let email = &self.alert.email;
        if email.is_effective() {
            if email.security().is_none() {
                return Err(ConfigError::Invalid {
                    key: "alert.email.tls".into(),
                    message: format!(
                        "`{}` is not a TLS mode: use starttls, implicit or none (or leave it \
                         empty: implicit on port 465, STARTTLS elsewhere)",
                        email.tls.trim()
                    ),
                });
            }
            if !email.sender().contains('@') {
                return Err(ConfigError::Invalid {
                    key: "alert.email.from".into(),
                    message: format!(
                        "`{}` is not a mail address: set from (or a username that is one)",
                        email.sender()
                    ),
                });
            }
        }
        let viber = &self.alert.viber;
        if viber.is_effective() {
            let api_type = viber.api_type.trim();
            if !(api_type.is_empty() || api_type.eq_ignore_ascii_case("bot") || viber.is_channel())
            {
                return Err(ConfigError::Invalid {
                    key: "alert.viber.api_type".into(),
                    message: format!(
                        "`{api_type}` is not an API type: use bot or channel (or set VIBER_API_TYPE)"
                    ),
                });
            }
            check_url(
                "alert.viber.api_url",
                &viber.api_url,
                "https://chatapi.viber.com/pa/ (or set VIBER_API_URL)",
            )?;
        }
        let teams = &self.alert.msteams;
        if teams.enable {
            check_urls(
                "alert.msteams",
                "power_automate_url",
                "other_power_urls",
                &teams.power_automate_url,
                &teams.other_power_urls,
            )?;
        }
        for spec in self.chat_channels() {
            if spec.proxy.is_some() {
                self.proxy.validate_for(&spec.name)?;
            }
        }
        let lark = &self.alert.lark;
        if lark.enable {
            check_urls(
                "alert.lark",
                "webhook_url",
                "other_webhook_urls",
                &lark.webhook_url,
                &lark.other_webhook_urls,
            )?;
        }
        Ok(())
    }
}

fn check_url(key: &str, url: &str, example: &str) -> Result<(), ConfigError> {
    if origin_of(url).is_some() {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.into(),
        message: format!("`{url}` is not an http(s) URL: it must be like {example}"),
    })
}

/// The main URL and every named alternative.
fn with_others<'a>(main: &'a str, others: &'a BTreeMap<String, String>) -> Vec<&'a str> {
    std::iter::once(main)
        .chain(others.values().map(String::as_str))
        .collect()
}

/// Checks a channel's main URL (when set) and its named alternatives.
fn check_urls(
    section: &str,
    main_key: &str,
    others_key: &str,
    main: &str,
    others: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    let example = "https://… (a full http or https URL)";
    if !main.trim().is_empty() {
        check_url(&format!("{section}.{main_key}"), main.trim(), example)?;
    }
    for (name, url) in others {
        check_url(
            &format!("{section}.{others_key}.{name}"),
            url.trim(),
            example,
        )?;
    }
    Ok(())
}
