import { phraseReader, type Phrase } from '../common/phrases.js';

/**
 * MongoDB clients' fixed sentences that carry no server code: mongoose's hint for an Atlas cluster
 * none of whose servers answered.
 */
const PHRASES: readonly Phrase[] = [
  {
    // mongoose adds it whenever server selection fails on an Atlas host and every server is still
    // Unknown: an address not on the access list is the common reason, not the only one.
    text: 'Could not connect to any servers in your MongoDB Atlas cluster',
    cause: 'connect_timeout',
    rank: 'client',
    also: [
      {
        cause: 'tls_handshake_failed',
        why: 'Atlas ends the TLS handshake of an address that is not on the project’s IP access list (TLS alert 80), which drivers report as a failed handshake or a closed connection',
      },
      {
        cause: 'member_unreachable',
        why: 'or the members’ names resolve, but their addresses are not reachable from this network (a VPC, a corporate proxy, a blocked port 27017)',
      },
      { cause: 'dns_temporary', why: 'or the cluster’s names could not be resolved in time' },
    ],
    tentative: true,
    undecided:
      'mongoose says this whenever no server of an Atlas cluster answered: an IP address missing from the Atlas access list (the reason it names) is the usual cause, and the first to check, but a network path or a paused cluster look the same',
    source: 'mongoose (lib/error/serverSelection.js, when isAtlas() and allServersUnknown())',
  },
];

export const mongodbPhrases = phraseReader('mongo-phrase', PHRASES);
