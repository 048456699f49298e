// A second build of the webhook channel for the hot-reload test: the same
// code, and its body also says which build sent it.
import { channel, defaultBody } from '../src/webhook.js';

const exports = channel((message, event) => ({ ...defaultBody(message, event), build: 'v2' }));
export const deliver = exports.deliver;
export const update = exports.update;
