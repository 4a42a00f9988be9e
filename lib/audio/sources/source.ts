/**
 * The interface every capture source implements. A source produces planar float32 blocks
 * ('data'); the Capture that owns it writes them into the sensor's ring. Sources never
 * write audio anywhere else (DESIGN §4: pipes only, no files, no messages).
 *
 * Events:
 *  - 'data'    (channels: Float32Array[], timeSec?: number)  timeSec = wall-clock of the
 *              block's first frame when the source knows it (simulated street, input blocks)
 *  - 'status'  (status: SourceStatus)
 *  - 'error'   (err: Error)  a fault worth telling the user once (missing binary, bad file)
 *  - 'warning' (message: string)  not a fault, but worth telling the user once (the simulated
 *              street plays synthetic stand-ins for clips it cannot find)
 *  - 'restart' (reason: string)  the stream was interrupted; the next data is discontinuous
 *  - 'end'     ()  a finite source (WAV played once) has nothing more
 */
import { EventEmitter } from 'events';

export type SourceState = 'starting' | 'running' | 'restarting' | 'waiting' | 'failed' | 'ended' | 'stopped';

export interface SourceStatus {
  state: SourceState;
  text: string;
}

export abstract class CaptureSource extends EventEmitter {
  abstract readonly kind: string;
  /** Frames per second of the data; 0 until known (input source before its first block). */
  sampleRate = 0;
  /** Channels of the data before any channel map; 0 until known. */
  channels = 0;
  /** True when data arrives at the pace of the real world (timestamps follow the wall clock). */
  realtime = true;
  protected lastStatus: SourceStatus = { state: 'stopped', text: 'stopped' };

  abstract start(): void;
  abstract stop(): Promise<void>;

  get status(): SourceStatus {
    return this.lastStatus;
  }

  protected setStatus(state: SourceState, text: string): void {
    if (this.lastStatus.state === state && this.lastStatus.text === text) return;
    this.lastStatus = { state, text };
    this.emit('status', this.lastStatus);
  }

  protected emitData(channels: Float32Array[], timeSec?: number): void {
    if (channels.length === 0 || channels[0].length === 0) return;
    this.emit('data', channels, timeSec);
  }

  /** 'error' without a listener would throw: sources are always used with one, but be safe. */
  protected fault(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
