/**
 * One word for a POSIX shell: left bare when nothing in it is special, otherwise quoted. Neutral
 * ground (no engine, no renderer): probes build remedies with it, explain builds its confirming
 * command with it.
 */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(value)) return value;
  // SQL is full of single quotes: double quotes read better when nothing in it is special there.
  if (value.includes("'") && !/["$`\\!]/.test(value)) return `"${value}"`;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
