import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BoxSplitter, Fmp4Segmenter, InitSegment, MediaSegment, parseFragment, parseInit } from '../../lib/video/mp4';

function box(type: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + payload.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, payload]);
}

function largeBox(type: string, payload: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32BE(1, 0);
  h.write(type, 4, 'latin1');
  h.writeBigUInt64BE(BigInt(16 + payload.length), 8);
  return Buffer.concat([h, payload]);
}

function fullBox(type: string, version: number, flags: number, body: Buffer): Buffer {
  const vf = Buffer.alloc(4);
  vf.writeUInt32BE(((version & 0xff) << 24) | (flags & 0xffffff), 0);
  return box(type, Buffer.concat([vf, body]));
}

/** Real fragmented MP4 from ffmpeg (H.264 with an AAC track that the relay options drop). */
function ffmpegFmp4(extra: string[] = []): Buffer {
  const r = spawnSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', '3', '-map', '0:v:0', '-an', '-dn', '-sn',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p',
      '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', ...extra, 'pipe:1',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

function segmentAll(bytes: Buffer, chunkSize: number): { init?: InitSegment; segs: MediaSegment[] } {
  let init: InitSegment | undefined;
  const segs: MediaSegment[] = [];
  const s = new Fmp4Segmenter(
    (i) => (init = i),
    (m) => segs.push(m),
  );
  for (let i = 0; i < bytes.length; i += chunkSize) s.push(bytes.subarray(i, i + chunkSize));
  return { init, segs };
}

test('BoxSplitter returns every box whatever the chunking, including 64-bit sizes', () => {
  const boxes = [box('ftyp', Buffer.from('isom0000')), largeBox('moov', Buffer.alloc(37, 7)), box('moof', Buffer.alloc(3, 1)), box('mdat', Buffer.alloc(100, 2))];
  const all = Buffer.concat(boxes);
  for (const chunk of [1, 2, 3, 7, 16, 50, all.length]) {
    const sp = new BoxSplitter();
    const got = [];
    for (let i = 0; i < all.length; i += chunk) got.push(...sp.push(all.subarray(i, i + chunk)));
    assert.deepEqual(
      got.map((b) => b.type),
      ['ftyp', 'moov', 'moof', 'mdat'],
      `chunk ${chunk}`,
    );
    got.forEach((b, i) => assert.ok(b.data.equals(boxes[i]), `box ${i} bytes at chunk ${chunk}`));
    assert.equal(sp.pendingBytes, 0);
  }
});

test('BoxSplitter rejects invalid and oversized boxes', () => {
  const bad = Buffer.alloc(8);
  bad.writeUInt32BE(4, 0);
  bad.write('moof', 4, 'latin1');
  assert.throws(() => new BoxSplitter().push(bad), /invalid size 4/);
  const huge = Buffer.alloc(8);
  huge.writeUInt32BE(0xffffff00, 0);
  huge.write('mdat', 4, 'latin1');
  assert.throws(() => new BoxSplitter().push(huge), /exceeds/);
  const toEnd = Buffer.alloc(8);
  toEnd.write('mdat', 4, 'latin1');
  assert.throws(() => new BoxSplitter().push(toEnd), /end of the stream/);
});

test('parseFragment reads tfdt, sample count, durations and the sync flag', () => {
  const tfhdBody = Buffer.alloc(12);
  tfhdBody.writeUInt32BE(1, 0); // track id
  tfhdBody.writeUInt32BE(3000, 4); // default duration (flag 0x8)
  tfhdBody.writeUInt32BE(0x00010000, 8); // default flags: non-sync (flag 0x20)
  const tfhd = fullBox('tfhd', 0, 0x8 | 0x20, tfhdBody);
  const tfdtBody = Buffer.alloc(8);
  tfdtBody.writeBigUInt64BE(123456789012n, 0);
  const tfdt = fullBox('tfdt', 1, 0, tfdtBody);
  const trunBody = Buffer.alloc(4 + 4);
  trunBody.writeUInt32BE(4, 0); // 4 samples
  trunBody.writeInt32BE(0, 4); // data offset (flag 0x1)
  const trun = fullBox('trun', 0, 0x1, trunBody);
  const moof = box('moof', Buffer.concat([fullBox('mfhd', 0, 0, Buffer.alloc(4)), box('traf', Buffer.concat([tfhd, tfdt, trun]))]));
  const info = parseFragment(moof);
  assert.deepEqual(info, { baseMediaDecodeTime: 123456789012, keyframe: false, sampleCount: 4, duration: 12000 });

  // Same fragment whose first sample is declared a sync sample (trun first_sample_flags 0x4).
  const trun2Body = Buffer.alloc(4 + 4 + 4);
  trun2Body.writeUInt32BE(4, 0);
  trun2Body.writeUInt32BE(0x02000000, 8); // depends on no other, sync
  const trun2 = fullBox('trun', 0, 0x1 | 0x4, trun2Body);
  const moof2 = box('moof', box('traf', Buffer.concat([tfhd, tfdt, trun2])));
  assert.equal(parseFragment(moof2).keyframe, true);
  assert.throws(() => parseFragment(box('mdat', Buffer.alloc(4))), /no moof/);
});

test('segmenter on real ffmpeg output: one init, keyframe fragments with increasing tfdt, any chunking', () => {
  const bytes = ffmpegFmp4();
  const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=profile,level,width,height', '-of', 'json', '-i', 'pipe:0'], { input: bytes });
  const st = (JSON.parse(probe.stdout.toString()) as { streams: { profile: string; level: number; width: number; height: number }[] }).streams[0];
  const byWhole = segmentAll(bytes, bytes.length);
  for (const chunk of [1000, 4096, 65536]) {
    const r = segmentAll(bytes, chunk);
    assert.ok(r.init, 'init segment');
    assert.ok(r.init.data.equals(byWhole.init!.data));
    assert.equal(r.segs.length, byWhole.segs.length);
  }
  const { init, segs } = byWhole;
  assert.ok(init);
  // avcC level byte equals ffprobe's level; High profile is 0x64.
  const expectedProfile = st.profile === 'High' ? '64' : st.profile === 'Main' ? '4d' : '42';
  assert.match(init.info.codec, new RegExp(`^avc1\\.${expectedProfile}[0-9a-f]{2}${st.level.toString(16).padStart(2, '0')}$`));
  assert.equal(init.info.mime, `video/mp4; codecs="${init.info.codec}"`);
  assert.equal(init.info.width, st.width);
  assert.equal(init.info.height, st.height);
  assert.ok(init.info.timescale > 0);
  // 3 s at GOP 25 / 25 fps → 3 fragments, each starting on a keyframe, 1 s apart.
  assert.equal(segs.length, 3);
  segs.forEach((s, i) => {
    assert.equal(s.seq, i);
    assert.equal(s.info.keyframe, true);
    assert.equal(s.info.sampleCount, 25);
    assert.equal(s.data.toString('latin1', 4, 8), 'moof');
  });
  for (let i = 1; i < segs.length; i++) {
    assert.equal(segs[i].info.baseMediaDecodeTime, segs[i - 1].info.baseMediaDecodeTime + segs[i - 1].info.duration);
    assert.ok(segs[i].info.baseMediaDecodeTime > segs[i - 1].info.baseMediaDecodeTime);
  }
  // The segments concatenated after the init are a playable file with 75 frames.
  const replay = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', '-i', 'pipe:0'], {
    input: Buffer.concat([init.data, ...segs.map((s) => s.data)]),
  });
  assert.equal(replay.stdout.toString().trim(), '75');
});

