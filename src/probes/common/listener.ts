import type { Deadline } from '../../engine/deadline.js';
import type { Evidence, Remediation } from '../../engine/schema.js';
import { describeOwner, ownerOfListener, type ListenerOwner, type OwnerLookup } from '../../host/owner.js';
import { listenerEvidence, type ListenerIdentity } from '../../net/identify.js';
import type { Connected } from '../../net/reach.js';
import type { ProtocolGuess } from '../../net/sniff.js';
import type { HostOs } from '../../host/platform.js';
import { portOwnerCommand, processCommand } from './oscommands.js';
import { engineNamed } from '../../engines/registry.js';

/**
 * A port that does not speak the engine's protocol, named for the operator: which program owns it
 * (on this machine, from /proc), what answers on it (the engine's own handshake, or the openings
 * tried on new connections), and where the engine really listens. Shared by every engine's
 * accepting step, for wrong_protocol and no_response.
 */
export interface EngineIdentity {
  /** "PostgreSQL" */
  readonly name: string;
  /** The protocol name a ProtocolGuess gives this engine: postgres, mongodb, cassandra. */
  readonly protocol: string;
  readonly defaultPort: number;
  /** Said after the default port, e.g. Cassandra's other ports that are not for clients. */
  readonly portNote?: string;
  /** A URL for this engine at another host and port (no password). */
  readonly urlFor: (host: string, port: number) => string;
}

/** Where this engine listens on this machine (its servers' TCP sockets), for the fix. */
export interface EngineListener {
  readonly address: string;
  readonly port: number;
  readonly pid: number;
  /** What the fix should say about it: "a read-only standby" (its postmaster.pid says so). */
  readonly note?: string;
}

/** What was seen on a port that answered in another protocol: what answered (when it could be told), and the look at the port. */
export interface WrongProtocolSeen {
  readonly guess?: ProtocolGuess;
  readonly view?: ListenerView;
}

export interface ListenerView {
  readonly owner: OwnerLookup | undefined;
  readonly elsewhere: readonly EngineListener[];
  /** This machine's OS, for the commands that look at its ports (looked at only when local). */
  readonly os?: HostOs;
}

/**
 * The owner of the port and the engine's own listeners; nothing is looked at for a remote host.
 * Reading /proc takes a moment on a busy machine: what is not read within most of what is left of
 * the step's deadline is left out, so that the verdict itself is never cut off.
 */
async function lookAtListener(
  connected: Connected | undefined,
  engineListeners: () => Promise<readonly EngineListener[]>,
  deadline: Deadline,
  os: HostOs = 'linux',
): Promise<ListenerView> {
  if (!connected || connected.transport !== 'tcp') return { owner: undefined, elsewhere: [] };
  const within = deadline.limit(deadline.remainingMs() * 0.7, 'look at the listener');
  const late: OwnerLookup = { state: 'unknown', reason: 'not looked up: no time left under --timeout' };
  const owner = await within.race(ownerOfListener(connected.address, connected.port, within.signal)).catch(() => late);
  if (owner.state === 'remote') return { owner, elsewhere: [] };
  const elsewhere = await within.race(engineListeners()).catch(() => []);
  // A listener with a note (a standby) is offered after the plain ones.
  const others = elsewhere.filter((listener) => listener.port !== connected.port);
  return { owner, elsewhere: [...others.filter((listener) => !listener.note), ...others.filter((listener) => listener.note)], os };
}

/**
 * What an accepting step says about a port that answered in another protocol, or not at all: the
 * same words and evidence for every engine.
 */
export interface PortLook {
  readonly view: ListenerView;
  /** For no_response: "; python3 (pid 4242) owns the port (127.0.0.1:5432)", or nothing. */
  readonly ownerNote: string;
  /** For wrong_protocol: who answers instead, and what (wrongProtocolSummary). */
  readonly wrongProtocol: (where: string, what: ProtocolGuess | undefined) => string;
  /** For wrong_protocol's remedies: what answered, with this look. */
  readonly seen: (what: ProtocolGuess | undefined) => WrongProtocolSeen;
  /** Who owns the port, where the engine listens instead, what answered other openings. */
  readonly evidence: Evidence;
}

/** Looks at the port one attempt reached (lookAtListener), and words what was seen for the finding. */
export async function lookAtPort(
  engine: EngineIdentity,
  engineListeners: () => Promise<readonly EngineListener[]>,
  attempt: { readonly connected?: Connected | undefined; readonly listener?: ListenerIdentity | undefined },
  deadline: Deadline,
  os: HostOs,
): Promise<PortLook> {
  const view = await lookAtListener(attempt.connected, engineListeners, deadline, os);
  return {
    view,
    ownerNote: ownerNote(view),
    wrongProtocol: (where, what) => wrongProtocolSummary(engine, where, what, view),
    seen: (what) => ({ ...(what ? { guess: what } : {}), view }),
    evidence: listenerViewEvidence(view, attempt.listener),
  };
}

