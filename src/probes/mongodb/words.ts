import type { MongoTarget } from '../../config/mongodb/target.js';
import type { EngineWords } from '../common/platform.js';
import { hostPort, mongoshPing, urlWith } from './commands.js';
import { mongodbDesktop } from './desktop.js';

/** MongoDB in the shared steps' and platform fixes' words. */
export function mongoWords(target: MongoTarget): EngineWords {
  return {
    name: 'MongoDB',
    unit: 'mongod',
    managed: mongodbDesktop,
    readyCheck: (host, port) => mongoshPing(target, [hostPort(host, port)]),
    urlVariable: 'MONGODB_URI',
    urlFor: (host, port) => urlWith(target, { hosts: [hostPort(host, port)] }),
  };
}

/** Words in service names that suggest a MongoDB service. */
export const MONGO_SERVICE_WORDS = ['mongo', 'mongodb', 'mongod', 'mongos'] as const;