test('fragments cut by duration inside a GOP are marked as not starting on a keyframe', () => {
  const bytes = ffmpegFmp4(['-frag_duration', '200000']);
  const { init, segs } = segmentAll(bytes, 3000);
  assert.ok(init);
  const keys = segs.filter((s) => s.info.keyframe).length;
  assert.ok(segs.length >= 12, `expected fragments of ~0.2 s, got ${segs.length}`);
  assert.equal(keys, 3, 'one keyframe fragment per 1 s GOP');
  assert.equal(segs[0].info.keyframe, true);
});

test('parseInit refuses a segment without video', () => {
  assert.throws(() => parseInit(box('ftyp', Buffer.alloc(8))), /no moov/);
});

test('privacy: a stream that carries an audio track beside the video is refused, whatever the audio codec, never passed on as an init segment', () => {
  for (const codec of [['-c:a', 'aac'], ['-c:a', 'libopus', '-strict', '-2'], ['-c:a', 'alac'], ['-c:a', 'flac', '-strict', '-2']]) {
    // What the relay's options never let ffmpeg produce: the video and the audio both mapped.
    const r = spawnSync(
      'ffmpeg',
      [
        '-hide_banner', '-loglevel', 'error',
        '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25',
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
        '-t', '1', '-map', '0:v:0', '-map', '1:a:0',
        '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', ...codec,
        '-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', 'pipe:1',
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    assert.equal(r.status, 0, r.stderr.toString());
    const inits: InitSegment[] = [];
    const s = new Fmp4Segmenter((i) => inits.push(i), () => undefined);
    assert.throws(() => s.push(r.stdout), /MP4 init segment has a "soun" track beside the video: only video is relayed \(privacy guarantee 4\)/, codec.join(' '));
    assert.deepEqual(inits, [], codec.join(' '));
  }
  // The relay's own output (audio dropped) is taken.
  assert.ok(segmentAll(ffmpegFmp4(), 64 * 1024).init);
});
