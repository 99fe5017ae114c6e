import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import type { PostgresTarget } from '../../../config/postgres/target.js';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Evidence } from '../../../engine/schema.js';
import type { PgCluster } from '../clusters.js';
import { pgIsReady, urlCommand, urlWith } from '../commands.js';
import { osOf, type PlatformInfo } from '../../../host/platform.js';
import { platformFixes } from '../../common/platform.js';
import { lookByHandFixes } from '../../common/oscommands.js';
import { HOMEBREW_PREFIXES, installedManagers, type ServiceManager } from '../../../host/managers.js';
import { addressFor, knownServicesNote, localhostInContainerRemedies, serviceSuggestions, sightEvidence, unseenReason } from '../../common/refusal.js';
import type { PgContext } from '../context.js';
import { POSTGRES_SERVICE_WORDS, postgresWords } from '../words.js';
import { describeHolder, describeServers, holderEvidence, holderName, reachEvidenceOf, serverSummary, whereOf } from '../evidence.js';
import type { PgLocalServer, PgStandalone } from '../local.js';
import { spokenSource } from '../../../config/source.js';
import { raw, sh, sudoUnlessRoot } from '../../../text/shell.js';
import { hostsEvidence } from '../hosts.js';
import { hostPort } from '../../../text/address.js';
import { postgresDesktop } from '../desktop.js';

const remedies = { not_running: notRunning, wrong_port: wrongPort, localhost_in_container: localhostInContainerRemedies };

