import type { CassandraTarget } from '../../../config/cassandra/target.js';
import { urlLine } from '../../../text/url.js';
import { SPELLINGS } from '../../../config/cassandra/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { isLoopback } from '../../../host/local.js';
import { addressFor, knownServicesNote, localhostInContainerRemedies, serviceSuggestions, sightEvidence, unseenReason } from '../../common/refusal.js';
import { platformFixes } from '../../common/platform.js';
import { lookByHandFixes } from '../../common/oscommands.js';
import { installedManagers, type ServiceManager } from '../../../host/managers.js';
import { osOf, type PlatformInfo } from '../../../host/platform.js';
import { cassandraWords, CASSANDRA_SERVICE_WORDS } from '../words.js';
import { cqlsh, environmentEvidence, nodeSummary, reachEvidenceOf, urlWith } from '../commands.js';
import { raw, sh, sudoUnlessRoot } from '../../../text/shell.js';
import type { CqlContext } from '../context.js';
import { hostPort } from '../../../text/address.js';
import { cassandraDesktop } from '../desktop.js';

/**
 * Seed 002: an application inside a container connected to localhost, which is the container
 * itself; the deployment had set the contact points under another variable name. When a loopback
 * contact point is refused and the environment names other hosts, say which variable holds them.
 */
function otherHosts(env: Readonly<Record<string, string | undefined>>): { name: string; value: string } | undefined {
  for (const name of SPELLINGS.hosts) {
    const value = env[name]?.trim();
    if (value && !value.split(',').every((host) => isLoopbackName(host.split(':')[0] ?? ''))) return { name, value };
  }
  return undefined;
}

const isLoopbackName = (host: string): boolean => host === 'localhost' || isLoopback(host);

/** Seed 002's second half: the variable the application may read instead. */
function spellingFix(env: Readonly<Record<string, string | undefined>>): Remediation[] {
  const other = otherHosts(env);
  const missing = SPELLINGS.hosts.find((name) => name !== other?.name);
  if (!other || !missing) return [];
  return [
    {
      text: `The environment names the Cassandra hosts in ${other.name}=${other.value}, but not in ${missing}: an application that reads ${missing} falls back to its default (often localhost). Read ${other.name}, or set both:`,
      command: sh`export ${raw(missing)}=${other.value}`,
      language: 'shell',
    },
  ];
}

const remedies = {
  localhost_in_container: (target: CassandraTarget, ctx: CqlContext, suggestions: Parameters<typeof localhostInContainerRemedies>[2]): Remediation[] => [
    ...spellingFix(ctx.run.env),
    ...localhostInContainerRemedies(cassandraWords(target), ctx.run.environment.platform, suggestions, target.contactPoints[0]?.port ?? 9042),
  ],
  not_running: (
    target: CassandraTarget,
    remote: boolean,
    env: Readonly<Record<string, string | undefined>>,
    platform?: PlatformInfo,
    managers: readonly ServiceManager[] = [],
  ): Remediation[] => {
    const point = target.contactPoints[0];
    const fixes: Remediation[] = [];
    if (point && isLoopbackName(point.host)) {
      fixes.push({
        text: `"${point.host}" is this machine — inside a container, the container itself, not the Cassandra container. Use the Cassandra service's name (docker compose / Kubernetes service) as the contact point.`,
      });
      fixes.push(...spellingFix(env));
    }
    if (remote) {
      fixes.push({
        text: `Check that Cassandra runs on ${point?.host ?? 'the server'} and listens for CQL clients (on that host):`,
        command: sudoUnlessRoot('nodetool status; nodetool statusbinary; sudo ss -tlnp | grep 9042'),
        language: 'shell',
      });
    } else if (platform && (platform.platform === 'macos' || platform.platform === 'windows')) {
      fixes.push(...platformFixes('not_running', platform, cassandraWords(target), { host: point?.host ?? 'localhost', port: point?.port ?? 9042, managers }));
    } else {
      fixes.push({
        text: 'Start Cassandra (packages; or start the container you use):',
        command: sudoUnlessRoot('sudo systemctl start cassandra'),
        language: 'shell',
      });
      fixes.push({
        text: 'If it does not stay up, read why in its log:',
        command: sudoUnlessRoot('sudo tail -n 50 /var/log/cassandra/system.log'),
        language: 'shell',
      });
    }
    fixes.push({ text: 'Then check that it takes CQL clients:', command: cqlsh(target, 'SELECT release_version FROM system.local'), language: 'shell' });
    return fixes;
  },
  wrong_port: (
    target: CassandraTarget,
    ports: readonly number[],
    listeners: readonly { readonly address: string; readonly port: number }[] = [],
  ): Remediation[] => {
    const port = ports[0] ?? 9042;
    const host = target.contactPoints[0]?.host;
    const bound = host !== undefined && target.contactPoints.length === 1 ? addressFor(host, port, listeners) : host;
    return [
      {
        text: `Connect to port ${port}, where Cassandra listens for CQL clients:`,
        command: urlLine(urlWith(target, bound !== undefined && bound !== host ? { host: bound, port } : { port })),
      },
      { text: 'Or set the port in the environment your application reads:', command: sh`export CASSANDRA_PORT=${port}`, language: 'shell' },
      { text: `Or, if the node should listen on ${target.contactPoints[0]?.port ?? 9042}, set native_transport_port in cassandra.yaml and restart it.` },
    ];
  },
};

