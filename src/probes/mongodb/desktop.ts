import type { Desktop } from '../common/oscommands.js';

/** MongoDB on a desktop: Homebrew's mongodb-community (from the mongodb/brew tap), MongoDB's MSI service. */
export const mongodbDesktop: Desktop = {
  name: 'MongoDB',
  formula: 'mongodb-community',
  process: 'mongod',
  launchdWord: 'mongo',
  brewLog: () => 'log/mongodb/mongo.log',
  windowsServices: 'MongoDB',
  windowsService: 'MongoDB',
  windowsInstaller: "MongoDB's MSI installer",
  windowsLog: 'C:\\Program Files\\MongoDB\\Server\\7.0\\log\\mongod.log',
  installedBy: { formula: /^mongodb-community(@[\d.]+)?$/ },
};
