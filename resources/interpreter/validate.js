// Config validation against resources/schema/cogflow-config.schema.json.
// Pure module: the caller supplies the schema (fetched in the browser, read from disk in node).
import { Validator } from '../vendor/json-schema/index.js';
import { findUnsupported } from './support.js';

// The validator reports every failing wrapper keyword (allOf/if/then/$ref) as well as the
// real cause; keep only the leaf errors so the researcher sees what to fix.
const WRAPPER_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf', 'if', 'then', 'else', '$ref', 'properties', 'items', 'additionalProperties', 'prefixItems', '$dynamicRef']);

export function validateConfig(config, schema) {
  const errors = [];
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    return { valid: false, errors: [{ path: '/', message: 'The config must be a JSON object.' }], warnings: [] };
  }
  const result = new Validator(schema, '2020-12', false).validate(config);
  const seen = new Set();
  for (const e of result.errors) {
    if (WRAPPER_KEYWORDS.has(e.keyword)) continue;
    const path = e.instanceLocation.replace(/^#/, '') || '/';
    const msg = `${path}: ${e.error}`;
    if (seen.has(msg)) continue;
    seen.add(msg);
    errors.push({ path, message: e.error, keyword: e.keyword });
  }
  if (!result.valid && errors.length === 0) {
    for (const e of result.errors) errors.push({ path: e.instanceLocation.replace(/^#/, '') || '/', message: e.error, keyword: e.keyword });
  }
  return { valid: result.valid, errors, warnings: collectWarnings(config) };
}

// Valid configs can still ask for things this Interpreter does not honour; those are refused
// before a run (support.js) and listed here so the Builder shows them next to the errors.
function collectWarnings(config) {
  return findUnsupported(config).map((u) => ({ path: u.path, message: u.message, item: u.item, where: u.where }));
}