/** Step 1: is a Cassandra node running? */
export const processStep = defineStep<CqlContext, keyof typeof remedies>({
  id: 'process',
  checks:
    'Speaks CQL to each contact point. If one refuses on this machine, reads /proc for Cassandra JVMs (CassandraDaemon), the ports they listen on and their native_transport_port.',
  remedies,
  manual: [
    {
      text: 'Is Cassandra running, and on which ports (CQL is 9042 unless native_transport_port says otherwise)?',
      command: sudoUnlessRoot('sudo systemctl status cassandra --no-pager; sudo ss -tlnp | grep java'),
      language: 'shell',
    },
    { text: 'Its recent log:', command: sudoUnlessRoot('sudo tail -n 50 /var/log/cassandra/system.log'), language: 'shell' },
    { text: 'In docker compose or Kubernetes:', command: 'docker compose ps cassandra; kubectl get pods -l app=cassandra -o wide', language: 'shell' },
    { text: "On macOS (Homebrew's cassandra):", command: 'lsof -nP -iTCP -sTCP:LISTEN | grep -i java; brew services list', language: 'shell' },
  ],
  async run(ctx, io) {
    // One contact point: its TCP connection answers this step's question; the CQL handshake is the accepting step's wait.
    if (ctx.target.contactPoints.length === 1) {
      const early = await ctx.reached();
      if (early.kind === 'connected')
        return io.pass(`a server accepted the connection at ${hostPort(early.connected.host, early.connected.port)}`, { connectedTo: early.connected.address });
    }
    const hosts = await ctx.hosts();
    const refusal = await ctx.refusal();
    const evidence = { ...reachEvidenceOf(hosts), ...environmentEvidence(ctx.target) };
    if (refusal?.cause === 'not_running') {
      const remote = refusal.where === 'remote';
      const notes = ctx.target.environmentNotes.length > 0 ? ` (${ctx.target.environmentNotes.join('; ')})` : '';
      const { platform } = ctx.run.environment;
      const managers = osOf(platform) === 'linux' || remote ? [] : await installedManagers(osOf(platform), cassandraDesktop.installedBy, ctx.run.env);
      if (refusal.where === 'unseen') {
        // The look did not happen: what was seen (the refusal), and how to look, per OS (issue 21).
        const why = unseenReason(refusal.sight);
        return io.found(
          'not_running',
          `nothing listens at ${refusal.attempted}; whether a Cassandra node runs elsewhere on this machine is not known: dbdoctor could not read its processes (${why})${notes}`,
          [
            ...lookByHandFixes(osOf(platform), cassandraDesktop, ctx.target.contactPoints[0]?.port ?? 9042),
            ...remedies.not_running(ctx.target, false, ctx.run.env, platform, managers),
          ],
          {
            ...evidence,
            localNodes: `not inspected: ${why}`,
            ...(refusal.sight ? { hostView: sightEvidence(refusal.sight) } : {}),
          },
        );
      }
      const summary = remote
        ? `${refusal.attempted} refused the connection: nothing listens there${notes}`
        : `nothing listens at ${refusal.attempted}, and no Cassandra node runs on this machine${notes}`;
      return io.found('not_running', summary, remedies.not_running(ctx.target, remote, ctx.run.env, platform, managers), {
        ...evidence,
        localNodes: remote ? 'not inspected (remote host)' : [],
      });
    }
    if (refusal?.cause === 'localhost_in_container') {
      const suggestions = serviceSuggestions(await ctx.run.environment.knownNames(), CASSANDRA_SERVICE_WORDS);
      const names = knownServicesNote(suggestions);
      const notes = ctx.target.environmentNotes.length > 0 ? ` (${ctx.target.environmentNotes.join('; ')})` : '';
      return io.found(
        'localhost_in_container',
        `${refusal.attempted} refused the connection inside a container: localhost there is the container itself, not the Cassandra node${names}${notes}`,
        remedies.localhost_in_container(ctx.target, ctx, suggestions),
        {
          ...evidence,
          inContainer: true,
          suggestions: suggestions.map(({ name, origin }) => ({ name, origin })),
        },
      );
    }
    if (refusal?.cause === 'firewall_rejected')
      return io.pass(`a Cassandra node listens at ${refusal.listening.join(', ')} on this machine`, {
        ...evidence,
        localNodes: refusal.nodes.map(nodeSummary),
      });
    if (refusal?.cause === 'wrong_port') {
      const first = refusal.nodes[0];
      return io.found(
        'wrong_port',
        `nothing listens at ${refusal.attempted}, but Cassandra listens for CQL clients on port ${refusal.ports.join(', ')}${first ? ` (pid ${first.pid})` : ''}`,
        remedies.wrong_port(
          ctx.target,
          refusal.ports,
          refusal.nodes.flatMap((node) => node.tcp),
        ),
        {
          ...evidence,
          listeningPorts: [...refusal.ports],
          localNodes: refusal.nodes.map(nodeSummary),
        },
      );
    }
    if (refusal?.cause === 'not_listening' || refusal?.cause === 'transport_closed') {
      const nodes = refusal.cause === 'transport_closed' ? [refusal.node] : refusal.nodes;
      return io.pass(`a Cassandra JVM runs on this machine (pid ${nodes.map((node) => node.pid).join(', ')})`, { localNodes: nodes.map(nodeSummary) });
    }
    const connected = hosts.find((outcome) => outcome.trace.connected);
    if (connected?.trace.connected)
      return io.pass(`a server accepted the connection at ${hostPort(connected.trace.host, connected.trace.port)}`, {
        connectedTo: connected.trace.connected.address,
      });
    return io.skip('cannot tell: no contact point could be reached (see network)', evidence);
  },
});

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as processRemedies };
