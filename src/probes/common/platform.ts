import type { Remediation } from '../../engine/schema.js';
import type { Suggestion } from '../../host/names.js';
import type { PlatformInfo } from '../../host/platform.js';

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
  /** A shell command that succeeds once the server is ready, e.g. "pg_isready -h db -p 5432". */
  readonly readyCheck: (host: string, port: number) => string;
  /** The variable applications usually read the address from, e.g. DATABASE_URL. */
  readonly urlVariable: string;
  /** The URL for another host (password left out). */
  readonly urlFor: (host: string, port: number) => string;
}

export type PlatformCause = 'dns_not_found' | 'dns_temporary' | 'connect_timeout' | 'not_running' | 'starting_up' | 'localhost_in_container';

export interface PlatformDetails {
  readonly host: string;
  readonly port: number;
  readonly suggestions?: readonly Suggestion[];
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
    default:
      return [];
  }
}

function kubernetes(cause: PlatformCause, platform: PlatformInfo, engine: EngineWords, details: PlatformDetails): Remediation[] {
  const ns = platform.kubernetesNamespace ?? '<namespace>';
  const service = details.suggestions?.[0]?.name ?? details.host;
  const port = details.suggestions?.[0]?.port ?? details.port;
  const waitFor: Remediation = {
    text: 'Have the pod wait for it instead of crash-looping: an init container (add under spec.template.spec):',
    command: [
      'initContainers:',
      `  - name: wait-for-${service}`,
      '    image: dbdoctor:latest',
      `    args: ["wait", "--timeout", "300", "${engine.urlFor(service, port)}"]`,
    ].join('\n'),
    language: 'shell',
  };
  switch (cause) {
    case 'dns_not_found':
    case 'localhost_in_container':
      return [
        { text: `List the services of namespace ${ns}: a service's DNS name is <service>.${ns}.svc.cluster.local.`, command: `kubectl get svc -n ${ns}`, language: 'shell' },
        { text: `Check that the service has ready endpoints:`, command: `kubectl get endpoints ${service} -n ${ns}`, language: 'shell' },
        { text: `Point the deployment at the service (replace <deployment>):`, command: `kubectl set env deployment/<deployment> -n ${ns} ${engine.urlVariable}=${engine.urlFor(service, port)}`, language: 'shell' },
      ];
    case 'dns_temporary':
      return [
        { text: 'Check the cluster DNS (CoreDNS) pods and their logs:', command: 'kubectl -n kube-system get pods -l k8s-app=kube-dns; kubectl -n kube-system logs -l k8s-app=kube-dns --tail=20', language: 'shell' },
        waitFor,
      ];
    case 'connect_timeout':
      return [
        { text: `Check for a NetworkPolicy that drops this traffic, and that the service has endpoints:`, command: `kubectl get networkpolicy -n ${ns}; kubectl get endpoints ${service} -n ${ns}`, language: 'shell' },
      ];
    default:
      return [
        { text: `See the ${engine.name} pods and why they are not ready:`, command: `kubectl get pods -n ${ns} -o wide; kubectl describe pod -n ${ns} <${engine.unit}-pod>`, language: 'shell' },
        { text: 'Read its log:', command: `kubectl logs -n ${ns} <${engine.unit}-pod> --tail=50`, language: 'shell' },
        waitFor,
      ];
  }
}

function compose(cause: PlatformCause, platform: PlatformInfo, engine: EngineWords, details: PlatformDetails): Remediation[] {
  const file = platform.composeFile ?? 'compose.yaml';
  const service = details.suggestions?.find((suggestion) => suggestion.kind === 'compose-service')?.name ?? details.suggestions?.[0]?.name ?? '<db-service>';
  const suggested = details.suggestions?.find((suggestion) => suggestion.name === service);
  const healthy: Remediation = {
    text: `Start the application only once ${engine.name} is ready: a healthcheck on the database service and a condition on the application's depends_on (in ${file}):`,
    command: [
      'services:',
      `  ${service}:`,
      '    healthcheck:',
      `      test: ["CMD-SHELL", "${engine.readyCheck('localhost', details.port)}"]`,
      '      interval: 5s',
      '      timeout: 5s',
      '      retries: 10',
      '  app:',
      '    depends_on:',
      `      ${service}:`,
      '        condition: service_healthy',
    ].join('\n'),
    language: 'shell',
  };
  switch (cause) {
    case 'dns_not_found':
      if (!platform.inContainer && suggested?.kind === 'compose-service' && suggested.name === details.host) {
        return [{ text: `"${details.host}" is a service in ${file}: that name resolves only inside the compose network. From this host use the published port:`, command: engine.urlFor('localhost', suggested.publishedPort ?? details.port), language: 'shell' }];
      }
      return [{ text: `The services of ${file}, whose names resolve inside the compose network:`, command: 'docker compose config --services', language: 'shell' }];
    case 'localhost_in_container':
      return [
        { text: `Use the database's service name, not localhost: in ${file} set ${engine.urlVariable} for the application to`, command: engine.urlFor(service, suggested?.port ?? details.port), language: 'shell' },
        { text: 'Check the name resolves from the application container:', command: `docker compose exec <app> getent hosts ${service}`, language: 'shell' },
      ];
    case 'dns_temporary':
    case 'not_running':
    case 'starting_up':
      return [{ text: `See the state and log of the database service:`, command: `docker compose ps; docker compose logs --tail=50 ${service}`, language: 'shell' }, healthy];
    default:
      return [];
  }
}

function systemd(engine: EngineWords): Remediation[] {
  return [
    { text: `Its systemd unit's state and recent log:`, command: `systemctl status ${engine.unit} --no-pager; journalctl -u ${engine.unit} -n 50 --no-pager`, language: 'shell' },
  ];
}
