// Malformed blobs, one per way a blob can lie: each must end in a ParseError with its code (and
// the field it names), never a RangeError, a hang or an allocation the input does not pay for.
// The shapes dtc's own tests feed fdt_check_full (tests/trees.S: truncated_property,
// truncated_string, truncated_memrsv, two_roots, named_root) are here under their names. The
// blobs are built token by token, the one place bytes are synthetic: no tool writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFdt, serializeFdt, emptyDeviceTree, type DeviceTree } from '../../src/devicetree/index.js';
import {
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_MAGIC,
  FDT_NOP,
  FDT_PROP,
  fdtHeaderLayout,
} from '../../src/devicetree/layout.js';
import { ErrorCode, KexecError, ParseError } from '../../src/errors.js';
import { DEVICETREE_LIMITS } from '../../src/limits.js';
import { encodeString } from '../../src/devicetree/values.js';

const HEADER = fdtHeaderLayout.fields;

type Piece = number | string | Uint8Array;

/** Structure-block words: numbers are tokens or u32s, strings are NUL-terminated names padded to 4. */
function words(...pieces: Piece[]): Uint8Array {
  return wordsOf(pieces);
}

/** words() for lists too long to spread into arguments. */
function wordsOf(pieces: readonly Piece[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    if (typeof piece === 'number') {
      const word = Buffer.alloc(4);
      word.writeUInt32BE(piece >>> 0);
      parts.push(word);
    } else {
      const bytes = typeof piece === 'string' ? Buffer.from(`${piece}\0`, 'latin1') : Buffer.from(piece);
      parts.push(bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4));
    }
  }
  return new Uint8Array(Buffer.concat(parts));
}

interface RawBlob {
  structure: Uint8Array;
  strings?: Uint8Array;
  reservations?: [bigint, bigint][];
  /** Leave the memory reservation block's terminating entry out. */
  unterminatedReservations?: boolean;
  header?: Partial<Record<keyof typeof HEADER, number>>;
}

/** A blob laid out as dtc lays it out (header, rsvmap, structure, strings), header fields overridable. */
function rawFdt(blob: RawBlob): Uint8Array {
  const reservations = blob.reservations ?? [];
  const strings = blob.strings ?? new Uint8Array();
  const rsvmapBytes = (reservations.length + (blob.unterminatedReservations ? 0 : 1)) * 16;
  const structOffset = 40 + rsvmapBytes;
  const stringsOffset = structOffset + blob.structure.length;
  const totalsize = stringsOffset + strings.length;
  const bytes = new Uint8Array(totalsize);
  fdtHeaderLayout.write(
    bytes,
    {
      magic: FDT_MAGIC,
      totalsize,
      off_dt_struct: structOffset,
      off_dt_strings: stringsOffset,
      off_mem_rsvmap: 40,
      version: 17,
      last_comp_version: 16,
      boot_cpuid_phys: 0,
      size_dt_strings: strings.length,
      size_dt_struct: blob.structure.length,
      ...blob.header,
    },
    0,
    false,
  );
  const view = new DataView(bytes.buffer);
  reservations.forEach(([address, size], index) => {
    view.setBigUint64(40 + index * 16, address, false);
    view.setBigUint64(48 + index * 16, size, false);
  });
  bytes.set(blob.structure, structOffset);
  bytes.set(strings, stringsOffset);
  return bytes;
}

const STRINGS = new Uint8Array(Buffer.from('compatible\0model\0', 'latin1'));
/** / { compatible = "x"; child { }; }; */
const GOOD_STRUCTURE = words(FDT_BEGIN_NODE, '', FDT_PROP, 2, 0, 'x', FDT_BEGIN_NODE, 'child', FDT_END_NODE, FDT_END_NODE, FDT_END);

function rejects(bytes: Uint8Array, code: string, field?: string, detail?: RegExp): void {
  assert.throws(
    () => parseFdt(bytes),
    (error: unknown) => {
      assert.ok(error instanceof ParseError, `not a ParseError: ${String(error)}`);
      assert.equal(error.code, code, error.message);
      if (field !== undefined) assert.equal(error.field, field, error.message);
      if (detail !== undefined) assert.match(error.detail, detail);
      return true;
    },
  );
}

