//! Building the `chat.postMessage` and `chat.update` requests: the attachment,
//! its Block Kit blocks and the ACK button.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{Change, Config, Error, EventInfo, Receipt, Request};

/// Attachment colour of a firing alert (upstream Versus's red).
pub const FIRING_COLOR: &str = "#C70039";
/// Attachment colour of a resolved alert (upstream Versus's green).
pub const RESOLVED_COLOR: &str = "#36A64F";
/// Attachment colour once acknowledged: Slack's informational blue, so an
/// acknowledged incident no longer reads as an unattended red one.
pub const ACKNOWLEDGED_COLOR: &str = "#439FE0";
/// Attachment colour once escalated: Slack's brand magenta-red, distinct from
/// the firing red so that "someone was paged" stands out in the channel.
pub const ESCALATED_COLOR: &str = "#E01E5A";
/// Attachment colour once paging failed: near-black, unlike any state in
/// which someone is on it, because nobody is.
pub const PAGING_FAILED_COLOR: &str = "#1D1C1D";

/// The note an update adds when paging failed.
pub const PAGING_FAILED_NOTE: &str =
    "⛔ *Paging failed* — nobody was paged. Page the on-call team by hand.";

/// Slack's limit on the text of one section block, in characters.
pub const SECTION_LIMIT: usize = 3000;
/// Most section blocks per message. Slack allows 50 blocks; this leaves room
/// for the actions or context block with a margin.
pub const MAX_SECTIONS: usize = 45;
/// Ends the last section when the message did not fit in [`MAX_SECTIONS`].
pub const TRUNCATION_MARKER: &str = "…(truncated)";
/// Length of the top-level `text`, which Slack shows in notifications only;
/// a notification line is short, and the full message is in the blocks.
const FALLBACK_LIMIT: usize = 150;

/// `block_id` of the buttons' block, as upstream Versus names it, so that
/// teams' own interactivity handlers keep working.
pub const ACTIONS_BLOCK_ID: &str = "incident_actions";
/// `action_id` of the ACK button (upstream's).
pub const ACK_ACTION_ID: &str = "ack_incident";
/// `action_id` of the "Escalate now" button (interactive only).
pub const ESCALATE_ACTION_ID: &str = "escalate_incident";
/// Label of the "Escalate now" button.
const ESCALATE_TEXT: &str = "Escalate now";

/// The `chat.postMessage` request for a new message.
pub fn build_post(message: &str, event: &EventInfo, config: &Config) -> Result<Request, Error> {
    let sections = sections(message)?;
    let fallback = fallback_text(message);
    let body = post_parts(&sections, &fallback, event, config);
    Ok(request(config, "chat.postMessage", &body))
}

/// `chat.postMessage`'s body, borrowing `sections` and `fallback`.
fn post_parts<'a>(
    sections: &'a [String],
    fallback: &'a str,
    event: &'a EventInfo,
    config: &'a Config,
) -> PostBody<'a> {
    let blocks = sections
        .iter()
        .map(|text| Block::Section {
            text: Text::mrkdwn(text),
            kind: "section",
        })
        .chain(
            buttons(event, config)
                .filter(|_| config.reply_to.is_none())
                .map(|elements| Block::Actions {
                    block_id: ACTIONS_BLOCK_ID,
                    elements,
                    kind: "actions",
                }),
        )
        .collect();
    let parent = config.reply_to.as_ref();
    PostBody {
        attachments: [Attachment {
            blocks,
            color: if event.resolved {
                RESOLVED_COLOR
            } else {
                FIRING_COLOR
            },
        }],
        channel: parent
            .map(|p| p.channel.as_str())
            .filter(|c| !c.is_empty())
            .unwrap_or(&config.channel_id),
        reply_broadcast: parent.is_some() && event.resolved && config.broadcast_resolved,
        text: fallback,
        thread_ts: parent.map(|p| p.ts.as_str()),
        unfurl_links: false,
    }
}

