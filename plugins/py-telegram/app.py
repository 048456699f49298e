"""A Telegram channel for Versus, written in Python.

`deliver` sends the rendered message with the Bot API's `sendMessage`;
`update` edits that message with `editMessageText`, adding a line that says
what changed. Both turn link previews off: to build one, Telegram fetches
the message's first link, which is often the ACK link. Every request goes through the host's `versus:gateway/http`
import, so the gateway's allow-list, timeouts and body caps apply.

Config keys: `token` (required, the bot token), `chat_id` (required, a
number or an `@channel` name), `api_url` (default
`https://api.telegram.org`), `timeout_ms` (optional, per-request timeout).

The receipt's destination is the chat id and its message id is Telegram's
`message_id`. Telegram's 429 and 5xx are transient (retried by the host,
honouring `parameters.retry_after`), other refusals are permanent.
"""

import json

from componentize_py_types import Err
from wit_world import WitWorld
from wit_world.imports import http, log, types

# No link preview: Telegram would fetch the ACK link to build it.
NO_PREVIEW = {"is_disabled": True}

STATUS_LINES = {
    types.StatusChange.ACKNOWLEDGED: "Acknowledged",
    types.StatusChange.ESCALATED: "Escalated to on-call",
    types.StatusChange.RESOLVED: "Resolved",
}


def fail(case, text):
    """The export's `err` case."""
    return Err(case(text))


def parse_config(config_json):
    try:
        doc = json.loads(config_json)
    except ValueError as e:
        raise fail(types.PluginError_Config, f"config is not JSON: {e}")
    if not isinstance(doc, dict):
        raise fail(types.PluginError_Config, "config must be a JSON object")
    token = doc.get("token")
    if not isinstance(token, str) or not token:
        raise fail(types.PluginError_Config, "token is required")
    chat_id = doc.get("chat_id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, (int, str)) or chat_id == "":
        raise fail(types.PluginError_Config, "chat_id is required (a number or @name)")
    api_url = doc.get("api_url", "https://api.telegram.org")
    if not isinstance(api_url, str) or not api_url.startswith(("http://", "https://")):
        raise fail(types.PluginError_Config, "api_url must be an http(s) URL")
    timeout_ms = doc.get("timeout_ms")
    if timeout_ms is not None and (
        isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 0 < timeout_ms < 2**32
    ):
        raise fail(types.PluginError_Config, "timeout_ms must be a positive whole number")
    return token, chat_id, api_url.rstrip("/"), timeout_ms


def call(config, method, params):
    """One Bot API call; returns its `result` or raises the export's error."""
    token, _, api_url, timeout_ms = config
    request = http.Request(
        method="POST",
        url=f"{api_url}/bot{token}/{method}",
        headers=[("content-type", "application/json")],
        body=json.dumps(params).encode(),
        timeout_ms=timeout_ms,
    )
    try:
        response = http.send(request)
    except Err as e:
        err = e.value
        text = f"http: {type(err).__name__.removeprefix('Error_')}: {err.value}"
        if isinstance(err, (http.Error_Timeout, http.Error_Transport)):
            raise Err(types.PluginError_Transient(types.Retryable(text, None)))
        if isinstance(err, http.Error_TooLarge):
            raise fail(types.PluginError_Permanent, text)
        raise fail(types.PluginError_Config, text)
    try:
        doc = json.loads(response.body)
    except ValueError:
        doc = {}
    if not isinstance(doc, dict):
        doc = {}
    if response.status == 200 and doc.get("ok") is True:
        return doc.get("result")
    text = f"telegram {method} answered {response.status}: {doc.get('description', '')}"
    if response.status == 429 or response.status >= 500:
        params = doc.get("parameters")
        secs = params.get("retry_after") if isinstance(params, dict) else None
        wait = secs * 1000 if isinstance(secs, int) and secs >= 0 else None
        raise Err(types.PluginError_Transient(types.Retryable(text, wait)))
    raise fail(types.PluginError_Permanent, text)


class WitWorld(WitWorld):
    def deliver(self, message, event, config_json):
        config = parse_config(config_json)
        params = {"chat_id": config[1], "text": message, "link_preview_options": NO_PREVIEW}
        result = call(config, "sendMessage", params)
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if not isinstance(message_id, int):
            raise fail(types.PluginError_Permanent, "telegram sendMessage returned no message_id")
        log.log(log.Level.DEBUG, f"telegram delivered incident {event.id} as {message_id}")
        return types.Receipt(destination=str(config[1]), message_id=str(message_id))

    def update(self, receipt, change, message, event, config_json):
        config = parse_config(config_json)
        try:
            message_id = int(receipt.message_id)
        except ValueError:
            raise fail(types.PluginError_InvalidInput, f"bad message id {receipt.message_id!r}")
        text = f"{message}\n\n{STATUS_LINES[change]}"
        params = {
            "chat_id": receipt.destination,
            "message_id": message_id,
            "text": text,
            "link_preview_options": NO_PREVIEW,
        }
        call(config, "editMessageText", params)
        log.log(log.Level.DEBUG, f"telegram updated incident {event.id}: {change.name.lower()}")
