import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import kleur from 'kleur';
import { parse as parseYaml } from 'yaml';
import { describe, expect, test } from 'vitest';
import { parseCassandraUri } from '../../src/config/cassandra/target.js';
import { parsePostgresUri } from '../../src/config/postgres/conninfo.js';
import { hostProblem } from '../../src/net/hostname.js';
import { bounded, boundedDeep, boundFinding, COMMAND_CHARS, LIST_ITEMS } from '../../src/text/bound.js';
import { jsString, yamlString } from '../../src/text/js.js';
import { pathOperand, raw, sh, shellWord, UNQUOTABLE, unprintable, viaSh } from '../../src/text/shell.js';
import { pasteIntoShells } from '../lab/commands.js';
import { cqlIdent, cqlLiteral, pgIdent, pgLiteral } from '../../src/text/sql.js';
import { urlHost, urlLine, urlPart, urlQueryValue } from '../../src/text/url.js';
import { hasInvisible, terminalSafe, visible } from '../../src/text/visible.js';

/**
 * The helpers every printed text and command goes through (src/text), each checked against the
 * reader it writes for: bash for shell words, node's parser for JavaScript, the yaml parser, the URL
 * parsers dbdoctor itself uses. (PostgreSQL's own parser checks the SQL helpers, in
 * test/integration/quoting-postgres.test.ts.)
 */
const RUNS = { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) };

/** Text of every kind: any code point, control characters and attacks among them. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc
    .array(
      fc.constantFrom(
        '$(touch SENTINEL)',
        '`x`',
        "'",
        '"',
        '\\',
        '\n',
        '\r',
        '\t',
        '\u001b]52;c;eA==\u0007',
        '\u001b[2J',
        '\u009b',
        '\u202e',
        '\u2028',
        '\ufeff',
        '\u{e0041}',
        '%41',
        ';',
        '|',
        '&',
        '>x',
        '!',
        ' ',
        'é',
        '数',
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
);
/** What a shell word can hold: anything but NUL (no shell keeps a NUL in a word). */
// eslint-disable-next-line no-control-regex
const wordText = anyText.map((value) => value.replace(/\u0000/g, ''));

/** No lone surrogate: a string UTF-8 (and so any file, URL or shell) can carry. */
const wellFormed = (value: string): boolean => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(value);

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

describe('visible: untrusted text shows its control characters escaped', () => {
  test.each([
    ['\u001b]52;c;aGk=\u0007', '\\x1b]52;c;aGk=\\x07'],
    ['\u001b[2J\u001b[H', '\\x1b[2J\\x1b[H'],
    ['line one\nline two\r', 'line one\\nline two\\r'],
    ['\u009b31m', '\\x9b31m'],
    ['\u202egnp.exe', '\\u202egnp.exe'],
    ['zero\u200bwidth\ufeff', 'zero\\u200bwidth\\ufeff'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    // Default_Ignorable_Code_Point, assigned or not: Hangul fillers, variation selectors, CGJ, Mongolian FVS, Khmer vowels, U+2065, U+E0080.
    ['a\u3164b\u115f\u1160\uffa0', 'a\\u3164b\\u115f\\u1160\\uffa0'],
    ['\u2714\ufe0f\u{e0100}\u034f\u180b\u17b4\u2065\u{e0080}', '\u2714\\ufe0f\\u{e0100}\\u034f\\u180b\\u17b4\\u2065\\u{e0080}'],
    ['tab\tstays', 'tab\tstays'],
    ['café 数据库 ✔', 'café 数据库 ✔'],
  ])('%j → %j', (input, shown) => {
    expect(visible(input)).toBe(shown);
  });

  test('line breaks kept when asked (a multi-line snippet)', () => {
    expect(visible('a\nb\u001b', { lines: 'keep' })).toBe('a\nb\\x1b');
  });

  test('any text: nothing invisible is left (tabs aside), and showing it twice changes nothing', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const shown = visible(value);
        expect(shown.replace(/\t/g, '')).not.toMatch(RAW_CONTROL);
        expect(shown).not.toContain('\n');
        expect(visible(shown)).toBe(shown);
      }),
      RUNS,
    );
  });
});

