import type { Alternative } from '../../engine/explainer.js';
import { phraseReader, type Phrase } from './phrases.js';

/**
 * Fixed sentences of the libraries between an application and any database: its own connection
 * pool (SQLAlchemy, HikariCP, Knex, pg-pool, Npgsql, Prisma, sqlx, the MongoDB drivers), and the
 * resolver a driver asks for a DNS seed list (dnspython, for pymongo's mongodb+srv://). Each as its
 * library writes it, with where.
 *
 * A pool that timed out is the application's own limit, not the network's and not the server's:
 * no cause in the catalogue is "the application's pool is too small or leaks", so these words
 * never decide. What they do tell is where to look: a pool whose every connection is checked out
 * (SQLAlchemy's "limit … reached") points at what holds them (slow or blocked statements, open
 * transactions, connections never returned); a pool that cannot say whether it was busy or could
 * not open a connection at all (Knex, pg-pool, sqlx, HikariCP) points at both.
 */
const BUSY = 'the application’s own connection pool waited for a free connection and gave up: every connection it may open was checked out the whole time';
const BUSY_OR_BROKEN =
  'the application’s own connection pool gave up waiting for a connection: either every connection was checked out, or it could not open a new one';

const held: readonly Alternative[] = [
  { cause: 'blocked', why: 'statements waiting on locks hold their connections too (dbdoctor diagnose lists who blocks whom)' },
  {
    cause: 'idle_in_transaction',
    why: 'sessions left idle in an open transaction, or connections the application checks out and never returns (a leak), keep the pool full',
  },
];
const heldOrBroken: readonly Alternative[] = [
  ...held,
  { cause: 'not_running', why: 'the pool also says this when it cannot open a connection at all: a server that refuses it' },
  { cause: 'connect_timeout', why: 'or one that does not answer' },
  { cause: 'auth_failed', why: 'or a login the server refuses' },
];

const POOLS: readonly Phrase[] = [
  {
    text: 'QueuePool limit of size',
    cause: 'long_running',
    rank: 'client',
    also: held,
    tentative: true,
    undecided: BUSY,
    source: 'SQLAlchemy (pool/impl.py: "QueuePool limit of size N overflow M reached, connection timed out, timeout T")',
  },
  {
    text: 'The connection pool has been exhausted',
    cause: 'long_running',
    rank: 'client',
    also: held,
    tentative: true,
    undecided: BUSY,
    source: "Npgsql (ConnectorPool: \"… either raise 'Max Pool Size' … or 'Timeout' …\")",
  },
  {
    text: 'Timed out fetching a new connection from the connection pool',
    cause: 'long_running',
    rank: 'client',
    also: held,
    tentative: true,
    undecided: BUSY,
    source: 'Prisma P2024',
  },
  {
    text: 'Timed out while checking out a connection from connection pool',
    cause: 'long_running',
    rank: 'client',
    also: held,
    tentative: true,
    undecided: BUSY,
    source: 'MongoDB drivers (Node.js MongoWaitQueueTimeoutError, pymongo WaitQueueTimeoutError)',
  },
  {
    text: 'Timeout acquiring a connection. The pool is probably full',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'Knex (client.js: KnexTimeoutError)',
  },
  {
    text: 'timeout exceeded when trying to connect',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'pg-pool (connectionTimeoutMillis)',
  },
  {
    text: 'pool timed out while waiting for an open connection',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'sqlx (Error::PoolTimedOut, as displayed)',
  },
  {
    text: 'PoolTimedOut',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'sqlx (Error::PoolTimedOut, as debug-printed)',
  },
  {
    text: 'ConnectionAcquireTimeoutError',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'Sequelize (pool acquire timeout)',
  },
  {
    text: 'Connection is not available, request timed out after',
    cause: 'long_running',
    rank: 'client',
    also: heldOrBroken,
    tentative: true,
    undecided: BUSY_OR_BROKEN,
    source: 'HikariCP (HikariPool.createTimeoutException; "total=0" means it opened none)',
  },
];

const srvAlso: readonly Alternative[] = [
  { cause: 'srv_invalid', why: 'for a mongodb+srv:// name: the name exists but has no SRV (or TXT) record the driver can use' },
];

const RESOLVERS: readonly Phrase[] = [
  {
    text: 'The DNS query name does not exist',
    cause: 'dns_not_found',
    rank: 'errno',
    source: 'dnspython (resolver.NXDOMAIN), e.g. pymongo resolving mongodb+srv://',
  },
  { text: 'None of DNS query names exist', cause: 'dns_not_found', rank: 'errno', source: 'dnspython (resolver.NXDOMAIN, several names tried)' },
  {
    text: 'The DNS response does not contain an answer to the question',
    cause: 'dns_not_found',
    rank: 'errno',
    also: srvAlso,
    source: 'dnspython (resolver.NoAnswer)',
  },
  { text: 'All nameservers failed to answer the query', cause: 'dns_temporary', rank: 'errno', source: 'dnspython (resolver.NoNameservers)' },
  { text: 'The resolution lifetime expired', cause: 'dns_temporary', rank: 'errno', source: 'dnspython (resolver.LifetimeTimeout)' },
];

export const libraryPhrases = phraseReader('library-phrase', [...POOLS, ...RESOLVERS]);
