import { readdir, access } from 'node:fs/promises';
import { join, win32 } from 'node:path';
import type { HostOs } from './platform.js';

/**
 * What starts a database server on a desktop, because the fix names it: Homebrew's services
 * (launchd underneath: `brew services start postgresql@16`), Postgres.app, a Windows service
 * (the EDB installer's postgresql-x64-16, MongoDB's "MongoDB"). Told from a server's executable
 * path when one was seen (`/opt/homebrew/Cellar/postgresql@16/16.4/bin/postgres`), else from what
 * is installed where each of them installs (a directory listing; nothing is run).
 */
export type ServiceManager =
  | { readonly kind: 'homebrew'; readonly formula: string; readonly prefix: string }
  | { readonly kind: 'postgres.app'; readonly version?: string }
  | { readonly kind: 'windows-service'; readonly service: string; readonly root?: string; readonly version?: string };

/**
 * Where an engine's desktop installs are found (facts from the engine's own folder, e.g. probes/postgres/desktop.ts):
 * Homebrew's formula names, an app bundle, and an installer's folder under Program Files whose
 * version folders name Windows services.
 */
export interface InstalledBy {
  /** Homebrew formulae of the engine: /^postgresql(@\d+)?$/. */
  readonly formula: RegExp;
  /** An app bundle on macOS whose presence names it ("/Applications/Postgres.app"). */
  readonly app?: string;
  /** An installer's folder under Program Files, one folder per version ("PostgreSQL"), and the service it installs for a version. */
  readonly windows?: { readonly folder: string; readonly service: (version: string) => string };
}

/** The manager an executable's path shows, if any. */
export function managerOfExecutable(path: string): ServiceManager | undefined {
  const brew = HOMEBREW_PREFIXES.map((prefix) => ({ prefix, match: new RegExp(`^${prefix.replace(/\./g, '\\.')}/(?:Cellar|opt)/([^/]+)/`).exec(path) })).find(
    (entry) => entry.match?.[1],
  );
  if (brew?.match?.[1]) return { kind: 'homebrew', formula: brew.match[1], prefix: brew.prefix };
  const app = /\/Postgres\.app\/Contents\/Versions\/([^/]+)\//.exec(path);
  if (app) return { kind: 'postgres.app', ...(app[1] && app[1] !== 'latest' ? { version: app[1] } : {}) };
  const edb = /^([A-Za-z]:\\.*\\PostgreSQL\\(\d+(?:\.\d+)?))\\bin\\postgres\.exe$/i.exec(path);
  if (edb?.[1] && edb[2]) return { kind: 'windows-service', service: `postgresql-x64-${edb[2]}`, root: edb[1], version: edb[2] };
  return undefined;
}

/** Homebrew's prefixes: Apple silicon, then Intel (and Linuxbrew). */
export const HOMEBREW_PREFIXES = ['/opt/homebrew', '/usr/local', '/home/linuxbrew/.linuxbrew'] as const;

export async function installedManagers(
  os: HostOs,
  installs: InstalledBy,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ServiceManager[]> {
  if (os === 'macos') {
    const formulae = await Promise.all(
      HOMEBREW_PREFIXES.map(async (prefix) =>
        (await list(join(prefix, 'opt')))
          .filter((name) => installs.formula.test(name))
          .map((formula): ServiceManager => ({ kind: 'homebrew', formula, prefix })),
      ),
    );
    const app = installs.app && (await exists(installs.app)) ? [{ kind: 'postgres.app' } as const] : [];
    // The newest formula first: postgresql@17 before postgresql@14.
    return [...formulae.flat().sort((a, b) => versionOf(b) - versionOf(a)), ...app];
  }
  if (os === 'windows' && installs.windows) {
    const { folder, service } = installs.windows;
    const root = win32.join(env.ProgramFiles ?? 'C:\\Program Files', folder);
    const versions = (await list(root)).filter((name) => /^\d+(\.\d+)?$/.test(name)).sort((a, b) => Number(b) - Number(a));
    return versions.map((version): ServiceManager => ({
      kind: 'windows-service',
      service: service(version),
      root: win32.join(root, version),
      version,
    }));
  }
  return [];
}

function versionOf(manager: ServiceManager): number {
  return manager.kind === 'homebrew' ? Number(/@([\d.]+)$/.exec(manager.formula)?.[1] ?? 0) : 0;
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
