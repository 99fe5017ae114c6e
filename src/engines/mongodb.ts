import type { MongoTarget } from '../config/mongodb/target.js';
import { defineEngine } from './module.js';

/** MongoDB (and servers that speak its protocol, such as FerretDB). */
export const mongodbEngine = defineEngine<'mongodb', MongoTarget>({
  id: 'mongodb',
  name: 'MongoDB',
  schemes: ['mongodb://', 'mongodb+srv://'],
  scheme: 'mongodb://',
  defaultPort: 27017,
  // The resolver loads the driver's URL parser: only for MongoDB targets.
  async resolve(input) {
    if (!input) throw new Error('a MongoDB target needs a URL');
    return (await import('../config/mongodb/target.js')).resolveMongoTarget(input);
  },
  // MongoDB's own variables: the first of MONGODB_URI / MONGO_URL / MONGO_URI that is set.
  async discover(env) {
    const { MONGODB_URL_VARIABLES } = await import('../config/mongodb/target.js');
    const variable = MONGODB_URL_VARIABLES.find((name) => (env.get(name) ?? '').trim() !== '');
    if (!variable) return [];
    return [{ target: await this.resolve({ text: env.get(variable) ?? '', source: env.sourceOf(variable) ?? `env ${variable}` }, env), label: variable }];
  },
  probe: async () => (await import('../probes/mongodb/index.js')).mongoProbe,
  explainer: async () => (await import('../probes/mongodb/explain.js')).mongodbExplainer,
  textHints:
    /pymongo|Mongo[A-Z]\w*(?:Error|Exception)|mongodb(?:\+srv)?:\/\/|mongo-driver|server selection|:27017\b|\bmongo(?:d|s|sh|ose|id)?\b|\bcodeName\b|querySrv|_mongodb\._tcp/i,
  clients: [
    ['pymongo', /pymongo/],
    ['mongodb-node', /Mongo(?:ServerSelection|Network|Server|Parse|Api|Topology)\w*Error/],
    ['mongo-go-driver', /server selection error|mongo-driver/],
    ['mongo-java', /com\.mongodb\./],
  ],
  // The MongoDB driver's Mongo…Error names, codeName, error labels and topology description.
  errorShape: (read) =>
    /^Mongo[A-Z]\w*Error$/.test(typeof read('name') === 'string' ? String(read('name')) : '') ||
    read('codeName') !== undefined ||
    read('errorLabelSet') !== undefined ||
    read('reason', 'servers') instanceof Map,
});
