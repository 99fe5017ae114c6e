import { readFileSync } from 'node:fs';

/** dbdoctor's version, from its package.json: read when a report is made, never on import. */
export function toolVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}
