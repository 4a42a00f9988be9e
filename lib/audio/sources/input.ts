/**
 * Audio blocks arriving on the node's input. They carry no samples (DESIGN §2): this source
 * reads each block's span from the upstream sensor's ring (same process) and passes the
 * samples on, so the capture writes them, channel-mapped, into its own sensor's ring. Used to
 * split one array into sub-arrays, or to give a derived sensor its own ring.
 */
import { AudioBlock, validateAudioBlock } from '../../contracts';
import { readSpan, spanReadError } from '../registry';
import { CaptureSource } from './source';

export class InputSource extends CaptureSource {
  readonly kind = 'input';
  private running = false;
  private upstream = '';
  private nextStart = -1;

  constructor() {
    super();
    this.realtime = true;
  }

  start(): void {
    this.running = true;
    this.setStatus('waiting', 'waiting for audio blocks');
  }

  /**
   * Take one upstream block. Throws an Error naming the field when the block cannot be used
   * (the node passes it to done(err)); returns the number of frames forwarded.
   */
  push(payload: unknown, ownSensor?: string): number {
    if (!this.running) throw new Error('input source is not running');
    const block: AudioBlock = validateAudioBlock(payload);
    if (ownSensor && block.sensor === ownSensor) {
      throw new Error(`payload.sensor: expected another sensor than this node's own ("${ownSensor}"): a capture cannot read its own ring`);
    }
    if (this.sampleRate && (block.sampleRate !== this.sampleRate || block.sensor !== this.upstream)) {
      if (block.sensor !== this.upstream) throw new Error(`payload.sensor: expected "${this.upstream}" (the first upstream sensor), got "${block.sensor}"`);
      throw new Error(`payload.sampleRate: expected ${this.sampleRate} Hz as before, got ${block.sampleRate}`);
    }
    const r = readSpan({ sensor: block.sensor, start: block.start, frames: block.frames });
    if (!r.ok) {
      // The next block after a lost one is discontinuous.
      this.nextStart = -1;
      throw spanReadError({ sensor: block.sensor, start: block.start, frames: block.frames }, r);
    }
    try {
      return this.deliver(block, r.channels);
    } finally {
      // The copy read from the upstream ring is zeroed once this capture has written it to its own (DESIGN §4.2).
      for (const c of r.channels) c.fill(0);
    }
  }

  private deliver(block: AudioBlock, channels: Float32Array[]): number {
    if (!this.sampleRate) {
      this.sampleRate = block.sampleRate;
      this.channels = channels.length;
      this.upstream = block.sensor;
    } else if (channels.length !== this.channels) {
      throw new Error(`payload.channels: expected ${this.channels} as before, got ${channels.length}`);
    }
    if (this.nextStart >= 0 && block.start !== this.nextStart) {
      this.emit('restart', `upstream "${block.sensor}" jumped from frame ${this.nextStart} to ${block.start}`);
    }
    this.nextStart = block.start + block.frames;
    this.setStatus('running', `from ${block.sensor}`);
    this.emitData(channels, block.time);
    return block.frames;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.nextStart = -1;
    this.setStatus('stopped', 'stopped');
  }
}
