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
  /** Poll period of the file watch (fs.watchFile: works on every filesystem), ms; 0 = no watch. */
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
  private readonly onFileChange = (cur: fs.Stats, prev: fs.Stats): void => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
    if (this.users > 0) void this.reload().catch(() => undefined);
  };

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
    fs.watchFile(this.file, { interval: this.watchIntervalMs, persistent: false }, this.onFileChange);
    fs.watchFile(this.cardPath, { interval: this.watchIntervalMs, persistent: false }, this.onFileChange);
  }

  private async stop(): Promise<void> {
    if (this.watching) {
      fs.unwatchFile(this.file, this.onFileChange);
      fs.unwatchFile(this.cardPath, this.onFileChange);
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
