/**
 * A real Mosquitto broker (Debian's /usr/sbin/mosquitto) on a loopback port, with its
 * configuration and password file in a temporary directory and no persistence: it keeps
 * nothing on disk and forgets every session and queued message when it stops.
 *
 * The broker can be stopped and started again on the same port (the "broker gone" fault).
 * It never outlives the test process: each broker runs under a small shell that kills it when
 * the test process's end of a pipe closes, which happens however the test process ends
 * (finished, failed, killed).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { freePort } from './nodered';
import { tempDir } from './tmp';
import { waitFor } from './wait';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface Mosquitto {
  port: number;
  url: string;
  user: string;
  password: string;
  /** Everything the broker logged since it was created (all runs). */
  log(): string;
  running(): boolean;
  /** Starts the broker (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the broker; resolves once the process has exited. Safe to call when stopped. */
  stop(): Promise<void>;
}

// Runs mosquitto in the background and stops it on SIGTERM, or when stdin (a pipe from the
// test process) reaches end of file because the test process is gone.
// The watcher is stopped once mosquitto has exited, so it never signals a reused pid.
const WATCHDOG = `
exec 3<&0
"$0" -c "$1" &
pid=$!
( read -r _ <&3; kill "$pid" 2>/dev/null ) &
watcher=$!
trap 'kill "$pid" 2>/dev/null' TERM INT
wait "$pid"
wait "$pid" 2>/dev/null # again, when the trap interrupted the first wait
kill "$watcher" 2>/dev/null
`;

/** A TLS listener's files (PEM): the broker's certificate chain and key. */
export interface MosquittoTls {
  certFile: string;
  keyFile: string;
}

export async function createMosquitto(opts: { user?: string; password?: string; tls?: MosquittoTls; /** More lines of mosquitto.conf (max_packet_size 2000…). */ extraConfig?: string[] } = {}): Promise<Mosquitto> {
  if (!fs.existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} not found: install Debian's mosquitto (npm run setup does)`);
  const dir = tempDir('vigie-mosquitto-');
  const port = await freePort();
  const user = opts.user ?? 'vigie';
  const password = opts.password ?? 'vigie-test-password';
  const pwfile = path.join(dir, 'passwd');
  fs.writeFileSync(pwfile, '');
  execFileSync('mosquitto_passwd', ['-b', pwfile, user, password], { stdio: 'pipe' });
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      // Run as root (a container's CI), mosquitto would switch to the "mosquitto" user, which
      // cannot read this private directory: stay the user the tests run as.
      `user ${os.userInfo().username}`,
      `listener ${port} 127.0.0.1`,
      // TLS only on this listener: a client that speaks plain MQTT to it is refused.
      ...(opts.tls ? [`certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`] : []),
      'allow_anonymous false',
      `password_file ${pwfile}`,
      'persistence false',
      ...(opts.extraConfig ?? []),
      'log_dest stderr',
      // Every packet, with client ids and topics (no payloads): tests read the order of events.
      'log_type all',
      'log_timestamp_format %H:%M:%S',
      '',
    ].join('\n'),
  );

  let proc: ChildProcess | undefined;
  let out = '';
  const running = () => !!proc && proc.exitCode === null && proc.signalCode === null;

  const stop = async (): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  };

  const start = async (): Promise<void> => {
    if (running()) return;
    const p = spawn('/bin/sh', ['-c', WATCHDOG, MOSQUITTO, conf], { stdio: ['pipe', 'pipe', 'pipe'] });
    proc = p;
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(async () => {
        if (!running()) throw new Error(`mosquitto exited (${p.exitCode ?? p.signalCode}):\n${out}`);
        return accepts(port);
      }, 15_000, `mosquitto listening on ${port}`);
    } catch (err) {
      await stop();
      throw new Error(`${(err as Error).message}\n${out}`);
    }
  };

  // The shell watchdog ends the broker when this process goes, however it goes.
  await start();
  return { port, url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, user, password, log: () => out, running, start, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
