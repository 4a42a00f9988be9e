import * as fs from 'fs';
import * as path from 'path';

/** The package's root folder and package.json, found from here whether running from source or dist/. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      try {
        if (JSON.parse(fs.readFileSync(p, 'utf8')).name === 'node-red-dashboard-2-vigie') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root of node-red-dashboard-2-vigie not found');
    dir = up;
  }
}

export function packageInfo(): { name: string; version: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
  return { name: pkg.name, version: pkg.version };
}
