import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { COMMAND_LEFT_OUT, maskUrlPasswords, Secrets } from '../../src/config/secrets.js';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

describe('redaction', () => {
  test.each([
    ['postgresql://app:hunter22@db:5432/app', 'postgresql://app:****@db:5432/app'],
    ['mongodb+srv://u:p%40ss@cluster0.example.net/db', 'mongodb+srv://u:****@cluster0.example.net/db'],
    ['postgres://u:pa/ss@db/app and more', 'postgres://u:****@db/app and more'],
    ['postgres://u:p@ss@db/app', 'postgres://u:****@db/app'],
    ['postgres://app@db/app', 'postgres://app@db/app'],
    ['host=db password=hunter22 user=app', 'host=db password=**** user=app'],
    ["host=db password='two words' user=app", 'host=db password=**** user=app'],
    ['see admin@example.com', 'see admin@example.com'],
  ])('structural masking: %s', (input, output) => {
    expect(maskUrlPasswords(input)).toBe(output);
  });

  test("a password that is one of dbdoctor's own words is not masked in its sentences (that would tell it), only where it is a value", () => {
    const secrets = new Secrets();
    secrets.useOwnWords(() => new Set(['wrong', 'password']));
    secrets.add('wrong');
    secrets.add('Hunter');
    expect(secrets.redact('the password is wrong, or the role does not exist')).toBe('the password is wrong, or the role does not exist');
    expect(secrets.redact('postgresql://app:wrong@db/app')).toBe('postgresql://app:****@db/app');
    expect(secrets.commandShowsSecret("psql -c '\\password app'")).toBe(false);
    // A word dbdoctor never writes stays a secret everywhere.
    expect(secrets.redact('login as Hunter')).toBe('login as ****');
  });

  test("dbdoctor's own words are read from its own files: a word of its sentences, not a server's catalog", async () => {
    const { registerVocabulary } = await import('../../src/cli/vocabulary.js');
    const { secrets } = await import('../../src/config/secrets.js');
    registerVocabulary();
    secrets.add('wrong');
    secrets.add('Zqxvbnmwk');
    try {
      expect(secrets.redact('the password is wrong')).toBe('the password is wrong');
      expect(secrets.redact('not Zqxvbnmwk')).toBe('not ****');
    } finally {
      secrets.forget();
    }
  });

  test("the build lists dbdoctor's own words in dist/own-words.txt, and a run from dist/ reads them from it", async () => {
    const dist = join(ROOT, 'dist');
    const { OWN_WORDS_FILE, scanOwnWords } = await import('../../src/api/own-words.js');
    const listed = readFileSync(join(dist, OWN_WORDS_FILE), 'utf8').split('\n');
    // The list is what reading every file of dist/ finds: nothing added, nothing lost.
    expect(listed).toEqual([...scanOwnWords(dist)].sort());
    expect(listed).toEqual(expect.arrayContaining(['password', 'wrong', 'connection']));
    // dist/'s module reads the list, not the files (a list changed here shows it).
    const copy = mkdtempSync(join(tmpdir(), 'dbdoctor-own-words-'));
    try {
      cpSync(dist, join(copy, 'dist'), { recursive: true });
      writeFileSync(join(copy, 'dist', OWN_WORDS_FILE), 'zqxvbnmwk\nwrong');
      const module = (await import(pathToFileURL(join(copy, 'dist', 'api', 'own-words.js')).href)) as { ownWords: () => ReadonlySet<string> };
      expect([...module.ownWords()].sort()).toEqual(['wrong', 'zqxvbnmwk']);
      // Without the list, the files themselves.
      rmSync(join(copy, 'dist', OWN_WORDS_FILE));
      expect(module.ownWords().has('password')).toBe(true);
      expect(module.ownWords().has('zqxvbnmwk')).toBe(false);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('known secrets are replaced as whole tokens, in plain and URL-encoded form', () => {
    const secrets = new Secrets();
    secrets.add('s3cr3t/pw');
    expect(secrets.redact('error near "s3cr3t/pw" and s3cr3t%2Fpw')).toBe('error near "****" and ****');
  });

  test('a secret inside a longer word is left alone, and short ones are not searched for', () => {
    const secrets = new Secrets();
    secrets.add('post');
    secrets.add('ab');
    expect(secrets.redact('postgresql is up; ab')).toBe('postgresql is up; ab');
    expect(secrets.redact('password post used')).toBe('password **** used');
  });

  test('a password equal to the user name is not masked everywhere the user is named', () => {
    const secrets = new Secrets();
    secrets.add('postgres');
    secrets.addPublic('postgres');
    expect(secrets.redact('logged in as "postgres"')).toBe('logged in as "postgres"');
  });

  test('the environment registers secret-named variables and passwords inside URLs', async () => {
    const { secrets } = await import('../../src/config/secrets.js');
    buildEnvironment({ APP_DB_PASSWORD: 'envsecret-1', DATABASE_URL: 'postgres://u:urlsecret-2@h/d', OTHER: 'plain-value' });
    expect(secrets.redact('envsecret-1 urlsecret-2 plain-value')).toBe('**** **** plain-value');
  });

  test('a secret followed by a quote and a colon is masked too: values are text, not JSON', () => {
    const secrets = new Secrets();
    secrets.add('hunter22');
    expect(secrets.redact('the server said "hunter22": no')).toBe('the server said "****": no');
  });
});

describe('documents: masked as structures, commands never rewritten', () => {
  test('string values and keys are masked; numbers, booleans and nulls kept; a command is kept exactly', () => {
    const secrets = new Secrets();
    secrets.add('hunter22');
    secrets.add('false,');
    const document = {
      message: 'login as hunter22 failed',
      count: 3,
      ok: false,
      none: null,
      evidence: { hunter22: 'key', list: ['a hunter22', 1, true] },
      remediation: [{ text: 'Run:', command: "psql -U app -c 'SELECT 1;'", language: 'shell' }],
    };
    expect(secrets.redactDocument(document)).toEqual({
      message: 'login as **** failed',
      count: 3,
      ok: false,
      none: null,
      evidence: { '****': 'key', list: ['a ****', 1, true] },
      remediation: [{ text: 'Run:', command: "psql -U app -c 'SELECT 1;'", language: 'shell' }],
    });
  });

  test('a command that would show a secret is left out, its text saying why; it is never rewritten', () => {
    const secrets = new Secrets();
    secrets.add("''\\''");
    secrets.add('s3cret-pw');
    const shown = "psql -c 'SELECT 1 WHERE x = '\\''a .'\\'''\\''$(touch x)'\\'';'";
    expect(secrets.commandShowsSecret(shown)).toBe(true);
    expect(secrets.commandShowsSecret('mongosh "mongodb://app:s3cret-pw@db/"')).toBe(true);
    expect(secrets.commandShowsSecret('mongosh mongodb://app@db/')).toBe(false);
    expect(
      secrets.redactDocument({
        remediation: [
          { text: 'Check:', command: shown, language: 'shell' },
          { text: 'Then:', command: 'pg_isready -h db', language: 'shell' },
        ],
      }),
    ).toEqual({
      remediation: [{ text: `Check: ${COMMAND_LEFT_OUT}` }, { text: 'Then:', command: 'pg_isready -h db', language: 'shell' }],
    });
  });

  test('"-" joins words in a command: a password "password" is not shown by dbdoctor\'s own placeholder', () => {
    const secrets = new Secrets();
    secrets.add('password');
    expect(secrets.commandShowsSecret("ALTER ROLE app WITH PASSWORD 'new-password';")).toBe(false);
    expect(secrets.commandShowsSecret('export PGPASSWORD=password')).toBe(true);
  });

  test("explain's confirm command is kept, or null when it would show a secret", () => {
    const secrets = new Secrets();
    secrets.add('s3cret-pw');
    expect(secrets.redactDocument({ confirm: 'dbdoctor diagnose postgresql://db/app', nested: { confirm: 's3cret-pw' } }, ['confirm'])).toEqual({
      confirm: 'dbdoctor diagnose postgresql://db/app',
      nested: { confirm: '****' },
    });
    expect(secrets.redactDocument({ confirm: 'dbdoctor diagnose s3cret-pw' }, ['confirm'])).toEqual({ confirm: null });
  });
});
