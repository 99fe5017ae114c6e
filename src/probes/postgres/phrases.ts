import { phraseReader, type Phrase } from '../common/phrases.js';

/**
 * PostgreSQL clients' fixed sentences that no catalog dbdoctor reads carries: libpq 9.6's answer
 * to a SCRAM server (its back-branch message, in every client linked to it: psycopg2, DBD::Pg, PHP,
 * Ruby's pg), and drivers that do not translate (Go's lib/pq, Npgsql).
 */
const PHRASES: readonly Phrase[] = [
  { text: 'SCRAM authentication requires libpq version 10 or above', cause: 'auth_mechanism', rank: 'client', source: 'libpq 9.6 (fe-auth.c), in every client linked to it' },
  { text: 'pq: unknown authentication response: 10', cause: 'auth_mechanism', rank: 'client', source: 'Go lib/pq before 1.10 (conn.go: AuthenticationSASL is type 10)' },
  { text: 'No password has been provided but the backend requires one', cause: 'password_missing', rank: 'client', source: 'Npgsql (NpgsqlConnector.Auth)' },
];

export const postgresPhrases = phraseReader('pg-phrase', PHRASES);