function foundOwner(view: ListenerView | undefined): ListenerOwner | undefined {
  return view?.owner?.state === 'found' ? view.owner.owner : undefined;
}

/** "python3 (pid 4242) listens on 127.0.0.1:5432, not PostgreSQL: an HTTP server (Server: …) answers on this port" */
function wrongProtocolSummary(engine: EngineIdentity, where: string, what: ProtocolGuess | undefined, view: ListenerView | undefined): string {
  const described = what?.description ?? `a server that does not speak ${engine.name}'s protocol`;
  const other = what ? engineNamed(what.protocol) : undefined;
  const question = other && other.name !== engine.name ? `: is this the ${other.name} port?` : '';
  const owner = foundOwner(view);
  if (owner) return `${describeOwner(owner)} listens on ${owner.listensOn}, not ${engine.name}: ${described} answers on this port${question}`;
  return `${where} is answered by ${described}, not ${engine.name}${question}`;
}

/** The owner, for a port that answered nothing: "; python3 (pid 4242) owns the port". */
function ownerNote(view: ListenerView | undefined): string {
  const owner = foundOwner(view);
  return owner ? `; ${describeOwner(owner)} owns the port (${owner.listensOn})` : '';
}

/** `what`: the words for what answers, when it could not be told by its bytes (no guess was seen). */
export function wrongProtocolRemedies(engine: EngineIdentity, host: string, port: number, what: string, seen: WrongProtocolSeen | undefined): Remediation[] {
  const guess = seen?.guess ?? { protocol: 'unknown', description: what, sample: '' };
  const view = seen?.view;
  const described = guess.description;
  const other = engineNamed(guess.protocol);
  const owner = foundOwner(view);
  const right = view?.elsewhere[0];
  const fixes: Remediation[] = [];
  if (right) {
    fixes.push({
      text: `${engine.name} listens on ${right.address.includes(':') ? `[${right.address}]` : right.address}:${right.port} on this machine (pid ${right.pid}${right.note ? `, ${right.note}` : ''}): connect there${right.note ? ' if that is the server you mean' : ''}:`,
      command: engine.urlFor(host, right.port),
      language: 'shell',
    });
  }
  if (other && other.name !== engine.name) {
    fixes.push({
      text: `${other.name} answers on port ${port}: it is probably the ${other.name} port. ${engine.name} listens on ${engine.defaultPort} by default; if you meant ${other.name}, use a ${other.scheme} URL.`,
    });
  } else if (!right) {
    fixes.push({
      text: `Port ${port} is served by ${described}. Check the port in your connection settings: ${engine.name} usually listens on ${engine.defaultPort}${engine.portNote ?? ''}.`,
    });
  }
  // The port was looked at on this machine: its OS's commands (lsof on macOS, PowerShell on Windows).
  const os = view?.owner && view.owner.state !== 'remote' ? (view.os ?? 'linux') : 'linux';
  fixes.push(
    owner
      ? {
          text: `${describeOwner(owner)} owns port ${port}; see what it is (it may have taken the port ${engine.name} should have):`,
          ...processCommand(os, owner.pid),
        }
      : {
          text: 'On the host, see which process owns the port:',
          ...(os === 'linux' ? { command: `sudo ss -tlnp 'sport = :${port}'`, language: 'shell' as const } : portOwnerCommand(os, port)),
        },
  );
  return fixes;
}

function listenerViewEvidence(view: ListenerView | undefined, identity: ListenerIdentity | undefined): Evidence {
  const owner = view?.owner;
  return {
    ...(owner && owner.state !== 'remote'
      ? {
          portOwner:
            owner.state === 'found'
              ? { pid: owner.owner.pid, process: owner.owner.comm, commandLine: owner.owner.cmdline.join(' ').slice(0, 200), listensOn: owner.owner.listensOn }
              : owner.reason,
        }
      : {}),
    ...(view && view.elsewhere.length > 0 ? { engineListensOn: view.elsewhere.map((listener) => ({ ...listener })) } : {}),
    ...(identity ? { otherOpenings: listenerEvidence(identity) } : {}),
  };
}

/**
 * A connection accepted, then reset (RST) before the engine's handshake finished: the same for
 * every engine (PostgreSQL's accepting step words its own).
 */
export function connectionResetRemedies(engine: string, port: number): Remediation[] {
  return [
    {
      text: `Something reset the connection during the ${engine} handshake: a proxy or firewall that kills connections (check its log and idle/connect rules), or a server process crashing on connect (check the server log).`,
    },
    { text: 'On the database host, see which process owns the port:', command: `sudo ss -tlnp 'sport = :${port}'`, language: 'shell' },
  ];
}
