import type { ConfigFile } from '../config/file.js';
import type { Thresholds } from '../engine/thresholds.js';

type ConfigThresholds = NonNullable<NonNullable<ConfigFile['defaults']>['thresholds']>;

/** The command line's thresholds, overridden by a config file's defaults, then by the target's own. */
export function durationsToThresholds(base: Thresholds, ...layers: (ConfigThresholds | undefined)[]): Thresholds {
  return layers.reduce<Thresholds>(
    (current, layer) => ({
      longRunningMs: layer?.longRunning ?? current.longRunningMs,
      lockWaitMs: layer?.lockWait ?? current.lockWaitMs,
      idleInTransactionMs: layer?.idleInTransaction ?? current.idleInTransactionMs,
      idleMs: layer?.idle ?? current.idleMs,
      nearLimitPercent: layer?.nearLimit ?? current.nearLimitPercent,
      replicationLagMs: layer?.replicationLag ?? current.replicationLagMs,
    }),
    base,
  );
}
