import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import type { PostgresTarget } from '../../../config/postgres/target.js';
import { pgIsReady, urlCommand, urlWith } from '../commands.js';
import type { PlatformInfo } from '../../../host/platform.js';
import { platformFixes } from '../../common/platform.js';
import { localhostInContainerRemedies, serviceSuggestions } from '../../common/refusal.js';
import type { PgContext } from '../context.js';
import { POSTGRES_SERVICE_WORDS, postgresWords } from '../words.js';
import { describeHolder, describeServers, holderEvidence, holderName, reachEvidenceOf, serverSummary, whereOf } from '../evidence.js';
import type { PgStandalone } from '../local.js';
import { hostsEvidence } from '../hosts.js';
import { hostAndPort } from '../../common/listener.js';
import { sh } from '../../../text/shell.js';

const remedies = { not_running: notRunning, wrong_port: wrongPort, localhost_in_container: localhostInContainerRemedies };

/** Step 1 of the runbook: is PostgreSQL running at all? */
export const processStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'process',
  checks:
    'Connects once. If the connection is refused on this machine, reads /proc for PostgreSQL processes and the ports and sockets they listen on.',
  remedies,
  manual: [
    { text: 'Is PostgreSQL running, and on which port? (Debian/Ubuntu clusters; any host; compose; Kubernetes)', command: 'pg_lsclusters; sudo ss -tlnp | grep -i postgres; ps -C postgres -o pid,args', language: 'shell' },
    { text: 'The service and its recent log:', command: 'sudo systemctl status postgresql --no-pager; sudo journalctl -u postgresql -n 50 --no-pager | grep -E "FATAL|PANIC|ERROR"', language: 'shell' },
    { text: 'In docker compose or Kubernetes:', command: 'docker compose ps postgres; kubectl get pods -l app=postgres -o wide', language: 'shell' },
  ],
  async run(ctx, io) {
    // One host: a TCP connection answers this step's question; the handshake that follows is the
    // accepting step's wait (and its time). Several hosts: which one libpq settles on decides.
    if (ctx.requested.endpoints.length === 1) {
      const early = await ctx.reached();
      if (early.kind === 'connected') {
        const at = early.connected.transport === 'unix' ? early.connected.address : hostAndPort(early.connected.host, early.connected.port);
        return io.pass(`a server accepted the connection at ${at}`, { connectedTo: early.connected.address });
      }
    }
    const { trace } = await ctx.connection();
    const refusal = await ctx.refusal();
    const where = whereOf(trace);
    const { platform } = ctx.run.environment;
    if (refusal?.cause === 'localhost_in_container') {
      const suggestions = serviceSuggestions(await ctx.run.environment.knownNames(), POSTGRES_SERVICE_WORDS);
      const names = suggestions.length > 0 ? `; this environment knows ${suggestions.slice(0, 3).map((suggestion) => `"${suggestion.name}"`).join(', ')}` : '';
      return io.found(
        'localhost_in_container',
        `${where} refused the connection inside a container: localhost there is the container itself, not the database${names}`,
        remedies.localhost_in_container(postgresWords(ctx.target), platform, suggestions, ctx.target.endpoints[0]?.port ?? 5432),
        { ...reachEvidenceOf(trace), inContainer: true, platformSignals: [...platform.signals], suggestions: suggestions.map(({ name, origin, port }) => ({ name, origin, ...(port ? { port } : {}) })) },
      );
    }
    if (refusal?.cause === 'not_running') {
      const remote = refusal.where === 'remote';
      const summary = remote
        ? `${where} refused the connection: nothing listens there (processes on a remote host cannot be inspected from here)`
        : `nothing listens at ${where}, and no PostgreSQL server runs on this machine${describeHolder(refusal.heldBy)}`;
      return io.found('not_running', summary, [...holderRemedies(refusal.heldBy), ...remedies.not_running(ctx.target, remote, platform)], {
        ...reachEvidenceOf(trace),
        localServers: remote ? 'not inspected (remote host)' : [],
        ...holderEvidence(refusal.heldBy),
      });
    }
    if (refusal?.cause === 'wrong_port') {
      const ports = refusal.ports.join(', ');
      return io.found(
        'wrong_port',
        `nothing listens at ${where}, but PostgreSQL listens on port ${ports}${describeServers(refusal.servers)}: a wrong port, or the server for ${where} is not running${describeHolder(refusal.heldBy)}`,
        [...holderRemedies(refusal.heldBy), ...remedies.wrong_port(ctx.target, refusal.ports)],
        { ...reachEvidenceOf(trace), listeningPorts: [...refusal.ports], localServers: refusal.servers.map(serverSummary), ...holderEvidence(refusal.heldBy) },
      );
    }
    if (refusal?.cause === 'in_transition') {
      return io.pass(`PostgreSQL for port ${refusal.server.port ?? '?'} runs on this machine and is ${refusal.state}${describeServers([refusal.server])}`, {
        localServers: [serverSummary(refusal.server)],
      });
    }
    if (refusal?.cause === 'not_listening' || refusal?.cause === 'firewall_rejected') {
      return io.pass(`PostgreSQL runs on this machine${describeServers(refusal.servers)}`, { localServers: refusal.servers.map(serverSummary) });
    }
    if (trace.connected) {
      // Several hosts: which one libpq's walk settled on (hosts.ts); the others are in the evidence.
      const count = ctx.requested.endpoints.length;
      const index = ctx.requested.endpoints.findIndex((endpoint) => endpoint.host === trace.connected?.host && endpoint.port === trace.connected.port);
      const which = count > 1 && index >= 0 ? ` (host ${index + 1} of the ${count} listed)` : '';
      return io.pass(`a server accepted the connection at ${where}${which}`, { connectedTo: trace.connected.address, ...hostsEvidence(trace.hosts) });
    }
    return io.skip(`cannot tell: ${where} could not be reached (see network)`);
  },
});

