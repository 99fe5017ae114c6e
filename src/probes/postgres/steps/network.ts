import { defineStep } from '../../../engine/probe.js';
import { judgeNetwork, NETWORK_CHECKS, networkFailureOf, networkRemedies } from '../../common/network.js';
import { pgIsReady } from '../commands.js';
import type { PgContext } from '../context.js';
import { postgresWords } from '../words.js';

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
    return judgeNetwork({ entries: trace.endpoints, connected: trace.connected, failure }, io, {
      run: ctx.run,
      engine: postgresWords(ctx.target),
      hostSource: ctx.target.sources.host ?? 'the URL',
      recheck: { text: 'Then check again:', command: pgIsReady(ctx.target), language: 'shell' },
    });
  },
});