describe("terminalSafe: the writers' net lets only dbdoctor's own codes through", () => {
  test("kleur's colours and a progress line's clear-line pass unchanged", () => {
    kleur.enabled = true;
    const own = `${kleur.red().bold('✖ UNHEALTHY')} ${kleur.dim('dim')} ${kleur.green('ok')} ${kleur.yellow('!')} ${kleur.cyan('cmd')}\r\u001b[2Kline\n`;
    expect(terminalSafe(own)).toBe(own);
  });

  test.each([
    ['\u001b]52;c;aGk=\u0007', '\\u001b]52;c;aGk=\\u0007'],
    ['\u001b[8mhidden\u001b[0m', '\\u001b[8mhidden\u001b[0m'],
    ['\u001b[2J', '\\u001b[2J'],
    ['\u001b]0;title\u0007', '\\u001b]0;title\\u0007'],
    ['overwrite\rfake', 'overwrite\\u000dfake'],
    ['\u202eevil', '\\u202eevil'],
  ])('%j is escaped', (input, output) => {
    expect(terminalSafe(input)).toBe(output);
  });

  test('JSON through the net is the same JSON: what it escapes JSON reads back as the same character', () => {
    fc.assert(
      fc.property(fc.jsonValue(), anyText, (value, extra) => {
        const document = { value, extra };
        const written = terminalSafe(JSON.stringify(document, null, 2));
        expect(JSON.parse(written)).toEqual(JSON.parse(JSON.stringify(document)));
        expect(written.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
      }),
      RUNS,
    );
  });
});

describe('shellWord and sh: every value is one word, exactly, in bash, zsh, fish and dash', () => {
  test.each([
    ['db.example.com', 'db.example.com'],
    ['postgresql://app@db:5432/app', 'postgresql://app@db:5432/app'],
    ['db$(touch /tmp/x);x', `'db$(touch /tmp/x);x'`],
    ["SELECT 1 WHERE x = 'a';", `"SELECT 1 WHERE x = 'a';"`],
    ["it's $HOME", `'it'\\''s $HOME'`],
    ['', "''"],
    // fish reads \\ and \' inside single quotes as escapes: both are written outside the quotes.
    ['a\\b', `'a'\\\\'b'`],
    ["\\';touch /tmp/x;#", '\\\\' + "\\'" + "';touch /tmp/x;#'"],
    // zsh expands a bare =word to a program's path, fish a bare %word to a process id.
    ['=ls', `'=ls'`],
    ['%self', `'%self'`],
    ['a=b', 'a=b'],
    ['50%', '50%'],
    // No quoting writes a control or invisible character the same way in every shell ($'…' is not fish).
    ['a\u001bb\nc', UNQUOTABLE],
    ['\u202e', UNQUOTABLE],
  ])('%j → %s', (value, word) => {
    expect(shellWord(value)).toBe(word);
  });

  test('sh quotes each value as a word, lists as words, raw fragments as they are; a loop is a script for sh -c', () => {
    const check = sh`pg_isready -h ${'/tmp/a b'} -p ${5432}`;
    expect(check).toBe("pg_isready -h '/tmp/a b' -p 5432");
    expect(viaSh(sh`until ${raw(check)}; do sleep 1; done`)).toBe(`sh -c "until pg_isready -h '/tmp/a b' -p 5432; do sleep 1; done"`);
    expect(sh`ls ${['a b', 'c']}`).toBe("ls 'a b' c");
    expect(sh`printf '%s\n' ${'x'}`).toBe("printf '%s\\n' x");
    expect(sh`chmod 0600 ${pathOperand('-rf')}`).toBe('chmod 0600 ./-rf');
  });

  test('a command holding an unquotable value, a control character, or too many characters is not printable', () => {
    expect(unprintable(sh`psql -U ${'a\nb'}`, COMMAND_CHARS)).toMatch(/no quoting writes the same way in every shell/);
    expect(unprintable('cqlsh -e \'SELECT "a\u001bb"\'', COMMAND_CHARS)).toMatch(/would not print as itself/);
    expect(unprintable('services:\n  db:', COMMAND_CHARS)).toBeUndefined();
    expect(unprintable(`echo ${'x'.repeat(COMMAND_CHARS)}`, COMMAND_CHARS)).toMatch(/too long/);
  });

  test('every shell reads every word back as the very value, and nothing in it runs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(wordText, { minLength: 1, maxLength: 30 }), async (values) => {
        const quotable = values.filter((value) => shellWord(value) !== UNQUOTABLE);
        for (const value of values) if (shellWord(value) === UNQUOTABLE) expect(hasInvisible(value)).toBe(true);
        fc.pre(quotable.length > 0);
        const runs = await pasteIntoShells([`psql ${quotable.map(shellWord).join(' ')}`]);
        for (const [shell, [pasted]] of runs) {
          expect(pasted?.stderr, shell).toBe('');
          expect(pasted?.createdFiles, shell).toEqual([]);
          expect(pasted?.invocations, shell).toEqual([{ program: 'psql', args: quotable.map((value) => Buffer.from(value, 'utf8').toString('utf8')) }]);
        }
        for (const value of quotable) expect(hasInvisible(shellWord(value))).toBe(false);
      }),
      {
        numRuns: Math.ceil(RUNS.numRuns / 10),
        examples: [[["\\';touch SENTINEL;#", '=ls', '%self', '~root', '#x', '{a,b}', '(x)', 'a?b', '*', '!!', '^x', 'a\'b"c', 'x\\\\y']]],
      },
    );
  });
});

