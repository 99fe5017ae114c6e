import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where dbdoctor runs, because the right fix depends on it: `localhost` inside a container is the
 * container itself; a Kubernetes service name resolves only inside the cluster; a compose service
 * name only inside its network. Detection reads the usual markers and says which ones it saw.
 */
export const PLATFORMS = ['kubernetes', 'compose', 'container', 'systemd', 'host', 'macos', 'windows'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * The operating system the fixes are written for: the commands that look at a port's owner, a
 * name's resolution or a service differ between them (lsof and dscacheutil on macOS, PowerShell on
 * Windows). It is this machine's (process.platform), or the one --platform macos|windows names.
 */
export const HOST_OSES = ['linux', 'macos', 'windows'] as const;
export type HostOs = (typeof HOST_OSES)[number];

/** The OS a platform's fixes are written for. */
export function osOf(platform: Pick<PlatformInfo, 'os'>): HostOs {
  return platform.os ?? 'linux';
}

export function hostOsOf(platform: NodeJS.Platform): HostOs {
  return platform === 'darwin' ? 'macos' : platform === 'win32' ? 'windows' : 'linux';
}

export interface PlatformInfo {
  readonly platform: Platform;
  /** Whose commands the fixes print (see HOST_OSES); detection always sets it, Linux when absent. */
  readonly os?: HostOs;
  /** "detected", or "--platform" when the user chose it. */
  readonly chosen: 'detected' | 'flag';
  readonly inContainer: boolean;
  readonly kubernetesNamespace?: string;
  /** A compose file in the working directory, when there is one. */
  readonly composeFile?: string;
  /** What was seen, for the evidence: "/.dockerenv exists", "KUBERNETES_SERVICE_HOST is set". */
  readonly signals: readonly string[];
}

export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
const CONTAINER_CGROUP = /docker|kubepods|containerd|libpod|lxc|crio/;
const CONTAINER_ROOT_FS = /^(overlay|fuse-overlayfs|aufs|shiftfs)$/;

/** The filesystem type mounted at "/", from /proc/self/mountinfo ("… / / rw - ext4 /dev/vda …"). */
export function rootFilesystem(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== '/') continue;
    const separator = fields.indexOf('-');
    return separator >= 0 ? fields[separator + 1] : undefined;
  }
  return undefined;
}

export interface PlatformProbe {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** The --platform flag, when given. */
  readonly override?: Platform | undefined;
  /** For tests: the filesystem root markers are read under (default "/"). */
  readonly root?: string;
  /** For tests: the operating system (default process.platform). */
  readonly system?: NodeJS.Platform;
}

export async function detectPlatform(probe: PlatformProbe): Promise<PlatformInfo> {
  const root = probe.root ?? '/';
  const signals: string[] = [];
  const [dockerenv, containerenv, cgroup, pid1Environ, namespace, pid1Comm, mountinfo, composeFile] = await Promise.all([
    exists(join(root, '.dockerenv')),
    exists(join(root, 'run/.containerenv')),
    readText(join(root, 'proc/self/cgroup')),
    readText(join(root, 'proc/1/environ')),
    readText(join(root, SERVICE_ACCOUNT_NAMESPACE.slice(1))),
    readText(join(root, 'proc/1/comm')),
    readText(join(root, 'proc/self/mountinfo')),
    findComposeFile(probe.cwd),
  ]);
  const strong: string[] = [];
  // podman writes /run/.containerenv when the container starts: present means inside one.
  if (containerenv) strong.push('/run/.containerenv exists');
  const runtime = cgroup ? CONTAINER_CGROUP.exec(cgroup)?.[0] : undefined;
  if (runtime) strong.push(`our cgroup names ${runtime}`);
  const containerVariable = /(?:^|\0)container=([^\0]+)/.exec(pid1Environ ?? '')?.[1];
  if (containerVariable) strong.push(`PID 1 runs with container=${containerVariable}`);
  const rootFs = rootFilesystem(mountinfo ?? '');
  const overlayRoot = rootFs !== undefined && CONTAINER_ROOT_FS.test(rootFs);
  // /.dockerenv survives into images built from a container (this happens with VM images), so
  // alone it proves nothing; with an overlay root or a runtime's cgroup it is docker.
  if (dockerenv && (overlayRoot || strong.length > 0)) strong.push('/.dockerenv exists');
  if (overlayRoot && strong.length > 0) strong.push(`the root filesystem is ${rootFs}`);
  signals.push(...strong);
  if (dockerenv && !strong.includes('/.dockerenv exists'))
    signals.push(`/.dockerenv exists but the root filesystem is ${rootFs ?? 'unknown'}, not a container's overlay: not counted as a container`);
  const inContainer = strong.length > 0;
  const kubernetes = probe.env.KUBERNETES_SERVICE_HOST !== undefined || namespace !== undefined;
  if (probe.env.KUBERNETES_SERVICE_HOST !== undefined) signals.push('KUBERNETES_SERVICE_HOST is set');
  if (namespace !== undefined) signals.push(`service account namespace ${namespace.trim()}`);
  if (composeFile) signals.push(`${composeFile} in the working directory`);
  if (probe.env.COMPOSE_PROJECT_NAME) signals.push('COMPOSE_PROJECT_NAME is set');
  const systemd = !inContainer && pid1Comm?.trim() === 'systemd';
  if (systemd) signals.push('PID 1 is systemd');
  if (probe.env.INVOCATION_ID) signals.push('started by systemd (INVOCATION_ID is set)');

  const machine = hostOsOf(probe.system ?? process.platform);
  // On macOS and Windows "the host" is the desktop itself: Homebrew or Postgres.app, a Windows
  // service. Kubernetes and compose still win: the database is started through them there.
  const bare: Platform = machine === 'macos' ? 'macos' : machine === 'windows' ? 'windows' : systemd ? 'systemd' : 'host';
  const detected: Platform = kubernetes ? 'kubernetes' : composeFile || probe.env.COMPOSE_PROJECT_NAME ? 'compose' : inContainer ? 'container' : bare;
  const os: HostOs = probe.override === 'macos' || probe.override === 'windows' ? probe.override : machine;
  return {
    platform: probe.override ?? detected,
    os,
    chosen: probe.override ? 'flag' : 'detected',
    inContainer,
    ...(namespace?.trim() ? { kubernetesNamespace: namespace.trim() } : {}),
    ...(composeFile ? { composeFile } : {}),
    signals,
  };
}

async function findComposeFile(cwd: string): Promise<string | undefined> {
  for (const name of COMPOSE_FILES) {
    if (await exists(join(cwd, name))) return name;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