test('the well-formed blob the cases start from parses', () => {
  const tree = parseFdt(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS }));
  assert.equal(tree.root.properties[0]?.name, 'compatible');
  assert.equal(tree.root.children[0]?.name, 'child');
});

test('header: magic, size, version', () => {
  const good = rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS });
  rejects(new Uint8Array(), ErrorCode.FORMAT_TRUNCATED, 'fdt_header.magic');
  rejects(good.slice(0, 20), ErrorCode.FORMAT_TRUNCATED);
  const badMagic = good.slice();
  badMagic[0] = 0xfe;
  rejects(badMagic, ErrorCode.FORMAT_UNRECOGNIZED, 'fdt_header.magic');
  rejects(good.slice(0, good.length - 1), ErrorCode.FORMAT_TRUNCATED, 'fdt_header.totalsize');
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, header: { totalsize: 39 } }), ErrorCode.FORMAT_INVALID, 'fdt_header.totalsize');
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, header: { version: 16 } }), ErrorCode.FORMAT_UNRECOGNIZED, 'fdt_header.version');
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, header: { last_comp_version: 18, version: 18 } }), ErrorCode.FORMAT_UNRECOGNIZED, 'fdt_header.last_comp_version');
  // Bytes past totalsize are not the blob's: a blob in a larger buffer parses.
  const padded = new Uint8Array(good.length + 100);
  padded.set(good);
  assert.equal(parseFdt(padded).root.children.length, 1);
});

test('blocks: misaligned, inside the header, past totalsize, overlapping', () => {
  const structOffset = 56;
  const base = { structure: GOOD_STRUCTURE, strings: STRINGS };
  rejects(rawFdt({ ...base, header: { off_mem_rsvmap: 44 } }), ErrorCode.FORMAT_INVALID, 'fdt_header.off_mem_rsvmap', /8-byte aligned/);
  rejects(rawFdt({ ...base, header: { off_dt_struct: structOffset + 2 } }), ErrorCode.FORMAT_INVALID, 'fdt_header.off_dt_struct', /4-byte aligned/);
  rejects(rawFdt({ ...base, header: { off_dt_struct: 8 } }), ErrorCode.FORMAT_INVALID, 'fdt_header.off_dt_struct', /inside the header/);
  rejects(rawFdt({ ...base, header: { off_mem_rsvmap: 0 } }), ErrorCode.FORMAT_INVALID, 'fdt_header.off_mem_rsvmap', /inside the header/);
  rejects(rawFdt({ ...base, header: { size_dt_struct: 0xffff_fff0 } }), ErrorCode.FORMAT_TRUNCATED, 'fdt_header.off_dt_struct', /past totalsize/);
  rejects(rawFdt({ ...base, header: { off_dt_strings: 0xffff_fff0 } }), ErrorCode.FORMAT_TRUNCATED, 'fdt_header.off_dt_strings', /past totalsize/);
  rejects(rawFdt({ ...base, header: { off_dt_strings: structOffset + 8 } }), ErrorCode.FORMAT_INVALID, undefined, /structure block .* overlaps the strings block/);
  // The reservation block's terminating entry lies where the structure block is said to start.
  rejects(rawFdt({ ...base, reservations: [[0x1000n, 0x1000n]], header: { off_dt_struct: 48 } }), ErrorCode.FORMAT_INVALID, undefined, /memory reservation block .* overlaps the structure block/);
});

test('memory reservations: truncated_memrsv, and a list past the limit', () => {
  // dtc's truncated_memrsv: an entry, then the blob ends where the terminator should be.
  rejects(rawFdt({ structure: new Uint8Array(), reservations: [[0x1000n, 0x1000n]], unterminatedReservations: true }), ErrorCode.FORMAT_TRUNCATED, 'fdt_reserve_entry');
  const many: [bigint, bigint][] = Array.from({ length: DEVICETREE_LIMITS.memoryReservations + 1 }, (_, index) => [BigInt(index + 1) << 12n, 0x1000n]);
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, reservations: many }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'fdt_reserve_entry');
  assert.equal(parseFdt(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, reservations: many.slice(1) })).memoryReservations.length, DEVICETREE_LIMITS.memoryReservations);
});

