import type { Remediation } from '../../engine/schema.js';
import { urlLine } from '../../text/url.js';
import type { Suggestion } from '../../host/names.js';
import type { PlatformInfo } from '../../host/platform.js';
import type { ServiceManager } from '../../host/managers.js';
import { desktopServiceFixes, firewallCommand, type Desktop } from './oscommands.js';
import { isHostName } from '../../net/hostname.js';
import { jsString, yamlString } from '../../text/js.js';
import { raw, sh, shellWord } from '../../text/shell.js';

/**
 * Fixes in the words of the platform dbdoctor runs on (or the one chosen with --platform):
 * kubectl for Kubernetes, compose files for docker compose, systemctl/journalctl for systemd.
 * Engines pass what differs between them: the service's usual name, its readiness check, its unit.
 */
export interface EngineWords {
  /** "PostgreSQL", "MongoDB", "Cassandra". */
  readonly name: string;
  /** The systemd unit, e.g. "postgresql", "mongod", "cassandra". */
  readonly unit: string;
  /** A shell command (built with `sh`: its words quoted) that succeeds once the server is ready, e.g. "pg_isready -h db -p 5432". */
  readonly readyCheck: (host: string, port: number) => string;
  /** The variable applications usually read the address from, e.g. DATABASE_URL. */
  readonly urlVariable: string;
  /** The URL for another host (password left out), its parts percent-encoded; unquoted: callers quote it for where it goes. */
  readonly urlFor: (host: string, port: number) => string;
  /** Which engine, for the macOS and Windows service fixes (Homebrew formula, Windows service); none for "any database". */
  readonly managed?: Desktop;
}

export type PlatformCause = 'dns_not_found' | 'dns_temporary' | 'connect_timeout' | 'not_running' | 'starting_up' | 'localhost_in_container';

export interface PlatformDetails {
  readonly host: string;
  readonly port: number;
  readonly suggestions?: readonly Suggestion[];
  /** How the server is installed on this desktop (Homebrew, Postgres.app, a Windows service), when seen. */
  readonly managers?: readonly ServiceManager[];
}

export function platformFixes(cause: PlatformCause, platform: PlatformInfo, engine: EngineWords, details: PlatformDetails): Remediation[] {
  switch (platform.platform) {
    case 'kubernetes':
      return kubernetes(cause, platform, engine, details);
    case 'compose':
      return compose(cause, platform, engine, details);
    case 'systemd':
    case 'host':
      return cause === 'not_running' || cause === 'starting_up' ? systemd(engine) : [];
    case 'macos':
    case 'windows':
      return desktop(cause, platform.platform, engine, details);
    default:
      return [];
  }
}

/**
 * A Kubernetes object name from a host: RFC 1123 label characters only (a service name, or the
 * first label of a DNS name), for an init container's name.
 */
export function kubernetesName(host: string): string {
  const name = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50);
  return name === '' ? 'database' : name;
}

function kubernetes(cause: PlatformCause, platform: PlatformInfo, engine: EngineWords, details: PlatformDetails): Remediation[] {
  // The namespace (from the pod's service account) and the service name are values: quoted words
  // in commands, YAML scalars in manifests. A name that is not a host is left as a placeholder.
  const ns = platform.kubernetesNamespace ?? '<namespace>';
  const nsWord = raw(platform.kubernetesNamespace === undefined ? '<namespace>' : shellWord(ns));
  const named = details.suggestions?.[0]?.name ?? details.host;
  const service = isHostName(named) ? named : '<service>';
  const serviceWord = raw(service === '<service>' ? service : shellWord(service));
  const port = details.suggestions?.[0]?.port ?? details.port;
  const waitFor: Remediation = {
    text: 'Have the pod wait for it instead of crash-looping: an init container (add under spec.template.spec):',
    command: [
      'initContainers:',
      `  - name: ${yamlString(`wait-for-${kubernetesName(service)}`)}`,
      '    image: dbdoctor:latest',
      `    args: ["wait", "--timeout", "300", ${jsString(engine.urlFor(service, port))}]`,
    ].join('\n'),
  };
  switch (cause) {
    case 'dns_not_found':
    case 'localhost_in_container':
      return [
        {
          text: `List the services of namespace ${ns}: a service's DNS name is <service>.${ns}.svc.cluster.local.`,
          command: sh`kubectl get svc -n ${nsWord}`,
          language: 'shell',
        },
        { text: `Check that the service has ready endpoints:`, command: sh`kubectl get endpoints ${serviceWord} -n ${nsWord}`, language: 'shell' },
        {
          text: `Point the deployment at the service (replace <deployment>):`,
          command: sh`kubectl set env deployment/<deployment> -n ${nsWord} ${raw(`${engine.urlVariable}=`)}${engine.urlFor(service, port)}`,
          language: 'shell',
        },
      ];
    case 'dns_temporary':
      return [
        {
          text: 'Check the cluster DNS (CoreDNS) pods and their logs:',
          command: 'kubectl -n kube-system get pods -l k8s-app=kube-dns; kubectl -n kube-system logs -l k8s-app=kube-dns --tail=20',
          language: 'shell',
        },
        waitFor,
      ];
    case 'connect_timeout':
      return [
        {
          text: `Check for a NetworkPolicy that drops this traffic, and that the service has endpoints:`,
          command: sh`kubectl get networkpolicy -n ${nsWord}; kubectl get endpoints ${serviceWord} -n ${nsWord}`,
          language: 'shell',
        },
      ];
    default:
      return [
        { text: `See the ${engine.name} pods and why they are not ready:`, command: sh`kubectl get pods -n ${nsWord} -o wide`, language: 'shell' },
        {
          text: `Then, with POD set to the name of the ${engine.name} pod from that list (POD=…):`,
          command: sh`kubectl describe pod -n ${nsWord} "$POD"; kubectl logs -n ${nsWord} "$POD" --tail=50`,
          language: 'shell',
        },
        waitFor,
      ];
  }
}