/** Step 1 of the runbook: is PostgreSQL running at all? */
export const processStep = defineStep<PgContext, keyof typeof remedies>({
  id: 'process',
  checks: 'Connects once. If the connection is refused on this machine, reads /proc for PostgreSQL processes and the ports and sockets they listen on.',
  remedies,
  manual: [
    {
      text: 'Is PostgreSQL running, and on which port? (Debian/Ubuntu clusters; any host; compose; Kubernetes)',
      command: sudoUnlessRoot('pg_lsclusters; sudo ss -tlnp | grep -i postgres; ps -C postgres -o pid,args'),
      language: 'shell',
    },
    {
      text: 'The service and its recent log:',
      command: sudoUnlessRoot('sudo systemctl status postgresql --no-pager; sudo journalctl -u postgresql -n 50 --no-pager | grep -E "FATAL|PANIC|ERROR"'),
      language: 'shell',
    },
    { text: 'In docker compose or Kubernetes:', command: 'docker compose ps postgres; kubectl get pods -l app=postgres -o wide', language: 'shell' },
    { text: 'On macOS (Homebrew, Postgres.app):', command: 'lsof -nP -iTCP -sTCP:LISTEN | grep -i postgres; brew services list', language: 'shell' },
    {
      text: "On Windows (PowerShell; the EDB installer's service is postgresql-x64-<version>):",
      command: "Get-Service -Name 'postgresql*'; Get-NetTCPConnection -State Listen -LocalPort 5432",
      language: 'powershell',
    },
  ],
  async run(ctx, io) {
    // One host: a TCP connection answers this step's question; the handshake that follows is the
    // accepting step's wait (and its time). Several hosts: which one libpq settles on decides.
    if (ctx.requested.endpoints.length === 1) {
      const early = await ctx.reached();
      if (early.kind === 'connected') {
        const at = early.connected.transport === 'unix' ? early.connected.address : hostPort(early.connected.host, early.connected.port);
        return io.pass(`a server accepted the connection at ${at}`, { connectedTo: early.connected.address });
      }
    }
    const { trace } = await ctx.connection();
    const refusal = await ctx.refusal();
    const where = whereOf(trace);
    const { platform } = ctx.run.environment;
    if (refusal?.cause === 'localhost_in_container') {
      const suggestions = serviceSuggestions(await ctx.run.environment.knownNames(), POSTGRES_SERVICE_WORDS);
      const names = knownServicesNote(suggestions);
      return io.found(
        'localhost_in_container',
        `${where} refused the connection inside a container: localhost there is the container itself, not the database${names}`,
        remedies.localhost_in_container(postgresWords(ctx.target), platform, suggestions, ctx.target.endpoints[0]?.port ?? 5432),
        {
          ...reachEvidenceOf(trace),
          inContainer: true,
          platformSignals: [...platform.signals],
          suggestions: suggestions.map(({ name, origin, port }) => ({ name, origin, ...(port ? { port } : {}) })),
        },
      );
    }
    if (refusal?.cause === 'not_running' && refusal.where === 'unseen') {
      // The look did not happen: say what was seen (the refusal) and how to look (issue 21).
      const port = ctx.target.endpoints[0]?.port ?? 5432;
      const managers = osOf(platform) === 'linux' ? [] : await installedManagers(osOf(platform), postgresDesktop.installedBy, ctx.run.env);
      return io.found(
        'not_running',
        `nothing listens at ${where}; whether a PostgreSQL server runs elsewhere on this machine is not known: dbdoctor could not read its processes (${unseenReason(refusal.sight)})`,
        [...lookByHandFixes(osOf(platform), postgresDesktop, port), ...remedies.not_running(ctx.target, false, platform, managers)],
        {
          ...reachEvidenceOf(trace),
          localServers: `not inspected: ${unseenReason(refusal.sight)}`,
          ...(refusal.sight ? { hostView: sightEvidence(refusal.sight) } : {}),
        },
      );
    }
    if (refusal?.cause === 'not_running') {
      const remote = refusal.where === 'remote';
      const stopped = refusal.stopped ?? [];
      const others = refusal.others ?? [];
      const summary = remote
        ? `${where} refused the connection: nothing listens there (processes on a remote host cannot be inspected from here)`
        : stopped.length > 0
          ? `nothing listens at ${where}: ${describeStopped(stopped)}, configured for port ${stopped[0]?.port ?? '?'}, ${stopped.length > 1 ? 'are' : 'is'} not running${refusal.sight ? `; whether another PostgreSQL server runs on this machine is not known (its processes could not be read: ${unseenReason(refusal.sight)})` : others.length === 0 ? ', and no other PostgreSQL server runs on this machine' : others.length === 1 ? `; another PostgreSQL cluster runs here on port ${otherPorts(others)}${describeServers(others)}` : `; other PostgreSQL clusters run here on ports ${otherPorts(others)}${describeServers(others)}`}${describeHolder(refusal.heldBy)}`
          : `nothing listens at ${where}, and no PostgreSQL server runs on this machine${describeHolder(refusal.heldBy)}`;
      // In compose or Kubernetes the database is started through the orchestrator, whatever data
      // directory this machine shows: the platform's fixes stay.
      const orchestrated = platform.platform === 'kubernetes' || platform.platform === 'compose';
      const managers = osOf(platform) === 'linux' || remote ? [] : await installedManagers(osOf(platform), postgresDesktop.installedBy, ctx.run.env);
      const fixes =
        stopped.length > 0 && !orchestrated
          ? stoppedClusterRemedies(ctx.target, stopped, others, platform)
          : remedies.not_running(ctx.target, remote, platform, managers);
      return io.found('not_running', summary, [...holderRemedies(refusal.heldBy), ...fixes], {
        ...reachEvidenceOf(trace),
        localServers: remote ? 'not inspected (remote host)' : refusal.sight ? `not inspected: ${unseenReason(refusal.sight)}` : others.map(serverSummary),
        ...(stopped.length > 0 ? { stoppedClusters: stopped.map(stoppedSummary) } : {}),
        ...holderEvidence(refusal.heldBy),
      });
    }
    if (refusal?.cause === 'wrong_port') {
      const ports = refusal.ports.join(', ');
      return io.found(
        'wrong_port',
        `nothing listens at ${where}, but PostgreSQL listens on port ${ports}${describeServers(refusal.servers)}: a wrong port, or the server for ${where} is not running${describeHolder(refusal.heldBy)}`,
        [...holderRemedies(refusal.heldBy), ...remedies.wrong_port(ctx.target, refusal.ports, refusal.servers)],
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

function notRunning(target: PostgresTarget, remote: boolean, platform: PlatformInfo, managers: readonly ServiceManager[] = []): Remediation[] {
  const endpoint = target.endpoints[0];
  const onPlatform = platformFixes('not_running', platform, postgresWords(target), {
    host: endpoint?.host ?? 'localhost',
    port: endpoint?.port ?? 5432,
    managers,
  });
  if (platform.platform === 'kubernetes' || platform.platform === 'compose')
    return [...onPlatform, { text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' }];
  // A macOS or Windows desktop: Homebrew, Postgres.app or a Windows service, never systemctl.
  if (!remote && (platform.platform === 'macos' || platform.platform === 'windows'))
    return [...onPlatform, { text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' }];
  if (remote) {
    return [
      {
        text: `Check that PostgreSQL runs on ${endpoint?.host ?? 'the server'} and on which port (on that host):`,
        command: sudoUnlessRoot('sudo systemctl status postgresql; sudo ss -tlnp | grep -i postgres'),
        language: 'shell',
      },
      {
        text: 'If it runs in a container, check that it is up and that the port is published:',
        command: 'docker ps --filter "ancestor=postgres"',
        language: 'shell',
      },
      { text: 'Then confirm from here:', command: pgIsReady(target), language: 'shell' },
    ];
  }
  return [
    {
      text: 'Start PostgreSQL (Debian/Ubuntu packages; or start the container or pg_ctl cluster you use):',
      command: sudoUnlessRoot('sudo systemctl start postgresql'),
      language: 'shell',
    },
    {
      text: 'If it does not stay up, read why in its log (disk full, permissions, a bad setting):',
      command: sudoUnlessRoot('sudo journalctl -u postgresql --since "-1h" --no-pager | tail -n 50; ls /var/log/postgresql/'),
      language: 'shell',
    },
    { text: 'Check there is free disk space for the data directory:', command: 'df -h /var/lib/postgresql', language: 'shell' },
    ...onPlatform.filter(() => platform.platform === 'systemd'),
    { text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' },
  ];
}

function wrongPort(target: PostgresTarget, ports: readonly number[], servers: readonly PgLocalServer[] = []): Remediation[] {
  const port = ports[0] ?? 5432;
  const listeners = servers.flatMap((server) => server.tcp);
  const host = target.endpoints[0]?.host;
  // The server's address when the target's is one it is not bound to (only a single host is changed).
  const at = (candidate: number): { port: number; host?: string } => {
    const bound = host !== undefined && target.endpoints.length === 1 ? addressFor(host, candidate, listeners) : host;
    return bound !== undefined && bound !== host ? { port: candidate, host: bound } : { port: candidate };
  };
  const wanted = target.endpoints[0]?.port ?? 5432;
  const from = target.sources.port ?? 'url';
  // With several clusters on other ports, any one of them is a guess: each is offered as "if
  // your database is there", with the data directory that tells them apart.
  const connect: Remediation[] =
    ports.length > 1
      ? ports.slice(0, 3).map((candidate) => {
          const server = servers.find((entry) => entry.tcp.some((listener) => listener.port === candidate) || entry.port === candidate);
          return {
            text: `If your database is the cluster on port ${candidate}${server?.dataDir ? ` (${server.dataDir})` : ''}, connect there:`,
            command: urlCommand(urlWith(target, at(candidate))),
          };
        })
      : [{ text: `Connect to port ${port}, where PostgreSQL listens:`, command: urlCommand(urlWith(target, at(port))) }];
  // PGPORT only moves a client whose port is not written elsewhere (a URL's port wins over it).
  const setting: Remediation = /^env PGPORT|^default/.test(from)
    ? { text: 'Or set the port in the environment your application reads:', command: sh`export PGPORT=${port}`, language: 'shell' }
    : { text: `Or change the port where it is set (${spokenSource(from, 'the connection URL')}).` };
  return [...connect, setting, { text: `Or, if a server for port ${wanted} should be running, start it (or set port in its postgresql.conf and restart it).` }];
}

/** "cluster 15/main (/var/lib/postgresql/15/main)", or the data directory alone, for each stopped cluster. */
function describeStopped(stopped: readonly PgCluster[]): string {
  const named = stopped.map((cluster) => (cluster.name ? `cluster ${cluster.name} (${cluster.dataDir})` : `the cluster in ${cluster.dataDir}`));
  return named.length > 1 ? `${named.slice(0, -1).join(', ')} and ${named.at(-1) ?? ''}` : (named[0] ?? '');
}

function otherPorts(servers: readonly PgLocalServer[]): string {
  const ports = [
    ...new Set(
      servers.flatMap((server) => server.tcp.map((listener) => listener.port)).concat(servers.flatMap((server) => (server.port ? [server.port] : []))),
    ),
  ];
  return ports.join(', ');
}

function stoppedSummary(cluster: PgCluster): Evidence {
  return {
    dataDir: cluster.dataDir,
    port: cluster.port,
    portFrom: cluster.portFrom,
    ...(cluster.name ? { name: cluster.name } : {}),
    ...(cluster.version ? { version: cluster.version } : {}),
    ...(cluster.owner ? { owner: cluster.owner } : {}),
    ...(cluster.postmasterPid !== undefined ? { stalePostmasterPid: cluster.postmasterPid } : {}),
  };
}

/**
 * Start the cluster that is configured for this port, the way it is managed; the other cluster's
 * port comes last, as a possibility: connecting there reaches another cluster's databases.
 */
function stoppedClusterRemedies(
  target: PostgresTarget,
  stopped: readonly PgCluster[],
  running: readonly PgLocalServer[],
  platform: PlatformInfo,
): Remediation[] {
  const cluster = stopped[0];
  if (!cluster) return [];
  // The possibility offered is the running cluster nearest the stopped one (the longest shared
  // path: /srv/pg/main beside /srv/pg/reporting), not whichever the process table lists first.
  const others = [...running].sort((a, b) => sharedPrefix(b.dataDir ?? '', cluster.dataDir) - sharedPrefix(a.dataDir ?? '', cluster.dataDir));
  const fixes: Remediation[] = [];
  // Homebrew keeps a formula's cluster in <prefix>/var/postgresql@16 (postgres for the unversioned
  // formula, before 15): its service starts it, with launchd keeping it up.
  const brew = /^(.*)\/var\/(postgresql@\d+|postgres(?:ql)?)$/.exec(cluster.dataDir);
  if (osOf(platform) === 'macos' && brew?.[1] && brew[2] && HOMEBREW_PREFIXES.some((prefix) => prefix === brew[1])) {
    const formula = brew[2] === 'postgres' || brew[2] === 'postgresql' ? 'postgresql' : brew[2];
    fixes.push({
      text: `Start it with Homebrew's service for ${formula} (launchd keeps it up):`,
      command: sh`brew services start ${formula}`,
      language: 'shell',
    });
  }
  if (cluster.debian) {
    const { version, cluster: name } = cluster.debian;
    fixes.push(
      {
        text: `Start cluster ${version}/${name} (Debian/Ubuntu's cluster tools; pg_lsclusters lists them all):`,
        command: sh`${raw(asRoot())}pg_ctlcluster ${version} ${name} start`,
        language: 'shell',
      },
      {
        text: 'If it does not stay up, its log says why:',
        command: sh`${raw(asRoot())}tail -n 50 ${`/var/log/postgresql/postgresql-${version}-${name}.log`}`,
        language: 'shell',
      },
    );
  } else {
    const pgCtl =
      cluster.version && existsSync(`/usr/lib/postgresql/${cluster.version}/bin/pg_ctl`) ? `/usr/lib/postgresql/${cluster.version}/bin/pg_ctl` : 'pg_ctl';
    // runuser is Linux's (util-linux); a Mac has sudo -u; Windows has no owner to become.
    const os = osOf(platform);
    const asOwner =
      !cluster.owner || cluster.owner === currentUser() || os === 'windows'
        ? ''
        : process.getuid?.() === 0 && os === 'linux'
          ? sh`runuser -u ${cluster.owner} -- `
          : sh`sudo -u ${cluster.owner} `;
    fixes.push({
      text: `Start the cluster in ${cluster.dataDir}${cluster.owner ? ` as its owner, ${cluster.owner}` : ''} (or through the service that manages it); -l keeps its start-up messages:`,
      command: sh`${raw(asOwner)}${pgCtl} -D ${cluster.dataDir} -l ${join(cluster.dataDir, 'startup.log')} start`,
      language: 'shell',
    });
  }
  if (cluster.postmasterPid !== undefined) {
    fixes.push({
      text: `Its postmaster.pid still names pid ${cluster.postmasterPid}, a server that is gone (a crash, or a killed container): pg_ctl start checks that pid and replaces the file; do not delete it by hand while any postgres of that directory runs.`,
    });
  }
  const port = otherPorts(others).split(', ')[0];
  // Over a Unix socket, the other cluster is reached at its own socket, in its own directory.
  const overSocket = target.endpoints[0]?.host.startsWith('/') === true;
  const socket = others.flatMap((server) => server.sockets)[0];
  const socketPort = Number(/\.s\.PGSQL\.(\d+)$/.exec(socket ?? '')?.[1] ?? 0);
  if (overSocket && socket && socketPort > 0) {
    fixes.push({
      text: `Another cluster listens at ${socket}${describeServers(others)}. Only if your database lives there, connect to it instead:`,
      command: urlCommand(urlWith(target, { host: dirname(socket), port: socketPort })),
    });
  } else if (others.length > 0 && port) {
    fixes.push({
      text: `Another cluster listens on port ${port}${describeServers(others)}. Only if your database lives there, connect to it instead:`,
      command: urlCommand(urlWith(target, { port: Number(port) })),
    });
  }
  fixes.push({ text: 'Then confirm it accepts connections:', command: pgIsReady(target), language: 'shell' });
  return fixes;
}

function asRoot(): string {
  return process.getuid?.() === 0 ? '' : 'sudo ';
}

function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** The remedies, for `dbdoctor explain` (the same fixes for a cause read from an error message). */
export { remedies as processRemedies };

/** How many leading characters two paths share. */
function sharedPrefix(a: string, b: string): number {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index += 1;
  return index;
}
