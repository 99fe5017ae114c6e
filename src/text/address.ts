/** host:port as people and URLs write it: an IPv6 address in brackets ("[::1]:5432"), anything else as it is. */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}
