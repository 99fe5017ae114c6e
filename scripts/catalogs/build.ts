import type { CatalogMessage } from '../../src/probes/postgres/catalog/selection.js';

/**
 * From catalogs (language → msgid → msgstr, one set per release) to the checked-in tables: for
 * each selected message, its translations in every language, each with the releases (a bit per
 * release, in the order given) whose catalog has it. English is the message id itself, in the
 * releases whose catalogs know the id. Pure: the generator and the drift test share it.
 */
export type Catalogs = ReadonlyMap<string, ReadonlyMap<string, string>>;
/** key → language → [text, releases bit mask][] */
export type Translations = Record<string, Record<string, [string, number][]>>;

const clean = (text: string): string => text.replace(/\n+$/, '');
/** The singular of a plural id ("…name\0…names"), without libpq's old trailing newline. */
const idOf = (msgid: string): string => clean(msgid.split('\u0000')[0] ?? '');

export function collect(selection: readonly CatalogMessage[], releases: readonly Catalogs[]): { translations: Translations; missing: string[] } {
  const translations: Translations = {};
  const missing: string[] = [];
  for (const message of selection) {
    const wanted = clean(message.msgid);
    const byLang = new Map<string, Map<string, number>>();
    const add = (lang: string, text: string, bit: number): void => {
      if (text.trim() === '') return;
      if (!byLang.has(lang)) byLang.set(lang, new Map());
      const texts = byLang.get(lang) as Map<string, number>;
      texts.set(text, (texts.get(text) ?? 0) | bit);
    };
    releases.forEach((catalogs, release) => {
      const bit = 1 << release;
      for (const [lang, entries] of catalogs) {
        for (const [msgid, msgstr] of entries) {
          if (idOf(msgid) !== wanted) continue;
          for (const form of msgid.split('\u0000')) add('en', clean(form), bit);
          for (const form of msgstr.split('\u0000')) add(lang, clean(form), bit);
        }
      }
    });
    if (byLang.size === 0) missing.push(message.msgid);
    translations[message.key] = Object.fromEntries(
      [...byLang.entries()]
        .sort(([a], [b]) => (a === 'en' ? -1 : b === 'en' ? 1 : a.localeCompare(b)))
        .map(([lang, texts]) => [lang, [...texts.entries()].sort(([a], [b]) => a.localeCompare(b))]),
    );
  }
  return { translations, missing };
}

/** errcodes.txt: "28P01    E    ERRCODE_INVALID_PASSWORD    invalid_password" → [code, condition name]. */
export function parseErrcodes(text: string): [string, string][] {
  const codes = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = /^([0-9A-Z]{5})\s+[EWS]\s+ERRCODE_(\w+)(?:\s+(\w+))?/.exec(line);
    // A code's own condition name wins over a later alias line without one (3D000 undefined_database).
    if (fields?.[1] && (fields[3] || !codes.has(fields[1]))) codes.set(fields[1], fields[3] ?? (fields[2] ?? '').toLowerCase());
  }
  return [...codes.entries()].sort(([a], [b]) => a.localeCompare(b));
}

/** glibc's translations of the English socket and resolver messages the errno table knows. */
export function collectPlain(messages: readonly string[], catalogs: Catalogs): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const message of messages) {
    const byLang: Record<string, string> = {};
    for (const [lang, entries] of [...catalogs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      const text = entries.get(message);
      if (text && text !== message) byLang[lang] = text;
    }
    if (Object.keys(byLang).length > 0) out[message] = byLang;
  }
  return out;
}