describe('SQL and CQL names and literals', () => {
  test.each([
    ['app', 'app'],
    ['App', '"App"'],
    ['user', '"user"'],
    ['all', '"all"'],
    ['my db', '"my db"'],
    ['x"; DROP ROLE y; --', '"x""; DROP ROLE y; --"'],
    ['a\u001bb', 'U&"a\\001Bb"'],
    ['a\\b\u202e"', 'U&"a\\\\b\\202E"""'],
  ])('pgIdent(%j) = %s', (name, quoted) => {
    expect(pgIdent(name)).toBe(quoted);
  });

  test.each([
    ['app', "'app'"],
    ["it's", "'it''s'"],
    ['a\\b', "E'a\\\\b'"],
    ["a\nb'", "E'a\\u000Ab'''"],
    ['\u{e0041}', "E'\\U000E0041'"],
  ])('pgLiteral(%j) = %s', (value, quoted) => {
    expect(pgLiteral(value)).toBe(quoted);
  });

  test('CQL: lower-case names bare, reserved words and others quoted; literals with doubled quotes', () => {
    expect(cqlIdent('shop')).toBe('shop');
    expect(cqlIdent('Shop')).toBe('"Shop"');
    expect(cqlIdent('table')).toBe('"table"');
    expect(cqlIdent('a"b')).toBe('"a""b"');
    expect(cqlLiteral("dc'1")).toBe("'dc''1'");
  });

  test('any text: no statement can be ended from inside a name or a literal', () => {
    fc.assert(
      fc.property(wordText, (value) => {
        // Outside its quotes, a quoted PostgreSQL name or literal is nothing: strip the escapes, no quote is left.
        const ident = pgIdent(value);
        if (ident.startsWith('"') || ident.startsWith('U&"')) expect(ident.replace(/^U&"|^"|"$/g, '').replace(/""/g, '')).not.toContain('"');
        const literal = pgLiteral(value);
        expect(
          literal
            .replace(/^E?'|'$/g, '')
            .replace(/''/g, '')
            .replace(/\\\\/g, ''),
        ).not.toMatch(/'/);
        expect(hasInvisible(ident) || hasInvisible(literal)).toBe(false);
        expect(cqlLiteral(value).slice(1, -1).replace(/''/g, '')).not.toContain("'");
      }),
      RUNS,
    );
  });
});

describe('JavaScript strings (mongosh) and YAML scalars', () => {
  test('node reads every JavaScript string back as the very value, on one visible line', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const literal = jsString(value);
        expect(runInNewContext(literal)).toBe(value);
        expect(hasInvisible(literal)).toBe(false);
      }),
      RUNS,
    );
  });

  test('the YAML parser reads every scalar back as the very value', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const scalar = yamlString(value);
        expect(parseYaml(`key: ${scalar}\n`)).toEqual({ key: value });
        expect(parseYaml(`- [${scalar}]\n`)).toEqual([[value]]);
      }),
      RUNS,
    );
    expect(yamlString('yes')).toBe('"yes"');
    expect(yamlString('db-1')).toBe('db-1');
  });

  test('a value some YAML reads as a number, a boolean or a date is quoted: read back as the string in YAML 1.1 and 1.2', () => {
    for (const value of [
      '0123',
      '1e3',
      '1E3',
      '0x1F',
      '0o17',
      '0b101',
      '1_000',
      '12:30',
      '2001-12-14',
      '.5',
      '-1',
      '+1',
      '.inf',
      'yes',
      'No',
      'on',
      'TRUE',
      'null',
      '~',
      'y',
    ]) {
      const scalar = yamlString(value);
      expect(scalar).toBe(jsString(value));
      for (const version of ['1.1', '1.2'] as const) expect(parseYaml(`key: ${scalar}\n`, { version })).toEqual({ key: value });
    }
    expect(yamlString('db1e3')).toBe('db1e3');
  });
});

