import type { MongoTarget } from '../../../config/mongodb/target.js';
import { defineStep } from '../../../engine/probe.js';
import type { Remediation } from '../../../engine/schema.js';
import { mongoshPing, urlWith } from '../commands.js';
import type { MongoContext } from '../context.js';
import { seedsEvidence, whereOf } from '../evidence.js';
import { describeLocalServer } from '../local.js';

const remedies = {
  not_running: (target: MongoTarget, remote: boolean): Remediation[] =>
    remote
      ? [
          { text: `Check that mongod (or mongos) runs on ${target.hosts[0]?.host ?? 'the server'} and on which port (on that host):`, command: 'sudo systemctl status mongod; sudo ss -tlnp | grep -E "mongo|ferretdb"', language: 'shell' },
          { text: 'If it runs in a container or a pod, check that it is up and that the port is published or the service has endpoints:', command: 'docker ps --filter "ancestor=mongo"; kubectl get endpoints', language: 'shell' },
          { text: 'Then confirm from here:', command: mongoshPing(target), language: 'shell' },
        ]
      : [
          { text: 'Start MongoDB (packages: the mongod service; or start the container you use):', command: 'sudo systemctl start mongod', language: 'shell' },
          { text: 'If it does not stay up, read why in its log (disk full, permissions, a lock file left behind, a bad setting):', command: 'sudo journalctl -u mongod --since "-1h" --no-pager | tail -n 50; sudo tail -n 50 /var/log/mongodb/mongod.log', language: 'shell' },
          { text: 'Then confirm it answers:', command: mongoshPing(target), language: 'shell' },
        ],
  wrong_port: (target: MongoTarget, port: number): Remediation[] => {
    const host = target.hosts[0]?.host ?? 'localhost';
    return [
      { text: `Connect to port ${port}, where the MongoDB server listens:`, command: urlWith(target, { hosts: [whereOf({ host, port })] }), language: 'shell' },
      { text: `Or, if the server should listen on ${target.hosts[0]?.port ?? 27017}, set net.port in mongod.conf and restart it.` },
    ];
  },
};

/** Step 1: is a MongoDB server running at all? */
export const processStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'process',
  checks: 'Connects to each seed. If every seed refuses on this machine, reads /proc for mongod, mongos and FerretDB processes and the ports they listen on.',
  remedies,
  async run(ctx, io) {
    const decision = await ctx.decision();
    const surveyed = await ctx.survey();
    if (decision.kind === 'refused') {
      const refusal = await ctx.refusal();
      const evidence = { ...seedsEvidence(surveyed), localServers: refusal?.where === 'remote' ? 'not inspected (remote host)' : (refusal?.servers ?? []).map(describeLocalServer) };
      if (refusal?.cause === 'wrong_port') {
        const ports = refusal.ports.join(', ');
        return io.found('wrong_port', `nothing listens at ${refusal.attempted}, but a MongoDB server listens on port ${ports}${serverNote(refusal.servers)}`, remedies.wrong_port(ctx.target, refusal.ports[0] ?? 27017), { ...evidence, listeningPorts: [...refusal.ports] });
      }
      if (refusal?.cause === 'not_listening') return io.pass(`a MongoDB server runs on this machine${serverNote(refusal.servers)}`, evidence);
      const remote = refusal?.where !== 'local';
      const attempted = refusal?.attempted ?? whereOf(ctx.target.hosts[0]);
      const summary = remote
        ? `${attempted} refused the connection: nothing listens there (processes on a remote host cannot be inspected from here)`
        : `nothing listens at ${attempted}, and no MongoDB server (mongod, mongos, ferretdb) runs on this machine`;
      return io.found('not_running', summary, remedies.not_running(ctx.target, remote), evidence);
    }
    const connected = surveyed.seeds.find((seed) => seed.connected);
    if (connected) return io.pass(`a server accepted the connection at ${whereOf(connected)}`, { connectedTo: connected.connected?.address });
    if (decision.kind === 'srv') return io.skip('cannot tell: the DNS seed list gave no host to connect to (see network)');
    return io.skip(`cannot tell: ${whereOf(ctx.target.hosts[0])} could not be reached (see network)`);
  },
});

function serverNote(servers: readonly { pid: number; comm: string }[]): string {
  const first = servers[0];
  if (!first) return '';
  return ` (${first.comm}, pid ${first.pid}${servers.length > 1 ? ` and ${servers.length - 1} more` : ''})`;
}
