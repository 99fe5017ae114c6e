import type { HostPart, HostSplitter } from '../../engine/explainer.js';

/**
 * A splitter for drivers that list the hosts they tried, each introduced the same way (a key in
 * a printed map, an "Addr:" field, a ServerDescription): a host's part runs from its key to the
 * next one. `pattern` (global) names the host and, where the driver prints it, the port; a key
 * seen twice (a summary line, then the full description) keeps its last, fuller, part.
 */
export function splitterAt(id: string, pattern: RegExp): HostSplitter {
  return {
    id,
    split(text) {
      const keys = [...text.matchAll(pattern)];
      if (keys.length < 2) return [];
      const parts = new Map<string, HostPart>();
      keys.forEach((key, index) => {
        const host = (key.groups?.host ?? '').replace(/^\/|^\[|\]$/g, '');
        if (!host) return;
        const port = key.groups?.port;
        parts.set(`${host}:${port ?? ''}`, { host, ...(port ? { port } : {}), start: key.index, end: keys[index + 1]?.index ?? text.length });
      });
      return parts.size > 1 ? [...parts.values()].sort((a, b) => a.start - b.start) : [];
    },
  };
}