describe('URL parts', () => {
  test('percent-encoded parts hold only unreserved characters and escapes, and parse back', () => {
    fc.assert(
      fc.property(
        wordText.filter((value) => value !== ''),
        wordText.filter((value) => value !== ''),
        (user, database) => {
          expect(urlPart(user)).toMatch(/^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})*$/);
          const parsed = parsePostgresUri(`postgresql://${urlPart(user)}@db:5432/${urlPart(database)}?host=${urlQueryValue(`/tmp/${database}`)}`);
          // libpq, and so dbdoctor, reads a well-formed UTF-16 string back; a lone surrogate is not one.
          if (wellFormed(user) && wellFormed(database)) {
            expect(parsed.options.user).toBe(user);
            expect(parsed.options.dbname).toBe(database);
            expect(parsed.options.host).toBe(`/tmp/${database}`);
          }
          const cassandra = parseCassandraUri(`cassandra://${urlPart(user)}@db:9042/${urlPart(database)}?dc=${urlPart(user)}`);
          if (wellFormed(user) && wellFormed(database))
            expect([cassandra.username, cassandra.keyspace, cassandra.params.get('dc')]).toEqual([user, database, user]);
        },
      ),
      RUNS,
    );
  });

  test('a URL line: as it is when made of URL characters, one quoted shell word otherwise', () => {
    expect(urlLine('mongodb://admin@127.0.0.1:27017/shop?authSource=admin&tls=true')).toBe('mongodb://admin@127.0.0.1:27017/shop?authSource=admin&tls=true');
    expect(urlLine('postgresql://u@[::1]:5432/d')).toBe('postgresql://u@[::1]:5432/d');
    expect(urlLine('mongodb://db/a$(touch x)')).toBe("'mongodb://db/a$(touch x)'");
  });

  test('hosts: IPv6 in brackets with its zone escaped, names as they are', () => {
    expect(urlHost('db.example.com')).toBe('db.example.com');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('fe80::1%eth0')).toBe('[fe80::1%25eth0]');
    expect(urlHost('db_1')).toBe('db_1');
    expect(parsePostgresUri(`postgresql://u@${urlHost('fe80::1%eth0')}:5432/d`).options.host).toBe('fe80::1%eth0');
  });
});

