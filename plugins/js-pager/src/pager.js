// An on-call escalator for Versus, written in JavaScript: it pages through
// a generic paging webhook. Each Versus event is one JSON POST to the `url`
// in its settings (`oncall.plugin_settings`):
//
//   {"action": "trigger" | "acknowledge" | "resolve", "key": dedup key,
//    "title", "severity", "incident_id", "links", "who", "build"}
//
// The `key` is the incident's dedup key, so the receiving side can collapse
// retries and repeats. Errors follow the WIT contract: a thrown value with a
// `payload` becomes the export's `err` case; HTTP 429 and 5xx are transient
// (retried by the gateway, honouring Retry-After), other non-2xx statuses
// are permanent.

import { send } from 'versus:gateway/http@0.1.0';
import { log } from 'versus:gateway/log@0.1.0';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : val.message);
    this.payload = { tag, val };
  }
}

const configError = (m) => new PluginError('config', m);

function parseConfig(configJson) {
  let doc;
  try {
    doc = JSON.parse(configJson);
  } catch (e) {
    throw configError(`settings are not JSON: ${e.message}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw configError('settings must be a JSON object');
  }
  if (typeof doc.url !== 'string' || !/^https?:\/\//i.test(doc.url)) {
    throw configError('url is required and must be an http(s) URL');
  }
  return { url: doc.url };
}

function retryAfter(headers) {
  const found = headers.find(([name]) => name === 'retry-after');
  const secs = found ? Number.parseInt(found[1], 10) : NaN;
  return Number.isFinite(secs) && secs >= 0 ? BigInt(secs) * 1000n : undefined;
}

function post(config, body) {
  let response;
  try {
    response = send({
      method: 'POST',
      url: config.url,
      headers: [['content-type', 'application/json']],
      body: encoder.encode(JSON.stringify(body)),
      timeoutMs: undefined,
    });
  } catch (e) {
    const err = e.payload ?? { tag: 'transport', val: String(e) };
    const text = `http: ${err.tag}: ${err.val}`;
    if (err.tag === 'timeout' || err.tag === 'transport') {
      throw new PluginError('transient', { message: text, retryAfterMs: undefined });
    }
    throw configError(text);
  }
  const { status } = response;
  if (status >= 200 && status < 300) return response;
  const text = `pager answered ${status}: ${decoder.decode(response.body).slice(0, 200)}`;
  if (status === 429 || status >= 500) {
    throw new PluginError('transient', { message: text, retryAfterMs: retryAfter(response.headers) });
  }
  throw new PluginError('permanent', text);
}

/// The escalator's exports; `build` names the build in every body.
export function escalator(build) {
  return {
    validateConfig(configJson) {
      parseConfig(configJson);
    },
    acknowledges() {
      return true;
    },
    start(incident, configJson) {
      const config = parseConfig(configJson);
      post(config, {
        action: 'trigger',
        key: incident.dedupKey,
        title: incident.title,
        severity: incident.severity ?? null,
        incident_id: incident.id,
        links: incident.links.map(({ text, url }) => ({ text, url })),
        build,
      });
      log('info', `paged for incident ${incident.id}`);
      return { id: incident.dedupKey, url: undefined };
    },
    acknowledge(incident, receipt, who, configJson) {
      post(parseConfig(configJson), { action: 'acknowledge', key: receipt.id, who: who ?? null, build });
    },
    resolve(incident, receipt, configJson) {
      post(parseConfig(configJson), { action: 'resolve', key: receipt.id, build });
    },
  };
}
