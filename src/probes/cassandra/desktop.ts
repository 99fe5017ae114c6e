import type { Desktop } from '../common/oscommands.js';

/** Cassandra on a desktop: Homebrew's cassandra; on Windows only a service wrapper someone installed (4.0 and later do not run there). */
export const cassandraDesktop: Desktop = {
  name: 'Cassandra',
  formula: 'cassandra',
  process: 'java',
  launchdWord: 'cassandra',
  brewLog: () => 'log/cassandra/system.log',
  windowsServices: 'cassandra*',
  windowsService: 'cassandra',
  windowsInstaller: 'a service wrapper you installed',
  installedBy: { formula: /^cassandra$/ },
};