test('properties: truncated_property, truncated_string, nameoff outside the strings block', () => {
  // dtc's truncated_property: a 4-byte property whose value the structure block does not hold.
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 4, 0), strings: STRINGS }), ErrorCode.FORMAT_TRUNCATED, 'fdt_property.len');
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 0xffff_ffff, 0, FDT_END_NODE, FDT_END), strings: STRINGS }), ErrorCode.FORMAT_TRUNCATED, 'fdt_property.len');
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP), strings: STRINGS }), ErrorCode.FORMAT_TRUNCATED, 'fdt_property');
  // dtc's truncated_string: the second name lacks its NUL at the end of the strings block.
  const truncatedStrings = new Uint8Array(Buffer.from('good\0bad', 'latin1'));
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 0, 0, FDT_PROP, 0, 5, FDT_END_NODE, FDT_END), strings: truncatedStrings }), ErrorCode.FORMAT_INVALID, 'fdt_property.nameoff', /not NUL-terminated/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 0, STRINGS.length, FDT_END_NODE, FDT_END), strings: STRINGS }), ErrorCode.FORMAT_INVALID, 'fdt_property.nameoff', /outside/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 0, STRINGS.length - 1, FDT_END_NODE, FDT_END), strings: STRINGS }), ErrorCode.FORMAT_INVALID, 'fdt_property.nameoff', /empty/);
  rejects(rawFdt({ structure: words(FDT_PROP, 0, 0, FDT_END), strings: STRINGS }), ErrorCode.FORMAT_INVALID, 'FDT_PROP', /outside any node/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 'a', FDT_END_NODE, FDT_PROP, 0, 0, FDT_END_NODE, FDT_END), strings: STRINGS }), ErrorCode.FORMAT_INVALID, 'FDT_PROP', /after the subnodes/);
  const longName = new Uint8Array(Buffer.from(`${'p'.repeat(DEVICETREE_LIMITS.nameBytes + 1)}\0`, 'latin1'));
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_PROP, 0, 0, FDT_END_NODE, FDT_END), strings: longName }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'fdt_property.nameoff');
});

