/**
 * Links between the documents (README.md, docs/*.md): every relative link names a file of the
 * repository, and every `#anchor` a heading of its target as GitHub renders it, so that a
 * renamed heading (a model version in a title) does not leave links pointing nowhere.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { repoRoot } from '../support/nodered';

/**
 * A heading's anchor as GitHub makes it: the text without link targets, lower case, every
 * character but letters, digits, `_`, `-` and spaces dropped, spaces turned into `-`.
 */
function githubAnchor(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The text outside fenced code blocks (a `#` line there is no heading, a `](…)` no link). */
const prose = (text: string) => text.replace(/^[ \t]*```[\s\S]*?^[ \t]*```/gm, '');

/** The anchors of a Markdown text: its headings' (a repeated one gets -1, -2 …) and explicit `<a id>`/`<a name>`. */
function anchorsOf(text: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(text).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const a = githubAnchor(m[1]);
    const n = seen.get(a) ?? 0;
    seen.set(a, n + 1);
    out.add(n ? `${a}-${n}` : a);
  }
  for (const m of text.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** Broken relative links of `file` (relative to `root`), read from `text`. */
function brokenLinks(root: string, file: string, text: string): string[] {
  const problems: string[] = [];
  for (const m of prose(text).matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [filePart, anchor] = target.split('#');
    const targetFile = filePart ? path.normalize(path.join(path.dirname(file), filePart)) : file;
    const full = path.join(root, targetFile);
    if (!fs.existsSync(full)) {
      problems.push(`${file}: (${target}): no file ${targetFile}`);
      continue;
    }
    if (anchor === undefined || !targetFile.endsWith('.md')) continue;
    const targetText = targetFile === file ? text : fs.readFileSync(full, 'utf8');
    if (!anchorsOf(targetText).has(anchor)) problems.push(`${file}: (${target}): no heading #${anchor} in ${targetFile}`);
  }
  return problems;
}

const docs = ['README.md', ...fs.readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

test("anchors are made as GitHub makes them from a heading's text", () => {
  assert.equal(githubAnchor('Results of the shipped model (vigie-street-v1 1.2.1, measured)'), 'results-of-the-shipped-model-vigie-street-v1-121-measured');
  assert.equal(githubAnchor('5. The virtual camera'), '5-the-virtual-camera');
  assert.equal(githubAnchor('Cost (`npx tsx bench/localize.ts`)'), 'cost-npx-tsx-benchlocalizets');
  assert.equal(githubAnchor('Vigie — street sound to camera to operator, in Node-RED'), 'vigie--street-sound-to-camera-to-operator-in-node-red');
  assert.equal(githubAnchor('See [privacy](privacy.md) first'), 'see-privacy-first');
  assert.deepEqual([...anchorsOf('# A\n## Notes\n```\n# not a heading\n```\n### Notes\n<a id="here"></a>\n')], ['a', 'notes', 'notes-1', 'here']);
});

test('the check finds a link to a missing heading and to a missing file', () => {
  const text = '# Title\n\nSee [here](#title), [there](#gone), [install](docs/install.md#running), [old](docs/install.md#no-such-part), [nothing](docs/none.md).\n';
  assert.deepEqual(brokenLinks(repoRoot, 'README.md', text), [
    'README.md: (#gone): no heading #gone in README.md',
    'README.md: (docs/install.md#no-such-part): no heading #no-such-part in docs/install.md',
    'README.md: (docs/none.md): no file docs/none.md',
  ]);
});

test('every relative link of README.md and docs/*.md names a file of the repository and a heading it has', () => {
  const problems: string[] = [];
  let anchored = 0;
  for (const f of docs) {
    const text = fs.readFileSync(path.join(repoRoot, f), 'utf8');
    anchored += [...prose(text).matchAll(/\]\([^)\s#:]*#[^)\s]+\)/g)].length;
    problems.push(...brokenLinks(repoRoot, f, text));
  }
  assert.ok(anchored >= 20, `links to headings found: ${anchored}`);
  assert.deepEqual(problems, []);
});
