import type { PostgresTarget } from '../../../config/postgres/target.js';
import { isHostName } from '../../../net/hostname.js';
import { formatMs } from '../../../text/duration.js';
import type { Deadline } from '../../../engine/deadline.js';
import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { pgIsReady, psqlAsAdmin, urlCommand, urlWith } from '../commands.js';
import { connectShareNote } from '../../../engine/budget.js';
import type { ConnectionTrace } from '../connect.js';
import { osOf, type PlatformInfo } from '../../../host/platform.js';
import { platformFixes } from '../../common/platform.js';
import { whereItListens } from '../../common/refusal.js';
import type { PgContext } from '../context.js';
import { postgresWords } from '../words.js';
import { describeServers, protocolEvidence, serverErrorEvidence, serverSummary, whereOf } from '../evidence.js';
import type { Refusal } from '../refusal.js';
import { lookAtPort, wrongProtocolRemedies, type EngineIdentity, type EngineListener, type WrongProtocolSeen } from '../../common/listener.js';
import { scanLocalPostgres } from '../local.js';
import { majorVersionOf } from '../session.js';
import { describePrimary, judgeReplication, replicationEvidence, type PrimaryAddress, type Replication, type ServerState } from '../replication.js';
import { authority, hostsEvidence, roleWords, slowPassedOver, type HostTried } from '../hosts.js';
import { raw, sh, sudoUnlessRoot, waitUpTo } from '../../../text/shell.js';

const waitForIt = (target: PostgresTarget): Remediation => ({
  text: 'Wait until it accepts connections (or use this as a readiness check):',
  command: waitUpTo(60, sh`${raw(pgIsReady(target))} -q`, 1),
  language: 'shell',
});

const readTheLog: Remediation = {
  text: 'Read the server log for the reason:',
  command: sudoUnlessRoot('sudo journalctl -u postgresql --since "-30min" --no-pager | tail -n 50; sudo tail -n 50 /var/log/postgresql/*.log'),
  language: 'shell',
};

