import { defineStep, findingsOf, outcomeOf } from '../../../engine/probe.js';
import { judgeNetwork, NETWORK_CHECKS, networkFailureOf, networkRemedies } from '../../common/network.js';
import { pgIsReady } from '../commands.js';
import type { PgContext } from '../context.js';
import { postgresWords } from '../words.js';
import { formatMs } from '../../../text/duration.js';
import { authority, hostsEvidence, slowPassedOver } from '../hosts.js';

/** Step 3: can this machine reach the server (resolution, routing)? The logic is shared. */
export const networkStep = defineStep<PgContext, keyof typeof networkRemedies>({
  id: 'network',
  checks: NETWORK_CHECKS,
  remedies: networkRemedies,
  manual: [
    { text: 'Does the name resolve here, as the application resolves it?', command: 'getent ahosts <host>; cat /etc/resolv.conf', language: 'shell' },
    { text: 'Does the port answer?', command: 'timeout 3 bash -c \'exec 3<>"/dev/tcp/$0/$1"\' "$PGHOST" "${PGPORT:-5432}" && echo open', language: 'shell' },
    { text: 'Which route, and in Kubernetes which endpoints:', command: 'ip route get <address>; kubectl get endpoints <service>', language: 'shell' },
  ],
  async run(ctx, io) {
    const { trace } = await ctx.connection();
    const decision = await ctx.decision();
    const refusal = await ctx.refusal();
    const failure = networkFailureOf(decision, refusal);
    const judged = await judgeNetwork({ entries: trace.endpoints, connected: trace.connected, failure }, io, {
      run: ctx.run,
      engine: postgresWords(ctx.target),
      hostSource: ctx.target.sources.host ?? 'the URL',
      recheck: { text: 'Then check again:', command: pgIsReady(ctx.target), language: 'shell' },
    });
    const { blackHoled } = slowPassedOver(trace);
    const first = blackHoled[0];
    if (!first || !trace.connected) return judged;
    const wait = formatMs(ctx.target.connectTimeoutMs ?? 0);
    const names = blackHoled.map((entry) => `${authority(entry.address ?? entry.host, entry.port)}`).join(', ');
    const warning = io.warn(
      'connect_timeout',
      `${names} did not answer at all within connect_timeout (${wait}); libpq gave ${blackHoled.length > 1 ? 'them' : 'it'} up and moved on to ${authority(trace.connected.host, trace.connected.port)}, so every new connection waits ${wait} first`,
      [
        {
          text: `Every connection the application opens waits ${wait} for ${names} before libpq tries the next host. Take ${blackHoled.length > 1 ? 'them' : 'it'} out of the host list if ${blackHoled.length > 1 ? 'they are' : 'it is'} gone, or make ${blackHoled.length > 1 ? 'them' : 'it'} answer.`,
        },
        ...networkRemedies.connect_timeout(first.address ?? first.host, first.port),
      ],
      hostsEvidence(trace.hosts),
    );
    return outcomeOf([...findingsOf(judged), warning]);
  },
});
