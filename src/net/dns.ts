import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isDeadlineExceeded, type Deadline } from '../engine/deadline.js';

/**
 * Name resolution through getaddrinfo (dns.lookup), the same path libpq and most drivers take,
 * so /etc/hosts, nsswitch and search domains apply as they do for the application. getaddrinfo
 * cannot be cancelled: on the deadline we stop waiting and report the resolver as unanswered.
 */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Resolution =
  | { readonly outcome: 'resolved'; readonly host: string; readonly addresses: readonly ResolvedAddress[]; readonly literal: boolean; readonly durationMs: number }
  | {
      /** not_found: the name does not exist; temporary: the resolver failed or did not answer. */
      readonly outcome: 'not_found' | 'temporary';
      readonly host: string;
      readonly code: string;
      readonly message: string;
      readonly durationMs: number;
    };

/** getaddrinfo's answers, as Node names them, sorted by what they mean. */
const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

export async function resolveHost(host: string, deadline: Deadline): Promise<Resolution> {
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  const family = isIP(host);
  if (family === 4 || family === 6) {
    return { outcome: 'resolved', host, addresses: [{ address: host, family }], literal: true, durationMs: 0 };
  }
  try {
    const answers = await deadline.race(lookup(host, { all: true, order: 'verbatim' }));
    const addresses = answers.flatMap((answer): ResolvedAddress[] =>
      answer.family === 4 || answer.family === 6 ? [{ address: answer.address, family: answer.family }] : [],
    );
    return { outcome: 'resolved', host, addresses: dedupe(addresses), literal: false, durationMs: elapsed() };
  } catch (error) {
    if (isDeadlineExceeded(error)) {
      return { outcome: 'temporary', host, code: 'ETIMEOUT', message: `the resolver gave no answer within ${error.budgetMs} ms`, durationMs: elapsed() };
    }
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'EUNKNOWN';
    const message = error instanceof Error ? error.message : String(error);
    return { outcome: NOT_FOUND_CODES.has(code) ? 'not_found' : 'temporary', host, code, message, durationMs: elapsed() };
  }
}

function dedupe(addresses: ResolvedAddress[]): ResolvedAddress[] {
  const seen = new Set<string>();
  return addresses.filter((entry) => (seen.has(entry.address) ? false : (seen.add(entry.address), true)));
}
