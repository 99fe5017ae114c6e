import type { Socket } from 'node:net';
import { ipFamily } from '../text/ip.js';
import { performance } from 'node:perf_hooks';
import type { PeerCertificate, SecureVersion, TLSSocket } from 'node:tls';
import type { Deadline } from '../engine/deadline.js';

/**
 * Upgrades a connected socket to TLS and says precisely what went wrong when it fails. We always
 * complete the handshake with verification off and judge the certificate ourselves, so a rejected
 * certificate is reported with its problem named (expired, wrong host name, untrusted) rather than
 * as an opaque reset.
 */
export type VerifyMode = 'none' | 'ca' | 'full';

export interface TlsUpgrade {
  /** The name the certificate must carry (verify "full"), and the SNI name when not an IP. */
  readonly host: string;
  readonly verify: VerifyMode;
  readonly ca?: Buffer | undefined;
  readonly cert?: Buffer | undefined;
  readonly key?: Buffer | undefined;
  /** ALPN protocols to offer, e.g. ["postgresql"] for PostgreSQL's direct TLS. */
  readonly alpn?: readonly string[];
  readonly minVersion?: SecureVersion | undefined;
  readonly maxVersion?: SecureVersion | undefined;
  /**
   * How verify "full" matches the certificate's names: as Node does (and so the MongoDB and
   * Cassandra drivers), or as libpq does, which for an IP address with no iPAddress name in the
   * certificate compares the common name (a certificate with CN=10.0.0.5 passes libpq's check).
   */
  readonly names?: 'node' | 'libpq';
}

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly altNames: string;
}

export type CertificateProblem = 'expired' | 'not_yet_valid' | 'hostname_mismatch' | 'self_signed' | 'untrusted' | 'revoked' | 'other';

export type TlsOutcome =
  | {
      readonly outcome: 'established';
      readonly socket: TLSSocket;
      readonly protocol: string;
      readonly cipher: string;
      readonly verified: VerifyMode;
      readonly certificate: CertificateSummary | undefined;
      readonly durationMs: number;
    }
  | {
      readonly outcome: 'verify_failed';
      readonly problem: CertificateProblem;
      readonly code: string;
      readonly message: string;
      readonly certificate: CertificateSummary | undefined;
      readonly durationMs: number;
    }
  | { readonly outcome: 'handshake_failed' | 'timeout'; readonly code: string; readonly message: string; readonly durationMs: number };

/** A TLS upgrade that failed, as a probe's trace keeps it: the problem, the error's code and words, the certificate seen. */
export interface TlsFailureTrace {
  readonly outcome: 'verify_failed' | 'handshake_failed' | 'timeout';
  readonly verify: VerifyMode;
  readonly problem?: CertificateProblem;
  readonly code: string;
  readonly message: string;
  readonly certificate?: CertificateSummary;
}

export function tlsFailureTrace(outcome: Exclude<TlsOutcome, { readonly outcome: 'established' }>, verify: VerifyMode): TlsFailureTrace {
  return outcome.outcome === 'verify_failed'
    ? {
        outcome: outcome.outcome,
        verify,
        problem: outcome.problem,
        code: outcome.code,
        message: outcome.message,
        ...(outcome.certificate ? { certificate: outcome.certificate } : {}),
      }
    : { outcome: outcome.outcome, verify, code: outcome.code, message: outcome.message };
}

const PROBLEM_BY_CODE: Record<string, CertificateProblem> = {
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not_yet_valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname_mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self_signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'self_signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  CERT_REVOKED: 'revoked',
};

export function certificateProblem(code: string): CertificateProblem {
  return PROBLEM_BY_CODE[code] ?? 'other';
}