const remedies = {
  starting_up: (target: PostgresTarget, platform: PlatformInfo): Remediation[] => [
    {
      text: 'The server is replaying its write-ahead log before it opens for connections; this heals by itself. Clients should retry with backoff instead of failing at start.',
    },
    waitForIt(target),
    // journalctl is Linux's; on a Mac or a Windows desktop the platform's fixes say where the log is.
    ...(platform.platform === 'macos' || platform.platform === 'windows' ? [] : [readTheLog]),
    ...platformFixes('starting_up', platform, postgresWords(target), {
      host: target.endpoints[0]?.host ?? 'localhost',
      port: target.endpoints[0]?.port ?? 5432,
    }),
  ],
  connection_reset: (target: PostgresTarget): Remediation[] => [
    {
      text: 'Something reset the connection during the handshake: a proxy or firewall that kills connections (check its log and idle/connect rules), or a server process crashing on connect (check the server log).',
    },
    {
      text: 'On the database host, see which process owns the port:',
      command: sudoUnlessRoot(sh`sudo ss -tlnp ${`sport = :${target.endpoints[0]?.port ?? 5432}`}`),
      language: 'shell',
    },
    readTheLog,
  ],
  shutting_down: (target: PostgresTarget): Remediation[] => [
    {
      text: 'A shutdown is in progress. A "smart" shutdown waits for every session to end; see who is still connected (as a superuser, through a session that is already open):',
      command:
        "SELECT pid, usename, application_name, state, now() - backend_start AS connected_for FROM pg_stat_activity WHERE backend_type = 'client backend';",
      language: 'sql',
    },
    {
      text: 'Find out who asked for the shutdown:',
      command: sudoUnlessRoot('sudo journalctl -u postgresql --since "-30min" --no-pager | grep -i -E "shutdown|terminat"'),
      language: 'shell',
    },
    { text: 'Once it has stopped, start it again:', command: sudoUnlessRoot('sudo systemctl start postgresql'), language: 'shell' },
    waitForIt(target),
  ],
  recovery: (target: PostgresTarget): Remediation[] => [
    {
      text: 'The server is replaying WAL. If it is a standby with hot_standby = off it will never accept connections: connect to the primary, or set hot_standby = on in postgresql.conf and restart it.',
    },
    {
      text: 'If it is crash recovery, it heals by itself; follow its progress in the log:',
      command: sudoUnlessRoot('sudo journalctl -u postgresql -f'),
      language: 'shell',
    },
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
      {
        text: `Make it listen on ${endpoint?.host ?? 'this address'} too: in postgresql.conf set listen_addresses = '*' (or list the address), then restart (a reload is not enough for this setting):`,
        command: sudoUnlessRoot('sudo systemctl restart postgresql'),
        language: 'shell',
      },
      {
        text: 'Remote clients also need a pg_hba.conf line for their network; check them:',
        command: 'SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules;',
        language: 'sql',
      },
    ];
  },
  no_response: (target: PostgresTarget, closed: boolean): Remediation[] => [
    {
      text: closed
        ? 'Something accepted the TCP connection and hung up without a word: typically a proxy, load balancer or port-forward (kubectl port-forward, docker-proxy) with nothing healthy behind it.'
        : 'Something accepted the TCP connection but never answered: a hung server, a proxy whose backend does not answer, or a server too overloaded to start a backend.',
    },
    {
      text: 'On the database host, see which process owns the port:',
      command: sudoUnlessRoot(sh`sudo ss -tlnp ${`sport = :${target.endpoints[0]?.port ?? 5432}`}`),
      language: 'shell',
    },
    { text: 'If it is PostgreSQL itself, look for a stuck postmaster or exhausted resources in its log and with top.' },
    { text: 'Check again once it answers:', command: pgIsReady(target), language: 'shell' },
  ],
  wrong_protocol: (target: PostgresTarget, what: string, seen?: WrongProtocolSeen): Remediation[] =>
    wrongProtocolRemedies(postgresIdentity(target), target.endpoints[0]?.host ?? 'localhost', target.endpoints[0]?.port ?? 5432, what, seen),
  tls_required: (target: PostgresTarget): Remediation[] => [
    { text: 'The server only admits this connection over TLS. Connect with TLS:', command: urlCommand(urlWith(target, { sslmode: 'require' })) },
    {
      text: 'Or, if plaintext is acceptable on this network, add a "host" (not "hostssl") line for this client to pg_hba.conf and reload:',
      command: 'SELECT pg_reload_conf();',
      language: 'sql',
    },
  ],
  tls_unsupported: (target: PostgresTarget): Remediation[] => [
    {
      text: 'Turn TLS on at the server: in postgresql.conf set ssl = on with ssl_cert_file and ssl_key_file, then reload:',
      command: 'SELECT pg_reload_conf();',
      language: 'sql',
    },
    { text: 'Or, on a trusted network only, connect without requiring TLS:', command: urlCommand(urlWith(target, { sslmode: 'prefer' })) },
  ],
  tls_verify_failed: (target: PostgresTarget, problem: string, altNames: string): Remediation[] => {
    switch (problem) {
      case 'expired':
      case 'not_yet_valid':
        return [
          {
            text: 'The server certificate is outside its validity period: renew it, replace ssl_cert_file / ssl_key_file, then reload:',
            command: 'SELECT pg_reload_conf();',
            language: 'sql',
          },
          { text: 'Check its dates on the server:', command: "psql -Atc 'SHOW ssl_cert_file' | xargs openssl x509 -noout -dates -in", language: 'shell' },
        ];
      case 'hostname_mismatch':
        return [
          {
            text: `The certificate is for ${altNames || 'another name'}. Connect using a name it carries, or reissue it with this host name in subjectAltName.`,
          },
          { text: 'Or verify only the issuing authority, not the name:', command: urlCommand(urlWith(target, { sslmode: 'verify-ca' })) },
        ];
      default:
        return [
          {
            text: 'The certificate is not signed by an authority this client trusts. Give the CA that signed the server certificate with sslrootcert, or use the system store:',
            command: urlCommand(urlWith(target, { sslrootcert: '/path/to/root.crt' })),
          },
        ];
    }
  },
  tls_handshake_failed: (): Remediation[] => [
    {
      text: 'Compare the TLS versions and ciphers both sides allow (server: ssl_min_protocol_version, ssl_ciphers; client: ssl_min_protocol_version), and read the server log for the handshake error.',
    },
    readTheLog,
  ],
  standby: (
    target: PostgresTarget,
    reported?: PrimaryAddress,
    asked: 'primary' | 'nothing' = 'primary',
    hosts?: readonly HostTried[],
    unknown?: string,
  ): Remediation[] => {
    // The primary is what the standby reported (primary_conninfo, its WAL receiver): commands name it only when it is a host.
    const primary = reported && isHostName(reported.host) ? reported : undefined;
    const listed = primary ? target.endpoints.some((endpoint) => endpoint.host === primary.host && endpoint.port === primary.port) : false;
    const several = target.endpoints.length > 1;
    const passedOver = primary ? hosts?.find((entry) => entry.host === primary.host && entry.port === primary.port) : undefined;
    const pointAt: Remediation = {
      text:
        asked === 'nothing'
          ? `This server is a read-only standby: reads work, every write fails (SQLSTATE 25006, "cannot execute … in a read-only transaction"). Point the application at the primary${whichPrimary(primary, unknown)}`
          : `This server is a read-only standby. Point the application at the primary${whichPrimary(primary, unknown)}`,
      ...(primary ? { command: urlCommand(urlWith(target, { host: primary.host, port: primary.port })) } : {}),
    };
    // The primary is in the list already: it is not a question of listing it, but of why libpq passed it over.
    const listedFixes: Remediation[] =
      listed && primary
        ? [
            {
              text: `The primary the standby replicates from, ${describePrimary(primary)}, is already in the host list${passedOver ? `, and libpq passed it over: ${passedOver.said}` : ''}. Bring it back, or, if it is gone for good, promote a standby and list it instead. Check the primary:`,
              command: sh`pg_isready -h ${primary.host} -p ${primary.port}`,
              language: 'shell',
            },
          ]
        : [];
    const listEvery: Remediation[] = listed
      ? []
      : several && asked === 'primary'
        ? [
            {
              text: `None of the hosts listed is a primary: add the primary's host to the list${primary ? ` (${describePrimary(primary)}, which the standby replicates from)` : ''}, or, if the primary is gone for good, promote a standby:`,
              command: urlCommand(
                urlWith(target, {
                  hosts: [...(primary ? [{ host: primary.host, port: primary.port }] : [{ host: 'primary-host', port: 5432 }]), ...target.endpoints],
                  targetSessionAttrs: target.targetSessionAttrs,
                }),
              ),
            },
          ]
        : [
            {
              text: 'Or list every node and let libpq pick the primary (target_session_attrs=read-write):',
              command: primary
                ? urlCommand(urlWith(target, { hosts: [{ host: primary.host, port: primary.port }, ...target.endpoints], targetSessionAttrs: 'read-write' }))
                : urlCommand(urlWith(target, { hosts: [{ host: 'primary-host', port: 5432 }, ...target.endpoints], targetSessionAttrs: 'read-write' })),
            },
          ];
    return [
      ...(listed ? listedFixes : [pointAt]),
      ...listEvery,
      ...(asked === 'nothing'
        ? [
            {
              text: 'If this application only reads, say so, and a standby is what it should get:',
              command: urlCommand(urlWith(target, { targetSessionAttrs: 'prefer-standby' })),
            },
          ]
        : []),
      { text: 'To see which node is the primary, on each node:', command: psqlAsAdmin(target, 'SELECT pg_is_in_recovery();'), language: 'shell' },
    ];
  },
  role_mismatch: (target: PostgresTarget, kind: 'primary' | 'read-only primary'): Remediation[] => [
    ...(kind === 'read-only primary'
      ? [
          {
            text: 'The primary runs with default_transaction_read_only = on (set in postgresql.conf, or for the role or database with ALTER … SET), so libpq sees a read-only session and target_session_attrs=read-write refuses it. See where it is set:',
            command: psqlAsAdmin(
              target,
              "SELECT source, sourcefile, setting FROM pg_settings WHERE name = 'default_transaction_read_only'; SELECT setdatabase::regdatabase, setrole::regrole, setconfig FROM pg_db_role_setting;",
            ),
            language: 'shell' as const,
          },
          {
            text: 'If writes should be allowed again, reset it where it is set (e.g. ALTER DATABASE … RESET default_transaction_read_only, or in postgresql.conf and reload).',
          },
        ]
      : [
          {
            text: `target_session_attrs=${target.targetSessionAttrs} asks for ${target.targetSessionAttrs === 'read-only' ? 'a read-only session' : 'a standby'}, and ${target.endpoints.length > 1 ? 'no host listed is one' : 'this server is a primary'}: libpq refuses it. Add the standby's host to the list, or, if the application may use the primary when no standby is up, ask for prefer-standby:`,
            command: urlCommand(urlWith(target, { hosts: target.endpoints, targetSessionAttrs: 'prefer-standby' })),
          },
          { text: 'To see which node is a standby, on each node:', command: psqlAsAdmin(target, 'SELECT pg_is_in_recovery();'), language: 'shell' as const },
        ]),
  ],
  replication_stopped: (target: PostgresTarget, reported?: PrimaryAddress): Remediation[] =>
    replicationStopped(target, reported && isHostName(reported.host) ? reported : undefined),
  replication_lag: (target: PostgresTarget, paused: boolean): Remediation[] => [
    ...(paused
      ? [
          {
            text: 'Replay is paused on the standby. Resume it (as a superuser):',
            command: psqlAsAdmin(target, 'SELECT pg_wal_replay_resume();'),
            language: 'shell' as const,
          },
        ]
      : []),
    {
      text: "On the primary, each standby's lag:",
      command: 'SELECT application_name, client_addr, state, write_lag, flush_lag, replay_lag FROM pg_stat_replication;',
      language: 'sql',
    },
    {
      text: 'On the standby, what replay waits on (queries conflicting with it, up to max_standby_streaming_delay, or I/O):',
      command: psqlAsAdmin(target, "SELECT pid, wait_event_type, wait_event FROM pg_stat_activity WHERE backend_type = 'startup';"),
      language: 'shell',
    },
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
    {
      text: 'Where it listens, and which hosts pg_hba.conf admits (as a superuser):',
      command: 'SHOW listen_addresses; SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules;',
      language: 'sql',
    },
    {
      text: 'Why it refuses (startup, recovery, shutdown) is in its log:',
      command: sudoUnlessRoot('sudo journalctl -u postgresql -n 100 --no-pager | grep -E "ready to accept|starting up|recovery|shutting down"'),
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const { trace } = await ctx.connection();
    const decision = await ctx.decision();
    const target = ctx.target;
    const where = whereOf(trace);
    const protocol = { ...protocolEvidence(trace), ...hostsEvidence(trace.hosts) };
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      if (refusal?.cause === 'firewall_rejected') return io.skip('the connection was rejected before it reached the server (see network)');
      if (refusal?.cause === 'in_transition') {
        // Its postmaster.pid names this port, but its sockets are not open: the window between
        // starting the postmaster and "ready to accept connections" (or the end of a shutdown).
        const evidence = { attempted: refusal.attempted, postmasterStatus: refusal.state, localServers: [serverSummary(refusal.server)] };
        const server = describeServers([refusal.server]);
        return refusal.state === 'starting'
          ? io.found(
              'starting_up',
              `the server for ${refusal.attempted} is starting up${server} and has not opened its sockets yet`,
              remedies.starting_up(target, ctx.run.environment.platform),
              evidence,
            )
          : io.found(
              'shutting_down',
              `the server for ${refusal.attempted} is shutting down${server} and has closed its sockets`,
              remedies.shutting_down(target),
              evidence,
            );
      }
      if (refusal?.cause !== 'not_listening') return io.skip('no connection was made (see process)');
      const listens = whereItListens(refusal.listening, refusal.servers, {
        os: osOf(ctx.run.environment.platform),
        processName: 'postgres',
        none: 'no TCP address',
      });
      return io.found(
        'not_listening',
        `PostgreSQL runs here but does not listen at ${refusal.attempted}; ${listens.words}`,
        [...listens.fixes, ...remedies.not_listening(target, refusal)],
        { attempted: refusal.attempted, listeningOn: listens.listeningOn, localServers: refusal.servers.map(serverSummary) },
      );
    }
    if (decision.kind === 'failure' && decision.step === 'accepting') {
      const serverWords = trace.serverError
        ? `: "${trace.serverError.message}"${trace.serverError.detail ? ` (${trace.serverError.detail})` : ''} [${trace.serverError.code}]`
        : '';
      const evidence = { ...protocol, ...serverErrorEvidence(trace) };
      switch (decision.cause) {
        case 'starting_up':
          return io.found(
            'starting_up',
            `the server is starting up and does not accept connections yet${serverWords}`,
            remedies.starting_up(target, ctx.run.environment.platform),
            evidence,
          );
        case 'connection_reset':
          return io.found(
            'connection_reset',
            `${where} accepted the TCP connection, then reset it during the ${trace.phase === 'ssl' ? 'TLS negotiation' : 'startup'} (${trace.clientError?.code ?? 'ECONNRESET'})`,
            remedies.connection_reset(target),
            evidence,
          );
        case 'shutting_down':
          return io.found('shutting_down', `the server is shutting down${serverWords}`, remedies.shutting_down(target), evidence);
        case 'recovery':
          return io.found('recovery', `the server is in recovery and refuses connections${serverWords}`, remedies.recovery(target), evidence);
        case 'no_response': {
          const look = await lookAtPort(postgresIdentity(target), localPostgresListeners, trace, io.deadline, osOf(ctx.run.environment.platform));
          return io.found(
            'no_response',
            `${noResponseSummary(trace, where)}${look.ownerNote}`,
            remedies.no_response(target, trace.closedByPeer || trace.sslReply === 'closed'),
            { ...evidence, ...look.evidence },
          );
        }
        case 'wrong_protocol': {
          const look = await lookAtPort(postgresIdentity(target), localPostgresListeners, trace, io.deadline, osOf(ctx.run.environment.platform));
          const what = trace.answeredBy?.description ?? 'a server that does not speak this PostgreSQL protocol';
          return io.found('wrong_protocol', look.wrongProtocol(where, trace.answeredBy), remedies.wrong_protocol(target, what, look.seen(trace.answeredBy)), {
            ...evidence,
            ...look.evidence,
          });
        }
        case 'tls_required':
          return io.found(
            'tls_required',
            `the server requires TLS for this connection, but sslmode=${target.sslmode}${serverWords}`,
            remedies.tls_required(target),
            { ...evidence, tlsWouldBeAdmitted: true },
          );
        case 'tls_unsupported':
          return io.found(
            'tls_unsupported',
            `sslmode=${target.sslmode} requires TLS, but the server does not support it (it answered "N" to SSLRequest)`,
            remedies.tls_unsupported(target),
            evidence,
          );
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
          return io.found(
            'tls_handshake_failed',
            `the TLS handshake failed: ${trace.tls?.message ?? 'unknown error'}`,
            remedies.tls_handshake_failed(),
            evidence,
          );
        default:
          return io.found('not_accepting', `the server refuses connections${serverWords}`, remedies.not_accepting(), evidence);
      }
    }
    if (decision.kind === 'failure' && decision.step === 'network') return io.skip('no connection was made (see network)');
    const state = await askRole(ctx, trace, io.deadline);
    const version = state?.serverVersion ?? trace.serverParams.server_version;
    const standby = state ? state.inRecovery : trace.serverParams.in_hot_standby === 'on';
    const readOnlyByDefault = state?.defaultReadOnly ?? trace.serverParams.default_transaction_read_only === 'on';
    const tls = trace.encryption === 'tls' ? `TLS ${trace.tls?.protocol ?? ''}`.trim() : trace.connected?.transport === 'unix' ? 'Unix socket' : 'no TLS';
    const evidence = {
      ...protocol,
      ...(state ? replicationEvidence(state) : standby ? { inHotStandby: true } : {}),
      ...(readOnlyByDefault ? { defaultTransactionReadOnly: true } : {}),
    };
    const answers = `${version ? `PostgreSQL ${version.split(' ')[0]}` : 'the server'} answers the PostgreSQL protocol (${tls}`;
    const attrs = `target_session_attrs=${target.targetSessionAttrs}`;
    const others = otherHosts(trace, where);
    // A silent host libpq gave up on after connect_timeout: the connection works, slowly.
    const slow = silentHosts(io, trace, target);
    if (!standby) {
      const refused = refusedPrimary(target.targetSessionAttrs, readOnlyByDefault);
      if (refused) {
        const what =
          refused === 'read-only primary'
            ? 'a primary that runs with default_transaction_read_only = on, so every session is read-only'
            : 'a primary (read-write), not a standby';
        const words =
          refused === 'read-only primary'
            ? 'session is read-only'
            : target.targetSessionAttrs === 'read-only'
              ? 'session is not read-only'
              : 'server is not in hot standby mode';
        return [
          io.found(
            'role_mismatch',
            `${others ? `no host listed is what ${attrs} asks for: ${others}; ${where}` : 'the server'} is ${what}, and ${attrs} refuses it (libpq: "${words}")`,
            remedies.role_mismatch(target, refused),
            evidence,
          ),
          ...slow,
        ];
      }
      const fallback =
        target.targetSessionAttrs === 'prefer-standby' && target.endpoints.length > 1
          ? '; no host listed is a standby, so prefer-standby settles on this primary'
          : '';
      return [io.pass(`${answers})${fallback}${others ? `; libpq passed over ${others}` : ''}`, evidence), ...slow];
    }
    const primary = state?.replication?.primary;
    const replication = state?.replication ? replicationFindings(ctx, io, state.replication, evidence) : [];
    const named = primary ? `; it replicates from ${describePrimary(primary)}` : '';
    switch (ASKED_ROLE[target.targetSessionAttrs]) {
      case 'primary': {
        const summary = others
          ? `no host listed is a primary, which ${attrs} requires: ${others}; ${where} is a read-only hot standby${named}`
          : `the server is a read-only hot standby, but ${attrs} requires a primary${named}`;
        return [
          io.found(
            'standby',
            summary,
            remedies.standby(target, primary, 'primary', trace.hosts, state?.replication?.primaryUnknown ?? state?.replicationUnknown),
            evidence,
          ),
          ...replication,
          ...slow,
        ];
      }
      case 'standby':
        return [
          io.pass(`${answers}, a read-only standby, as ${attrs} asks${named})${others ? `; libpq passed over ${others}` : ''}`, evidence),
          ...replication,
          ...slow,
        ];
      default:
        return [
          io.warn(
            'standby',
            `the server is a read-only standby (in hot standby), and the connection settings do not ask for one (${attrs}${target.sources.target_session_attrs ? ` from ${target.sources.target_session_attrs}` : ', the default'}): reads work, every write fails with SQLSTATE 25006${named}${others ? `; libpq passed over ${others}` : ''}`,
            remedies.standby(target, primary, 'nothing', trace.hosts, state?.replication?.primaryUnknown ?? state?.replicationUnknown),
            evidence,
          ),
          ...replication,
          ...slow,
        ];
    }
  },
});

