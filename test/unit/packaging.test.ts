import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';
import { validateWorkflow } from '@action-validator/core';
import { diagnoseCommand } from '../../src/cli/diagnose.js';
import { EXPORTER_DEFAULTS, exporterCommand } from '../../src/cli/exporter.js';
import { durationMs } from '../../src/config/duration.js';
import { Scheduler } from '../../src/exporter/scheduler.js';
import type { CliIO } from '../../src/cli/io.js';
import { waitCommand } from '../../src/cli/wait.js';
import { parseConfigFile } from '../../src/config/file.js';
import { ROOT } from '../lab/dbdoctor.js';

/**
 * There is no container engine or cluster on these machines, so the Dockerfile and manifests are
 * checked here with a Dockerfile parser, the Kubernetes API schemas (kubernetes-models), the
 * GitHub Actions workflow schema (action-validator), and our own command-line parser: paths that
 * exist, flags that exist, a non-root user.
 */
const io: CliIO = { env: {}, stdoutIsTTY: false, stderrIsTTY: false, cwd: ROOT, out: async () => undefined, err: async () => undefined };

/** Parses a dbdoctor command line with the real commands; throws on an unknown flag or value. */
async function parsesAsDbdoctor(args: readonly string[]): Promise<string> {
  const [name, ...rest] = args;
  const separator = rest.indexOf('--');
  const own = separator >= 0 ? rest.slice(0, separator) : rest;
  let ran = '';
  const command =
    name === 'wait'
      ? waitCommand(io, [], async () => void (ran = 'wait'))
      : name === 'diagnose'
        ? diagnoseCommand(io, async () => void (ran = 'diagnose'))
        : name === 'exporter'
          ? exporterCommand(async () => void (ran = 'exporter'))
          : undefined;
  if (!command) throw new Error(`not a dbdoctor command: ${name ?? ''}`);
  command.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await command.parseAsync(own, { from: 'user' });
  return ran;
}

describe('the Dockerfile', () => {
  const dockerfile = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const instructions = dockerfile.getInstructions();
  const finalFrom = instructions.map((instruction) => instruction.getKeyword()).lastIndexOf('FROM');
  const finalStage = instructions.slice(finalFrom);

  test('builds on Node 20', () => {
    const images = instructions
      .filter((instruction) => instruction.getKeyword() === 'FROM')
      .map((instruction) => instruction.getArgumentsContent()?.split(/\s+/)[0] ?? '');
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^node:20[-.\w]*$/);
  });

  test('runs as a non-root user, with dbdoctor as its entrypoint', () => {
    const user = finalStage
      .filter((instruction) => instruction.getKeyword() === 'USER')
      .at(-1)
      ?.getArgumentsContent();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(finalStage.find((instruction) => instruction.getKeyword() === 'ENTRYPOINT')?.getArgumentsContent()).toBe('["dbdoctor"]');
  });

  test('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const sources = instructions
      .filter((instruction) => instruction.getKeyword() === 'COPY' && !/--from=/.test(instruction.getTextContent()))
      .flatMap((instruction) => (instruction.getArgumentsContent() ?? '').split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain('/app/bin/dbdoctor.js');
    expect(existsSync(join(ROOT, 'bin', 'dbdoctor.js'))).toBe(true);
  });
});

