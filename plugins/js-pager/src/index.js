// Entry point of the js-pager escalator (see pager.js).
import { escalator } from './pager.js';

const exports = escalator('v1');
export const validateConfig = exports.validateConfig;
export const acknowledges = exports.acknowledges;
export const start = exports.start;
export const acknowledge = exports.acknowledge;
export const resolve = exports.resolve;
