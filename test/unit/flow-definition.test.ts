/** isDefinedInFlows: a node's definition in the deployed flows, directly or through subflow instances. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDefinedInFlows } from '../../lib/util/flow-definition';

describe('isDefinedInFlows', () => {
  const ids = new Set(['tab', 'box', 'inst', 'tmpl', 'outer', 'inner-inst', 'odd-id']);
  it('a node defined on a tab (enabled or not: the ids say nothing of that)', () => {
    assert.equal(isDefinedInFlows('box', ids), true);
    assert.equal(isDefinedInFlows('gone', ids), false);
  });
  it('a node of a subflow instance: both the instance and the node in the subflow are defined', () => {
    assert.equal(isDefinedInFlows('inst-tmpl', ids), true);
    assert.equal(isDefinedInFlows('deleted-tmpl', ids), false, 'instance deleted');
    assert.equal(isDefinedInFlows('inst-deleted', ids), false, 'node deleted from the subflow');
  });
  it('nested subflow instances, and ids that contain dashes of their own', () => {
    assert.equal(isDefinedInFlows('outer-inner-inst-tmpl', ids), true);
    assert.equal(isDefinedInFlows('outer-inner-gone-tmpl', ids), false);
    assert.equal(isDefinedInFlows('odd-id', ids), true);
    assert.equal(isDefinedInFlows('inst-odd-id', ids), true);
  });
});
