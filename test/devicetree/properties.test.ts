// Properties of the reader and writer over generated trees and mutated real blobs: any tree the
// writer takes reads back equal, and a real blob with bytes changed reads or fails with a
// ParseError, nothing else (the long runs are the devicetree fuzz target).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseFdt, serializeFdt, type DeviceTree, type DeviceTreeNode } from '../../src/devicetree/index.js';
import { ParseError } from '../../src/errors.js';
import { everyFeatureDtb } from './real-blobs.js';

const name = fc.stringMatching(/^[a-z0-9,._+#-]{1,16}(@[0-9a-f]{1,8})?$/);
const property = fc.record({ name: fc.stringMatching(/^[a-z0-9,._+#?-]{1,31}$/), value: fc.uint8Array({ maxLength: 40 }) });

const node: fc.Memo<DeviceTreeNode> = fc.memo((depth) =>
  fc.record({
    name,
    properties: fc.array(property, { maxLength: 5 }),
    children: depth <= 1 ? fc.constant([]) : fc.array(node(depth - 1), { maxLength: 3 }),
  }),
);

const tree: fc.Arbitrary<DeviceTree> = fc.record({
  root: fc.record({ name: fc.constant(''), properties: fc.array(property, { maxLength: 5 }), children: fc.array(node(4), { maxLength: 4 }) }),
  memoryReservations: fc.array(
    fc.record({ address: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), size: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
    { maxLength: 4 },
  ),
  bootCpuidPhys: fc.nat(),
});

test('any tree the writer takes reads back equal', () => {
  fc.assert(
    fc.property(tree, (written) => {
      // structuredClone: fast-check builds its records without a prototype, the reader with one.
      assert.deepEqual(parseFdt(serializeFdt(written)), structuredClone(written));
    }),
    { numRuns: 300, seed: 20261204 },
  );
});

test('the every-feature blob with bytes changed reads, or fails with a ParseError', (t) => {
  const original = everyFeatureDtb();
  if (original === undefined) {
    if (process.env.CI === 'true') assert.fail('dtc is not installed');
    t.skip('dtc is not installed');
    return;
  }
  fc.assert(
    fc.property(fc.array(fc.record({ offset: fc.nat({ max: original.length - 1 }), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }), (changes) => {
      const mutated = original.slice();
      for (const { offset, byte } of changes) mutated[offset] = byte;
      try {
        parseFdt(mutated);
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }),
    { numRuns: 2000, seed: 20261205 },
  );
});
