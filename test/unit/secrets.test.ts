import { describe, expect, test } from 'vitest';
import { buildEnvironment } from '../../src/config/environment.js';
import { maskUrlPasswords, Secrets } from '../../src/config/secrets.js';

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
});
