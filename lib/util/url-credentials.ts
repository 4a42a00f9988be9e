/**
 * Credentials of ffmpeg sources (camera streams, camera microphones), kept off the command
 * line. Every local user can read a process's arguments (`ps`, /proc/<pid>/cmdline), so a
 * URL with a user and password is given to ffmpeg in a one-line concat script on its standard
 * input (`-f concat -safe 0 -i pipe:0`), with the demuxer options it would have had.
 */
import { promises as dns } from 'dns';
import * as net from 'net';

/** Puts credentials into a stream URL unless it already carries some (ffmpeg reads them there). */
export function withCredentials(url: string, username?: string, password?: string): string {
  if (!username) return url;
  try {
    const u = new URL(url);
    if (u.username) return url;
    u.username = username;
    u.password = password ?? '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * The host of a URL, or a host name or IP address as typed, as compared for credentials: lower
 * case, IPv4 in its usual form (URL parsing reads "0x7f.1" as 127.0.0.1), IPv6 without its
 * brackets, no trailing dot; '' when it cannot be read.
 */
export function hostOf(urlOrHost: string): string {
  const text = urlOrHost.trim();
  try {
    const bareIpv6 = !text.includes('://') && !text.startsWith('[') && text.split(':').length > 2;
    const u = new URL(text.includes('://') ? text : `http://${bareIpv6 ? `[${text}]` : text}`);
    return u.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  } catch {
    return '';
  }
}

/**
 * Whether `url` points at one of `hosts` (host names or IP addresses, ports aside): where a
 * camera's user and password may be sent. Names are compared as written, never resolved: a name
 * and the address it resolves to are two hosts, as a camera listed by one is not known by the other.
 */
export function isOwnHost(url: string, hosts: readonly string[] | undefined): boolean {
  const host = hostOf(url);
  return host !== '' && (hosts ?? []).some((h) => hostOf(h) === host);
}

export type HostLookup = (name: string) => Promise<string[]>;

/** The addresses a host name resolves to (the system resolver, as every connection uses). */
const systemLookup: HostLookup = async (name) => (await dns.lookup(name, { all: true })).map((a) => a.address);

/**
 * isOwnHost, or else `url` names an IP address that one of `hosts`, a name, resolves to: a
 * camera configured by name usually gives its stream and snapshot by address. A lookup that
 * fails or takes more than `lookupMs` counts as no match.
 */
export async function isOwnHostResolved(url: string, hosts: readonly string[] | undefined, lookup: HostLookup = systemLookup, lookupMs = 3000): Promise<boolean> {
  if (isOwnHost(url, hosts)) return true;
  const host = hostOf(url);
  if (!host || net.isIP(host) === 0) return false;
  const names = (hosts ?? []).map(hostOf).filter((h) => h !== '' && net.isIP(h) === 0);
  for (const name of names) {
    let timer: NodeJS.Timeout | undefined;
    const addresses = await Promise.race([
      lookup(name).catch(() => [] as string[]),
      new Promise<string[]>((resolve) => (timer = setTimeout(() => resolve([]), lookupMs))),
    ]);
    clearTimeout(timer);
    if (addresses.some((a) => hostOf(a) === host)) return true;
  }
  return false;
}

/** Text (a URL, a status, a line of stderr) with every `//user:password@` written `//***@`. */
export function redactCredentials(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/g, '//***@');
}

/** Whether a URL carries a user name or password. */
export function hasCredentials(url: string): boolean {
  try {
    const u = new URL(url);
    return u.username !== '' || u.password !== '';
  } catch {
    return false;
  }
}

/** Whether a URL carries a password (a user name alone is not secret). */
export function hasPassword(url: string): boolean {
  try {
    return new URL(url.trim()).password !== '';
  } catch {
    return false;
  }
}

/** Protocols the script's source may use (ffmpeg's concat demuxer asks for an explicit list). */
const SCRIPT_PROTOCOLS = 'pipe,file,rtsp,rtsps,rtp,srtp,udp,tcp,tls,http,https,httpproxy,crypto';

/**
 * ffmpeg input arguments that read the source from the script on stdin (see concatScript).
 * `protocols`: what the source may use besides `pipe` (the script itself); the concat demuxer
 * hands the list on to the source it opens.
 */
export function scriptInputArgs(protocols = SCRIPT_PROTOCOLS): string[] {
  const list = protocols.split(',').includes('pipe') ? protocols : `pipe,${protocols}`;
  return ['-f', 'concat', '-safe', '0', '-protocol_whitelist', list, '-i', 'pipe:0'];
}

/** scriptInputArgs() for sources a user typed (a microphone's URL may be a local file). */
export const SCRIPT_INPUT_ARGS: readonly string[] = Object.freeze(scriptInputArgs());

/**
 * The concat script that names `url` with its demuxer `options` (name, value). Throws for a
 * line break in either: the script is read line by line, and a break would let a URL (one a
 * camera answered, say) add a `file` line of its own.
 */
export function concatScript(url: string, options: ReadonlyArray<readonly [string, string]> = []): string {
  for (const t of [url, ...options.flat()]) if (/[\r\n]/.test(t)) throw new Error('an ffmpeg source URL or option holds a line break: refused');
  // In a single-quoted token everything is literal up to the next quote; a quote is '\''.
  const quote = (t: string): string => `'${t.replace(/'/g, "'\\''")}'`;
  const lines = ['ffconcat version 1.0', `file ${quote(url)}`];
  for (const [k, v] of options) lines.push(`option ${k} ${quote(v)}`);
  return lines.join('\n') + '\n';
}
