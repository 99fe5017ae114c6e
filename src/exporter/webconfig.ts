import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { InputError } from '../config/errors.js';
import { BcryptWorker } from './bcrypt.js';

/**
 * `--web.config.file`: TLS and basic authentication in the file format of the Prometheus
 * exporter-toolkit (the one node_exporter, blackbox_exporter and Prometheus itself read), so that
 * the same file and the same bcrypt hashes work here:
 *
 *   tls_server_config:
 *     cert_file: /etc/dbdoctor/tls.crt
 *     key_file: /etc/dbdoctor/tls.key
 *     client_auth_type: RequireAndVerifyClientCert   # with client_ca_file
 *     client_ca_file: /etc/dbdoctor/ca.crt
 *     min_version: TLS12
 *   http_server_config:
 *     headers: { Strict-Transport-Security: max-age=31536000 }
 *   basic_auth_users:
 *     prometheus: $2y$10$…      # htpasswd -nBC 10 prometheus
 *
 * Settings of that format that Node cannot honour as written (cipher_suites, curve_preferences,
 * prefer_server_cipher_suites, client_allowed_sans, http2) are refused by name rather than ignored:
 * a security setting that silently does nothing is worse than an error.
 */
const CLIENT_AUTH_TYPES = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;
type TlsVersionName = keyof typeof TLS_VERSIONS;
const TlsVersion = z.enum(['TLS10', 'TLS11', 'TLS12', 'TLS13']) satisfies z.ZodType<TlsVersionName>;
const UNSUPPORTED = ['cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites', 'client_allowed_sans'] as const;

const BCRYPT = /^\$2[aby]?\$\d{2}\$[./A-Za-z0-9]{53}$/;

export const WebConfigSchema = z
  .object({
    tls_server_config: z
      .object({
        cert_file: z.string().min(1),
        key_file: z.string().min(1),
        client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
        client_ca_file: z.string().min(1).optional(),
        min_version: TlsVersion.default('TLS12'),
        max_version: TlsVersion.default('TLS13'),
        // Read so that they can be refused by name (below), not as unknown keys.
        cipher_suites: z.unknown().optional(),
        curve_preferences: z.unknown().optional(),
        prefer_server_cipher_suites: z.unknown().optional(),
        client_allowed_sans: z.unknown().optional(),
      })
      .strict()
      .optional(),
    http_server_config: z
      .object({ headers: z.record(z.string(), z.string()).optional(), http2: z.unknown().optional() })
      .strict()
      .optional(),
    basic_auth_users: z
      .record(z.string().min(1), z.string().regex(BCRYPT, 'expected a bcrypt hash such as htpasswd -nBC 10 USER prints ($2y$10$…)'))
      .optional(),
  })
  .strict();

export type WebConfigFile = z.infer<typeof WebConfigSchema>;

/** none: not asked for or not checked; any: one must be sent, whatever signs it; if_given / required: it must verify. */
export type ClientCertificateRule = 'none' | 'any' | 'if_given' | 'required';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly requestCert: boolean;
  /** Whether a client certificate, when given (or required), must verify against the CA. */
  readonly verify: ClientCertificateRule;
  readonly minVersion: (typeof TLS_VERSIONS)[TlsVersionName];
  readonly maxVersion: (typeof TLS_VERSIONS)[TlsVersionName];
}

export interface WebConfig {
  readonly tls?: TlsFiles;
  readonly headers: Readonly<Record<string, string>>;
  readonly users?: BasicAuth;
}