test('nodes: two_roots, named_root, unterminated and empty names, unbalanced tokens, unknown tokens', () => {
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_END_NODE, FDT_BEGIN_NODE, '', FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_BEGIN_NODE', /second root/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, 'fake', FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_BEGIN_NODE', /root node has the name/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, '', FDT_END_NODE, FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_BEGIN_NODE', /empty name/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 'a/b', FDT_END_NODE, FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_BEGIN_NODE', /holds a "\/"/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 0x61626364) }), ErrorCode.FORMAT_TRUNCATED, 'FDT_BEGIN_NODE', /without its NUL/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 'n'.repeat(DEVICETREE_LIMITS.nameBytes + 1), FDT_END_NODE, FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'FDT_BEGIN_NODE');
  assert.equal(parseFdt(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 'n'.repeat(DEVICETREE_LIMITS.nameBytes), FDT_END_NODE, FDT_END_NODE, FDT_END) })).root.children[0]?.name.length, DEVICETREE_LIMITS.nameBytes);
  rejects(rawFdt({ structure: words(FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_END_NODE');
  rejects(rawFdt({ structure: words(FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_END', /before any node/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', FDT_BEGIN_NODE, 'a', FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'FDT_END', /still open/);
  rejects(rawFdt({ structure: words(FDT_BEGIN_NODE, '', 0x00000005, FDT_END_NODE, FDT_END) }), ErrorCode.FORMAT_INVALID, 'token', /unknown token 0x00000005/);
  // NOPs anywhere between tokens are nothing (5.4.1).
  assert.equal(parseFdt(rawFdt({ structure: words(FDT_NOP, FDT_BEGIN_NODE, '', FDT_NOP, FDT_END_NODE, FDT_NOP, FDT_END) })).root.name, '');
});

test('structure: a block that ends before FDT_END, a token cut in half', () => {
  const withoutEnd = GOOD_STRUCTURE.subarray(0, GOOD_STRUCTURE.length - 4);
  rejects(rawFdt({ structure: withoutEnd, strings: STRINGS }), ErrorCode.FORMAT_TRUNCATED, 'token', /before FDT_END/);
  // size_dt_struct two bytes short of the last token.
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, header: { size_dt_struct: GOOD_STRUCTURE.length - 2 } }), ErrorCode.FORMAT_TRUNCATED, 'token');
  // A property value cut by size_dt_struct, though the bytes are there in the blob.
  rejects(rawFdt({ structure: GOOD_STRUCTURE, strings: STRINGS, header: { size_dt_struct: 21 } }), ErrorCode.FORMAT_TRUNCATED, 'fdt_property.len');
});

test('limits: nesting depth, node count, property count', () => {
  const depth = DEVICETREE_LIMITS.nodeDepth;
  const nested = (levels: number): Uint8Array =>
    wordsOf([FDT_BEGIN_NODE, '', ...Array.from({ length: levels - 1 }, () => [FDT_BEGIN_NODE, 'n'] as Piece[]).flat(), ...Array.from({ length: levels }, () => FDT_END_NODE), FDT_END]);
  assert.ok(parseFdt(rawFdt({ structure: nested(depth) })));
  rejects(rawFdt({ structure: nested(depth + 1) }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'FDT_BEGIN_NODE', /deeper than 64/);

  const siblings = (count: number): Uint8Array => wordsOf([FDT_BEGIN_NODE, '', ...Array.from({ length: count }, () => [FDT_BEGIN_NODE, 'n', FDT_END_NODE] as Piece[]).flat(), FDT_END_NODE, FDT_END]);
  assert.equal(parseFdt(rawFdt({ structure: siblings(DEVICETREE_LIMITS.nodes - 1) })).root.children.length, DEVICETREE_LIMITS.nodes - 1);
  rejects(rawFdt({ structure: siblings(DEVICETREE_LIMITS.nodes) }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'FDT_BEGIN_NODE', /nodes/);

  const properties = (count: number): Uint8Array => wordsOf([FDT_BEGIN_NODE, '', ...Array.from({ length: count }, () => [FDT_PROP, 0, 0] as Piece[]).flat(), FDT_END_NODE, FDT_END]);
  rejects(rawFdt({ structure: properties(DEVICETREE_LIMITS.properties + 1), strings: STRINGS }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'FDT_PROP', /properties/);
});

test('a nameoff into a megabyte without a NUL is refused at once, not scanned per property', () => {
  // Each nameoff is another suffix of one long run: the name limit stops the first, in one search.
  const run = new Uint8Array(Buffer.from(`${'a'.repeat(1 << 20)}\0`, 'latin1'));
  const structure = wordsOf([FDT_BEGIN_NODE, '', ...Array.from({ length: 50_000 }, (_, index) => [FDT_PROP, 0, index] as Piece[]).flat(), FDT_END_NODE, FDT_END]);
  const started = performance.now();
  rejects(rawFdt({ structure, strings: run }), ErrorCode.FORMAT_LIMIT_EXCEEDED, 'fdt_property.nameoff');
  assert.ok(performance.now() - started < 2000);
});

test('serializeFdt refuses a tree it could not read back, with the typed error', () => {
  const writes = (edit: (tree: DeviceTree) => void, code: string): void => {
    const tree = emptyDeviceTree();
    edit(tree);
    assert.throws(() => serializeFdt(tree), (error: unknown) => error instanceof KexecError && error.code === code);
  };
  writes((tree) => tree.root.children.push({ name: '', properties: [], children: [] }), ErrorCode.FORMAT_INVALID);
  writes((tree) => tree.root.children.push({ name: 'a/b', properties: [], children: [] }), ErrorCode.FORMAT_INVALID);
  writes((tree) => tree.root.properties.push({ name: 'bad\0name', value: new Uint8Array() }), ErrorCode.FORMAT_INVALID);
  writes((tree) => tree.root.properties.push({ name: 'ünïcødé→', value: new Uint8Array() }), ErrorCode.FORMAT_INVALID);
  writes((tree) => tree.memoryReservations.push({ address: 0n, size: 0n }), ErrorCode.FORMAT_INVALID);
  writes((tree) => (tree.bootCpuidPhys = -1), ErrorCode.FORMAT_INVALID);
  writes((tree) => {
    let node = tree.root;
    for (let level = 0; level < DEVICETREE_LIMITS.nodeDepth; level++) {
      const child = { name: 'n', properties: [], children: [] };
      node.children.push(child);
      node = child;
    }
  }, ErrorCode.FORMAT_LIMIT_EXCEEDED);
  assert.throws(() => encodeString('a\0b'), KexecError);
});
