// A local ESLint rule that keeps STYLE.md's arrows between the folders of src/.
// Written here rather than taken from eslint-plugin-boundaries or import-x's no-restricted-paths
// because it needs no module resolver (our imports are relative `.js` specifiers that name `.ts`
// files), and because its known exceptions are data: each one names the file and the import it
// allows, so an exception never silences any other import of that file, and an exception that is
// no longer needed is itself reported, so the to-do list in eslint.config.js cannot go stale.
import path from 'node:path';

/** `src/probes/postgres/steps/auth.ts` → `probes/postgres/steps/auth`; undefined outside src/. */
function underSrc(srcRoot, file) {
  const relative = path.relative(srcRoot, file).split(path.sep).join('/');
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  return relative.replace(/\.(js|ts|d\.ts)$/, '');
}

function matches(prefixes, modulePath) {
  return prefixes.some((prefix) => modulePath === prefix || modulePath.startsWith(`${prefix}/`));
}

/** @type {import('eslint').Rule.RuleModule} */
export const boundaries = {
  meta: {
    type: 'problem',
    docs: { description: "Keeps STYLE.md's import arrows between the folders of src/." },
    schema: [
      {
        type: 'object',
        properties: {
          srcRoot: { type: 'string' },
          arrows: { type: 'array' },
          exceptions: { type: 'array' },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      forbidden: '{{from}} may not import {{to}}: {{why}}',
      staleException: "Known boundary exception '{{from}} → {{to}}' is no longer needed: remove it from eslint.config.js.",
    },
  },
  create(context) {
    const { srcRoot, arrows, exceptions } = context.options[0];
    const from = underSrc(srcRoot, context.filename);
    if (from === undefined) return {};
    const rules = arrows.filter((arrow) => matches([arrow.from], from));
    if (rules.length === 0) return {};
    const expected = exceptions.filter(([file]) => file === `src/${from}.ts`).map(([, to]) => to);
    const used = new Set();

    function check(node, specifier) {
      if (typeof specifier !== 'string') return;
      const relative = specifier.startsWith('.');
      const to = relative ? underSrc(srcRoot, path.resolve(path.dirname(context.filename), specifier)) : undefined;
      for (const arrow of rules) {
        const allowed = to !== undefined && arrow.allow !== undefined && matches(arrow.allow, to);
        const forbidden =
          to === undefined
            ? arrow.onlyWithin !== undefined && relative // outside src/ altogether
            : (arrow.forbid !== undefined && matches(arrow.forbid, to) && !allowed) || (arrow.onlyWithin !== undefined && !matches(arrow.onlyWithin, to));
        if (!forbidden) continue;
        const target = to === undefined ? specifier : `src/${to}.ts`;
        if (expected.includes(target)) {
          used.add(target);
          continue;
        }
        context.report({ node, messageId: 'forbidden', data: { from: `src/${from}.ts`, to: target, why: arrow.why } });
      }
    }

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      'Program:exit': (program) => {
        for (const to of expected) {
          if (!used.has(to)) context.report({ node: program, messageId: 'staleException', data: { from: `src/${from}.ts`, to } });
        }
      },
    };
  },
};

export default { rules: { boundaries } };
