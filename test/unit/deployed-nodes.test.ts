// Deployed config nodes found by their own id or their definition's, with the subflow instance they run in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeployedNodes, scopeOfFlow, sees } from '../../lib/util/deployed-nodes';

/** A top-level camera, one copy per instance i1 and i2 of a subflow's "scam", and one nested in i1. */
function site(): DeployedNodes<string> {
  const d = new DeployedNodes<string>();
  d.register({ node: 'top', id: 'top', definitionId: 'top', scope: [] });
  d.register({ node: 'i1 copy', id: 'i1-scam', definitionId: 'scam', scope: ['i1'] });
  d.register({ node: 'i2 copy', id: 'i2-scam', definitionId: 'scam', scope: ['i2'] });
  d.register({ node: 'nested in i1', id: 'i1-inner-ncam', definitionId: 'ncam', scope: ['i1', 'i1-inner'] });
  return d;
}

test('the scope of a node is the chain of subflow instances around it, outermost first', () => {
  const global = {};
  const tab = { parent: global };
  const outer = { subflowInstance: { id: 'i1' }, parent: tab };
  const inner = { subflowInstance: { id: 'i1-inner' }, parent: outer };
  assert.deepEqual(scopeOfFlow(inner), ['i1', 'i1-inner']);
  assert.deepEqual(scopeOfFlow(tab), []);
  assert.deepEqual(scopeOfFlow(undefined), []);
});

test('a node sees the top level, its own instance and those nested in it; not a sibling instance', () => {
  assert.equal(sees([], ['i1']), true);
  assert.equal(sees(['i1'], []), true);
  assert.equal(sees(['i1'], ['i1', 'x']), true);
  assert.equal(sees(['i1'], ['i2']), false);
});

test('a definition id names the copy of the same instance from inside it, every copy from the top level', () => {
  const d = site();
  assert.deepEqual(d.resolve('scam', ['i1']), ['i1 copy']);
  assert.deepEqual(d.resolve('scam', ['i2']), ['i2 copy']);
  assert.deepEqual(d.resolve('scam', []), ['i1 copy', 'i2 copy']);
  // A running id names that node wherever it is asked from; a top-level id is its own definition's.
  assert.deepEqual(d.resolve('i2-scam', ['i1']), ['i2 copy']);
  assert.deepEqual(d.resolve('top', ['i2']), ['top']);
  assert.deepEqual(d.resolve('nope', []), []);
});

test('every node seen: all from the top level; from an instance, the top level, its own and its nested ones', () => {
  const d = site();
  assert.deepEqual(d.visibleFrom([]), ['top', 'i1 copy', 'i2 copy', 'nested in i1']);
  assert.deepEqual(d.visibleFrom(['i1']), ['top', 'i1 copy', 'nested in i1']);
  assert.deepEqual(d.visibleFrom(['i2']), ['top', 'i2 copy']);
});

test('nearest first: own instance, nested, enclosing, then the ones it does not see', () => {
  const d = site();
  assert.deepEqual(d.nearestFirst(['i2']), ['i2 copy', 'top', 'i1 copy', 'nested in i1']);
  assert.deepEqual(d.nearestFirst(['i1']), ['i1 copy', 'nested in i1', 'top', 'i2 copy']);
  assert.deepEqual(d.nearestFirst([]), ['top', 'i1 copy', 'i2 copy', 'nested in i1']);
});

test('unregistering removes exactly that registration', () => {
  const d = new DeployedNodes<string>();
  const off1 = d.register({ node: 'old', id: 'c', definitionId: 'c', scope: [] });
  d.register({ node: 'new', id: 'c', definitionId: 'c', scope: [] });
  off1();
  off1();
  assert.deepEqual(d.all(), ['new']);
  assert.deepEqual(d.resolve('c', []), ['new']);
});

test('the nearest that match: one when it is clear; the equally near ones when not (two sibling instances\' copies from outside both)', () => {
  const d = site();
  const copies = (n: string) => n.endsWith('copy');
  assert.deepEqual(d.nearestMatching(['i1'], copies).map((e) => e.node), ['i1 copy']);
  assert.deepEqual(d.nearestMatching(['i2', 'x'], copies).map((e) => e.node), ['i2 copy']);
  assert.deepEqual(d.nearestMatching([], copies).map((e) => [e.node, e.definitionId, e.scope]), [
    ['i1 copy', 'scam', ['i1']],
    ['i2 copy', 'scam', ['i2']],
  ]);
  // the top level is nearer from outside both instances
  assert.deepEqual(d.nearestMatching([], (n) => n === 'top' || copies(n)).map((e) => e.node), ['top']);
  assert.deepEqual(d.nearestMatching([], () => false), []);
});

test('in one scope: exactly that place, not the ones it encloses or sees', () => {
  const d = site();
  assert.deepEqual(d.inScope([]).map((e) => e.node), ['top']);
  assert.deepEqual(d.inScope(['i1']).map((e) => e.node), ['i1 copy']);
  assert.deepEqual(d.inScope(['i1', 'i1-inner']).map((e) => e.node), ['nested in i1']);
  assert.deepEqual(d.inScope(['i3']), []);
});