describe("the Dockerfile's build stage", () => {
  // No container engine here: the build stage's own steps, in a directory holding only what it copies.
  test('builds from what it copies: tsc, the bundle and its code cache', () => {
    const instructions = DockerfileParser.parse(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).getInstructions();
    const finalFrom = instructions.map((instruction) => instruction.getKeyword()).lastIndexOf('FROM');
    const app = mkdtempSync(join(tmpdir(), 'dbdoctor-docker-build-'));
    try {
      for (const instruction of instructions.slice(0, finalFrom)) {
        if (instruction.getKeyword() !== 'COPY') continue;
        const parts = (instruction.getArgumentsContent() ?? '').split(/\s+/);
        const destination = parts.at(-1) ?? '.';
        const sources = parts.slice(0, -1);
        for (const source of sources) {
          const into = sources.length > 1 || destination.endsWith('/') ? join(app, destination, basename(source)) : join(app, destination);
          cpSync(join(ROOT, source), into, { recursive: true });
        }
      }
      // `npm ci` is the stage's own step; the packages are the same, linked.
      symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
      const build = spawnSync('npm', ['run', 'build'], { cwd: app, encoding: 'utf8', timeout: 240_000 });
      expect(build.status, build.stderr).toBe(0);
      for (const file of ['api/index.js', 'bundle/main.cjs', 'bundle/main.code-cache', 'own-words.txt'])
        expect(existsSync(join(app, 'dist', file)), file).toBe(true);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('the Kubernetes manifests', () => {
  const dir = join(ROOT, 'deploy', 'kubernetes');
  const documents = readdirSync(dir).flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((document) => ({
      file,
      object: document.toJS() as { apiVersion: string; kind: string; data?: Record<string, string> },
    })),
  );

  test.each(documents.map((entry) => [`${entry.file} ${entry.object.kind}`, entry.object] as const))(
    '%s is valid against the Kubernetes API schema',
    async (_name, object) => {
      const group = object.apiVersion.includes('/') ? object.apiVersion : `v1`;
      // The Prometheus Operator's resources (ServiceMonitor) against the operator's CRD schemas.
      const module: Record<string, new (value: unknown) => { validate(): void }> = group.startsWith('monitoring.coreos.com/')
        ? await import(`@kubernetes-models/prometheus-operator/${group}`)
        : await import(`kubernetes-models/${group}`);
      const Model = module[object.kind];
      expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined();
      if (Model) expect(() => new Model(object).validate()).not.toThrow();
    },
  );

  test('every dbdoctor container runs a real dbdoctor command with real flags', async () => {
    const containers = JSON.stringify(documents.map((entry) => entry.object));
    const invocations: string[][] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (typeof value === 'object' && value !== null) {
        const record = value as Record<string, unknown>;
        if (record.image === 'dbdoctor:latest') {
          const args = (record.args as string[] | undefined) ?? [];
          if (record.command) {
            const script = args.join(' ');
            const match = /dbdoctor ([^>;|]+)/.exec(script);
            if (match?.[1]) invocations.push(match[1].trim().split(/\s+/));
          } else {
            invocations.push(args);
          }
        }
        Object.values(record).forEach(collect);
      }
    };
    collect(JSON.parse(containers));
    expect(invocations.length).toBe(4);
    for (const args of invocations) expect(await parsesAsDbdoctor(args)).toBe(args[0]);
  });

  test('the fleet config in the ConfigMap is a valid dbdoctor config file', async () => {
    const map = documents.find((entry) => entry.object.kind === 'ConfigMap')?.object;
    const config = await parseConfigFile(map?.data?.['fleet.yaml'] ?? '', 'fleet.yaml');
    expect(config.targets.map((target) => target.label)).toEqual(['orders', 'analytics']);
  });
});

describe('the GitHub Actions example', () => {
  const text = readFileSync(join(ROOT, 'deploy', 'github-actions', 'wait-for-database.yml'), 'utf8');
  test('is a valid workflow', () => {
    expect(validateWorkflow(text).errors).toEqual([]);
  });
  test('its dbdoctor step uses real flags', async () => {
    const run = /npx --yes dbdoctor ([^>\n]+)/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
    expect(await parsesAsDbdoctor(run)).toBe('wait');
  });
});

describe('the cross-platform workflow (issue 21)', () => {
  const text = readFileSync(join(ROOT, '.github', 'workflows', 'cross-platform.yml'), 'utf8');
  const workflow = parse(text) as {
    jobs: Record<string, { 'runs-on': string; strategy: { matrix: { os: string[] } }; steps: { run?: string; if?: string; shell?: string }[] }>;
  };
  const job = Object.values(workflow.jobs)[0];

  test('is a valid workflow, on Linux, macOS and Windows', () => {
    expect(validateWorkflow(text).errors).toEqual([]);
    expect(job?.strategy.matrix.os).toEqual(['ubuntu-latest', 'macos-latest', 'windows-latest']);
  });

  test("installs PostgreSQL as each OS's users do: Debian's service, Homebrew's postgresql@16, the EDB installer through Chocolatey", () => {
    const runs = (job?.steps ?? []).map((step) => step.run ?? '').join('\n');
    expect(runs).toContain('systemctl start postgresql');
    expect(runs).toContain('brew install postgresql@16');
    expect(runs).toContain('brew services start postgresql@16');
    expect(runs).toContain('choco install postgresql16');
  });

  test('every dbdoctor command in it parses with the real commands', async () => {
    const invocations = [...text.matchAll(/node bin\/dbdoctor\.js ([^|\n]+)/g)].map((match) =>
      (match[1] ?? '')
        .replace(/\s*\|\|.*$/, '')
        .replace(/\s*>\s*\S+\s*$/, '')
        .trim()
        .split(/\s+/)
        .map((word) => word.replace(/^"(.*)"$/, '$1')),
    );
    expect(invocations.length).toBeGreaterThanOrEqual(5);
    for (const args of invocations) expect(await parsesAsDbdoctor(args)).toBe(args[0]);
  });

  test('no step pipes dbdoctor into another command: GitHub runs bash with -o pipefail, and an unhealthy verdict exits 2', () => {
    const runs = (job?.steps ?? []).map((step) => step.run ?? '').join('\n');
    expect(runs).not.toMatch(/node bin\/dbdoctor\.js [^\n]*[^|]\|(?!\|)/);
  });

  test('its smoke checks name causes of the catalogue, and the script they run exists', async () => {
    const { CAUSES } = await import('../../src/engine/causes.js');
    const checks = [...text.matchAll(/node scripts\/smoke-check\.mjs (\w+)/g)].map((match) => match[1] ?? '');
    expect(checks.length).toBeGreaterThanOrEqual(4);
    for (const cause of checks) expect(Object.keys(CAUSES)).toContain(cause);
    expect(existsSync(join(ROOT, 'scripts', 'smoke-check.mjs'))).toBe(true);
  });
});

describe('the exporter manifests', () => {
  const documents = parseAllDocuments(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'exporter.yaml'), 'utf8')).map(
    (document) => document.toJS() as Record<string, any>,
  );
  const of = (kind: string): Record<string, any> => documents.find((object) => object.kind === kind) ?? {};

  test('the ServiceMonitor probes exactly the labels of the ConfigMap, in job "dbdoctor", with the target as instance', async () => {
    const config = await parseConfigFile(of('ConfigMap').data['targets.yaml'], 'targets.yaml');
    const labels = config.targets.map((target) => target.label);
    expect(labels.every((label) => label !== undefined)).toBe(true);
    const endpoints = of('ServiceMonitor').spec.endpoints as Record<string, any>[];
    const probes = endpoints.filter((endpoint) => endpoint.path === '/probe');
    expect(probes.map((endpoint) => endpoint.params.target[0])).toEqual(labels);
    for (const endpoint of probes) {
      expect(endpoint.relabelings).toEqual([
        { targetLabel: 'job', replacement: 'dbdoctor' },
        { sourceLabels: ['__param_target'], targetLabel: 'instance' },
      ]);
      // The scrape timeout is what the exporter gives a diagnosis (less 0.5 s): longer than the config's timeout would be wasted.
      expect(Number.parseFloat(endpoint.scrapeTimeout)).toBeGreaterThan(config.defaults?.timeout ?? 10);
    }
    expect(endpoints.filter((endpoint) => endpoint.path === '/metrics')).toHaveLength(1);
  });

  test('with the shipped minInterval and scrape intervals, every scrape of a Prometheus gets a fresh diagnosis (not every other one)', async () => {
    const config = await parseConfigFile(of('ConfigMap').data['targets.yaml'], 'targets.yaml');
    const probes = (of('ServiceMonitor').spec.endpoints as Record<string, any>[]).filter((endpoint) => endpoint.path === '/probe');
    for (const endpoint of probes) {
      const intervalMs = durationMs(String(endpoint.interval)) ?? 0;
      const minIntervalMs = config.targets.find((target) => target.label === endpoint.params.target[0])?.minInterval ?? config.defaults?.minInterval ?? 15_000;
      expect(minIntervalMs).toBeLessThanOrEqual(intervalMs);
      let clock = 0;
      const scheduler = new Scheduler(
        [{ name: 'x', minIntervalMs }],
        async () => (
          (clock += 300),
          {
            target: 'x',
            engine: 'postgres',
            source: {},
            status: 'healthy',
            verdict: { step: null, cause: 'healthy', message: '', details: {}, remediation: [] },
            warnings: [],
            steps: [],
            durationMs: 300,
          }
        ),
        1,
        () => clock,
      );
      const kinds: string[] = [];
      for (let scrape = 0; scrape < 8; scrape += 1) {
        clock = scrape * intervalMs + (scrape % 2 === 0 ? -7 : 5); // a few ms early or late
        kinds.push((await scheduler.probe('x', 9500)).kind);
      }
      expect(kinds, endpoint.params.target[0]).toEqual(Array<string>(8).fill('fresh'));
    }
    // The example scrape config against the exporter's default --min-interval.
    const prometheus = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as { global: { scrape_interval: string } };
    expect(durationMs(prometheus.global.scrape_interval)).toBeGreaterThanOrEqual(EXPORTER_DEFAULTS.minIntervalMs);
  });

  test('the Deployment listens where the Service and probes point, and waits longer than a diagnosis on SIGTERM', () => {
    const pod = of('Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(container.args[container.args.indexOf('--listen') + 1]).toBe(`:${container.ports[0].containerPort}`);
    expect(of('Service').spec.ports[0].targetPort).toBe(container.ports[0].name);
    expect(container.readinessProbe.httpGet.path).toBe('/-/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/-/healthy');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(10);
    expect(of('Service').spec.selector).toEqual(of('Deployment').spec.selector.matchLabels);
    expect(of('ServiceMonitor').spec.selector.matchLabels).toEqual(of('Service').metadata.labels);
  });
});
