/**
 * Optional RTSP face of the virtual camera: GStreamer's RTSP server (python3-gi, Debian's
 * /usr/bin/python3) re-serves the camera's own HTTP MPEG-TS stream (H.264 + MP2 tone) as RTSP,
 * so clients that only speak RTSP can be tried. The media is shared and built when the first
 * RTSP client arrives (which in turn starts the camera's encoder).
 */
import { ChildProcess } from 'child_process';
import * as fs from 'fs';
import { endWithThisProcess, spawnEndingWithThisProcess } from '../../util/child-exit';

const SERVER_PY = String.raw`
import signal, sys
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import GLib, Gst, GstRtspServer
source, mount = sys.argv[1], sys.argv[2]
Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service('0')
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch('( souphttpsrc location=' + source + ' is-live=true do-timestamp=true ! tsdemux name=d '
  'd. ! queue ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 '
  'd. ! queue ! mpegaudioparse ! rtpmpapay name=pay1 pt=97 )')
factory.set_shared(True)
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    print('ERROR could not listen', flush=True)
    sys.exit(1)
loop = GLib.MainLoop()
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
print('READY %d' % server.get_bound_port(), flush=True)
loop.run()
`;

export function findSystemPython(): string | undefined {
  for (const p of [process.env.VIGIE_PYTHON, '/usr/bin/python3']) if (p && fs.existsSync(p)) return p;
  return undefined;
}

export class RtspFace {
  private child?: ChildProcess;
  port = 0;

  constructor(
    private readonly sourceUrl: string,
    readonly mount = '/live',
  ) {}

  get running(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  async start(timeoutMs = 20_000): Promise<number> {
    const python = findSystemPython();
    if (!python) throw new Error('RTSP needs /usr/bin/python3 with python3-gi and gir1.2-gst-rtsp-server-1.0 (or set VIGIE_PYTHON)');
    // It never writes once ready, so no closed pipe would end it: it dies with this process
    // (setpriv where it works, even on SIGKILL; else on this process's exit).
    const child = spawnEndingWithThisProcess(python, ['-c', SERVER_PY, this.sourceUrl, this.mount], { stdio: ['ignore', 'pipe', 'pipe'] });
    endWithThisProcess(child);
    this.child = child;
    let errText = '';
    child.stderr!.on('data', (c: Buffer) => (errText = (errText + c.toString()).slice(-1000)));
    this.port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error('RTSP server did not start in time')), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /READY (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        } else if (/ERROR/.test(out)) fail(new Error(`RTSP server: ${out.trim()}`));
      });
      child.once('exit', (code) => fail(new Error(`RTSP server exited with ${code}: ${errText.trim().slice(-300)}`)));
      child.once('error', fail);
    });
    return this.port;
  }

  get url(): string {
    return `rtsp://127.0.0.1:${this.port}${this.mount}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