function compose(cause: PlatformCause, platform: PlatformInfo, engine: EngineWords, details: PlatformDetails): Remediation[] {
  const file = platform.composeFile ?? 'compose.yaml';
  const named = details.suggestions?.find((suggestion) => suggestion.kind === 'compose-service')?.name ?? details.suggestions?.[0]?.name;
  const service = named !== undefined && isHostName(named) ? named : '<db-service>';
  const serviceWord = raw(service === '<db-service>' ? service : shellWord(service));
  const serviceKey = service === '<db-service>' ? service : yamlString(service);
  const suggested = details.suggestions?.find((suggestion) => suggestion.name === service);
  const healthy: Remediation = {
    text: `Start the application only once ${engine.name} is ready: a healthcheck on the database service and a condition on the application's depends_on (in ${file}):`,
    command: [
      'services:',
      `  ${serviceKey}:`,
      '    healthcheck:',
      `      test: ["CMD-SHELL", ${jsString(engine.readyCheck('localhost', details.port))}]`,
      '      interval: 5s',
      '      timeout: 5s',
      '      retries: 10',
      '  app:',
      '    depends_on:',
      `      ${serviceKey}:`,
      '        condition: service_healthy',
    ].join('\n'),
  };
  switch (cause) {
    case 'dns_not_found':
      if (!platform.inContainer && suggested?.kind === 'compose-service' && suggested.name === details.host) {
        return [
          {
            text: `"${details.host}" is a service in ${file}: that name resolves only inside the compose network. From this host use the published port:`,
            command: urlLine(engine.urlFor('localhost', suggested.publishedPort ?? details.port)),
          },
        ];
      }
      return [
        { text: `The services of ${file}, whose names resolve inside the compose network:`, command: 'docker compose config --services', language: 'shell' },
      ];
    case 'localhost_in_container':
      return [
        {
          text: `Use the database's service name, not localhost: in ${file} set ${engine.urlVariable} for the application to`,
          command: urlLine(engine.urlFor(service, suggested?.port ?? details.port)),
        },
        {
          text: 'Check the name resolves from the application container:',
          command: sh`docker compose exec <app> getent hosts ${serviceWord}`,
          language: 'shell',
        },
      ];
    case 'dns_temporary':
    case 'not_running':
    case 'starting_up':
      return [
        {
          text: `See the state and log of the database service:`,
          command: sh`docker compose ps; docker compose logs --tail=50 ${serviceWord}`,
          language: 'shell',
        },
        healthy,
      ];
    default:
      return [];
  }
}

function systemd(engine: EngineWords): Remediation[] {
  return [
    {
      text: `Its systemd unit's state and recent log:`,
      command: sh`systemctl status ${engine.unit} --no-pager; journalctl -u ${engine.unit} -n 50 --no-pager`,
      language: 'shell',
    },
  ];
}

/** A macOS or Windows desktop: the service the server is installed as; Windows' firewall for a silent port. */
function desktop(cause: PlatformCause, os: 'macos' | 'windows', engine: EngineWords, details: PlatformDetails): Remediation[] {
  if ((cause === 'not_running' || cause === 'starting_up') && engine.managed)
    return desktopServiceFixes(os, engine.managed, details.managers, cause === 'starting_up' ? 'watch' : 'start');
  if (cause === 'connect_timeout' && os === 'windows') {
    return [
      {
        text: `On the database's Windows host, Windows Defender Firewall drops what no rule admits: list the rules for port ${details.port}, and add one for ${engine.name} if none allows it (as Administrator: New-NetFirewallRule -DisplayName '${engine.name} ${details.port}' -Direction Inbound -Protocol TCP -LocalPort ${details.port} -Action Allow).`,
        ...firewallCommand('windows', details.port),
      },
    ];
  }
  return [];
}
