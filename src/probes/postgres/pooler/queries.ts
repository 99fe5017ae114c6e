import { queriesStep } from '../steps/queries.js';
import { poolerAware, withPooler, type StepExtension } from './extend.js';
import { queryWouldQueue } from './view.js';
import { statementModeSkip } from './pool.js';

/** Step 6 behind a pooler: skipped when every server connection is busy, as our query would only queue. */
export const poolerQueriesStep = poolerAware(queriesStep, {
  checks: 'Behind PgBouncer: not run while every server connection of the pool is busy (the query would wait in its queue).',
  remedies: {},
  async run(ctx, io, base) {
    const view = await ctx.poolerWithSession(io.deadline);
    if (view?.confirmation?.kind === 'statement-mode') return io.skip(statementModeSkip(view.name), { pooler: { name: view.name } });
    if (view && queryWouldQueue(view)) {
      return io.skip(`not checked: every server connection of ${view.name}'s pool is busy, and a query would wait in its queue`, {
        pooler: { name: view.name },
      });
    }
    return view ? withPooler(await base(), { name: view.name }) : base();
  },
} satisfies StepExtension<never>);