/** Warnings for silent hosts libpq passed over after connect_timeout (black-holed ones are the network step's). */
function silentHosts(io: StepIO<keyof typeof remedies>, trace: ConnectionTrace, target: PostgresTarget): Finding[] {
  const { silent } = slowPassedOver(trace);
  const first = silent[0];
  if (!first || !trace.connected) return [];
  const wait = formatMs(target.connectTimeoutMs ?? 0);
  const names = silent.map((entry) => authority(entry.address ?? entry.host, entry.port)).join(', ');
  return [
    io.warn(
      'no_response',
      `${names} accepted the TCP connection but sent no PostgreSQL answer within connect_timeout (${wait}); libpq gave ${silent.length > 1 ? 'them' : 'it'} up and moved on to ${authority(trace.connected.host, trace.connected.port)}, so every new connection waits ${wait} first`,
      [
        {
          text: `Every connection the application opens waits ${wait} for ${names} before libpq tries the next host. Take ${silent.length > 1 ? 'them' : 'it'} out of the host list, or find out what listens there and why it does not answer.`,
        },
        { text: 'On that host, see which process owns the port:', command: `sudo ss -tlnp 'sport = :${first.port}'`, language: 'shell' },
      ],
      hostsEvidence(trace.hosts),
    ),
  ];
}

