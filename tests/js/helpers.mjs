import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const INTERP = path.join(ROOT, 'resources', 'interpreter');

// The compat corpus is copied into the project's own fixtures (a fresh clone needs nothing beside it).
export const COMPAT_DIR = path.join(ROOT, 'tests', 'fixtures', 'compat', 'configs');

export function compatConfigs() {
  return fs.readdirSync(COMPAT_DIR).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ name: f, config: JSON.parse(fs.readFileSync(path.join(COMPAT_DIR, f), 'utf8')) }));
}

export function loadSchema() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'schema', 'cogflow-config.schema.json'), 'utf8'));
}
