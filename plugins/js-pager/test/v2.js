// A second build of the js-pager escalator for the hot-swap test: the same
// code, its bodies saying `"build": "v2"`.
import { escalator } from '../src/pager.js';

const exports = escalator('v2');
export const validateConfig = exports.validateConfig;
export const acknowledges = exports.acknowledges;
export const start = exports.start;
export const acknowledge = exports.acknowledge;
export const resolve = exports.resolve;
