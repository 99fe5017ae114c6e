import type { EngineExplainer, ExplainRule, FieldPattern, Reader } from '../engine/explainer.js';
import type { StepDescription } from '../engine/probe.js';
import type { Evidence } from '../engine/schema.js';
import type { PortWatch } from '../probes/common/watch.js';
import type { EngineModule, TargetOf } from './module.js';
import { postgresEngine } from './postgres.js';
import { mongodbEngine } from './mongodb.js';
import { cassandraEngine } from './cassandra.js';

/**
 * Every engine dbdoctor diagnoses, one entry each (src/engines/module.ts says what an entry
 * holds). Adding an engine is its folder and one line here: the CLI's choices, config files,
 * discovery, explain, the schema and the completion scripts all read this list.
 *
 * The order is the order URLs are tried in, discovery lists targets in, and explain reads
 * clients in (most specific first within an engine); the first is the default engine, whose own
 * defaults name the target when the environment names none.
 */
export const ENGINE_MODULES = [postgresEngine, mongodbEngine, cassandraEngine] as const;

type Registered = (typeof ENGINE_MODULES)[number];
export type EngineName = Registered['id'];
/** Every engine's target; the `engine` field tells them apart. */
export type Target = TargetOf<Registered>;

export const ENGINE_NAMES = ENGINE_MODULES.map((module) => module.id) as [EngineName, ...EngineName[]];
/** Engines by id, with the name people use for them. */
export const ENGINES = Object.fromEntries(ENGINE_MODULES.map((module) => [module.id, module.name])) as Readonly<Record<EngineName, string>>;

export function isEngine(name: string): name is EngineName {
  return engineNamed(name) !== undefined;
}

/** The engine of this id, if one is registered (a protocol id from net/sniff.ts may name none). */
export function engineNamed(name: string): Registered | undefined {
  return ENGINE_MODULES.find((module) => module.id === name);
}

/** An engine's entry, typed by its target: the one place a target's engine meets its module. */
export function engineOf<T extends Target>(target: T): EngineModule<T['engine'], T> {
  return engineModule(target.engine) as unknown as EngineModule<T['engine'], T>;
}

export function engineModule(name: EngineName): Registered {
  const found = engineNamed(name);
  if (!found) throw new Error(`no engine "${name}" is registered`);
  return found;
}

/** A probe's step definitions, for runbooks and docs (loading the probe, never its driver). */
export async function stepsOf(engine: EngineName): Promise<readonly StepDescription[]> {
  return (await engineModule(engine).probe()).steps;
}

/**
 * Which engine a pasted text comes from, told by cheap hints (module names, exception classes,
 * URL schemes, default ports, code spellings only that engine's clients print).
 */
export const ENGINE_HINTS = Object.fromEntries(ENGINE_MODULES.map((module) => [module.id, module.textHints])) as Readonly<Record<EngineName, RegExp>>;

/**
 * Which engine a driver's error object comes from, told by its shape (explain/objects.ts reads the
 * fields; never `instanceof`, so that a driver need not be installed).
 */
export const ERROR_SHAPES = Object.fromEntries(ENGINE_MODULES.map((module) => [module.id, module.errorShape])) as Readonly<
  Record<EngineName, (read: (...path: string[]) => unknown) => boolean>
>;

/** The client a text comes from, most specific first (the same ids as the corpus' folders). */
export const CLIENT_HINTS: readonly (readonly [string, RegExp])[] = ENGINE_MODULES.flatMap((module) => module.clients);

/** Each engine's explainer, imported only when a text points at it (or, with no hint at all, every engine's). */
export async function loadExplainer(engine: EngineName): Promise<EngineExplainer> {
  return engineModule(engine).explainer();
}

/** What the network and the operating system say, whatever the engine: rules, errno readers, the shared fixes. */
export interface NetworkExplainer {
  readonly rules: readonly ExplainRule[];
  readonly fieldPatterns: readonly FieldPattern[];
  readers(): Promise<readonly Reader[]>;
  /** The fix in words that fit any database, for a text whose engine is not known. */
  readonly remediation: EngineExplainer['remediation'];
  /** Words any client logs once connected (EngineExplainer.working). */
  readonly working: RegExp;
}

export async function loadNetworkExplainer(): Promise<NetworkExplainer> {
  return (await import('../probes/common/explain.js')).networkExplainer;
}

/**
 * `dbdoctor wait`'s watch on the ports its refused targets were refused at, read from the probes'
 * own network evidence (common/watch.ts, beside the code that writes it).
 */
export async function watchRefusedPorts(refused: readonly Evidence[]): Promise<PortWatch> {
  return (await import('../probes/common/watch.js')).watchRefused(refused);
}
