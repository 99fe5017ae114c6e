import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The words dbdoctor's own code writes (its sentences, names and commands), lower-cased: a secret
 * that is one of them is not masked in dbdoctor's sentences (config/secrets.ts, `isOwnWord`).
 *
 * They are read from dbdoctor's own files: src/ under the tests, dist/ when installed. Reading every
 * file of dist/ took a run ~50 ms whenever a password was a plain word (issue 15's profile), so the
 * build writes the words of dist/ once into dist/own-words.txt (scripts/bundle.ts) and a run reads
 * that one file; without it (src/, or a dist/ built some other way) the files are read as before.
 */
export const OWN_WORDS_FILE = 'own-words.txt';

export function ownWords(): ReadonlySet<string> {
  const root = ownRoot();
  if (basename(root) === 'dist') {
    try {
      return new Set(readFileSync(join(root, OWN_WORDS_FILE), 'utf8').split('\n'));
    } catch {
      // No list (or an unreadable one): read the files themselves below.
    }
  }
  return scanOwnWords(root);
}

/** src/ or dist/ above this module (dist/api/, or dist/bundle/ for the command line's bundle). */
function ownRoot(): string {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!['src', 'dist'].includes(basename(root)) && dirname(root) !== root) root = dirname(root);
  return root;
}

/**
 * The words of every .js/.ts file under `root`. `root`/bundle is left out: it holds the bundled
 * libraries' code too, whose words are not dbdoctor's, and dist/'s own files hold every word the
 * bundle has of dbdoctor's. The generated message catalogs, which hold servers' words in every
 * language, are not dbdoctor's either.
 */
export function scanOwnWords(root: string): Set<string> {
  const words = new Set<string>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && path !== join(root, 'bundle')) visit(path);
      else if (/\.(js|ts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.includes('.generated.')) {
        for (const word of readFileSync(path, 'utf8').match(/[A-Za-z]{4,}/g) ?? []) words.add(word.toLowerCase());
      }
    }
  };
  try {
    visit(root);
  } catch {
    // Unreadable: no word counts as dbdoctor's own, and every secret stays masked.
  }
  return words;
}
