// Entry point of the js-webhook channel plugin (see webhook.js).
import { channel, defaultBody } from './webhook.js';

const exports = channel(defaultBody);
export const deliver = exports.deliver;
export const update = exports.update;