/// The buttons, while on-call is pending (the event has an ACK URL) and
/// the config does not disable them. Each carries the incident id as its
/// `value`. As a link, the ACK button opens the confirmation page; in a
/// Slack app with interactivity (`interactive`), a click reaches the
/// gateway as a signed request, and "Escalate now" comes beside it.
fn buttons<'a>(event: &'a EventInfo, config: &'a Config) -> Option<Vec<Button<'a>>> {
    let url = event
        .ack_url
        .as_deref()
        .filter(|u| !u.is_empty() && !config.disable_button)?;
    let ack = Button {
        action_id: ACK_ACTION_ID,
        style: &config.button_style,
        text: Text {
            text: &config.button_text,
            kind: "plain_text",
        },
        kind: "button",
        url: (!config.interactive).then_some(url),
        value: &event.id,
    };
    if !config.interactive {
        return Some(vec![ack]);
    }
    let escalate = Button {
        action_id: ESCALATE_ACTION_ID,
        style: "danger",
        text: Text {
            text: ESCALATE_TEXT,
            kind: "plain_text",
        },
        kind: "button",
        url: None,
        value: &event.id,
    };
    Some(vec![ack, escalate])
}

// `chat.postMessage`'s body as borrowed parts, serialised as they are,
// with no document built on the alert path. Fields are in alphabetical
// order, the order of a document's keys, so the bytes are the ones
// `post_body(..).to_string()` gives (tests/bodies.rs).

#[derive(Serialize)]
struct PostBody<'a> {
    attachments: [Attachment<'a>; 1],
    channel: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    reply_broadcast: bool,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_ts: Option<&'a str>,
    unfurl_links: bool,
}

#[derive(Serialize)]
struct Attachment<'a> {
    blocks: Vec<Block<'a>>,
    color: &'a str,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Block<'a> {
    Section {
        text: Text<'a>,
        #[serde(rename = "type")]
        kind: &'static str,
    },
    Actions {
        block_id: &'static str,
        elements: Vec<Button<'a>>,
        #[serde(rename = "type")]
        kind: &'static str,
    },
}

#[derive(Serialize)]
struct Text<'a> {
    text: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl<'a> Text<'a> {
    fn mrkdwn(text: &'a str) -> Self {
        Self {
            text,
            kind: "mrkdwn",
        }
    }
}

#[derive(Serialize)]
struct Button<'a> {
    action_id: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    style: &'a str,
    text: Text<'a>,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    value: &'a str,
}

/// The `chat.update` request that shows `change` on a posted message.
pub fn build_update(
    receipt: &Receipt,
    change: Change,
    message: &str,
    event: &EventInfo,
    config: &Config,
) -> Result<Request, Error> {
    let body = update_body(receipt, change, message, event, config)?;
    Ok(request(config, "chat.update", &body))
}

/// The JSON body of `chat.postMessage`, as a document ([`build_post`]
/// serialises the same parts without building one).
pub fn post_body(message: &str, event: &EventInfo, config: &Config) -> Result<Value, Error> {
    let sections = sections(message)?;
    let fallback = fallback_text(message);
    let body = post_parts(&sections, &fallback, event, config);
    // Strings, booleans and arrays of them always convert.
    Ok(serde_json::to_value(body).unwrap_or_default())
}

/// The JSON body of `chat.update`: the same sections, the colour of the new
/// state, no buttons, and a context line saying what happened: who
/// acknowledged and when, when the event says (a click in the Slack app),
/// and each on-call target's status, with several.
pub fn update_body(
    receipt: &Receipt,
    change: Change,
    message: &str,
    event: &EventInfo,
    config: &Config,
) -> Result<Value, Error> {
    if receipt.message_id.is_empty() {
        return Err(Error::InvalidInput(
            "receipt has no message ts to update".into(),
        ));
    }
    let channel = if receipt.destination.is_empty() {
        &config.channel_id
    } else {
        &receipt.destination
    };
    let (color, note) = match change {
        Change::Acknowledged => (ACKNOWLEDGED_COLOR, acknowledged_note(event)),
        Change::Escalated => (ESCALATED_COLOR, "🚨 Escalated to on-call".into()),
        Change::Resolved => (RESOLVED_COLOR, "✅ Resolved".into()),
        Change::PagingFailed => (PAGING_FAILED_COLOR, PAGING_FAILED_NOTE.into()),
    };
    let mut blocks = section_blocks(message)?;
    let mut elements = vec![json!({ "type": "mrkdwn", "text": note })];
    if let Some(targets) = event.oncall_targets() {
        elements.push(json!({ "type": "mrkdwn", "text": format!("On-call: {targets}") }));
    }
    blocks.push(json!({ "type": "context", "elements": elements }));
    Ok(json!({
        "channel": channel,
        "ts": receipt.message_id,
        "text": fallback_text(message),
        "attachments": [{ "color": color, "blocks": blocks }],
    }))
}

