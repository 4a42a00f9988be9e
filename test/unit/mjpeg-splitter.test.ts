import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { isJpeg, JpegSplitter } from '../../lib/video/jpeg';
import { mjpegArgs, liveArgs, frameGrabArgs, VIDEO_ONLY, withCredentials, classifyFfmpegExit, inputScript, hasCredentials } from '../../lib/video/ffmpeg';
import { redactCredentials } from '../../lib/util/url-credentials';

function ffmpegJpegs(n: number): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', String(n), '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

test('JpegSplitter splits real ffmpeg JPEGs whatever the chunking', () => {
  const bytes = ffmpegJpegs(5);
  for (const chunk of [1, 13, 512, bytes.length]) {
    const sp = new JpegSplitter();
    const frames: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += chunk) frames.push(...sp.push(bytes.subarray(i, i + chunk)));
    assert.equal(frames.length, 5, `chunk ${chunk}`);
    for (const f of frames) assert.ok(isJpeg(f));
    assert.ok(Buffer.concat(frames).equals(bytes), 'frames cover the stream exactly');
  }
});

test('JpegSplitter ignores FFD9 inside a marker segment and skips leading garbage', () => {
  // SOI, APP0 segment whose payload contains FF D9, SOS with entropy data holding FF00 and RST, EOI.
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x06, 0xff, 0xd9, 0x01, 0x02]);
  const sos = Buffer.from([0xff, 0xda, 0x00, 0x04, 0x00, 0x00]);
  const data = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
  const img = Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sos, data, Buffer.from([0xff, 0xd9])]);
  const sp = new JpegSplitter();
  const out = sp.push(Buffer.concat([Buffer.from('garbage'), img, img.subarray(0, 5)]));
  assert.equal(out.length, 1);
  assert.ok(out[0].equals(img));
  const rest = sp.push(img.subarray(5));
  assert.equal(rest.length, 1);
  assert.ok(rest[0].equals(img));
});

test('every ffmpeg command maps video only and drops audio, data and subtitles', () => {
  const cmds = [liveArgs('rtsp://cam/x'), mjpegArgs('http://cam/x', { fps: 5, width: 640 }), frameGrabArgs('rtsp://cam/x')];
  for (const args of cmds) {
    const i = args.indexOf('-map');
    assert.deepEqual(args.slice(i, i + VIDEO_ONLY.length), VIDEO_ONLY);
    assert.ok(!args.some((a) => /^-(c:a|acodec|map)$/.test(a) && args[args.indexOf(a) + 1]?.includes(':a')), 'no audio mapping');
  }
  const live = liveArgs('rtsp://cam/x');
  assert.deepEqual(live.slice(live.indexOf('-rtsp_transport'), live.indexOf('-rtsp_transport') + 2), ['-rtsp_transport', 'tcp']);
  assert.ok(live.includes('copy'));
  assert.ok(live.includes('frag_keyframe+empty_moov+default_base_moof'));
  assert.equal(live[live.length - 1], 'pipe:1');
  assert.ok(!liveArgs('http://cam/x').includes('-rtsp_transport'));
  assert.ok(liveArgs('rtsp://cam/x', { transport: 'udp' }).includes('udp'));
  const mj = mjpegArgs('rtsp://cam/x', { fps: 3, width: 320 });
  assert.ok(mj.some((a) => a.startsWith('fps=3,scale=')));
});

test('credentials are inserted for ffmpeg and removed from anything shown', () => {
  assert.equal(withCredentials('rtsp://h:554/s', 'u s', 'p@ss'), 'rtsp://u%20s:p%40ss@h:554/s');
  assert.equal(withCredentials('rtsp://a:b@h/s', 'u', 'p'), 'rtsp://a:b@h/s');
  assert.equal(redactCredentials('rtsp://u:secret@h:554/s'), 'rtsp://***@h:554/s');
  // The same rule as the audio sources: a URL is shown as typed, credentials (even a user alone) hidden.
  assert.equal(redactCredentials('http://cam.local'), 'http://cam.local');
  assert.equal(redactCredentials('rtsp://admin@h/s'), 'rtsp://***@h/s');
  assert.equal(redactCredentials('rtsp://u:p@a/s then rtsp://v:q@b/t'), 'rtsp://***@a/s then rtsp://***@b/t');
  const e = classifyFfmpegExit('method DESCRIBE failed: 401 Unauthorized\nrtsp://u:secret@h:554/s: Server returned 401', 'rtsp://u:secret@h:554/s', 1, null);
  assert.equal(e.code, 'unauthorized');
  assert.ok(!e.message.includes('secret'));
  assert.equal(classifyFfmpegExit('Server returned 404 Not Found', 'rtsp://h/s', 1, null).code, 'not-found');
  assert.equal(classifyFfmpegExit('Connection to tcp://h:1 failed: Connection refused', 'rtsp://h:1/s', 1, null).code, 'refused');
  const other = classifyFfmpegExit('something odd u:secret happened', 'rtsp://u:secret@h/s', 1, null);
  assert.equal(other.code, 'failed');
});

test('a URL with credentials is never on the command line: ffmpeg reads it from a concat script on stdin', () => {
  const url = withCredentials('rtsp://cam:554/s', 'operator7', "it's \"odd\"");
  for (const args of [liveArgs(url), mjpegArgs(url, { fps: 5, width: 640 }), frameGrabArgs(url)]) {
    assert.ok(!args.some((a) => a.includes('operator7') || a.includes('odd') || a.includes('cam:554')), args.join(' '));
    assert.deepEqual(args.slice(args.indexOf('-f'), args.indexOf('-i') + 2), ['-f', 'concat', '-safe', '0', '-protocol_whitelist', args[args.indexOf('-protocol_whitelist') + 1], '-i', 'pipe:0']);
    assert.ok(args.includes('-nostdin'), 'stdin is read as an input, never as keyboard commands');
  }
  const script = inputScript(url, { transport: 'udp', ioTimeoutMs: 5000 })!;
  const lines = script.trim().split('\n');
  assert.equal(lines[0], 'ffconcat version 1.0');
  // a quote inside a single-quoted token is written '\''
  assert.equal(lines[1], `file 'rtsp://operator7:it'\\''s%20%22odd%22@cam:554/s'`);
  assert.ok(lines.includes("option rtsp_transport 'udp'") && lines.includes("option timeout '5000000'"), script);
  // no credentials: the URL stays on the command line and there is no script
  assert.equal(inputScript('rtsp://cam/x'), undefined);
  assert.ok(liveArgs('rtsp://cam/x').includes('rtsp://cam/x'));
  assert.equal(hasCredentials('rtsp://:p@cam/x'), true);
  assert.equal(hasCredentials('not a url'), false);
});
