import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GangwayConfigError, RpcCode, RpcError, ToolError } from '../../src/errors.ts';
import { ConfirmationError } from '../../src/policy/confirmation.ts';
import { StoreConfigError, StoreError } from '../../src/store/errors.ts';

/**
 * The CLI loads a gangway.config.ts that Node reads as CommonJS with tsx's tsImport, which gives
 * it its own copy of the package: a ToolError its handler throws comes from another copy of
 * errors.ts than the one the server checks against. A query string gives this test such a copy.
 */
const copyOf = async (path: string) => import(`${new URL(path, import.meta.url).href}?second-copy`);

describe('error classes across two copies of the module', () => {
  it('recognise each other both ways', async () => {
    const other = await copyOf('../../src/errors.ts');
    assert.notEqual(other.ToolError, ToolError, 'a second copy, not the same module');
    assert.ok(new other.ToolError('Order not found') instanceof ToolError);
    assert.ok(new ToolError('Order not found') instanceof other.ToolError);
    assert.ok(new other.RpcError(RpcCode.InvalidParams, 'bad') instanceof RpcError);
    assert.ok(new other.GangwayConfigError('GW_X', 'bad') instanceof GangwayConfigError);
    const stores = await copyOf('../../src/store/errors.ts');
    assert.ok(new stores.StoreError('GW_STORE_UNAVAILABLE', 'down') instanceof StoreError);
    assert.ok(new stores.StoreConfigError('bad url') instanceof GangwayConfigError, "a subclass carries its parent's brand");
  });

  it('still tell the families and subclasses apart', async () => {
    const other = await copyOf('../../src/errors.ts');
    assert.equal(new other.ToolError('x') instanceof RpcError, false);
    assert.equal(new other.RpcError(1, 'x') instanceof ToolError, false);
    assert.equal(new Error('x') instanceof ToolError, false);
    for (const value of [null, undefined, 'ToolError', 1, {}, { name: 'ToolError', message: 'x' }]) assert.equal(value instanceof ToolError, false);
    assert.ok(new ConfirmationError('GW_X', 'mismatch') instanceof ToolError);
    assert.equal(new ToolError('x') instanceof ConfirmationError, false, 'a ToolError is not a ConfirmationError');
    assert.equal(new StoreConfigError('x') instanceof StoreError, false);
  });

  it('carry the brand out of sight: not an own key, not in JSON', () => {
    const e = new ToolError('Order not found', { id: 'o-1' });
    assert.deepEqual(Object.keys(e).sort(), ['name', 'structured']);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), { name: 'ToolError', structured: { id: 'o-1' } });
  });
});
