/**
 * The decision tree, in the order an operator walks it (seed 003's runbook):
 * is a server running → does it accept connections → can we reach it → is there a free
 * connection slot → may we log in → is anything hanging.
 */
export const STEP_ORDER = ['process', 'accepting', 'network', 'pool', 'auth', 'queries'] as const;

export type StepId = (typeof STEP_ORDER)[number];

export const STEP_TITLES = {
  process: 'Is a server process running?',
  accepting: 'Does it accept connections?',
  network: 'Can this machine reach it (DNS, routing)?',
  pool: 'Is a connection slot free?',
  auth: 'May this user log in to this database?',
  queries: 'Is anything long-running or blocked?',
} as const satisfies Record<StepId, string>;
