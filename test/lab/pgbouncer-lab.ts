import type pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { holdPoolerClients, PgBouncer, type PgBouncerOptions } from './pgbouncer.js';
import { Cluster } from './postgres.js';

/**
 * One PostgreSQL cluster for a describe block, with PgBouncers started per test in front of it:
 * roles "app" (in stats_users, so it may read PgBouncer's admin console) and "other" (not: the
 * ordinary application user of most deployments), database appdb. Every PgBouncer and every
 * client held is released after each test. Only for tests (it registers vitest hooks).
 */
export interface Held {
  release(): Promise<void>;
}

export interface PgBouncerLab {
  cluster(): Cluster;
  bouncer(options?: Partial<PgBouncerOptions>): Promise<PgBouncer>;
  hold(bouncer: PgBouncer, count: number, user?: string, password?: string): Promise<pg.Client[]>;
  /** Two clients hold the two server connections in open transactions; a third queues behind them. */
  queueBehindTwoTransactions(bouncer: PgBouncer, user?: string): Promise<Held>;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function pgbouncerLab(name: string, password: string): PgBouncerLab {
  let cluster: Cluster | undefined;
  let bouncers: PgBouncer[] = [];
  let held: Held[] = [];
  beforeAll(async () => {
    cluster = await Cluster.create(name);
    await cluster.sql(`CREATE ROLE app LOGIN PASSWORD '${password}'`);
    await cluster.sql(`CREATE ROLE other LOGIN PASSWORD '${password}'`);
    // A third application role, neither "app" nor "other": its pools compete with theirs.
    await cluster.sql(`CREATE ROLE third LOGIN PASSWORD '${password}'`);
    await cluster.sql('CREATE DATABASE appdb OWNER app');
  });
  afterEach(async () => {
    await Promise.all(held.map((holding) => holding.release()));
    await Promise.all(bouncers.map((bouncer) => bouncer.stop()));
    held = [];
    bouncers = [];
  });
  afterAll(async () => cluster?.destroy());
  const current = (): Cluster => {
    if (!cluster) throw new Error('the cluster did not start');
    return cluster;
  };
  const hold = async (bouncer: PgBouncer, count: number, user = 'app', secret = password): Promise<pg.Client[]> => {
    const holding = await holdPoolerClients(bouncer, count, user, secret);
    held.push(holding);
    return holding.clients;
  };
  return {
    cluster: current,
    bouncer: async (options = {}) => {
      const bouncer = await PgBouncer.start(current(), {
        users: { app: password, other: password, third: password },
        ...options,
        settings: { stats_users: 'app', ...options.settings },
      });
      bouncers.push(bouncer);
      return bouncer;
    },
    hold,
    queueBehindTwoTransactions: async (bouncer, user = 'app') => {
      const clients = await hold(bouncer, 3, user);
      for (const client of clients.slice(0, 2)) await client.query('BEGIN; SELECT 1');
      const waiting = clients[2]?.query('SELECT 1').catch(() => undefined);
      await pause(300);
      return {
        release: async () => {
          for (const client of clients.slice(0, 2)) await client.query('ROLLBACK').catch(() => undefined);
          await waiting;
        },
      };
    },
  };
}
