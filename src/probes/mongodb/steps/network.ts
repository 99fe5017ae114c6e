import type { MongoTarget } from '../../../config/mongodb/target.js';
import { defineStep, type StepIO } from '../../../engine/probe.js';
import type { Evidence, Finding, Remediation } from '../../../engine/schema.js';
import { endpointEvidence, judgeNetwork, NETWORK_CHECKS, networkFailureOf, networkRemedies } from '../../common/network.js';
import { unreachableMember } from '../classify.js';
import { isLocalAddress } from '../../../host/local.js';
import { hostPort, mongoshPing, urlWith } from '../commands.js';
import type { MongoContext } from '../context.js';
import { mongoWords } from '../words.js';
import type { SrvLookup } from '../srv.js';
import type { MemberProbe, Survey } from '../survey.js';
import { urlLine } from '../../../text/url.js';
import { isHostName } from '../../../net/hostname.js';
import { jsString } from '../../../text/js.js';
import { sh, waitUpTo } from '../../../text/shell.js';
import { spokenSource } from '../../../config/source.js';

/**
 * Seed 004: at pod start the name did not resolve yet. An init container waits for it. The name is
 * a word of the shell command, which is a string of the YAML manifest: quoted for both, in turn.
 */
const waitInInitContainer = (host: string): Remediation => ({
  text: 'In Kubernetes, let an init container wait for the name before the application starts (instead of crash-looping on it):',
  command: [
    'initContainers:',
    '  - name: wait-for-mongodb',
    '    image: busybox:1.36',
    `    command: ["sh", "-c", ${jsString(waitUpTo(120, sh`nslookup ${host}`))}]`,
  ].join('\n'),
});

const srvRecordRemedies = (lookup: SrvLookup, record: 'SRV' | 'TXT'): Remediation[] => [
  {
    text: `Look at the ${record} record${record === 'SRV' ? 's' : ''} as this machine's resolver sees ${record === 'SRV' ? 'them' : 'it'}:`,
    command: record === 'SRV' ? sh`dig +short SRV ${lookup.srvName}` : sh`dig +short TXT ${lookup.host}`,
    language: 'shell',
  },
];

const remedies = {
  ...networkRemedies,
  member_unreachable: (target: MongoTarget, member: MemberProbe): Remediation[] =>
    refusedMember(member)
      ? [
          {
            text: `"${member.name}" resolves and its host answers, but nothing listens on port ${member.port} there: that member (mongod) is stopped, or listens on another port. Start it (on that host); while a majority of the set is up, the others elect a new primary.`,
            command: 'sudo systemctl status mongod; sudo ss -tlnp | grep -E "mongo"',
            language: 'shell',
          },
          {
            text: 'See which member the set now takes as primary (on any member that runs, as an administrator):',
            command: 'rs.status().members.map(m => m.name + " " + m.stateStr)',
          },
        ]
      : [
          {
            text: `The driver connects to the members under the names the replica set advertises (its rs.conf() "host" fields), not under the seed names. "${member.name}" must resolve and be reachable from here, as from every client.`,
          },
          // The member's name is what the server advertised: a command names it only when it is a host.
          isHostName(member.host)
            ? { text: 'Either make those names resolvable here (DNS, or /etc/hosts for a test):', command: sh`getent ahosts ${member.host}`, language: 'shell' }
            : {
                text: 'Either make those names resolvable here (DNS, or /etc/hosts for a test), or, since this one is not a host name at all, correct it in the replica set configuration.',
              },
          {
            text: 'Or, to reach this one server only (administration, a port-forward), connect directly: the driver then skips discovery:',
            command: urlLine(
              urlWith(target, {
                set: { directConnection: 'true' },
                remove: ['replicaSet'],
                hosts: [hostPort(target.hosts[0]?.host ?? 'localhost', target.hosts[0]?.port ?? 27017)],
              }),
            ),
          },
          {
            text: 'Or change the advertised names to ones every client can resolve (on the primary, as an administrator): cfg = rs.conf(); cfg.members[0].host = "db0.example.com:27017"; rs.reconfig(cfg)',
          },
        ],
  srv_invalid: (lookup: SrvLookup, record: 'SRV' | 'TXT'): Remediation[] => [
    ...srvRecordRemedies(lookup, record),
    record === 'SRV'
      ? {
          text: `Every host in the SRV record must be in the domain of "${lookup.host}" (the driver refuses others, so that DNS cannot send a client elsewhere). Fix the record, or list the hosts in a mongodb:// string instead.`,
        }
      : { text: 'Keep one TXT record, setting only authSource, replicaSet or loadBalanced; other options belong in the connection string.' },
  ],
};

