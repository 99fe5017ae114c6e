/**
 * Where a setting came from, in the operator's words. Targets record sources as short tags ("url",
 * "env PGPASSWORD", "/app/.env DATABASE_URL", "default (5432)") — kept as they are in --json; a
 * sentence says "the connection URL", "the environment variable PGPASSWORD", "DATABASE_URL in
 * /app/.env", "the default (5432)".
 */
export function spokenSource(from: string | undefined, otherwise: string): string {
  if (from === undefined) return otherwise;
  if (from === 'url') return 'the connection URL';
  if (from === 'env') return 'the environment';
  const env = /^env (\S+)$/.exec(from);
  if (env) return `the environment variable ${env[1]}`;
  if (from.startsWith('default')) return `the ${from}`;
  const file = /^(.+) (\S+)$/.exec(from);
  if (file && /[/.]/.test(file[1] ?? '')) return `${file[2]} in ${file[1]}`;
  return from;
}
