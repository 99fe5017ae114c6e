import type { Remediation } from '../../engine/schema.js';
import type { HostOs } from '../../host/platform.js';
import { HOMEBREW_PREFIXES, type InstalledBy, type ServiceManager } from '../../host/managers.js';
import { isHostName } from '../../net/hostname.js';
import { ps, psRaw } from '../../text/powershell.js';
import { raw, sh, sudoUnlessRoot, tcpCheck } from '../../text/shell.js';

/**
 * The commands that look at this machine, in its operating system's words: Linux's ss, getent and
 * systemd; macOS's lsof, dscacheutil, Homebrew services and Postgres.app; Windows' PowerShell
 * (Get-NetTCPConnection, Resolve-DnsName, Get-Service) with PowerShell's own quoting. Chosen by
 * the OS dbdoctor runs on, or the one --platform macos|windows names.
 */
type Command = Pick<Remediation, 'command' | 'language'>;

const shell = (command: string): Command => ({ command, language: 'shell' });
const powershell = (command: string): Command => ({ command, language: 'powershell' });

/** A host as an operand: a name that is no host (pasted text) stays a placeholder. */
const hostWord = (host: string): string => (isHostName(host) ? host : '<host>');

/** Which process listens on a TCP port of this machine. */
export function portOwnerCommand(os: HostOs, port: number | string): Command {
  const known = typeof port === 'number' || /^\d+$/.test(port);
  switch (os) {
    case 'macos':
      return shell(known ? sudoUnlessRoot(sh`sudo lsof -nP ${`-iTCP:${port}`} -sTCP:LISTEN`) : 'sudo lsof -nP -iTCP:<port> -sTCP:LISTEN');
    case 'windows':
      return powershell(
        known
          ? ps`Get-NetTCPConnection -State Listen -LocalPort ${Number(port)} | ForEach-Object { Get-Process -Id $_.OwningProcess }`
          : 'Get-NetTCPConnection -State Listen -LocalPort <port> | ForEach-Object { Get-Process -Id $_.OwningProcess }',
      );
    default:
      return shell(known ? sudoUnlessRoot(sh`sudo ss -tlnp ${`sport = :${port}`}`) : sudoUnlessRoot("sudo ss -tlnp 'sport = :<port>'"));
  }
}

/** What a process is (its owner, its whole command line). */
export function processCommand(os: HostOs, pid: number): Command {
  return os === 'windows'
    ? powershell(ps`Get-CimInstance Win32_Process -Filter ${`ProcessId = ${pid}`} | Select-Object ProcessId, Name, CommandLine`)
    : shell(sh`ps -o pid,user,args -p ${pid}`);
}

/** Where processes named like `name` listen, on this machine. */
export function listenersOfCommand(os: HostOs, name: string): Command {
  switch (os) {
    case 'macos':
      return shell(sudoUnlessRoot(sh`sudo lsof -nP -iTCP -sTCP:LISTEN | grep -i ${name}`));
    case 'windows':
      return powershell(
        ps`Get-NetTCPConnection -State Listen | Where-Object { (Get-Process -Id $_.OwningProcess).ProcessName -like ${`${name}*`} } | Select-Object LocalAddress, LocalPort, OwningProcess`,
      );
    default:
      return shell(sudoUnlessRoot(sh`sudo ss -tlnp | grep -i ${name}`));
  }
}

/** How this machine resolves a name, as applications do (not a bare DNS query). */
export function resolveCommand(os: HostOs, host: string): Command {
  const word = hostWord(host);
  switch (os) {
    case 'macos':
      return shell(word === '<host>' ? 'dscacheutil -q host -a name <host>' : sh`dscacheutil -q host -a name ${word}`);
    case 'windows':
      return powershell(word === '<host>' ? 'Resolve-DnsName -Name <host>' : ps`Resolve-DnsName -Name ${word}`);
    default:
      return shell(word === '<host>' ? 'getent ahosts <host>' : sh`getent ahosts ${word}`);
  }
}

/** The resolver configuration, and the lookup again. */
export function resolverConfigCommand(os: HostOs, host: string): Command {
  const word = hostWord(host);
  switch (os) {
    case 'macos':
      return shell(`scutil --dns | grep nameserver; ${resolveCommand(os, word).command ?? ''}`);
    case 'windows':
      return powershell(`Get-DnsClientServerAddress -AddressFamily IPv4; ${resolveCommand(os, word).command ?? ''}`);
    default:
      return shell(`cat /etc/resolv.conf; ${resolveCommand(os, word).command ?? ''}`);
  }
}

