// A generic JSON webhook channel for Versus, written in JavaScript.
//
// `deliver` POSTs {"text": message, "id": event id, "resolved": bool} to the
// `url` in the channel's config through the host's `versus:gateway/http`
// import; `update` POSTs the same body with "status" (acknowledged,
// escalated or resolved) added.
//
// Config keys: `url` (required, http or https), `headers` (optional object of
// extra request headers), `timeout_ms` (optional, per-request timeout).
//
// Errors follow the WIT contract: a thrown value with a `payload` becomes the
// export's `err` case; HTTP 429 and 5xx are transient (retried by the host,
// honouring Retry-After), other non-2xx statuses are permanent.

import { send } from 'versus:gateway/http@0.1.0';
import { log } from 'versus:gateway/log@0.1.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The error an export returns: `tag` is the plugin-error case.
class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : val.message);
    this.payload = { tag, val };
  }
}

const configError = (m) => new PluginError('config', m);
const transient = (message, retryAfterMs) =>
  new PluginError('transient', { message, retryAfterMs });

function parseConfig(configJson) {
  let doc;
  try {
    doc = JSON.parse(configJson);
  } catch (e) {
    throw configError(`config is not JSON: ${e.message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw configError('config must be a JSON object');
  }
  const { url, headers = {}, timeout_ms: timeoutMs } = doc;
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
    throw configError('url is required and must be an http(s) URL');
  }
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw configError('headers must be an object of name: value');
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') {
      throw configError(`header ${name} must be a string`);
    }
  }
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 32)) {
    throw configError('timeout_ms must be a positive whole number of milliseconds');
  }
  return { url, headers, timeoutMs };
}

// Seconds in a Retry-After header, as milliseconds (a u64, so a BigInt).
function retryAfter(headers) {
  const found = headers.find(([name]) => name === 'retry-after');
  const secs = found ? Number.parseInt(found[1], 10) : NaN;
  return Number.isFinite(secs) && secs >= 0 ? BigInt(secs) * 1000n : undefined;
}

function post(config, body) {
  const request = {
    method: 'POST',
    url: config.url,
    headers: [['content-type', 'application/json'], ...Object.entries(config.headers)],
    body: encoder.encode(JSON.stringify(body)),
    timeoutMs: config.timeoutMs,
  };
  let response;
  try {
    response = send(request);
  } catch (e) {
    const err = e.payload ?? { tag: 'transport', val: String(e) };
    const text = `http: ${err.tag}: ${err.val}`;
    if (err.tag === 'timeout' || err.tag === 'transport') throw transient(text);
    if (err.tag === 'too-large') throw new PluginError('permanent', text);
    throw configError(text);
  }
  const { status } = response;
  if (status >= 200 && status < 300) return response;
  const snippet = decoder.decode(response.body).slice(0, 200);
  const text = `webhook answered ${status}: ${snippet}`;
  if (status === 429 || status >= 500) throw transient(text, retryAfter(response.headers));
  throw new PluginError('permanent', text);
}

/// The channel's exports, with `makeBody(message, event)` building the JSON
/// document sent for a delivery.
export function channel(makeBody) {
  return {
    deliver(message, event, configJson) {
      const config = parseConfig(configJson);
      const response = post(config, makeBody(message, event));
      log('debug', `webhook delivered incident ${event.id} (${response.status})`);
      return { destination: config.url, messageId: event.id };
    },
    update(receipt, change, message, event, configJson) {
      const config = parseConfig(configJson);
      post(config, { ...makeBody(message, event), status: change });
      log('debug', `webhook updated incident ${event.id}: ${change}`);
    },
  };
}

/// The body this plugin sends.
export function defaultBody(message, event) {
  return { text: message, id: event.id, resolved: event.resolved };
}
