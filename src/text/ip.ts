import { isIPv4 } from 'node:net';

/**
 * 4, 6 or 0, as `net.isIP` answers, without its cost on the start-up path: Node's IPv6 check is one
 * very large regular expression that takes ~5 ms to compile on first use and stays slow for its
 * first calls, and every run asks it of a host name or two. A text without ":" is no IPv6 address;
 * one with ":" is parsed by the URL parser's own IPv6 reader (native code), its zone ("%eth0") aside.
 */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (!text.includes(':')) return isIPv4(text) ? 4 : 0;
  const [address = '', zone, ...more] = text.split('%');
  if (more.length > 0 || (zone !== undefined && !/^[0-9A-Za-z.:-]+$/.test(zone)) || !/^[0-9A-Fa-f:.]+$/.test(address)) return 0;
  return URL.canParse(`http://[${address}]/`) ? 6 : 0;
}
