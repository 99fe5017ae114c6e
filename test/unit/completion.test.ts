import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BIN } from '../lab/dbdoctor.js';

/** The completion scripts, run by the shells themselves (installed by the test command). */
const script = (shell: string): string => execFileSync(process.execPath, [BIN, 'completion', shell], { encoding: 'utf8' });

/** What bash completes for a command line, through the generated completion function. */
function bashComplete(words: string[]): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'dbdoctor-completion-')), 'dbdoctor.bash');
  writeFileSync(file, script('bash'));
  const program = `source ${file}; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _dbdoctor; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync('bash', ['-c', program], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line !== '');
}

describe('shell completion', () => {
  test("bash: commands, then each command's flags, then a flag's choices", () => {
    expect(bashComplete(['dbdoctor', 'di'])).toEqual(['diagnose']);
    expect(bashComplete(['dbdoctor', 'wait', '--un'])).toEqual(['--until']);
    expect(bashComplete(['dbdoctor', 'wait', '--until', ''])).toEqual(['accepting', 'auth', 'ready']);
    expect(bashComplete(['dbdoctor', 'diagnose', '--format', 'p'])).toEqual(['prometheus']);
  });

  test('zsh: the script parses, and names every command', () => {
    const text = script('zsh');
    expect(() => execFileSync('zsh', ['-n', '-c', text])).not.toThrow();
    for (const command of ['diagnose', 'wait', 'schema', 'runbook', 'completion']) expect(text).toContain(`'${command}:`);
  });

  test('fish: the script parses, and completes wait --until with its choices', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'dbdoctor-completion-')), 'dbdoctor.fish');
    writeFileSync(file, script('fish'));
    expect(() => execFileSync('fish', ['--no-execute', file])).not.toThrow();
    const completed = execFileSync('fish', ['-c', `source ${file}; complete -C 'dbdoctor wait --until '`], { encoding: 'utf8' });
    expect(completed.split('\n').map((line) => line.split('\t')[0])).toEqual(expect.arrayContaining(['accepting', 'auth', 'ready']));
  });

  test('an unknown shell is bad input', () => {
    expect(() => execFileSync(process.execPath, [BIN, 'completion', 'powershell'], { stdio: 'pipe' })).toThrow(/expected one of bash, zsh, fish/);
  });
});