/**
 * The other hosts libpq's walk tried, in a clause: "127.0.0.1:5433 (a standby: "session is
 * read-only"), 127.0.0.1:5432 (connection refused)". Empty for a single host.
 */
function otherHosts(trace: ConnectionTrace, where: string): string {
  const passed = (trace.hosts ?? []).filter((entry) => entry.outcome !== 'chosen' && authority(entry.host, entry.port) !== where);
  return passed
    .map((entry) => `${authority(entry.host, entry.port)} (${entry.outcome === 'role' ? `${roleWords(entry.role)}: "${entry.said}"` : entry.said})`)
    .join(', ');
}

/** A primary that libpq refuses for this target_session_attrs, and why; undefined when it takes it. */
function refusedPrimary(attrs: PostgresTarget['targetSessionAttrs'], readOnlyByDefault: boolean): 'primary' | 'read-only primary' | undefined {
  switch (attrs) {
    case 'standby':
      return 'primary';
    case 'read-only':
      return readOnlyByDefault ? undefined : 'primary';
    case 'read-write':
      return readOnlyByDefault ? 'read-only primary' : undefined;
    default:
      return undefined;
  }
}

function whichPrimary(primary: PrimaryAddress | undefined, unknown: string | undefined): string {
  return primary ? `, ${describePrimary(primary)} (the standby replicates from it):` : ` (${unknown ?? 'the standby does not show which host that is'}).`;
}

