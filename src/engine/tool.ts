import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * dbdoctor's version, from its package.json: the nearest one named "dbdoctor" above this module,
 * so that it is found from src/ (the tests), dist/ (tsc's files) and dist/bundle/ (the
 * command line's bundle) alike. "0.0.0" when none can be read.
 */
export function toolVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = new URL('./', import.meta.url); ;) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && 'name' in pkg && pkg.name === 'dbdoctor') {
        cached = 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
        return cached;
      }
    } catch {
      // No package.json here (or not readable): look further up.
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) return (cached = '0.0.0');
    dir = parent;
  }
}
