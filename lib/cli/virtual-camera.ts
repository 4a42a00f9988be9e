/**
 * `vigie virtual-camera`: runs the virtual ONVIF PTZ camera (DESIGN §6) for the demo and for
 * trying ONVIF clients without hardware. Prints its ONVIF, stream and snapshot URLs, and runs
 * until interrupted.
 */
import { numberOption, parseArgs, PORT_RULE } from './args';
import { USAGE as USAGES, UsageError } from './usage';
import { CAMERA_QUIRKS, CameraQuirk, DEFAULT_CAMERA_NAME, VirtualCamera } from '../sim/camera/virtual-camera';

const USAGE = USAGES['virtual-camera'];

const DEFAULT_PORT = 8899;
const DEFAULT_PAN_SPEED_DEG_PER_S = 90;
const DEFAULT_HEADING_DEG = 0;
const PAN_SPEED_RULE = { min: 1, max: 3600, unit: 'degrees per second' };
const HEADING_RULE = { min: -360, max: 360, unit: 'degrees' };

/** What each quirk imitates, for --help (a Record: a quirk added without its line does not compile). */
const QUIRK_MEANINGS: Record<CameraQuirk, string> = {
  noAbsoluteMove: 'AbsoluteMove answers a SOAP fault (some Reolink)',
  noRelativeMove: 'RelativeMove answers a SOAP fault',
  noContinuousMove: 'ContinuousMove answers a SOAP fault',
  continuousIgnoresTimeout: 'ContinuousMove keeps moving past its Timeout until Stop',
  moveStatusNeverUpdated: 'GetStatus always says IDLE (some Hikvision firmware)',
  rejectStop: 'Stop answers a SOAP fault (a zero-velocity ContinuousMove still stops it)',
  presetsDoNothing: 'GotoPreset is accepted but nothing moves (erased presets)',
  continuousNeedsBothAxes: 'ContinuousMove only moves when pan and tilt speeds are both non-zero (some Reolink)',
  relativeMoveIgnored: 'RelativeMove is accepted but nothing moves',
};

/** For `vigie virtual-camera --help`, after the usage line. */
export function help(): string {
  const width = Math.max(...CAMERA_QUIRKS.map((q) => q.length));
  return (
    '\nRuns a virtual ONVIF PTZ camera (a SOAP server with digest authentication, finite slew speed and\n' +
    'presets) until interrupted, and prints its ONVIF, live stream (/live.ts, H.264 with a test tone,\n' +
    'MPEG-TS over HTTP) and snapshot (/snapshot.jpg) URLs. Its picture is a synthetic street with a\n' +
    'compass and the current pan, tilt and zoom (docs/cameras.md).\n\n' +
    'options:\n' +
    `  --port N                  its ONVIF and HTTP port, ${PORT_RULE.min} to ${PORT_RULE.max} (default ${DEFAULT_PORT}; 0: any free port)\n` +
    '  --host ADDRESS            where it listens (default 127.0.0.1; 0.0.0.0: every interface)\n' +
    '  --user U                  its account, given with --password (default: VIGIE_CAMERA_USER, else admin)\n' +
    '  --password P              its password, given with --user (default: VIGIE_CAMERA_PASSWORD, else admin)\n' +
    '  --quirk X[,Y]             imitate vendors\' faults, see quirks below (default: none)\n' +
    '  --degrees                 advertise and default to a degree pan/tilt space instead of the generic -1…1\n' +
    '  --rtsp                    also serve the stream over RTSP through GStreamer\'s RTSP server\n' +
    `  --pan-speed DEG_PER_S     how fast it turns, degrees per second, tilting as fast, ${PAN_SPEED_RULE.min} to ${PAN_SPEED_RULE.max} (default ${DEFAULT_PAN_SPEED_DEG_PER_S})\n` +
    `  --heading DEG             the bearing its pan zero faces on the picture's compass, degrees, ${HEADING_RULE.min} to ${HEADING_RULE.max} (default ${DEFAULT_HEADING_DEG}, north)\n` +
    '  --upside-down             mounted upside down: seen from above its pan turns the other way and its\n' +
    '                            tilt is reversed (its head tilts -20…90: from 20° up to straight down);\n' +
    '                            set its camera counter-clockwise with a tilt range of 20 … -90\n' +
    `  --name TEXT               the name written on its picture (default "${DEFAULT_CAMERA_NAME}")\n\n` +
    'quirks:\n' +
    CAMERA_QUIRKS.map((q) => `  ${q.padEnd(width)}  ${QUIRK_MEANINGS[q]}\n`).join('') +
    '\nenvironment:\n' +
    '  VIGIE_FFMPEG  the ffmpeg that encodes the live stream (default: ffmpeg on PATH)\n'
  );
}

/** The quirks of `--quirk X[,Y]`; a name that is not a quirk is a wrong command line. */
export function parseQuirks(value: string | undefined): CameraQuirk[] {
  const quirks = (value ?? '').split(',').map((q) => q.trim()).filter(Boolean);
  const unknown = quirks.filter((q) => !(CAMERA_QUIRKS as readonly string[]).includes(q));
  if (unknown.length) throw new UsageError(`--quirk: unknown quirk${unknown.length > 1 ? 's' : ''} ${unknown.map((q) => `"${q}"`).join(', ')}; the quirks are ${CAMERA_QUIRKS.join(', ')}\nusage: ${USAGE}`);
  return quirks as CameraQuirk[];
}

export async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, { strings: ['port', 'host', 'user', 'password', 'quirk', 'pan-speed', 'heading', 'name'], booleans: ['degrees', 'rtsp', 'upside-down'], usage: USAGE });
  // One without the other would pair it with the environment's or the default's other half:
  // a camera whose account is neither what was given nor what was asked for.
  const given = (['user', 'password'] as const).filter((o) => a.strings[o] !== undefined);
  if (given.length === 1) {
    const missing = given[0] === 'user' ? 'password' : 'user';
    throw new UsageError(`--user and --password go together: --${given[0]} was given without --${missing}\nusage: ${USAGE}`);
  }
  const quirks = parseQuirks(a.strings.quirk);
  const cam = new VirtualCamera({
    port: numberOption(a, 'port', PORT_RULE, USAGE) ?? DEFAULT_PORT,
    host: a.strings.host ?? '127.0.0.1',
    username: a.strings.user ?? process.env.VIGIE_CAMERA_USER ?? 'admin',
    password: a.strings.password ?? process.env.VIGIE_CAMERA_PASSWORD ?? 'admin',
    quirks,
    degreeSpace: a.booleans.degrees,
    panSpeedDegPerS: numberOption(a, 'pan-speed', PAN_SPEED_RULE, USAGE) ?? DEFAULT_PAN_SPEED_DEG_PER_S,
    mountHeadingDeg: numberOption(a, 'heading', HEADING_RULE, USAGE) ?? DEFAULT_HEADING_DEG,
    name: a.strings.name,
    rtsp: a.booleans.rtsp,
    // Its head upside down tilts from 20° up to straight down, as an upright one does.
    ...(a.booleans['upside-down'] ? { upsideDown: true, tiltMinDeg: -20, tiltMaxDeg: 90 } : {}),
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
