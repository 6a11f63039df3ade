import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');
export const INTERP = path.join(ROOT, 'resources', 'interpreter');

// The compat corpus lives beside the repo (../shared); CI lays a copy of shared/ there too.
export const COMPAT_DIR = [process.env.COGFLOW_COMPAT_DIR, path.resolve(ROOT, '..', 'shared', 'compat', 'configs')]
  .find((d) => d && fs.existsSync(d));

export function compatConfigs() {
  if (!COMPAT_DIR) throw new Error('compat configs not found; set COGFLOW_COMPAT_DIR');
  return fs.readdirSync(COMPAT_DIR).filter((f) => f.endsWith('.json')).sort()
    .map((f) => ({ name: f, config: JSON.parse(fs.readFileSync(path.join(COMPAT_DIR, f), 'utf8')) }));
}

export function loadSchema() {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'resources', 'schema', 'cogflow-config.schema.json'), 'utf8'));
}