/** What target_session_attrs asks of the server's role (libpq's meanings). */
const ASKED_ROLE = {
  any: 'nothing',
  'read-write': 'primary',
  primary: 'primary',
  'read-only': 'standby',
  standby: 'standby',
  'prefer-standby': 'standby',
} as const satisfies Record<PostgresTarget['targetSessionAttrs'], 'nothing' | 'primary' | 'standby'>;

/**
 * The role, from the login's in_hot_standby (PostgreSQL reports it since 14) when it comes
 * straight from PostgreSQL; asked live when a pooler replays it from an earlier server connection
 * (the pooler step asked already: its answer is in the view) and when the server is older than
 * 14, or a standby, whose replication is then read too.
 */
async function askRole(ctx: PgContext, trace: ConnectionTrace, deadline: Deadline): Promise<ServerState | undefined> {
  const view = await ctx.pooler(deadline);
  if (view) return view.confirmation?.kind === 'answered' ? view.confirmation.state : undefined;
  const reported = trace.serverParams.in_hot_standby;
  if (reported === 'off' || (reported === undefined && majorVersionOf(trace.serverParams.server_version) >= 14)) return undefined;
  return ctx.serverState(deadline);
}

function replicationFindings(ctx: PgContext, io: StepIO<keyof typeof remedies>, replication: Replication, evidence: Evidence): Finding[] {
  const problem = judgeReplication(replication, ctx.run.thresholds.replicationLagMs);
  if (!problem) return [];
  return problem.cause === 'replication_stopped'
    ? [io.found('replication_stopped', problem.summary, remedies.replication_stopped(ctx.target, replication.primary), evidence)]
    : [io.found('replication_lag', problem.summary, remedies.replication_lag(ctx.target, replication.replayPaused), evidence)];
}

