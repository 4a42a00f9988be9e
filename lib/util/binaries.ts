import * as fs from 'fs';
import * as path from 'path';

/**
 * Find an executable: an explicit path (node setting), then an environment variable
 * (e.g. VIGIE_FFMPEG), then PATH. Returns undefined when none is found so the caller
 * can say so clearly, once.
 */
export function findBinary(name: string, opts: { explicit?: string; envVar?: string } = {}): string | undefined {
  const candidates: string[] = [];
  if (opts.explicit) candidates.push(opts.explicit);
  if (opts.envVar && process.env[opts.envVar]) candidates.push(process.env[opts.envVar]!);
  if (candidates.length) {
    for (const c of candidates) if (isExecutable(c)) return c;
    return undefined; // an explicit choice that does not exist must not silently fall back
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
