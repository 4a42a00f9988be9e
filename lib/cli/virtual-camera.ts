/**
 * `vigie virtual-camera`: runs the virtual ONVIF PTZ camera (DESIGN §6) for the demo and for
 * trying ONVIF clients without hardware. Prints its ONVIF, stream and snapshot URLs, and runs
 * until interrupted.
 */
import { parseArgs } from './args';
import { USAGE as USAGES, UsageError } from './usage';
import { CAMERA_QUIRKS, CameraQuirk, VirtualCamera } from '../sim/camera/virtual-camera';

const USAGE = USAGES['virtual-camera'];

/** For `vigie virtual-camera --help`, after the usage line. */
export function help(): string {
  return `quirks: ${CAMERA_QUIRKS.join(', ')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { strings: ['port', 'host', 'user', 'password', 'quirk', 'pan-speed', 'heading', 'name'], booleans: ['degrees', 'rtsp'], usage: USAGE });
  const num = (k: string, dflt: number, min: number, max: number) => {
    const v = a.strings[k];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${k}: expected a number ${min}…${max}, got "${v}"\nusage: ${USAGE}`);
    return n;
  };
  const quirks = (a.strings.quirk ?? '').split(',').map((q) => q.trim()).filter(Boolean) as CameraQuirk[];
  const cam = new VirtualCamera({
    port: num('port', 8899, 0, 65535),
    host: a.strings.host ?? '127.0.0.1',
    username: a.strings.user ?? process.env.VIGIE_CAMERA_USER ?? 'admin',
    password: a.strings.password ?? process.env.VIGIE_CAMERA_PASSWORD ?? 'admin',
    quirks,
    degreeSpace: a.booleans.degrees,
    panSpeedDegPerS: num('pan-speed', 90, 1, 3600),
    mountHeadingDeg: num('heading', 0, -360, 360),
    name: a.strings.name,
    rtsp: a.booleans.rtsp,
  });
  const { onvifPort, url } = await cam.start();
  const base = `http://${a.strings.host && a.strings.host !== '0.0.0.0' ? a.strings.host : '127.0.0.1'}:${onvifPort}`;
  process.stdout.write(
    `virtual ONVIF PTZ camera on port ${onvifPort}\n  ONVIF:    ${url}\n  stream:   ${base}/live.ts (H.264 + a test tone, MPEG-TS)\n  snapshot: ${base}/snapshot.jpg\n` +
      (cam.rtspUrl ? `  rtsp:     ${cam.rtspUrl}\n` : '') +
      (quirks.length ? `  quirks:   ${quirks.join(', ')}\n` : ''),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await cam.stop();
  return 0;
}
