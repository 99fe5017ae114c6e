import type { PostgresTarget } from '../../../config/postgres/target.js';
import { formatMs } from '../../../engine/walk.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { pgIsReady, psqlAsAdmin, urlCommand, urlWith } from '../commands.js';
import type { ConnectionTrace } from '../connect.js';
import type { PlatformInfo } from '../../../host/platform.js';
import { platformFixes } from '../../common/platform.js';
import type { PgContext } from '../context.js';
import { postgresWords } from '../words.js';
import { describeServers, protocolEvidence, serverErrorEvidence, serverSummary, whereOf } from '../evidence.js';
import type { Refusal } from '../refusal.js';
import { raw, sh, viaSh } from '../../../text/shell.js';

const waitForIt = (target: PostgresTarget): Remediation => ({
  text: 'Wait until it accepts connections (or use this as a readiness check):',
  command: viaSh(sh`until ${raw(pgIsReady(target))}; do sleep 1; done`),
  language: 'shell',
});

const readTheLog: Remediation = {
  text: 'Read the server log for the reason:',
  command: 'sudo journalctl -u postgresql --since "-30min" --no-pager | tail -n 50; sudo tail -n 50 /var/log/postgresql/*.log',
  language: 'shell',
};

const remedies = {
  starting_up: (target: PostgresTarget, platform: PlatformInfo): Remediation[] => [
    { text: 'The server is replaying its write-ahead log before it opens for connections; this heals by itself. Clients should retry with backoff instead of failing at start.' },
    waitForIt(target),
    readTheLog,
    ...platformFixes('starting_up', platform, postgresWords(target), { host: target.endpoints[0]?.host ?? 'localhost', port: target.endpoints[0]?.port ?? 5432 }),
  ],
  connection_reset: (target: PostgresTarget): Remediation[] => [
    { text: 'Something reset the connection during the handshake: a proxy or firewall that kills connections (check its log and idle/connect rules), or a server process crashing on connect (check the server log).' },
    { text: 'On the database host, see which process owns the port:', command: sh`sudo ss -tlnp ${`sport = :${target.endpoints[0]?.port ?? 5432}`}`, language: 'shell' },
    readTheLog,
  ],
  shutting_down: (target: PostgresTarget): Remediation[] => [
    { text: 'A shutdown is in progress. A "smart" shutdown waits for every session to end; see who is still connected (as a superuser, through a session that is already open):', command: 'SELECT pid, usename, application_name, state, now() - backend_start AS connected_for FROM pg_stat_activity WHERE backend_type = \'client backend\';', language: 'sql' },
    { text: 'Find out who asked for the shutdown:', command: 'sudo journalctl -u postgresql --since "-30min" --no-pager | grep -i -E "shutdown|terminat"', language: 'shell' },
    { text: 'Once it has stopped, start it again:', command: 'sudo systemctl start postgresql', language: 'shell' },
    waitForIt(target),
  ],
  recovery: (target: PostgresTarget): Remediation[] => [
    { text: 'The server is replaying WAL. If it is a standby with hot_standby = off it will never accept connections: connect to the primary, or set hot_standby = on in postgresql.conf and restart it.' },
    { text: 'If it is crash recovery, it heals by itself; follow its progress in the log:', command: 'sudo journalctl -u postgresql -f', language: 'shell' },
    waitForIt(target),
  ],
  not_accepting: (): Remediation[] => [readTheLog],
  not_listening: (target: PostgresTarget, refusal: Extract<Refusal, { cause: 'not_listening' }>): Remediation[] => {
    const endpoint = target.endpoints[0];
    const socketElsewhere = refusal.listening.find((entry) => entry.includes('.s.PGSQL.'));
    if (endpoint?.host.startsWith('/') && socketElsewhere) {
      const directory = socketElsewhere.replace(/\/\.s\.PGSQL\.\d+$/, '');
      const port = Number(/\.s\.PGSQL\.(\d+)$/.exec(socketElsewhere)?.[1] ?? endpoint.port);
      return [
        { text: `Connect through the socket the server uses (${socketElsewhere}):`, command: urlCommand(urlWith(target, { host: directory, port })) },
        { text: 'Or make the server create its socket where clients look: set unix_socket_directories in postgresql.conf and restart it.' },
      ];
    }
    return [
      { text: 'See where the server listens (as a superuser, e.g. over its Unix socket):', command: 'SHOW listen_addresses;', language: 'sql' },
      { text: `Make it listen on ${endpoint?.host ?? 'this address'} too: in postgresql.conf set listen_addresses = '*' (or list the address), then restart (a reload is not enough for this setting):`, command: 'sudo systemctl restart postgresql', language: 'shell' },
      { text: 'Remote clients also need a pg_hba.conf line for their network; check them:', command: 'SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules;', language: 'sql' },
    ];
  },
  no_response: (target: PostgresTarget, closed: boolean): Remediation[] => [
    {
      text: closed
        ? 'Something accepted the TCP connection and hung up without a word: typically a proxy, load balancer or port-forward (kubectl port-forward, docker-proxy) with nothing healthy behind it.'
        : 'Something accepted the TCP connection but never answered: a hung server, a proxy whose backend does not answer, or a server too overloaded to start a backend.',
    },
    { text: 'On the database host, see which process owns the port:', command: sh`sudo ss -tlnp ${`sport = :${target.endpoints[0]?.port ?? 5432}`}`, language: 'shell' },
    { text: 'If it is PostgreSQL itself, look for a stuck postmaster or exhausted resources in its log and with top.' },
    { text: 'Check again once it answers:', command: pgIsReady(target), language: 'shell' },
  ],
  wrong_protocol: (target: PostgresTarget, what: string): Remediation[] => [
    { text: `Port ${target.endpoints[0]?.port ?? 5432} is served by ${what}. Check the port in your connection settings: PostgreSQL usually listens on 5432.` },
    { text: 'On the host, see which process owns the port:', command: sh`sudo ss -tlnp ${`sport = :${target.endpoints[0]?.port ?? 5432}`}`, language: 'shell' },
  ],
  tls_required: (target: PostgresTarget): Remediation[] => [
    { text: 'The server only admits this connection over TLS. Connect with TLS:', command: urlCommand(urlWith(target, { sslmode: 'require' })) },
    { text: 'Or, if plaintext is acceptable on this network, add a "host" (not "hostssl") line for this client to pg_hba.conf and reload:', command: 'SELECT pg_reload_conf();', language: 'sql' },
  ],
  tls_unsupported: (target: PostgresTarget): Remediation[] => [
    { text: 'Turn TLS on at the server: in postgresql.conf set ssl = on with ssl_cert_file and ssl_key_file, then reload:', command: 'SELECT pg_reload_conf();', language: 'sql' },
    { text: 'Or, on a trusted network only, connect without requiring TLS:', command: urlCommand(urlWith(target, { sslmode: 'prefer' })) },
  ],
  tls_verify_failed: (target: PostgresTarget, problem: string, altNames: string): Remediation[] => {
    switch (problem) {
      case 'expired':
      case 'not_yet_valid':
        return [
          { text: 'The server certificate is outside its validity period: renew it, replace ssl_cert_file / ssl_key_file, then reload:', command: 'SELECT pg_reload_conf();', language: 'sql' },
          { text: 'Check its dates on the server:', command: "psql -Atc 'SHOW ssl_cert_file' | xargs openssl x509 -noout -dates -in", language: 'shell' },
        ];
      case 'hostname_mismatch':
        return [
          { text: `The certificate is for ${altNames || 'another name'}. Connect using a name it carries, or reissue it with this host name in subjectAltName.` },
          { text: 'Or verify only the issuing authority, not the name:', command: urlCommand(urlWith(target, { sslmode: 'verify-ca' })) },
        ];
      default:
        return [
          { text: 'The certificate is not signed by an authority this client trusts. Give the CA that signed the server certificate with sslrootcert, or use the system store:', command: urlCommand(urlWith(target, { sslrootcert: '/path/to/root.crt' })) },
        ];
    }
  },
  tls_handshake_failed: (): Remediation[] => [
    { text: 'Compare the TLS versions and ciphers both sides allow (server: ssl_min_protocol_version, ssl_ciphers; client: ssl_min_protocol_version), and read the server log for the handshake error.' },
    readTheLog,
  ],
  standby: (target: PostgresTarget): Remediation[] => [
    { text: 'This server is a read-only standby. Point the application at the primary, or list every node and let libpq pick the primary:', command: 'postgresql://user@primary:5432,standby:5432/db?target_session_attrs=read-write' },
    { text: 'To see which node is the primary, on each node:', command: psqlAsAdmin(target, 'SELECT pg_is_in_recovery();'), language: 'shell' },
  ],
};