describe('host names: what no client could resolve is refused, what some client resolves is not', () => {
  test.each([
    'db',
    'db.example.com',
    'db.example.com.',
    'db_1',
    'my_service',
    'dbé.example',
    '数据库.example',
    'xn--db-jla.example',
    '127.0.0.1',
    '127.1',
    '::1',
    'fe80::1%eth0',
    '2001:db8::1',
    '[::1]',
    'a'.repeat(63),
    `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}`,
  ])('%s is a host', (host) => {
    expect(hostProblem(host)).toBeUndefined();
  });

  test.each([
    ['db$(touch /tmp/x);x', '"$"'],
    ['db name', 'a space'],
    ['db\u001b[2J', 'a control character'],
    ['db\u202e', 'an invisible character'],
    ['-oProxyCommand=x', 'starts with "-"'],
    ['db..example', 'empty label'],
    ['.db', 'empty label'],
    ['a'.repeat(64), 'longer than 63'],
    ['fe80::1%$(x)', 'not a valid IPv6'],
    ['', 'empty'],
    ['db\u0000', 'NUL'],
    ['/var/run/postgresql', 'socket path'],
    ["db'", `"'"`],
    ['db/x', '"/"'],
    // Letters and marks drawn as nothing (Default_Ignorable_Code_Point): a Hangul filler, a variation selector.
    ['a\u3164b', 'an invisible character (\\u3164)'],
    ['a\ufe0fb', 'an invisible character (\\ufe0f)'],
    ['a\u115fb.example', 'an invisible character'],
    ['a\u034fb', 'an invisible character'],
  ])('%j is refused: %s', (host, reason) => {
    expect(hostProblem(host)).toContain(reason);
  });

  test('socket paths and abstract sockets where the engine has them', () => {
    expect(hostProblem('/tmp/a b$(x)', { socketPaths: true })).toBeUndefined();
    expect(hostProblem('@pg', { abstractSockets: true })).toBeUndefined();
    expect(hostProblem('@pg')).toBeDefined();
  });
});

describe('bounded: what a server sends cannot grow a report', () => {
  test('strings are cut, saying how much was left out, never inside a surrogate pair', () => {
    expect(bounded('x'.repeat(300), 100)).toBe(`${'x'.repeat(100)}… [200 more characters]`);
    expect(bounded('short', 100)).toBe('short');
    const emoji = `${'a'.repeat(9)}😀${'b'.repeat(10)}`;
    expect(wellFormed(bounded(emoji, 10))).toBe(true);
  });

  test('lists, objects and nesting are bounded too', () => {
    const deep = boundedDeep({ list: Array.from({ length: 1000 }, (_, index) => index), text: 'y'.repeat(10_000) }, 100);
    expect(deep.list).toHaveLength(LIST_ITEMS + 1);
    expect(deep.text.length).toBeLessThan(200);
  });

  test('a finding: summary and evidence bounded; a command too long to print is left out, never cut', () => {
    const finding = boundFinding({
      summary: 's'.repeat(100_000),
      evidence: { message: 'm'.repeat(100_000) },
      remediation: [
        { text: 'run:', command: `echo ${'c'.repeat(COMMAND_CHARS)}`, language: 'shell' },
        { text: 'ok', command: 'echo ok', language: 'shell' },
      ],
    });
    expect(finding.summary.length).toBeLessThan(5000);
    expect(String(finding.evidence.message).length).toBeLessThan(5000);
    expect(finding.remediation[0]?.command).toBeUndefined();
    expect(finding.remediation[0]?.text).toContain('left out');
    expect(finding.remediation[1]?.command).toBe('echo ok');
  });
});
