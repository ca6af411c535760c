import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteView, safeNumber } from '../../src/binary/byte-view.js';
import { defineLayout } from '../../src/binary/layout.js';
import { ParseError } from '../../src/errors.js';

const sample = defineLayout('sample', 24, {
  magic: { offset: 0, type: { string: 4 } },
  version: { offset: 4, type: 'u16' },
  flags: { offset: 6, type: 'u8' },
  size: { offset: 8, type: 'u32' },
  address: { offset: 16, type: 'u64' },
});

test('a layout reads back what it wrote, in both byte orders', () => {
  for (const littleEndian of [true, false]) {
    const bytes = new Uint8Array(24);
    const value = { magic: 'KTS!', version: 0x0206, flags: 7, size: 0xdeadbeef, address: 0x1122334455667788n };
    sample.write(bytes, value, 0, littleEndian);
    assert.deepEqual(sample.read(new ByteView(bytes, 'sample'), 0, littleEndian), value);
  }
});

test('a declaration whose field runs past its size is refused at once', () => {
  assert.throws(() => defineLayout('broken', 4, { value: { offset: 2, type: 'u32' } }), /broken\.value ends past the declared size 4/);
});

test('a short input names the first field that does not fit', () => {
  assert.throws(() => sample.read(new ByteView(new Uint8Array(10), 'sample')), (error: unknown) => {
    assert.ok(error instanceof ParseError);
    assert.equal(error.code, 'FORMAT_TRUNCATED');
    assert.equal(error.field, 'sample.size');
    assert.equal(error.offset, 8);
    return true;
  });
});

test('every read at any offset of any input either succeeds or throws ParseError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -100, max: 100 }), fc.integer({ min: -5, max: 80 }), (bytes, offset, length) => {
      const view = new ByteView(bytes, 'fuzz');
      for (const read of [
        () => view.u8(offset, 'f'),
        () => view.u16(offset, 'f'),
        () => view.u32(offset, 'f', false),
        () => view.u64(offset, 'f'),
        () => view.slice(offset, length, 'f'),
        () => view.cString(offset, Math.max(1, length), 'f'),
        () => sample.read(view, offset),
      ]) {
        try {
          read();
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      }
    }),
  );
});

test('a 64-bit length too large for a number is a ParseError, not a silent rounding', () => {
  assert.equal(safeNumber(4096n, 'elf', 'p_filesz'), 4096);
  assert.throws(() => safeNumber(1n << 60n, 'elf', 'p_filesz'), ParseError);
});