/** A standalone backend holds the data directory: the server cannot start until it exits. Never ended for you. */
function holderRemedies(heldBy: PgStandalone | undefined): Remediation[] {
  if (!heldBy) return [];
  const who = `${holderName(heldBy)}${heldBy.mode === 'single-user' ? ' (initdb runs one while it creates a cluster; operators run one for maintenance)' : ''}`;
  return [
    {
      text: `Pid ${heldBy.pid} is ${who}. While it runs, pg_ctl start fails with 'lock file "postmaster.pid" already exists'. Let it finish, or end that session where it runs (single-user mode reads commands on its standard input; Ctrl-D ends it), then start the server.`,
      command: sh`ps -o pid,ppid,etime,args -p ${heldBy.pid}`,
      language: 'shell',
    },
  ];
}

function notRunning(target: PostgresTarget, remote: boolean, platform: PlatformInfo): Remediation[] {
  const endpoint = target.endpoints[0];
  const onPlatform = platformFixes('not_running', platform, postgresWords(target), { host: endpoint?.host ?? 'localhost', port: endpoint?.port ?? 5432 });
  if (platform.platform === 'kubernetes' || platform.platform === 'compose') return [...onPlatform, { text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' }];
  if (remote) {
    return [
      { text: `Check that PostgreSQL runs on ${endpoint?.host ?? 'the server'} and on which port (on that host):`, command: 'sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres', language: 'shell' },
      { text: 'If it runs in a container, check that it is up and that the port is published:', command: 'docker ps --filter "ancestor=postgres"', language: 'shell' },
      { text: 'Then confirm from here:', command: pgIsReady(target), language: 'shell' },
    ];
  }
  return [
    { text: 'Start PostgreSQL (Debian/Ubuntu packages; or start the container or pg_ctl cluster you use):', command: 'sudo systemctl start postgresql', language: 'shell' },
    { text: 'If it does not stay up, read why in its log (disk full, permissions, a bad setting):', command: 'sudo journalctl -u postgresql --since "-1h" --no-pager | tail -n 50; ls /var/log/postgresql/', language: 'shell' },
    { text: 'Check there is free disk space for the data directory:', command: 'df -h /var/lib/postgresql', language: 'shell' },
    ...onPlatform.filter(() => platform.platform === 'systemd'),
    { text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' },
  ];
}

function wrongPort(target: PostgresTarget, ports: readonly number[]): Remediation[] {
  const port = ports[0] ?? 5432;
  return [
    { text: `Connect to port ${port}, where PostgreSQL listens:`, command: urlCommand(urlWith(target, { port })) },
    { text: 'Or set the port in the environment your application reads:', command: sh`export PGPORT=${port}`, language: 'shell' },
    { text: `Or, if a server for port ${target.endpoints[0]?.port ?? 5432} should be running, start it (or set port in its postgresql.conf and restart it).` },
  ];
}

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as processRemedies };