/** The route this machine would take to a host. */
export function routeCommand(os: HostOs, host: string): Command {
  const word = hostWord(host);
  switch (os) {
    case 'macos':
      return shell(word === '<host>' ? 'route -n get <host>' : sh`route -n get ${word}`);
    case 'windows':
      return powershell(word === '<host>' ? 'Test-NetConnection -ComputerName <host> -TraceRoute' : ps`Test-NetConnection -ComputerName ${word} -TraceRoute`);
    default:
      return shell(word === '<host>' ? 'ip route get <host>' : sh`ip route get ${word}`);
  }
}

/** Does a TCP connection to host:port open, from this machine? */
export function connectCheckCommand(os: HostOs, host: string, port: number | string): Command {
  switch (os) {
    case 'macos':
      // macOS has no timeout(1); its BSD nc bounds the connect with -G.
      return shell(host === '<host>' ? `nc -vz -G 3 <host> ${port}` : sh`nc -vz -G 3 ${host} ${port}`);
    case 'windows':
      return powershell(
        host === '<host>' || typeof port !== 'number'
          ? `Test-NetConnection -ComputerName ${host} -Port ${port}`
          : ps`Test-NetConnection -ComputerName ${host} -Port ${port}`,
      );
    default:
      return shell(host === '<host>' ? sh`${raw(tcpCheck('<host>', port))} && echo open` : sh`${raw(tcpCheck(host, port))} && echo open`);
  }
}

/** The firewall rules that could answer for a port. */
export function firewallCommand(os: HostOs, port: number | string): Command {
  switch (os) {
    case 'macos':
      return shell(sudoUnlessRoot(sh`sudo pfctl -sr | grep -- ${`port = ${port}`}`));
    case 'windows':
      return powershell(
        typeof port === 'number'
          ? ps`Get-NetFirewallPortFilter -Protocol TCP | Where-Object LocalPort -eq ${port} | Get-NetFirewallRule | Select-Object DisplayName, Direction, Action, Enabled`
          : 'Get-NetFirewallPortFilter -Protocol TCP | Where-Object LocalPort -eq <port> | Get-NetFirewallRule | Select-Object DisplayName, Direction, Action, Enabled',
      );
    default:
      return shell(sudoUnlessRoot(sh`sudo iptables -S | grep -- ${`--dport ${port}`}; sudo nft list ruleset | grep -n ${`dport ${port}`}`));
  }
}

/**
 * An engine's facts for the desktop fixes, from its own folder (probes/<engine>/desktop.ts): what
 * Homebrew, an app, or a Windows installer call it, its process and its logs.
 */
export interface Desktop {
  readonly name: string;
  /** Homebrew's formula when none is installed to name. */
  readonly formula: string;
  /** The process name lsof and Get-Process show. */
  readonly process: string;
  /** A word in its launchd label and command line: "postgres", "mongo", "cassandra" (a JVM's process is java). */
  readonly launchdWord: string;
  /** Its log under Homebrew's var/log, from the formula. */
  readonly brewLog: (formula: string) => string;
  /** Get-Service's name (a pattern), and the name to start when none was found installed. */
  readonly windowsServices: string;
  readonly windowsService: string;
  /** Which installer names its service so: "the EDB installer's PostgreSQL 16". */
  readonly windowsInstaller: string;
  /** Its log's path on Windows, when its installer has one place for it. */
  readonly windowsLog?: string;
  /** Where to read why it stopped on Windows, when that depends on the install (a data directory's log). */
  readonly windowsLogFixes?: (service: Extract<ServiceManager, { kind: 'windows-service' }> | undefined) => Remediation[];
  /** A macOS app that runs it (Postgres.app): its name, where it is installed, and the command that opens it. */
  readonly app?: { readonly name: string; readonly path: string; readonly open: string };
  /** Where its desktop installs are found (host/managers.ts). */
  readonly installedBy: InstalledBy;
}

/**
 * Start the server the way it is installed on this desktop, and read why it stopped: Homebrew's
 * service (its formula and prefix as found, else postgresql@16 under /opt/homebrew, or /usr/local
 * on an Intel Mac), Postgres.app, a Windows service (the EDB installer's data directory and
 * pg_ctl), and WSL2's localhost forwarding when the server runs inside WSL.
 */
export function desktopServiceFixes(
  os: 'macos' | 'windows',
  desktop: Desktop,
  managers: readonly ServiceManager[] = [],
  purpose: 'start' | 'watch' = 'start',
): Remediation[] {
  // A server that is starting up needs watching, not starting: its service's state and its log.
  return desktopFixes(os, desktop, managers)
    .filter((entry) => purpose === 'start' || entry.role === 'look')
    .map((entry) => entry.fix);
}

/** A desktop fix, and whether it looks (state, log) or acts (starts, reconfigures). */
interface DesktopFix {
  readonly role: 'look' | 'act';
  readonly fix: Remediation;
}