/** PostgreSQL, for the listener's words shared with the other engines. */
function postgresIdentity(target: PostgresTarget): EngineIdentity {
  return { name: 'PostgreSQL', protocol: 'postgres', defaultPort: 5432, urlFor: (host, port) => urlWith(target, { host, port }) };
}

async function localPostgresListeners(): Promise<EngineListener[]> {
  // A standby (standby.signal in its data directory) takes no writes: the fix says so.
  return (await scanLocalPostgres()).servers.flatMap((server) =>
    server.tcp.map((listener) => ({ ...listener, pid: server.pid, ...(server.standby ? { note: 'a read-only standby: writes fail there' } : {}) })),
  );
}

function noResponseSummary(trace: ConnectionTrace, where: string): string {
  if (trace.closedByPeer || trace.sslReply === 'closed') return `${where} accepted the TCP connection, then closed it without a PostgreSQL answer`;
  if (trace.clientError && !trace.timedOut) return `${where} accepted the TCP connection, then the connection failed: ${trace.clientError.message}`;
  // What was waited, not the budget the wait had: a deadline can end it sooner (a shorter --timeout, connect_timeout).
  return `${where} accepted the TCP connection but sent no PostgreSQL answer within ${formatMs(trace.durationMs)} (${WAITING_FOR[trace.phase]}) ${connectShareNote(trace.budgetMs)}`;
}

