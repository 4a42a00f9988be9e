/**
 * The shared clip pool (../shared/data next to the repository, or VIGIE_DATA_DIR), found as
 * training/data.py finds it. Tests that need it skip without it on a developer's machine; CI
 * has it (CI=true), so there its absence is a failure, not a silent skip.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultDataDir } from '../../lib/sim/scene';

export const DATA_DIR = defaultDataDir();

/** CI=true (or any value but empty, 0, false, no), as training/test_training.py reads it. */
export const IN_CI = !['', '0', 'false', 'no'].includes((process.env.CI ?? '').trim().toLowerCase());

export function sharedDataAvailable(): boolean {
  return fs.existsSync(path.join(DATA_DIR, 'urban-sounds', 'manifest.csv'));
}

/** The `skip` option of a test that needs the data: false (run it) when the data is there or in CI. */
export function skipWithoutSharedData(): false | string {
  return sharedDataAvailable() || IN_CI ? false : `no data at ${DATA_DIR} (set VIGIE_DATA_DIR)`;
}

/** First line of such a test: in CI without the data, fail saying so (rather than on a missing file). */
export function requireSharedData(): void {
  if (!sharedDataAvailable()) throw new Error(`CI=true but no shared data at ${DATA_DIR} (urban-sounds/manifest.csv; set VIGIE_DATA_DIR)`);
}