/** Step 3: can this machine reach the seeds, the SRV records behind them, and every member the set advertises? */
export const networkStep = defineStep<MongoContext, keyof typeof remedies>({
  id: 'network',
  checks: `${NETWORK_CHECKS} For mongodb+srv://, first the SRV and TXT records. For a replica set, then every member it advertises, under the name it advertises.`,
  remedies,
  manual: [
    {
      text: 'Do the seeds (and, for mongodb+srv, the SRV and TXT records) resolve here?',
      command: 'getent ahosts <host>; dig +short SRV _mongodb._tcp.<cluster-domain>; dig +short TXT <cluster-domain>',
      language: 'shell',
    },
    {
      text: 'Does every member the set advertises resolve and answer from here?',
      command: 'timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1"\' MEMBER_HOST MEMBER_PORT && echo open',
      language: 'shell',
    },
  ],
  async run(ctx, io) {
    const decision = await ctx.decision();
    const surveyed = await ctx.survey();
    const { target } = surveyed;
    if (decision.kind === 'srv' && surveyed.srv) return judgeSrv(surveyed.srv, decision.cause, decision.record, io, target);
    const refusal = decision.kind === 'refused' ? await ctx.refusal() : undefined;
    const failure = networkFailureOf(decision, refusal);
    const outcome = await judgeNetwork(
      { entries: surveyed.seeds.map((seed) => seed.entry), connected: surveyed.seeds.find((seed) => seed.connected)?.connected, failure },
      io,
      {
        run: ctx.run,
        engine: mongoWords(target),
        hostSource: target.sources.hosts ?? 'the URL',
        recheck: { text: 'Then check again:', command: mongoshPing(target), language: 'shell' },
      },
    );
    const [seeds, ...also] = 'status' in outcome ? [outcome] : outcome;
    // Seed 004: pods crash-looping on a resolver not ready yet. The shared step gives Kubernetes its
    // init container; elsewhere the same advice, in MongoDB's words.
    if (seeds.cause === 'dns_temporary' && ctx.run.environment.platform.platform !== 'kubernetes') {
      return { ...seeds, remediation: [...seeds.remediation, waitInInitContainer(surveyed.seeds[0]?.host ?? 'mongodb')] };
    }
    if (seeds.status !== 'pass' && seeds.status !== 'warn') return outcome;
    const evidence = { ...seeds.evidence, ...membersEvidence(surveyed) };
    const unreachable = unreachableMember(target, surveyed);
    if (unreachable) {
      const { member, role } = unreachable;
      return [
        io.found(
          'member_unreachable',
          `the replica set advertises ${role === 'primary' ? 'its primary as ' : ''}${member.name}, which ${whyUnreachable(member)}${refusedMember(member) ? '' : ' from here'}${role === 'every member' ? ' (nor does any other member)' : ''}${refusedMember(member) ? '' : ': the driver connects to that name, not to the seed'}`,
          remedies.member_unreachable(target, member),
          evidence,
        ),
        ...also,
      ];
    }
    const members =
      surveyed.members.length > 0
        ? `; ${surveyed.members.filter((member) => member.reachable).length} of ${surveyed.members.length} advertised members reachable`
        : '';
    const pass = seeds.status === 'pass' ? io.pass(`${seeds.summary}${members}`, evidence) : { ...seeds, evidence };
    return [pass, ...also];
  },
});

function judgeSrv(
  lookup: SrvLookup,
  cause: 'dns_not_found' | 'dns_temporary' | 'srv_invalid',
  record: 'SRV' | 'TXT',
  io: StepIO<keyof typeof remedies>,
  target: MongoTarget,
): Finding {
  const evidence: Evidence = {
    srv: { name: lookup.srvName, ...lookup.srv },
    txt: { name: lookup.host, ...lookup.txt },
    ...(lookup.problem ? { problem: { ...lookup.problem } } : {}),
  };
  const answer = record === 'SRV' ? lookup.srv : lookup.txt;
  const code = answer.outcome === 'found' ? '' : ` (${answer.code})`;
  const name = record === 'SRV' ? lookup.srvName : lookup.host;
  switch (cause) {
    case 'dns_not_found':
      return io.found(
        'dns_not_found',
        `mongodb+srv://${lookup.host}: the SRV record ${lookup.srvName} does not exist${code}`,
        [
          {
            text: `mongodb+srv:// looks up the hosts in the SRV record ${lookup.srvName}; it does not exist for this machine's resolver. Check the cluster name (it came from ${spokenSource(target.sources.hosts, 'the URL')}).`,
          },
          ...srvRecordRemedies(lookup, 'SRV'),
        ],
        evidence,
      );
    case 'dns_temporary':
      return io.found(
        'dns_temporary',
        `the ${record} lookup for ${name} failed temporarily${code}`,
        [...networkRemedies.dns_temporary(lookup.host).slice(0, 1), ...srvRecordRemedies(lookup, record), waitInInitContainer(lookup.host)],
        evidence,
      );
    default:
      return io.found(
        'srv_invalid',
        `the ${record} record${record === 'SRV' ? 's' : ''} for mongodb+srv://${lookup.host} would be refused by the driver: ${lookup.problem?.reason ?? 'malformed'}`,
        remedies.srv_invalid(lookup, record),
        evidence,
      );
  }
}

/** Every address of the member refused: the name and the host are fine, nothing listens on the port. */
function refusedMember(member: MemberProbe): boolean {
  const connects = member.entry?.connects ?? [];
  return member.entry?.dns?.outcome === 'resolved' && connects.length > 0 && connects.every((attempt) => attempt.outcome === 'refused');
}

function whyUnreachable(member: MemberProbe): string {
  const dns = member.entry?.dns;
  if (dns && dns.outcome !== 'resolved') return dns.outcome === 'not_found' ? `does not resolve (${dns.code})` : `cannot be resolved right now (${dns.code})`;
  if (refusedMember(member)) {
    const local = member.entry?.connects.some((attempt) => isLocalAddress(attempt.address));
    return `refuses connections (ECONNREFUSED): nothing listens on port ${member.port}${local ? ' on this machine' : ' there'}, so that member is stopped (or listens elsewhere)`;
  }
  const attempt = member.entry?.connects.find((candidate) => candidate.outcome !== 'connected');
  return attempt ? `cannot be reached (${attempt.outcome}, ${attempt.code ?? ''})`.replace(', )', ')') : 'cannot be reached';
}

function membersEvidence(surveyed: Survey): Evidence {
  if (surveyed.members.length === 0) return {};
  return {
    members: surveyed.members.map((member) => ({
      name: member.name,
      reachable: member.reachable,
      ...(member.viaSeed ? { viaSeed: true } : {}),
      ...(member.entry ? endpointEvidence(member.entry) : {}),
    })),
  };
}

/** The remedies, for `dbdoctor explain` and the tests that check every printed command. */
export { remedies as networkRemedies };