/// "✅ Acknowledged by <@U123> at 03:12 UTC — escalation cancelled", or
/// without the person when the ACK came through a link.
pub(crate) fn acknowledged_note(event: &EventInfo) -> String {
    match event.acknowledgement() {
        Some(ack) if ack.source == "slack" => format!(
            "✅ Acknowledged by <@{}> at {} — escalation cancelled",
            ack.user_id,
            ack.time_utc()
        ),
        Some(ack) => format!(
            "✅ Acknowledged by {} at {} — escalation cancelled",
            ack.who(),
            ack.time_utc()
        ),
        None => "✅ Acknowledged — escalation cancelled".into(),
    }
}

/// One `mrkdwn` section block per chunk of `message`.
fn section_blocks(message: &str) -> Result<Vec<Value>, Error> {
    Ok(sections(message)?
        .into_iter()
        .map(|text| json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }))
        .collect())
}

/// The section texts of `message`; an error when there are none.
fn sections(message: &str) -> Result<Vec<String>, Error> {
    let sections = split_sections(message);
    if sections.is_empty() {
        return Err(Error::InvalidInput(
            "the rendered message is empty; check the template".into(),
        ));
    }
    Ok(sections)
}

/// Splits `text` into section texts of at most [`SECTION_LIMIT`] characters.
///
/// Strategy: fill each chunk with whole lines; a line longer than the limit
/// is cut at character boundaries. A newline where one chunk ends is dropped,
/// since the next section starts on a new line anyway, and blank chunks are
/// skipped (Slack rejects empty section text). Past [`MAX_SECTIONS`] chunks
/// the rest is dropped and the last chunk ends with [`TRUNCATION_MARKER`].
/// Lengths count `char`s, never bytes, so no UTF-8 sequence is ever split.
pub fn split_sections(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in text.split_inclusive('\n') {
        let len = line.chars().count();
        if current_len + len > SECTION_LIMIT {
            push_chunk(&mut chunks, std::mem::take(&mut current));
            current_len = 0;
        }
        if len <= SECTION_LIMIT {
            current.push_str(line);
            current_len += len;
            continue;
        }
        for ch in line.chars() {
            if current_len == SECTION_LIMIT {
                push_chunk(&mut chunks, std::mem::take(&mut current));
                current_len = 0;
            }
            current.push(ch);
            current_len += 1;
        }
    }
    push_chunk(&mut chunks, current);

    if chunks.len() > MAX_SECTIONS {
        chunks.truncate(MAX_SECTIONS);
        if let Some(last) = chunks.last_mut() {
            let keep = SECTION_LIMIT - TRUNCATION_MARKER.chars().count() - 1;
            let mut cut: String = last.chars().take(keep).collect();
            cut.push('\n');
            cut.push_str(TRUNCATION_MARKER);
            *last = cut;
        }
    }
    chunks
}

fn push_chunk(chunks: &mut Vec<String>, mut chunk: String) {
    while chunk.ends_with('\n') {
        chunk.pop();
    }
    if !chunk.trim().is_empty() {
        chunks.push(chunk);
    }
}

/// The top-level `text`: the message's first non-blank line, trimmed, at most
/// 150 characters (cut ones end with `…`).
pub fn fallback_text(message: &str) -> String {
    let line = message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("Versus incident");
    if line.chars().count() <= FALLBACK_LIMIT {
        return line.to_owned();
    }
    let mut cut: String = line.chars().take(FALLBACK_LIMIT - 1).collect();
    cut.push('…');
    cut
}

pub(crate) fn request(config: &Config, method: &str, body: &impl Serialize) -> Request {
    Request {
        method: "POST".into(),
        url: format!("{}{method}", config.api_url),
        headers: vec![
            ("Authorization".into(), format!("Bearer {}", config.token)),
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
        ],
        // Serialising strings, numbers and maps with string keys cannot fail.
        body: serde_json::to_vec(body).unwrap_or_default(),
    }
}
