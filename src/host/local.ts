import { networkInterfaces } from 'node:os';
import { ipFamily } from '../text/ip.js';

/** Is this address one of this machine's own (loopback, or bound to a local interface)? */
export function isLocalAddress(address: string): boolean {
  if (isLoopback(address)) return true;
  const normalised = address.replace(/^::ffff:/, '');
  return Object.values(networkInterfaces()).some((entries) => (entries ?? []).some((entry) => entry.address === normalised));
}

export function isLoopback(address: string): boolean {
  const normalised = address.replace(/^::ffff:/, '');
  if (ipFamily(normalised) === 4) return normalised.startsWith('127.');
  return normalised === '::1';
}

/** Does a socket bound to `bound` accept connections addressed to `target`? */
export function bindingCovers(bound: string, target: string): boolean {
  if (bound === '0.0.0.0') return ipFamily(target.replace(/^::ffff:/, '')) === 4;
  // A socket on :: accepts IPv4 too unless IPV6_V6ONLY is set (Linux default: off).
  if (bound === '::') return true;
  return bound.replace(/^::ffff:/, '') === target.replace(/^::ffff:/, '');
}
