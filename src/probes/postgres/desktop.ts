import type { Desktop } from '../common/oscommands.js';
import { ps } from '../../text/powershell.js';

const POSTGRES_APP = '/Applications/Postgres.app';

/** PostgreSQL on a desktop: Homebrew's postgresql@N, Postgres.app, the EDB installer's Windows service. */
export const postgresDesktop: Desktop = {
  name: 'PostgreSQL',
  formula: 'postgresql@16',
  process: 'postgres',
  launchdWord: 'postgres',
  brewLog: (formula) => `log/${formula}.log`,
  windowsServices: 'postgresql*',
  windowsService: 'postgresql-x64-16',
  windowsInstaller: "the EDB installer's PostgreSQL 16",
  // The EDB installer keeps the server's log in its data directory, under the install's root.
  windowsLogFixes: (service) => {
    const root = service?.root ?? 'C:\\Program Files\\PostgreSQL\\16';
    return [
      {
        text: `If it does not stay up, the server log in its data directory says why (${root}\\data\\log for the EDB installer):`,
        command: ps`Get-ChildItem ${`${root}\\data\\log`} | Sort-Object LastWriteTime | Select-Object -Last 1 | Get-Content -Tail 50`,
        language: 'powershell',
      },
      { text: 'Or ask pg_ctl about that data directory:', command: ps`& ${`${root}\\bin\\pg_ctl.exe`} status -D ${`${root}\\data`}`, language: 'powershell' },
    ];
  },
  app: { name: 'Postgres.app', path: POSTGRES_APP, open: 'open -a Postgres' },
  installedBy: {
    formula: /^postgresql(@\d+)?$/,
    app: POSTGRES_APP,
    windows: { folder: 'PostgreSQL', service: (version) => `postgresql-x64-${version}` },
  },
};
