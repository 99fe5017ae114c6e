import type { HostPart, HostSplitter } from '../../../engine/explainer.js';
import { findCatalogMessages } from './reader.js';

/**
 * libpq tries every address of every host in turn and reports each failure on its own,
 * "connection to server at "db" (10.0.0.7), port 5432 failed: …" (up to PostgreSQL 13: "could not
 * connect to server: … Is the server running on host …"), in the client's language: each report
 * is one host's part, from its frame to the next.
 */
export const libpqHosts: HostSplitter = {
  id: 'libpq',
  split(text) {
    const frames = findCatalogMessages(text, (compiled) => compiled.message.cause === null && compiled.catalog === 'libpq')
      .sort((a, b) => a.index - b.index || b.end - a.end)
      .filter((frame, index, all) => index === 0 || frame.index >= (all[index - 1]?.end ?? 0));
    if (frames.length < 2) return [];
    return frames.map((frame, index): HostPart => {
      const name = frame.fields.host ?? '';
      return {
        host: frame.address && frame.address !== name ? `${name} (${frame.address})` : name,
        ...(frame.fields.port ? { port: frame.fields.port } : {}),
        start: frame.index,
        end: frames[index + 1]?.index ?? text.length,
      };
    });
  },
};
