import type { MongoTarget } from '../../../config/mongodb/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { hostPort, mongoshPing, urlWith } from '../commands.js';
import type { MongoContext } from '../context.js';
import { seedsEvidence, whereOf } from '../evidence.js';
import { describeLocalServer } from '../local.js';
import { osOf, type PlatformInfo } from '../../../host/platform.js';
import { platformFixes } from '../../common/platform.js';
import { lookByHandFixes } from '../../common/oscommands.js';
import { installedManagers, type ServiceManager } from '../../../host/managers.js';
import { addressFor, knownServicesNote, localhostInContainerRemedies, serviceSuggestions, sightEvidence, unseenReason } from '../../common/refusal.js';
import { MONGO_SERVICE_WORDS, mongoWords } from '../words.js';
import { urlLine } from '../../../text/url.js';
import { sudoUnlessRoot } from '../../../text/shell.js';
import { mongodbDesktop } from '../desktop.js';

const remedies = {
  localhost_in_container: localhostInContainerRemedies,
  not_running: (target: MongoTarget, remote: boolean, platform: PlatformInfo, managers: readonly ServiceManager[] = []): Remediation[] =>
    platform.platform === 'kubernetes' || platform.platform === 'compose' || (!remote && (platform.platform === 'macos' || platform.platform === 'windows'))
      ? [
          ...platformFixes('not_running', platform, mongoWords(target), {
            host: target.hosts[0]?.host ?? 'localhost',
            port: target.hosts[0]?.port ?? 27017,
            managers,
          }),
          { text: 'Then confirm it answers:', command: mongoshPing(target), language: 'shell' },
        ]
      : remote
        ? [
            {
              text: `Check that mongod (or mongos) runs on ${target.hosts[0]?.host ?? 'the server'} and on which port (on that host):`,
              command: sudoUnlessRoot('sudo systemctl status mongod; sudo ss -tlnp | grep -E "mongo|ferretdb"'),
              language: 'shell',
            },
            {
              text: 'If it runs in a container or a pod, check that it is up and that the port is published or the service has endpoints:',
              command: 'docker ps --filter "ancestor=mongo"; kubectl get endpoints',
              language: 'shell',
            },
            { text: 'Then confirm from here:', command: mongoshPing(target), language: 'shell' },
          ]
        : [
            {
              text: 'Start MongoDB (packages: the mongod service; or start the container you use):',
              command: sudoUnlessRoot('sudo systemctl start mongod'),
              language: 'shell',
            },
            {
              text: 'If it does not stay up, read why in its log (disk full, permissions, a lock file left behind, a bad setting):',
              command: sudoUnlessRoot('sudo journalctl -u mongod --since "-1h" --no-pager | tail -n 50; sudo tail -n 50 /var/log/mongodb/mongod.log'),
              language: 'shell',
            },
            { text: 'Then confirm it answers:', command: mongoshPing(target), language: 'shell' },
          ],
  wrong_port: (target: MongoTarget, port: number, listeners: readonly { readonly address: string; readonly port: number }[] = []): Remediation[] => {
    const host = addressFor(target.hosts[0]?.host ?? 'localhost', port, listeners);
    return [
      { text: `Connect to port ${port}, where the MongoDB server listens:`, command: urlLine(urlWith(target, { hosts: [hostPort(host, port)] })) },
      { text: `Or, if the server should listen on ${target.hosts[0]?.port ?? 27017}, set net.port in mongod.conf and restart it.` },
    ];
  },
};

