import { Command, Option } from 'commander';
import { InputError } from '../config/errors.js';
import { EXIT_CODES, exitForSeverity } from '../engine/exit.js';
import { ENGINE_NAMES, type EngineName } from '../engines/registry.js';
import type { CliIO } from './io.js';

/** `dbdoctor explain [text…]`: the options, as a plain struct, then the run. */
export interface ExplainOptions {
  readonly format: 'human' | 'json';
  readonly verbose: boolean;
  readonly color: boolean;
  readonly engine: EngineName | undefined;
  /** The text from the command line, or "stdin" ("-", or no argument with a pipe). */
  readonly input: { readonly from: 'argument'; readonly text: string } | { readonly from: 'stdin' };
}

/** Where the pasted text may come from besides the arguments. */
export interface StdinSource {
  readonly isTTY: boolean;
  read(): Promise<string>;
}

interface RawFlags {
  json?: boolean;
  format?: 'human' | 'json';
  verbose?: boolean;
  color: boolean;
  engine?: EngineName;
}

export function toExplainOptions(words: readonly string[], flags: RawFlags, io: Pick<CliIO, 'env' | 'stdoutIsTTY'>): ExplainOptions {
  const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
  const forceColor = io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0';
  const fromStdin = words.length === 0 || (words.length === 1 && words[0] === '-');
  return {
    format: flags.json ? 'json' : (flags.format ?? 'human'),
    verbose: flags.verbose === true,
    color: flags.color && !noColor && (forceColor || io.stdoutIsTTY),
    engine: flags.engine,
    input: fromStdin ? { from: 'stdin' } : { from: 'argument', text: words.join(' ') },
  };
}

const EXPLAIN_HELP = `
Examples:
  dbdoctor explain 'FATAL: password authentication failed for user "app"'
  kubectl logs deploy/api --tail 200 | dbdoctor explain
  dbdoctor explain --engine mongodb < error.txt

Exit codes:
  ${EXIT_CODES.unhealthy}  a cause was recognised (${EXIT_CODES.degraded} when it is only a warning)
  ${EXIT_CODES.usage}  bad input (no text to explain)
  ${EXIT_CODES.notRecognised}  the text was not recognised as a connection error`;

export function explainCommand(io: CliIO, onRun: (options: ExplainOptions) => Promise<void>): Command {
  return new Command('explain')
    .description('explain a pasted error message or stack trace: the cause, what it means, the fix, and the diagnose command that confirms it (offline)')
    .argument('[text...]', 'the error text; "-" or none reads it from stdin')
    .option('--json', 'print the JSON document (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'json']))
    .option('-v, --verbose', 'list every rule that matched')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .addOption(new Option('--engine <engine>', 'the database engine, when the text does not say').choices(ENGINE_NAMES))
    .addHelpText('after', EXPLAIN_HELP)
    .action(async (words: string[], flags: RawFlags) => onRun(toExplainOptions(words, flags, io)));
}

export function processStdin(): StdinSource {
  return {
    isTTY: process.stdin.isTTY === true,
    read: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

export async function runExplain(options: ExplainOptions, io: CliIO, version: string, stdin: StdinSource = processStdin()): Promise<number> {
  if (options.input.from === 'stdin' && stdin.isTTY)
    throw new InputError('no error text to explain', 'paste it as an argument in quotes, or pipe it: … | dbdoctor explain -');
  const text = options.input.from === 'stdin' ? await stdin.read() : options.input.text;
  if (text.trim() === '')
    throw new InputError('no error text to explain (the input is empty)', 'paste it as an argument in quotes, or pipe it: … | dbdoctor explain -');
  // The API's path (api/explain.ts): the secrets the text carries masked, as a structure.
  const { explainTextRun } = await import('../api/explain.js');
  const report = await explainTextRun(text, { version, ...(options.engine ? { engine: options.engine } : {}) });
  if (options.format === 'json') {
    const { ExplainReportSchema } = await import('../explain/schema.js');
    await io.out(`${JSON.stringify(ExplainReportSchema.parse(report), null, 2)}\n`);
  } else {
    const [{ renderExplainHuman }, { widthFor }] = await Promise.all([import('../explain/render.js'), import('./render.js')]);
    // The same width as diagnose's report: the terminal's, $COLUMNS, or 100; never under 40.
    await io.out(renderExplainHuman(report, { verbose: options.verbose, color: options.color, width: Math.max(40, widthFor(io)) }));
  }
  if (!report.verdict) return EXIT_CODES.notRecognised;
  // Several errors: the worst of them decides (a failure over a warning), whichever is newest.
  const verdicts = report.findings && report.findings.length > 0 ? report.findings.map((finding) => finding.verdict) : [report.verdict];
  return Math.max(...verdicts.map((verdict) => exitForSeverity(verdict.severity)));
}
