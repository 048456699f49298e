//! The host side of `versus:mail/smtp`: sending one mail through the SMTP
//! server of `alert.email`, with lettre. The plugin chooses recipients,
//! subject and body; server, credentials, sender and TLS are fixed here.
//!
//! Strategy: one transport per pipeline (built at load, so a bad host or
//! sender fails the load, not a delivery) and a fresh connection per mail:
//! alerts are rare enough that pooling buys nothing, and a fresh session
//! never reuses a connection the server has half closed. Every SMTP step
//! is bounded by `timeout`, and the whole send by the plugin's deadline.

use std::sync::Arc;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::bindings::smtp;
use super::ctx::PluginCtx;
use crate::config::{SmtpSecurity, SmtpServer};

/// A ready transport for one [`SmtpServer`].
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
}

impl SmtpSender {
    /// Builds the transport; fails when the sender address or the TLS
    /// setup is unusable.
    pub fn new(settings: &SmtpServer) -> Result<Arc<Self>, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| format!("`{}` is not a mail address: {e}", settings.from))?;
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .map_err(|e| format!("cannot set up TLS for {}: {e}", settings.host))
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
                .port(settings.port)
                .timeout(Some(settings.timeout));
        builder = match settings.security {
            SmtpSecurity::StartTls => builder.tls(Tls::Required(tls()?)),
            SmtpSecurity::Implicit => builder.tls(Tls::Wrapper(tls()?)),
            SmtpSecurity::None => builder.tls(Tls::None),
        };
        if !settings.username.is_empty() {
            builder = builder
                .credentials(Credentials::new(
                    settings.username.clone(),
                    settings.password.clone(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Arc::new(Self {
            transport: builder.build(),
            from,
            host: settings.host.clone(),
        }))
    }

    /// Sends `mail`; returns its `Message-ID`.
    pub async fn send(&self, mail: smtp::Mail) -> Result<String, smtp::Error> {
        let message_id = format!("<{}@versus>", uuid::Uuid::new_v4());
        let message = self.message(mail, &message_id)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(message_id),
            Err(e) if e.is_permanent() => Err(smtp::Error::Permanent(format!(
                "smtp server {} refused the mail: {e}",
                self.host
            ))),
            Err(e) => Err(smtp::Error::Transient(format!(
                "sending through smtp server {} failed: {e}",
                self.host
            ))),
        }
    }

    /// The message, refusing anything that could add a header.
    fn message(&self, mail: smtp::Mail, message_id: &str) -> Result<Message, smtp::Error> {
        let invalid = |m: String| smtp::Error::Invalid(m);
        if mail.subject.contains(['\r', '\n']) {
            return Err(invalid(
                "the subject contains a line break; it must be one line".into(),
            ));
        }
        if mail.to.is_empty() {
            return Err(invalid("the mail has no recipient".into()));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject)
            .message_id(Some(message_id.to_string()))
            .header(ContentType::TEXT_HTML);
        for to in &mail.to {
            let mailbox: Mailbox = to
                .parse()
                .map_err(|e| invalid(format!("`{to}` is not a mail address: {e}")))?;
            builder = builder.to(mailbox);
        }
        builder
            .body(mail.html_body)
            .map_err(|e| invalid(format!("cannot build the mail: {e}")))
    }
}

impl smtp::Host for PluginCtx {
    async fn send(&mut self, mail: smtp::Mail) -> Result<String, smtp::Error> {
        let Some(sender) = self.smtp.clone() else {
            return Err(smtp::Error::Permanent(
                "this plugin has no SMTP server: only the email channel may send mail".into(),
            ));
        };
        let result = sender.send(mail).await;
        match &result {
            Ok(id) => tracing::debug!(plugin = &*self.plugin, message_id = %id, "mail sent"),
            Err(e) => tracing::warn!(plugin = &*self.plugin, error = ?e, "mail not sent"),
        }
        result
    }
}
