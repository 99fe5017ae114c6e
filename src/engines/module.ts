import type { Environment } from '../config/environment.js';
import type { EngineExplainer } from '../engine/explainer.js';
import type { DiagnosisTarget, Hint, Probe } from '../engine/probe.js';

/**
 * Everything dbdoctor knows about one database engine, in one record: what it is called, which
 * URLs and variables name it, how its targets are read, its probe, its explainer and the hints
 * that tell its texts apart. The CLI, config loading, discovery, explain and the docs read engines
 * only through the registry of these records (src/engines/registry.ts); the engine's runner
 * (src/engine/walk.ts) drives the walk with the probe a record loads.
 *
 * A record is cheap to load: its probe, explainer, target parser and driver are imported only
 * when a target of the engine is diagnosed or a text points at it (a PostgreSQL-only run loads no
 * other engine's code). So the record holds data and lazy `import()`s, nothing else.
 */
export interface EngineModule<Id extends string = string, T extends DiagnosisTarget & { readonly engine: Id } = DiagnosisTarget & { readonly engine: Id }> {
  /** The name in targets, reports, `--engine` and config files ("postgres"). */
  readonly id: Id;
  /** The name people use ("PostgreSQL"). */
  readonly name: string;
  /** URL prefixes that name this engine, as typed (matched case-insensitively): "postgresql://". */
  readonly schemes: readonly string[];
  /** The prefix dbdoctor writes in the URLs it suggests. */
  readonly scheme: string;
  /** The names of its settings, as keys of a target's `sources` in the report (never masked as secrets). */
  readonly settingNames?: readonly string[];
  /** The port a server of this engine listens on by default. */
  readonly defaultPort: number;
  /**
   * Text with no scheme that this engine reads as its own (libpq's "host=db dbname=app"), tried
   * after every engine's schemes; `source` is how the report names such a text.
   */
  readonly bareText?: { readonly test: (text: string) => boolean; readonly source: string };
  /** The target a text names (its URL, or bare text); with no text, the one its variables name. */
  resolve(input: TargetInput | undefined, env: Environment): Promise<T>;
  /**
   * Targets the environment names in this engine's own variables (MONGODB_URI,
   * CASSANDRA_CONTACT_POINTS, PGHOST, …), given what was found so far; *DATABASE_URL variables
   * are read for every engine by their scheme, before.
   */
  discover?(env: Environment, found: readonly { readonly target: DiagnosisTarget; readonly label?: string }[]): Promise<Discovered<T>[]>;
  /** With nothing in the environment at all: the target this engine's own defaults name (libpq's). */
  defaultTarget?(env: Environment): Promise<Discovered<T>>;
  /** The probe whose steps the walk runs. */
  probe(): Promise<Probe<T, unknown>>;
  /** Findings beside any verdict, from the environment (settings that contradict the target). */
  hints?(env: Environment, target: T): Promise<readonly Hint[]>;
  /** The explainer for pasted texts of this engine. */
  explainer(): Promise<EngineExplainer>;
  /** Cheap words that say a text is this engine's (module names, exception classes, default port…). */
  readonly textHints: RegExp;
  /** This engine's clients, most specific first (the same ids as the explain corpus' folders). */
  readonly clients: readonly (readonly [string, RegExp])[];
  /** Whether a driver's error object is this engine's, told by its shape (never `instanceof`). */
  errorShape(read: (...path: string[]) => unknown): boolean;
}

export interface TargetInput {
  readonly text: string;
  /** Where the text came from, as the report names it ("url", "env DATABASE_URL", a config file's entry). */
  readonly source: string;
}

/** A target found in the environment, and the name it goes by. */
export interface Discovered<T> {
  readonly target: T;
  readonly label: string;
  /** Listed before every other target (libpq's own variables name the target applications default to). */
  readonly first?: boolean;
}

/** The target type an engine's record reads. */
export type TargetOf<M> = M extends EngineModule<string, infer T> ? T : never;

/** Keeps the record's literal id and target type, so that the registry can derive both. */
export function defineEngine<const Id extends string, T extends DiagnosisTarget & { readonly engine: Id }>(module: EngineModule<Id, T>): EngineModule<Id, T> {
  return module;
}
