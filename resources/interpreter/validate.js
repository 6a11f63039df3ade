// Config validation against resources/schema/cogflow-config.schema.json.
// Pure module: the caller supplies the schema (fetched in the browser, read from disk in node).
import { Validator } from '../vendor/json-schema/index.js';
import { KNOWN_COMPONENTS, STRUCTURAL_TYPES } from './catalogue.js';

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

// Unknown component types are valid configs (they run as a visible "unsupported" screen),
// but the researcher should hear about them before the participant does.
function collectWarnings(config) {
  const warnings = [];
  const walk = (items, path) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, i) => {
      const p = `${path}/${i}`;
      if (!item || typeof item !== 'object') return;
      const t = item.type;
      if (t === undefined) warnings.push({ path: p, message: 'item has no "type"; it will show as an unsupported component' });
      else if (t === 'block') {
        const ct = item.component_type ?? item.block_component_type;
        if (!KNOWN_COMPONENTS.has(ct)) warnings.push({ path: p, message: `block component "${ct}" is not supported; it will show as an unsupported component` });
      } else if (!KNOWN_COMPONENTS.has(t) && !STRUCTURAL_TYPES.has(t)) {
        warnings.push({ path: p, message: `component "${t}" is not supported; it will show as an unsupported component` });
      }
      if (Array.isArray(item.items)) walk(item.items, `${p}/items`);
    });
  };
  walk(config.timeline, '/timeline');
  return warnings;
}