export async function upgradeToTls(socket: Socket, options: TlsUpgrade, deadline: Deadline): Promise<TlsOutcome> {
  // node:tls (and the crypto it brings) is loaded when a server is to speak TLS, not by every run
  // that imports this module: ~5 ms of a refused port's diagnosis (issue 15).
  const { checkServerIdentity, connect } = await import('node:tls');
  const started = performance.now();
  const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
  return new Promise((resolve) => {
    const secure = connect({
      socket,
      // SNI must not carry an IP address (RFC 6066 §3).
      ...(ipFamily(options.host) === 0 ? { servername: options.host } : {}),
      rejectUnauthorized: false,
      // The name is checked by `judge`, for verify-full only: Node's own check would mark a
      // certificate for another name unauthorised under verify-ca too, which libpq accepts.
      checkServerIdentity: () => undefined,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      ...(options.alpn ? { ALPNProtocols: [...options.alpn] } : {}),
      ...(options.minVersion ? { minVersion: options.minVersion } : {}),
      ...(options.maxVersion ? { maxVersion: options.maxVersion } : {}),
    });
    secure.on('error', () => undefined);
    const finish = (outcome: TlsOutcome): void => {
      deadline.signal.removeEventListener('abort', onAbort);
      secure.removeListener('secureConnect', onSecure);
      secure.removeListener('error', onError);
      if (outcome.outcome !== 'established') secure.destroy();
      resolve(outcome);
    };
    const onAbort = (): void =>
      finish({ outcome: 'timeout', code: 'ETIMEOUT', message: `no TLS handshake within ${deadline.budgetMs} ms`, durationMs: elapsed() });
    const onError = (error: NodeJS.ErrnoException): void =>
      finish({ outcome: 'handshake_failed', code: error.code ?? 'EUNKNOWN', message: error.message, durationMs: elapsed() });
    const onSecure = (): void => {
      const peer = secure.getPeerCertificate();
      const certificate = summarise(peer);
      const verdict = judge(secure, peer, options, checkServerIdentity);
      if (verdict) {
        finish({ outcome: 'verify_failed', ...verdict, certificate, durationMs: elapsed() });
        return;
      }
      finish({
        outcome: 'established',
        socket: secure,
        protocol: secure.getProtocol() ?? 'unknown',
        cipher: secure.getCipher()?.name ?? 'unknown',
        verified: options.verify,
        certificate,
        durationMs: elapsed(),
      });
    };
    deadline.onExpired(onAbort);
    secure.once('secureConnect', onSecure);
    secure.once('error', onError);
  });
}

function judge(
  secure: TLSSocket,
  peer: PeerCertificate,
  options: TlsUpgrade,
  checkServerIdentity: typeof import('node:tls').checkServerIdentity,
): { problem: CertificateProblem; code: string; message: string } | undefined {
  if (options.verify === 'none') return undefined;
  if (!secure.authorized) {
    const code = String(secure.authorizationError ?? 'UNKNOWN');
    return { problem: certificateProblem(code), code, message: `certificate verification failed: ${code}` };
  }
  if (options.verify === 'full') {
    const mismatch = checkServerIdentity(options.host, peer);
    if (mismatch && !(options.names === 'libpq' && commonNameServesAddress(options.host, peer))) {
      const code = 'code' in mismatch ? String(mismatch.code) : 'ERR_TLS_CERT_ALTNAME_INVALID';
      return { problem: 'hostname_mismatch', code, message: mismatch.message };
    }
  }
  return undefined;
}

/** libpq's rule for an IP address host: with no iPAddress subjectAltName, the common name is compared. */
function commonNameServesAddress(host: string, peer: PeerCertificate): boolean {
  if (ipFamily(host) === 0) return false;
  if ((peer.subjectaltname ?? '').split(/,\s*/).some((name) => name.startsWith('IP Address:'))) return false;
  return [peer.subject?.CN ?? []].flat().some((name) => name.toLowerCase() === host.toLowerCase());
}

function summarise(peer: PeerCertificate | undefined): CertificateSummary | undefined {
  if (!peer || Object.keys(peer).length === 0) return undefined;
  return {
    subject: [peer.subject?.CN ?? ''].flat().join(', '),
    issuer: [peer.issuer?.CN ?? ''].flat().join(', '),
    validFrom: peer.valid_from,
    validTo: peer.valid_to,
    altNames: peer.subjectaltname ?? '',
  };
}
