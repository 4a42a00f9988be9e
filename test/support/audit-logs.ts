import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENESIS_HASH, listAuditFiles } from '../../lib/alerts/audit';
import { tempDir } from './tmp';

/** One audit line as the writer serialises it: the hash over the body, appended as its last key. */
export function auditLine(body: Record<string, unknown>): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = createHash('sha256').update(json).digest('hex');
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/**
 * A log as an older Vigie left it when NTP set a fast clock back across midnight: it named the
 * file it opened then by the day the clock read, which sorts before the file it follows.
 */
export function legacyBackstepLog(): { dir: string; lastHash: string } {
  const dir = tempDir('vigie-audit-');
  let prev = GENESIS_HASH;
  let seq = 0;
  const files: [string, string | null, string, string][] = [
    ['audit-2026-11-29-001.jsonl', null, '2026-11-29T23:50:00.000Z', 'dismiss'],
    ['audit-2026-11-30-001.jsonl', 'audit-2026-11-29-001.jsonl', '2026-11-30T00:01:00.000Z', 'confirm'],
    ['audit-2026-11-29-002.jsonl', 'audit-2026-11-30-001.jsonl', '2026-11-29T23:58:00.000Z', 'escalate'],
  ];
  for (const [file, previousFile, time, action] of files) {
    const header = auditLine({ v: 1, seq: ++seq, time, type: 'system', actor: 'vigie', details: { event: 'file-open', file, previousFile }, prev });
    const entry = auditLine({ v: 1, seq: ++seq, time, type: 'decision', actor: 'alice', alertId: 'a1', details: { action }, prev: header.hash });
    fs.writeFileSync(path.join(dir, file), `${header.line}\n${entry.line}\n`);
    prev = entry.hash;
  }
  return { dir, lastHash: prev };
}

/**
 * Rewrites the whole chain of `dir` with `edit` applied to each entry (its body, without its
 * hash), every link and hash recomputed: what anyone who can write the directory can do.
 */
export function rewriteChain(dir: string, edit: (body: Record<string, unknown>) => void): void {
  let prev = GENESIS_HASH;
  for (const file of listAuditFiles(dir)) {
    const out: string[] = [];
    for (const l of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const { hash: _hash, ...body } = JSON.parse(l) as Record<string, unknown>;
      edit(body);
      const { line, hash } = auditLine({ ...body, prev });
      out.push(line);
      prev = hash;
    }
    fs.writeFileSync(file, out.join('\n') + '\n');
  }
}
