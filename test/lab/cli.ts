import { spawn } from 'node:child_process';
import { BIN } from './dbdoctor.js';
import { scenario, SCENARIOS, type LabRun } from './scenarios.js';

/**
 * The fault lab for people: `npm run lab -- --list`, `npm run lab -- <scenario>` (set it up, print
 * the commands that show it, wait for Ctrl-C, tear it down), `npm run lab -- <scenario> --run`
 * (set it up, run dbdoctor against it, tear it down). Needs root, as the tests do.
 */
const USAGE = 'usage: npm run lab -- --list | <scenario> [--run]';

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function commandFor(run: LabRun): string[] {
  const env = Object.entries(run.env ?? {}).map(([name, value]) => `${name}=${value}`);
  const dbdoctor = [...(env.length > 0 ? ['env', ...env] : []), process.execPath, BIN, 'diagnose', ...run.args];
  const inside = run.cwd ? ['sh', '-c', 'cd "$0" && exec "$@"', run.cwd, ...dbdoctor] : dbdoctor;
  return [...(run.prefix ?? []), ...inside];
}

function execute(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(command ?? 'true', args, { stdio: 'inherit', env: { ...process.env, NO_COLOR: process.env.NO_COLOR ?? '' } });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(args: readonly string[]): Promise<number> {
  if (args.includes('--list') || args.length === 0) {
    const width = Math.max(...SCENARIOS.map((entry) => entry.name.length));
    for (const entry of SCENARIOS) process.stdout.write(`${entry.name.padEnd(width)}  ${entry.title}\n`);
    if (args.length === 0) process.stdout.write(`\n${USAGE}\n`);
    return 0;
  }
  const name = args.find((arg) => !arg.startsWith('--')) ?? '';
  const chosen = scenario(name);
  if (!chosen) {
    process.stderr.write(`lab: no scenario "${name}"; npm run lab -- --list shows them\n`);
    return 3;
  }
  process.stderr.write(`setting up ${chosen.name}: ${chosen.title}\n`);
  const setup = await chosen.setup();
  const teardown = async (): Promise<void> => {
    process.stderr.write(`tearing down ${chosen.name}\n`);
    await setup.teardown();
  };
  try {
    if (args.includes('--run')) {
      for (const run of setup.runs) {
        await run.before?.();
        process.stdout.write(`\n── ${run.title} (expect ${run.expect.verdict}, exit ${run.expect.exit})\n$ ${commandFor(run).map(shellQuote).join(' ')}\n\n`);
        const code = await execute(commandFor(run));
        process.stdout.write(`exit ${code}\n`);
      }
      return 0;
    }
    process.stdout.write(`\n${chosen.name} is set up. In another terminal, as root:\n`);
    for (const run of setup.runs) {
      if (run.before) process.stdout.write(`\n  (this run changes the fault first; use --run to see it)\n`);
      process.stdout.write(`\n  # ${run.title} — dbdoctor should say ${run.expect.verdict}\n  ${commandFor(run).map(shellQuote).join(' ')}\n`);
    }
    process.stdout.write('\nPress Ctrl-C to tear it down.\n');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    return 0;
  } finally {
    await teardown();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