/** Step 2: does the server accept connections (and speak PostgreSQL, with matching TLS)? */
export const acceptingStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'accepting',
  checks:
    'Sends SSLRequest and the startup message on the one connection, and tells apart: accepting, starting up, shutting down, in recovery, silent, another protocol, TLS mismatches and certificate problems.',
  remedies,
  manual: [
    { text: 'Does it accept connections?', command: 'pg_isready -h <host> -p <port>', language: 'shell' },
    { text: 'Where it listens, and which hosts pg_hba.conf admits (as a superuser):', command: "SHOW listen_addresses; SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules;", language: 'sql' },
    { text: 'Why it refuses (startup, recovery, shutdown) is in its log:', command: 'sudo journalctl -u postgresql -n 100 --no-pager | grep -E "ready to accept|starting up|recovery|shutting down"', language: 'shell' },
  ],
  async run(ctx, io) {
    const { trace } = await ctx.connection();
    const decision = await ctx.decision();
    const target = ctx.target;
    const where = whereOf(trace);
    const protocol = protocolEvidence(trace);
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      if (refusal?.cause === 'firewall_rejected') return io.skip('the connection was rejected before it reached the server (see network)');
      if (refusal?.cause === 'in_transition') {
        // Its postmaster.pid names this port, but its sockets are not open: the window between
        // starting the postmaster and "ready to accept connections" (or the end of a shutdown).
        const evidence = { attempted: refusal.attempted, postmasterStatus: refusal.state, localServers: [serverSummary(refusal.server)] };
        const server = describeServers([refusal.server]);
        return refusal.state === 'starting'
          ? io.found('starting_up', `the server for ${refusal.attempted} is starting up${server} and has not opened its sockets yet`, remedies.starting_up(target, ctx.run.environment.platform), evidence)
          : io.found('shutting_down', `the server for ${refusal.attempted} is shutting down${server} and has closed its sockets`, remedies.shutting_down(target), evidence);
      }
      if (refusal?.cause !== 'not_listening') return io.skip('no connection was made (see process)');
      return io.found(
        'not_listening',
        `PostgreSQL runs here but does not listen at ${refusal.attempted}; it listens on ${refusal.listening.join(', ') || 'no TCP address'}`,
        remedies.not_listening(target, refusal),
        { attempted: refusal.attempted, listeningOn: [...refusal.listening], localServers: refusal.servers.map(serverSummary) },
      );
    }
    if (decision.kind === 'failure' && decision.step === 'accepting') {
      const serverWords = trace.serverError ? `: "${trace.serverError.message}"${trace.serverError.detail ? ` (${trace.serverError.detail})` : ''} [${trace.serverError.code}]` : '';
      const evidence = { ...protocol, ...serverErrorEvidence(trace) };
      switch (decision.cause) {
        case 'starting_up':
          return io.found('starting_up', `the server is starting up and does not accept connections yet${serverWords}`, remedies.starting_up(target, ctx.run.environment.platform), evidence);
        case 'connection_reset':
          return io.found('connection_reset', `${where} accepted the TCP connection, then reset it during the ${trace.phase === 'ssl' ? 'TLS negotiation' : 'startup'} (${trace.clientError?.code ?? 'ECONNRESET'})`, remedies.connection_reset(target), evidence);
        case 'shutting_down':
          return io.found('shutting_down', `the server is shutting down${serverWords}`, remedies.shutting_down(target), evidence);
        case 'recovery':
          return io.found('recovery', `the server is in recovery and refuses connections${serverWords}`, remedies.recovery(target), evidence);
        case 'no_response':
          return io.found('no_response', noResponseSummary(trace, where), remedies.no_response(target, trace.closedByPeer || trace.sslReply === 'closed'), evidence);
        case 'wrong_protocol': {
          const what = trace.answeredBy?.description ?? 'a server that does not speak this PostgreSQL protocol';
          return io.found('wrong_protocol', `${where} is answered by ${what}, not PostgreSQL`, remedies.wrong_protocol(target, what), evidence);
        }
        case 'tls_required':
          return io.found('tls_required', `the server requires TLS for this connection, but sslmode=${target.sslmode}${serverWords}`, remedies.tls_required(target), { ...evidence, tlsWouldBeAdmitted: true });
        case 'tls_unsupported':
          return io.found('tls_unsupported', `sslmode=${target.sslmode} requires TLS, but the server does not support it (it answered "N" to SSLRequest)`, remedies.tls_unsupported(target), evidence);
        case 'tls_verify_failed': {
          const problem = trace.tls?.problem ?? 'other';
          return io.found(
            'tls_verify_failed',
            `the server certificate was rejected (sslmode=${target.sslmode}): ${describeProblem(problem)} [${trace.tls?.code ?? 'unknown'}]`,
            remedies.tls_verify_failed(target, problem, trace.tls?.certificate?.altNames ?? ''),
            evidence,
          );
        }
        case 'tls_handshake_failed':
          return io.found('tls_handshake_failed', `the TLS handshake failed: ${trace.tls?.message ?? 'unknown error'}`, remedies.tls_handshake_failed(), evidence);
        default:
          return io.found('not_accepting', `the server refuses connections${serverWords}`, remedies.not_accepting(), evidence);
      }
    }
    if (decision.kind === 'failure' && decision.step === 'network') return io.skip('no connection was made (see network)');
    const version = trace.serverParams.server_version;
    const standby = trace.serverParams.in_hot_standby === 'on';
    if (standby && (target.targetSessionAttrs === 'read-write' || target.targetSessionAttrs === 'primary')) {
      return io.found('standby', `the server is a read-only hot standby, but target_session_attrs=${target.targetSessionAttrs} requires a primary`, remedies.standby(target), { ...protocol, inHotStandby: true });
    }
    const tls = trace.encryption === 'tls' ? `TLS ${trace.tls?.protocol ?? ''}`.trim() : trace.connected?.transport === 'unix' ? 'Unix socket' : 'no TLS';
    const role = standby ? ', read-only standby' : '';
    return io.pass(`${version ? `PostgreSQL ${version.split(' ')[0]}` : 'the server'} answers the PostgreSQL protocol (${tls}${role})`, {
      ...protocol,
      ...(standby ? { inHotStandby: true } : {}),
    });
  },
});

function noResponseSummary(trace: ConnectionTrace, where: string): string {
  if (trace.closedByPeer || trace.sslReply === 'closed') return `${where} accepted the TCP connection, then closed it without a PostgreSQL answer`;
  if (trace.clientError && !trace.timedOut) return `${where} accepted the TCP connection, then the connection failed: ${trace.clientError.message}`;
  return `${where} accepted the TCP connection but sent no PostgreSQL answer within ${formatMs(trace.budgetMs)} (stuck in ${trace.phase})`;
}

function describeProblem(problem: string): string {
  switch (problem) {
    case 'expired':
      return 'the certificate has expired';
    case 'not_yet_valid':
      return 'the certificate is not valid yet';
    case 'hostname_mismatch':
      return 'the certificate is for another host name';
    case 'self_signed':
      return 'the certificate is self-signed and not trusted';
    case 'untrusted':
      return 'the certificate is not signed by a trusted authority';
    default:
      return 'the certificate failed verification';
  }
}

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as acceptingRemedies };