export async function loadWebConfig(path: string): Promise<WebConfig> {
  const { parseDocument } = await import('yaml');
  const text = await readText(path, 'the web config file');
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors[0])
    throw new InputError(`${path}: ${document.errors[0].message.split('\n')[0] ?? 'not valid YAML'}`, 'fix the YAML of --web.config.file');
  const parsed = WebConfigSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = (issue?.path ?? []).join('.') || '(top level)';
    throw new InputError(
      `${path}: ${field}: ${issue?.message ?? 'invalid'}`,
      'the file has the Prometheus exporter-toolkit format: tls_server_config, http_server_config, basic_auth_users',
    );
  }
  const config = parsed.data;
  const tlsConfig = config.tls_server_config;
  const unsupported = tlsConfig ? UNSUPPORTED.find((key) => tlsConfig[key] !== undefined) : undefined;
  if (unsupported)
    throw new InputError(
      `${path}: tls_server_config.${unsupported} is not supported by dbdoctor (Node.js chooses cipher suites and curves itself)`,
      `remove ${unsupported}; use min_version: TLS13 to restrict the protocol instead`,
    );
  if (config.http_server_config?.http2 !== undefined)
    throw new InputError(`${path}: http_server_config.http2 is not supported by dbdoctor (it serves HTTP/1.1)`, 'remove http2');
  const headers = config.http_server_config?.headers ?? {};
  checkHeaders(path, headers);
  let tls: TlsFiles | undefined;
  if (tlsConfig) {
    const needsCa = tlsConfig.client_auth_type === 'VerifyClientCertIfGiven' || tlsConfig.client_auth_type === 'RequireAndVerifyClientCert';
    if (needsCa && !tlsConfig.client_ca_file)
      throw new InputError(
        `${path}: tls_server_config.client_auth_type ${tlsConfig.client_auth_type} needs client_ca_file`,
        'give client_ca_file: the CA that signs the client certificates',
      );
    if (tlsVersionRank(tlsConfig.min_version) > tlsVersionRank(tlsConfig.max_version))
      throw new InputError(
        `${path}: tls_server_config.min_version ${tlsConfig.min_version} is above max_version ${tlsConfig.max_version}`,
        'make min_version no higher than max_version (TLS13 is the highest)',
      );
    const [cert, key, ca] = await Promise.all([
      readBytes(tlsConfig.cert_file, 'tls_server_config.cert_file'),
      readBytes(tlsConfig.key_file, 'tls_server_config.key_file'),
      tlsConfig.client_ca_file ? readBytes(tlsConfig.client_ca_file, 'tls_server_config.client_ca_file') : Promise.resolve(undefined),
    ]);
    await checkTlsFiles(path, tlsConfig, { cert, key, ca });
    const type = tlsConfig.client_auth_type;
    tls = {
      cert,
      key,
      ...(ca ? { ca } : {}),
      requestCert: type !== 'NoClientCert',
      verify:
        type === 'RequireAndVerifyClientCert' ? 'required' : type === 'VerifyClientCertIfGiven' ? 'if_given' : type === 'RequireAnyClientCert' ? 'any' : 'none',
      minVersion: TLS_VERSIONS[tlsConfig.min_version],
      maxVersion: TLS_VERSIONS[tlsConfig.max_version],
    };
  }
  return {
    ...(tls ? { tls } : {}),
    headers,
    ...(config.basic_auth_users && Object.keys(config.basic_auth_users).length > 0 ? { users: new BasicAuth(config.basic_auth_users) } : {}),
  };
}

/**
 * The response headers the exporter-toolkit lets a web config set (its extraHTTPHeaders), with the
 * values it allows where they form a set; any other header is refused there, and here, rather
 * than sent or silently dropped. A value must also be one line of visible text: Node refuses to send
 * a header with a control character in it, which would turn every answer into an error.
 */
export const ALLOWED_HEADERS: Readonly<Record<string, readonly string[] | undefined>> = {
  'Strict-Transport-Security': undefined,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': undefined,
  'Content-Security-Policy': undefined,
};

function checkHeaders(path: string, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!Object.hasOwn(ALLOWED_HEADERS, name)) {
      throw new InputError(
        `${path}: http_server_config.headers: ${JSON.stringify(name)} cannot be set (the exporter-toolkit format allows ${Object.keys(ALLOWED_HEADERS).join(', ')})`,
        'remove it, or spell an allowed header exactly as listed',
      );
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new InputError(
        `${path}: http_server_config.headers.${name}: the value ${JSON.stringify(value)} has a line break or control character, which no HTTP header may carry`,
        'write the value on one line',
      );
    }
    const allowed = ALLOWED_HEADERS[name];
    if (allowed && !allowed.includes(value))
      throw new InputError(
        `${path}: http_server_config.headers.${name}: ${JSON.stringify(value)} is not one of ${allowed.map((entry) => JSON.stringify(entry)).join(', ')}`,
        `use ${allowed.join(' or ')}`,
      );
  }
}