const look = (fix: Remediation): DesktopFix => ({ role: 'look', fix });
const act = (fix: Remediation): DesktopFix => ({ role: 'act', fix });

function desktopFixes(os: 'macos' | 'windows', desktop: Desktop, managers: readonly ServiceManager[]): DesktopFix[] {
  if (os === 'macos') {
    const brew = managers.find((manager): manager is Extract<ServiceManager, { kind: 'homebrew' }> => manager.kind === 'homebrew');
    const app = managers.find((manager) => manager.kind === 'postgres.app');
    const formula = brew?.formula ?? desktop.formula;
    const prefix = brew?.prefix ?? HOMEBREW_PREFIXES[0];
    return [
      look({
        text: `Homebrew's services and their state (launchd runs them):${brew ? ` ${formula} is installed under ${prefix}.` : ''}`,
        ...shell('brew services list'),
      }),
      act({
        text: `Start ${desktop.name} with Homebrew${brew ? '' : ` (the formula you installed: ${desktop.formula} here)`}:`,
        ...shell(sh`brew services start ${formula}`),
      }),
      look({
        text: `If it does not stay up, its log says why${brew ? '' : ' (under /usr/local instead of /opt/homebrew on an Intel Mac)'}:`,
        ...shell(sh`tail -n 50 ${`${prefix}/var/${desktop.brewLog(formula)}`}`),
      }),
      ...(desktop.app
        ? [
            act({
              text: `${app ? `${desktop.app.name} is installed` : `With ${desktop.app.name}`}: open it and press Start (its servers are listed in the app, each with its port):`,
              ...shell(desktop.app.open),
            }),
          ]
        : []),
      // Homebrew's launchd labels are homebrew.mxcl.<formula>: the engine's word finds them, not the process name (java).
      look({ text: 'Any launchd job that runs it:', ...shell(sh`launchctl list | grep -i ${desktop.launchdWord}`) }),
    ];
  }
  const service = managers.find((manager): manager is Extract<ServiceManager, { kind: 'windows-service' }> => manager.kind === 'windows-service');
  const logs: DesktopFix[] = desktop.windowsLogFixes
    ? desktop.windowsLogFixes(service).map(look)
    : desktop.windowsLog
      ? [look({ text: 'If it does not stay up, its log says why:', ...powershell(ps`Get-Content -Tail 50 ${desktop.windowsLog}`) })]
      : [act({ text: `${desktop.name} 4 and later do not run on Windows itself: run it in WSL2 or a container, and see the WSL note below.` })];
  return [
    look({
      text: `The ${desktop.name} Windows services and their state (in PowerShell):`,
      ...powershell(ps`Get-Service -Name ${psRaw(`'${desktop.windowsServices}'`)}`),
    }),
    act({
      text: `Start it (as Administrator; the name is the one Get-Service lists${service ? '' : `, e.g. ${desktop.windowsService} for ${desktop.windowsInstaller}`}):`,
      ...powershell(ps`Start-Service -Name ${service?.service ?? desktop.windowsService}`),
    }),
    ...logs,
    act({
      text: `If ${desktop.name} runs inside WSL2, Windows reaches it at localhost only with WSL's localhost forwarding (on by default; check localhostForwarding or networkingMode=mirrored in %UserProfile%\\.wslconfig, then wsl --shutdown), and it must listen on more than 127.0.0.1 inside WSL.`,
    }),
  ];
}

/**
 * When this machine's processes could not be read: how to look by hand, per OS. The verdict said
 * only what was seen (the refusal); these are the looks dbdoctor could not take.
 */
export function lookByHandFixes(os: HostOs, desktop: Desktop, port: number): Remediation[] {
  const listeners = listenersOfCommand(os, desktop.process);
  switch (os) {
    case 'macos':
      return [
        { text: `Is ${desktop.name} running, and on which port? (lsof needs sudo to see other users' processes)`, ...listeners },
        {
          text: `Its processes, with their command lines (Homebrew runs them from /opt/homebrew or /usr/local${desktop.app ? `, ${desktop.app.name} from ${desktop.app.path}` : ''}):`,
          ...shell(sh`pgrep -fl ${desktop.launchdWord}`),
        },
      ];
    case 'windows':
      return [
        { text: `Is ${desktop.name} running, and on which port? (in PowerShell)`, ...listeners },
        { text: `Who owns port ${port}, if anything:`, ...portOwnerCommand(os, port) },
      ];
    default:
      return [
        {
          text: `Is ${desktop.name} running, and on which port? dbdoctor reads /proc for this; run it where /proc is mounted (and as root to see other users' sockets), or look by hand:`,
          ...listeners,
        },
        { text: 'Its processes:', ...shell(sh`ps -eo pid,args | grep -i ${desktop.process}`) },
      ];
  }
}