/** What the server was last asked for when it went silent, in the protocol's own terms. */
const WAITING_FOR: Record<ConnectionTrace['phase'], string> = {
  dns: 'before the name resolved',
  tcp: 'while connecting',
  ssl: 'no reply to the request for TLS',
  tls: 'the TLS handshake did not finish',
  startup: 'no reply to the startup message',
  auth: 'no reply during the login',
  ready: 'no reply to a query',
};

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

function replicationStopped(target: PostgresTarget, primary: PrimaryAddress | undefined): Remediation[] {
  return [
    {
      text: `The standby receives nothing new: its primary${primary ? ` (${describePrimary(primary)})` : ''} is down or unreachable from the standby, or refuses its replication login. Check the primary:`,
      command: primary ? sh`pg_isready -h ${primary.host} -p ${primary.port}` : 'pg_isready -h PRIMARY_HOST -p 5432',
      language: 'shell',
    },
    {
      text: 'On the standby, see its WAL receiver (as a superuser: the state and sender need pg_read_all_stats):',
      command: psqlAsAdmin(target, 'SELECT status, sender_host, sender_port, last_msg_receipt_time FROM pg_stat_wal_receiver;'),
      language: 'shell',
    },
    {
      text: 'Its log says why it cannot stream ("could not connect to the primary server", an authentication error, a missing WAL segment):',
      command: 'sudo journalctl -u postgresql --since "-30min" --no-pager | grep -i -E "primary|walreceiver|replication"',
      language: 'shell',
    },
    {
      text: 'If the primary is gone for good, promote this standby (only once the old primary cannot come back; dbdoctor never runs this):',
      command: 'SELECT pg_promote();',
      language: 'sql',
    },
  ];
}