function tlsVersionRank(version: TlsVersionName): number {
  return Object.keys(TLS_VERSIONS).indexOf(version);
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificate, its key and the client CA, checked at start so that a mistake is one line that
 * names the file, not an OpenSSL code at start or a failure on every handshake later: a file that
 * holds no certificate (or a key instead: cert_file and key_file swapped), a key that is not the
 * certificate's, an encrypted key, a CA file with nothing in it.
 */
async function checkTlsFiles(
  path: string,
  config: { cert_file: string; key_file: string; client_ca_file?: string | undefined; min_version: TlsVersionName; max_version: TlsVersionName },
  files: { cert: Buffer; key: Buffer; ca: Buffer | undefined },
): Promise<void> {
  const [{ X509Certificate, createPrivateKey }, { createSecureContext }] = await Promise.all([import('node:crypto'), import('node:tls')]);
  const certificates = (field: string, file: string, bytes: Buffer): InstanceType<typeof X509Certificate>[] => {
    const text = bytes.toString('latin1');
    const blocks = text.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) {
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
        throw new InputError(
          `${path}: tls_server_config.${field} ${file} holds a private key, not a certificate`,
          'are cert_file and key_file swapped? cert_file is the certificate (-----BEGIN CERTIFICATE-----), key_file its private key',
        );
      throw new InputError(
        `${path}: tls_server_config.${field} ${file} is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`,
        `give ${field === 'client_ca_file' ? 'the CA certificate(s) that sign the client certificates' : 'the server certificate'} in PEM (a DER file converts with: openssl x509 -inform der -in FILE -out FILE.pem)`,
      );
    }
    return blocks.map((block, index) => {
      try {
        return new X509Certificate(block);
      } catch (error) {
        throw new InputError(
          `${path}: tls_server_config.${field} ${file}: certificate ${index + 1} does not parse (${opensslWords(error)})`,
          `check it with: openssl x509 -noout -text -in ${file}`,
        );
      }
    });
  };
  const [leaf] = certificates('cert_file', config.cert_file, files.cert);
  if (files.ca && config.client_ca_file) certificates('client_ca_file', config.client_ca_file, files.ca);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(files.key);
  } catch (error) {
    const text = files.key.toString('latin1');
    if (/-----BEGIN CERTIFICATE-----/.test(text) && !/PRIVATE KEY-----/.test(text))
      throw new InputError(
        `${path}: tls_server_config.key_file ${config.key_file} holds a certificate, not a private key`,
        'are cert_file and key_file swapped? key_file is the private key (-----BEGIN PRIVATE KEY-----)',
      );
    if (
      /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text) ||
      (error instanceof Error && 'code' in error && error.code === 'ERR_MISSING_PASSPHRASE')
    )
      throw new InputError(
        `${path}: tls_server_config.key_file ${config.key_file} is encrypted with a passphrase, which the web config cannot give`,
        `write it unencrypted (readable by the exporter only): openssl pkey -in ${config.key_file} -out tls.key`,
      );
    throw new InputError(
      `${path}: tls_server_config.key_file ${config.key_file} is not a PEM private key (${opensslWords(error)})`,
      'give the private key of cert_file, in PEM (-----BEGIN PRIVATE KEY-----)',
    );
  }
  if (leaf && !leaf.checkPrivateKey(key)) {
    throw new InputError(
      `${path}: tls_server_config.key_file ${config.key_file} is not the private key of cert_file ${config.cert_file} (${leaf.subject.replace(/\n/g, ', ')})`,
      'give the key the certificate was issued for (openssl x509 -noout -pubkey -in CERT and openssl pkey -pubout -in KEY print the same public key)',
    );
  }
  try {
    createSecureContext({
      cert: files.cert,
      key: files.key,
      ...(files.ca ? { ca: files.ca } : {}),
      minVersion: TLS_VERSIONS[config.min_version],
      maxVersion: TLS_VERSIONS[config.max_version],
    });
  } catch (error) {
    throw new InputError(
      `${path}: tls_server_config: Node cannot use these files (${opensslWords(error)})`,
      'check cert_file, key_file and client_ca_file with openssl',
    );
  }
}

