import type { Hint } from '../../engine/probe.js';
import type { Remediation } from '../../engine/schema.js';
import { hostsIn } from '../../host/names.js';
import type { Environment } from '../environment.js';
import { isSocketHost, type PostgresTarget } from './target.js';
import { sh } from '../../text/shell.js';
import { urlHost, urlPart } from '../../text/url.js';

/**
 * Seeds 000 and 002: compose set DATABASE_URL with host "postgresql" while the code read
 * POSTGRES_HOST and fell back to localhost. The PostgreSQL engine's hints (src/engines/postgres.ts):
 * warnings beside any verdict when the environment's host settings contradict each other or the
 * target diagnosed.
 */
/** Variables that name the PostgreSQL host, in the spellings applications commonly read. */
const POSTGRES_HOST_VARIABLES = ['DATABASE_URL', 'POSTGRES_HOST', 'POSTGRESQL_HOST', 'PGHOST', 'DB_HOST', 'DATABASE_HOST'] as const;

interface HostSetting {
  readonly variable: string;
  readonly host: string;
  readonly source: string;
}

function postgresHostSettings(env: Environment): HostSetting[] {
  return POSTGRES_HOST_VARIABLES.flatMap((variable) => {
    const value = env.get(variable);
    if (!value) return [];
    if (variable === 'DATABASE_URL' && !/^postgres(ql)?:\/\//i.test(value.trim())) return [];
    const host = hostsIn(value, { includeLocalhost: true })[0];
    return host ? [{ variable, host, source: env.sourceOf(variable) ?? `env ${variable}` }] : [];
  });
}

/** Contradictions worth a warning beside the verdict, for one target. */
export function configMismatches(env: Environment, target: PostgresTarget): Hint[] {
  const settings = postgresHostSettings(env);
  const endpoint = target.endpoints[0];
  const targetHost = endpoint && !isSocketHost(endpoint.host) ? endpoint.host : 'localhost';
  const hostSource = target.sources.host ?? 'the URL';
  const hints: Hint[] = [];
  const distinct = [...new Set(settings.map((setting) => setting.host))];
  if (distinct.length > 1) {
    const described = settings.map((setting) => `${setting.variable}=${setting.host}`).join(', ');
    hints.push(
      hint(
        `the environment names different PostgreSQL hosts: ${described}; the application may read another one than dbdoctor did`,
        { settings: [...settings] },
        remedyFor(settings),
      ),
    );
  }
  const fromEnvironment = settings.some((setting) => hostSource === setting.source);
  const elsewhere = settings.filter((setting) => setting.host !== targetHost);
  if (!fromEnvironment && elsewhere.length > 0 && distinct.length <= 1) {
    const first = elsewhere[0];
    if (first) {
      hints.push(
        hint(
          `you diagnosed host ${targetHost} (${hostSource}), but ${first.variable} in this environment points at ${first.host}: is the application reading the setting you think it is?`,
          { diagnosedHost: targetHost, settings: [...settings] },
          [
            {
              text: `Diagnose what ${first.variable} points at too:`,
              command:
                first.variable === 'DATABASE_URL'
                  ? 'dbdoctor diagnose'
                  : sh`dbdoctor diagnose ${`postgresql://${urlPart(target.user)}@${urlHost(first.host)}:${endpoint?.port ?? 5432}/${urlPart(target.database)}`}`,
              language: 'shell',
            },
            {
              text: `If the code reads a host variable with a localhost default (e.g. os.getenv("POSTGRES_HOST", "localhost")), make it read ${first.variable}, or set that variable too.`,
            },
          ],
        ),
      );
    }
  }
  return hints;
}

function hint(summary: string, evidence: Record<string, unknown>, remediation: Remediation[]): Hint {
  return { step: 'network', finding: { status: 'warn', cause: 'config_mismatch', summary, evidence, remediation } };
}

function remedyFor(settings: readonly HostSetting[]): Remediation[] {
  return [
    {
      text: `Make every setting name the same host, or remove the ones the application does not read (${settings.map((setting) => `${setting.variable} from ${setting.source}`).join('; ')}).`,
    },
    { text: 'Check which variable the application actually reads (a default such as os.getenv("POSTGRES_HOST", "localhost") hides a missing one).' },
  ];
}
