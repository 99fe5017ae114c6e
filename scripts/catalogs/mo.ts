import { readFileSync } from 'node:fs';

/**
 * A GNU gettext .mo file, read: every (msgid, msgstr) pair it holds. Plural entries (a msgid with
 * a NUL between singular and plural) keep their forms NUL-separated; the header entry (empty
 * msgid) is left out. Format: https://www.gnu.org/software/gettext/manual/html_node/MO-Files.html
 */
export function readMo(path: string): Map<string, string> {
  const data = readFileSync(path);
  const magic = data.readUInt32LE(0);
  const read = magic === 0x950412de ? (offset: number) => data.readUInt32LE(offset) : (offset: number) => data.readUInt32BE(offset);
  if (magic !== 0x950412de && data.readUInt32BE(0) !== 0x950412de) throw new Error(`${path}: not a .mo file`);
  const count = read(8);
  const originals = read(12);
  const translations = read(16);
  const entries = new Map<string, string>();
  for (let index = 0; index < count; index++) {
    const string = (table: number): string => {
      const length = read(table + index * 8);
      const offset = read(table + index * 8 + 4);
      return data.subarray(offset, offset + length).toString('utf8');
    };
    const msgid = string(originals);
    if (msgid === '') continue;
    entries.set(msgid, string(translations));
  }
  return entries;
}