/** OpenSSL's words without its code: "error:0480006C:PEM routines::no start line" → "PEM routines: no start line". */
function opensslWords(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^error:[0-9A-F]+:/i, '').replace(/::/g, ': ');
}

async function readText(path: string, what: string): Promise<string> {
  return (await readBytes(path, what)).toString('utf8');
}

async function readBytes(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new InputError(`cannot read ${what} ${path} (${code})`, 'check the path and its permissions');
  }
}

/**
 * Basic authentication against bcrypt hashes (bcryptjs, pure JavaScript: no native build), in the
 * exporter-toolkit's way: the result of each (user, password) against the user's hash is
 * remembered, as a keyed hash, never the password, so that Prometheus, which sends the same
 * credentials with every scrape, costs one bcrypt comparison, and so does a client that keeps
 * sending the same wrong ones. Successes and failures are kept apart (a flood of new wrong
 * passwords cannot push out the right one), each in a small bounded set. The comparisons run in
 * a worker thread (bcrypt.ts), never on the event loop that answers health checks and scrapes. An
 * unknown user is checked against a decoy hash of the highest cost in use, so that the time taken
 * does not tell which users exist.
 */
export type AuthOutcome = { readonly kind: 'allowed'; readonly user: string } | { readonly kind: 'refused' } | { readonly kind: 'busy' };

export class BasicAuth {
  private readonly allowed = new Set<string>();
  private readonly refused = new Set<string>();
  private readonly key = randomBytes(32);
  private readonly worker: BcryptWorker;
  private static readonly REMEMBERED = 256;
  private static readonly REMEMBERED_FAILURES = 1024;
  /** The highest bcrypt cost among the users: an unknown user is compared with a decoy this slow. */
  private readonly decoyCost: number;

  constructor(
    private readonly users: Readonly<Record<string, string>>,
    maxWaiting?: number,
  ) {
    this.worker = new BcryptWorker(maxWaiting);
    this.decoyCost = Math.max(4, ...Object.values(users).map((hash) => Number(/^\$2[aby]?\$(\d{2})\$/.exec(hash)?.[1] ?? 4)));
  }

  get names(): string[] {
    return Object.keys(this.users);
  }

  /** Whether `other` checks the same users against the same hashes. */
  sameUsers(other: BasicAuth): boolean {
    const mine = Object.entries(this.users).sort(([a], [b]) => a.localeCompare(b));
    const theirs = Object.entries(other.users).sort(([a], [b]) => a.localeCompare(b));
    return JSON.stringify(mine) === JSON.stringify(theirs);
  }

  /** Checks an Authorization header value; resolves to the user name, or undefined (refused, or too many checks waiting). */
  async check(header: string | undefined): Promise<string | undefined> {
    const outcome = await this.verify(header);
    return outcome.kind === 'allowed' ? outcome.user : undefined;
  }

  async verify(header: string | undefined): Promise<AuthOutcome> {
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!match?.[1]) return { kind: 'refused' };
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'refused' };
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = Object.hasOwn(this.users, user) ? this.users[user] : undefined;
    const remembered = createHmac('sha256', this.key)
      .update(user)
      .update('\0')
      .update(password)
      .update('\0')
      .update(hash ?? '')
      .digest('hex');
    if (this.allowed.has(remembered)) return { kind: 'allowed', user };
    if (this.refused.has(remembered)) return { kind: 'refused' };
    const compared = await this.worker.compare(password, hash !== undefined ? { hash } : { decoyCost: this.decoyCost });
    if (compared.kind === 'busy') return compared;
    const ok = compared.matches && hash !== undefined;
    remember(ok ? this.allowed : this.refused, remembered, ok ? BasicAuth.REMEMBERED : BasicAuth.REMEMBERED_FAILURES);
    return ok ? { kind: 'allowed', user } : { kind: 'refused' };
  }

  close(): Promise<void> {
    return this.worker.close();
  }
}

function remember(set: Set<string>, key: string, most: number): void {
  if (set.size >= most) set.clear();
  set.add(key);
}
