/**
 * One shared, reference-counted classifier model per file (what the vigie-model config node
 * owns). Loads when the first user registers, releases the session when the last one
 * leaves, and reloads when the ONNX file or its card changes on disk — so a broken or
 * missing model is fixed by copying a good one in place, without redeploying.
 */
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../util/package-info';
import { cardPathFor, ClassifierModel } from './model';

export const DEFAULT_MODEL_FILE = 'vigie-street-v1.onnx';

/** The model shipped in the package's models/ folder. */
export function defaultModelPath(): string {
  return path.join(packageRoot(), 'models', DEFAULT_MODEL_FILE);
}

export type ModelSourceState =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'ready'; model: ClassifierModel }
  | { state: 'failed'; error: Error };

export interface ModelSourceOptions {
  cardPath?: string;
  /** Poll period of the file watch (a stat of both files: works on every filesystem), ms; 0 = no watch. */
  watchIntervalMs?: number;
  /** Loader (tests); default ClassifierModel.load. */
  load?: (file: string, opts: { cardPath?: string }) => Promise<ClassifierModel>;
}

export class ModelSource extends EventEmitter {
  readonly file: string;
  readonly cardPath: string;
  private readonly watchIntervalMs: number;
  private readonly loader: (file: string, opts: { cardPath?: string }) => Promise<ClassifierModel>;
  private users = 0;
  private current: ModelSourceState = { state: 'idle' };
  private loading: Promise<ClassifierModel> | undefined;
  private generation = 0;
  private watching = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /**
   * Size, modification time and inode of the ONNX file and its card as the last load found
   * them. The watch compares the files with this, not with its own previous look: a file
   * replaced between a load and the watch's first look (a fast failure, then a fixed file)
   * is still a change.
   */
  private loadedStamp: string | undefined;

  constructor(file: string, opts: ModelSourceOptions = {}) {
    super();
    this.file = path.resolve(file);
    this.cardPath = opts.cardPath ? path.resolve(opts.cardPath) : cardPathFor(this.file);
    this.watchIntervalMs = opts.watchIntervalMs ?? 2000;
    this.loader = opts.load ?? ((f, o) => ClassifierModel.load(f, o));
  }

  get state(): ModelSourceState {
    return this.current;
  }

  get userCount(): number {
    return this.users;
  }

  /** A user (classifier node) starts; the first one triggers loading. */
  register(): void {
    this.users++;
    if (this.users === 1) {
      this.watch();
      void this.reload().catch(() => undefined);
    }
  }

  /** A user leaves; the last one releases the session. */
  async deregister(): Promise<void> {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0) await this.stop();
  }

  /** The ready model (waits while loading); rejects with the load error when it failed. */
  async get(): Promise<ClassifierModel> {
    const s = this.current;
    if (s.state === 'ready') return s.model;
    if (this.loading) return this.loading;
    if (s.state === 'failed') throw s.error;
    throw new Error('model not loaded: no user registered');
  }

  /**
   * Load (again) from disk. While a model is ready it keeps serving until the new one has
   * loaded; then the old session is released. If the new file is broken, the old model
   * stays and a "reload-failed" event says why.
   */
  reload(): Promise<ClassifierModel> {
    const gen = ++this.generation;
    this.loadedStamp = filesStamp([this.file, this.cardPath]);
    const hadModel = this.current.state === 'ready';
    if (!hadModel) this.setState({ state: 'loading' });
    // A load replaced by a newer one (the file changed again while it ran) hands whoever waits
    // for it on to the newer load: they get the newer model, or its error, never "superseded".
    const superseded = (): Promise<ClassifierModel> => (this.users > 0 ? this.get() : Promise.reject(new Error('model load superseded: no user left')));
    const p = this.loader(this.file, { cardPath: this.cardPath }).then(
      async (model) => {
        if (gen !== this.generation || this.users === 0) {
          await model.release(); // superseded, or nobody wants it any more
          return superseded();
        }
        this.loading = undefined;
        const prev = this.current.state === 'ready' ? this.current.model : undefined;
        this.setState({ state: 'ready', model });
        if (prev) await prev.release().catch(() => undefined);
        return model;
      },
      (err: Error) => {
        if (gen !== this.generation) return superseded();
        this.loading = undefined;
        if (this.current.state === 'ready') this.emit('reload-failed', err);
        else this.setState({ state: 'failed', error: err });
        throw err;
      },
    );
    if (!hadModel) this.loading = p;
    return p;
  }

  private setState(s: ModelSourceState): void {
    this.current = s;
    this.emit('state', s);
  }

  private watch(): void {
    if (this.watching || this.watchIntervalMs <= 0) return;
    this.watching = true;
    this.pollTimer = setInterval(() => void this.poll(), this.watchIntervalMs);
    this.pollTimer.unref?.(); // never what keeps the process up
  }

  /** Reloads when either file differs from what the last load found. */
  private async poll(): Promise<void> {
    if (this.polling || this.users === 0) return;
    this.polling = true;
    try {
      const stamp = await filesStampAsync([this.file, this.cardPath]);
      if (this.watching && this.users > 0 && stamp !== this.loadedStamp) void this.reload().catch(() => undefined);
    } finally {
      this.polling = false;
    }
  }

  private async stop(): Promise<void> {
    if (this.watching) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      this.watching = false;
    }
    this.generation++;
    this.loading = undefined;
    const model = this.current.state === 'ready' ? this.current.model : undefined;
    this.setState({ state: 'idle' });
    if (model) await model.release().catch(() => undefined);
  }

  /** Release everything whatever the user count (the config node closes). */
  async close(): Promise<void> {
    this.users = 0;
    await this.stop();
    this.removeAllListeners();
  }
}

/** What tells a changed file: size, modification time and inode of each ("missing" when absent). */
function statStamp(s: fs.Stats | undefined): string {
  return s ? `${s.size}:${s.mtimeMs}:${s.ino}` : 'missing';
}

function filesStamp(files: string[]): string {
  return files.map((f) => statStamp(fs.statSync(f, { throwIfNoEntry: false }))).join('|');
}

async function filesStampAsync(files: string[]): Promise<string> {
  const stats = await Promise.all(files.map((f) => fs.promises.stat(f).catch(() => undefined)));
  return stats.map(statStamp).join('|');
}