/** Step 1: is a MongoDB server running at all? */
export const processStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'process',
  checks: 'Connects to each seed. If every seed refuses on this machine, reads /proc for mongod, mongos and FerretDB processes and the ports they listen on.',
  remedies,
  manual: [
    {
      text: 'Is mongod (or mongos) running, and on which port?',
      command: sudoUnlessRoot('sudo systemctl status mongod --no-pager; sudo ss -tlnp | grep -E "mongo|ferretdb"'),
      language: 'shell',
    },
    {
      text: 'Its recent log:',
      command: sudoUnlessRoot('sudo journalctl -u mongod -n 50 --no-pager; sudo tail -n 50 /var/log/mongodb/mongod.log'),
      language: 'shell',
    },
    { text: 'In docker compose or Kubernetes:', command: 'docker compose ps mongodb; kubectl get pods -l app=mongodb -o wide', language: 'shell' },
    { text: "On macOS (Homebrew's mongodb-community):", command: 'lsof -nP -iTCP -sTCP:LISTEN | grep -i mongo; brew services list', language: 'shell' },
    { text: 'On Windows (PowerShell):', command: "Get-Service -Name 'MongoDB'; Get-NetTCPConnection -State Listen -LocalPort 27017", language: 'powershell' },
  ],
  async run(ctx, io) {
    // One seed: its TCP connection answers this step's question; hello is the accepting step's wait.
    if (ctx.requested.hosts.length === 1 && !ctx.requested.srv) {
      const early = await ctx.reached();
      if (early.kind === 'connected')
        return io.pass(`a server accepted the connection at ${whereOf({ host: early.connected.host, port: early.connected.port })}`, {
          connectedTo: early.connected.address,
        });
    }
    const decision = await ctx.decision();
    const surveyed = await ctx.survey();
    const { target } = surveyed;
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      const unseen = refusal?.where === 'unseen' ? `not inspected: ${unseenReason(refusal.sight)}` : undefined;
      const evidence = {
        ...seedsEvidence(surveyed),
        localServers: refusal?.where === 'remote' ? 'not inspected (remote host)' : (unseen ?? (refusal?.servers ?? []).map(describeLocalServer)),
        ...(refusal?.sight && refusal.where === 'unseen' ? { hostView: sightEvidence(refusal.sight) } : {}),
      };
      if (refusal?.cause === 'wrong_port') {
        const ports = refusal.ports.join(', ');
        return io.found(
          'wrong_port',
          `nothing listens at ${refusal.attempted}, but a MongoDB server listens on port ${ports}${serverNote(refusal.servers)}`,
          remedies.wrong_port(
            target,
            refusal.ports[0] ?? 27017,
            refusal.servers.flatMap((server) => server.tcp),
          ),
          { ...evidence, listeningPorts: [...refusal.ports] },
        );
      }
      if (refusal?.cause === 'localhost_in_container') {
        const suggestions = serviceSuggestions(await ctx.run.environment.knownNames(), MONGO_SERVICE_WORDS);
        const names = knownServicesNote(suggestions);
        return io.found(
          'localhost_in_container',
          `${refusal.attempted} refused the connection inside a container: localhost there is the container itself, not the database${names}`,
          remedies.localhost_in_container(mongoWords(target), ctx.run.environment.platform, suggestions, target.hosts[0]?.port ?? 27017),
          { ...evidence, inContainer: true, suggestions: suggestions.map(({ name, origin }) => ({ name, origin })) },
        );
      }
      if (refusal?.cause === 'not_listening' || refusal?.cause === 'firewall_rejected')
        return io.pass(`a MongoDB server runs on this machine${serverNote(refusal.servers)}`, evidence);
      const attempted = refusal?.attempted ?? whereOf(target.hosts[0]);
      const { platform } = ctx.run.environment;
      if (refusal?.where === 'unseen') {
        // The look did not happen: what was seen (the refusal), and how to look, per OS (issue 21).
        const managers = osOf(platform) === 'linux' ? [] : await installedManagers(osOf(platform), mongodbDesktop.installedBy, ctx.run.env);
        return io.found(
          'not_running',
          `nothing listens at ${attempted}; whether a MongoDB server runs elsewhere on this machine is not known: dbdoctor could not read its processes (${unseenReason(refusal.sight)})`,
          [...lookByHandFixes(osOf(platform), mongodbDesktop, target.hosts[0]?.port ?? 27017), ...remedies.not_running(target, false, platform, managers)],
          evidence,
        );
      }
      const remote = refusal?.where !== 'local';
      const summary = remote
        ? `${attempted} refused the connection: nothing listens there (processes on a remote host cannot be inspected from here)`
        : `nothing listens at ${attempted}, and no MongoDB server (mongod, mongos, ferretdb) runs on this machine`;
      const managers = osOf(platform) === 'linux' || remote ? [] : await installedManagers(osOf(platform), mongodbDesktop.installedBy, ctx.run.env);
      return io.found('not_running', summary, remedies.not_running(target, remote, platform, managers), evidence);
    }
    const connected = surveyed.seeds.find((seed) => seed.connected);
    if (connected) return io.pass(`a server accepted the connection at ${whereOf(connected)}`, { connectedTo: connected.connected?.address });
    if (decision.kind === 'srv') return io.skip('cannot tell: the DNS seed list gave no host to connect to (see network)');
    return io.skip(`cannot tell: ${whereOf(target.hosts[0])} could not be reached (see network)`);
  },
});

function serverNote(servers: readonly { pid: number; comm: string }[]): string {
  const first = servers[0];
  if (!first) return '';
  return ` (${first.comm}, pid ${first.pid}${servers.length > 1 ? ` and ${servers.length - 1} more` : ''})`;
}

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as processRemedies };
