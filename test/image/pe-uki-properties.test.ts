// Property tests: real artefacts (Debian's signed kernel, the UKI built from Debian's stub, a PE
// addon) with lying header fields, flipped bits and truncations. Only a result or a ParseError
// may come out. Mutations are applied in place to one working copy and undone after each run,
// so a 14 MB artefact costs no copy per run.
import { peLyingFieldOffsets } from './synthetic-images.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../src/errors.js';
import { parseAuthenticode, parsePe, probePe, type PeImage } from '../../src/image/pe/index.js';
import { combineUkiCmdline, parseAddon, parseUki, probeUki } from '../../src/image/uki/index.js';
import { fuzzSettings, readFixture } from './image-fixtures.js';
import { readUkiFixture } from './uki-fixtures.js';

interface Mutation {
  offset: number;
  /** A u32 written at offset, or one bit flipped there. */
  value?: number;
  bit?: number;
}

function mutations(pe: PeImage, length: number): fc.Arbitrary<{ changes: Mutation[]; truncateTo: number | null }> {
  const lies = fc.record({
    offset: fc.constantFrom(...peLyingFieldOffsets(pe)),
    value: fc.oneof(fc.constantFrom(0, 1, 8, 0x20b, 0xffff, 0xffffffff, 0x7fffffff, length, length - 8, length + 8), fc.nat({ max: 0xffffffff })),
  });
  const headerBits = fc.record({ offset: fc.nat({ max: Math.min(length, 0x10000) - 1 }), bit: fc.nat({ max: 7 }) });
  const arbitraries: fc.Arbitrary<Mutation>[] = [lies, headerBits];
  if (pe.certificateTable) {
    const { fileOffset, sizeBytes } = pe.certificateTable;
    arbitraries.push(fc.record({ offset: fc.integer({ min: fileOffset, max: fileOffset + sizeBytes - 1 }), bit: fc.nat({ max: 7 }) }));
  }
  return fc.record({
    changes: fc.array(fc.oneof(...arbitraries), { minLength: 1, maxLength: 6 }),
    truncateTo: fc.option(fc.nat({ max: length }), { freq: 4 }),
  });
}

/** Runs `check` on `working` with the changes applied, then restores every byte. */
function withMutations(working: Uint8Array, changes: Mutation[], truncateTo: number | null, check: (bytes: Uint8Array) => void): void {
  const saved = changes.map((change) => ({ offset: change.offset, bytes: working.slice(change.offset, change.offset + 4) }));
  const data = new DataView(working.buffer, working.byteOffset, working.byteLength);
  try {
    for (const change of changes) {
      if (change.bit !== undefined) working[change.offset]! ^= 1 << change.bit;
      else if (change.offset + 4 <= working.length) data.setUint32(change.offset, change.value ?? 0, true);
    }
    check(truncateTo === null ? working : working.subarray(0, truncateTo));
  } finally {
    for (const { offset, bytes } of saved.reverse()) working.set(bytes, offset);
  }
}

function onlyParseErrors(run: () => void): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
  }
}

test('PE + Authenticode on a compact copy of the signed kernel (headers + certificate table): only ParseError', (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  // The first 64 KiB plus the signature, its directory entry pointing at the new place: the
  // certificate parsing runs in full without hashing 14 MB per run.
  const original = parsePe(vmlinuz);
  const table = original.certificateTable!;
  const compact = new Uint8Array(0x10000 + table.sizeBytes);
  compact.set(vmlinuz.subarray(0, 0x10000));
  compact.set(vmlinuz.subarray(table.fileOffset, table.fileOffset + table.sizeBytes), 0x10000);
  new DataView(compact.buffer).setUint32(original.certificateTableEntryOffset!, 0x10000, true);
  const pe = parsePe(compact);
  assert.equal(parseAuthenticode(compact, pe).status, 'signed');
  fc.assert(
    fc.property(mutations(pe, compact.length), ({ changes, truncateTo }) =>
      withMutations(compact, changes, truncateTo, (bytes) => {
        probePe(bytes);
        onlyParseErrors(() => void parseAuthenticode(bytes, parsePe(bytes)));
      }),
    ),
    fuzzSettings(300),
  );
});

test('Authenticode digest over the whole signed kernel with lying headers: only ParseError', (t) => {
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  const working = new Uint8Array(vmlinuz);
  const pe = parsePe(working);
  // Fewer runs: each one hashes the 14 MB file.
  fc.assert(
    fc.property(mutations(pe, working.length), ({ changes, truncateTo }) =>
      withMutations(working, changes, truncateTo, (bytes) => onlyParseErrors(() => void parseAuthenticode(bytes))),
    ),
    fuzzSettings(25),
  );
});

test('UKI, profiles and addons with lying section headers: only ParseError', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const working = new Uint8Array(fixture.uki);
  const pe = parsePe(working);
  const addon = fixture.addons[0]!;
  fc.assert(
    fc.property(mutations(pe, working.length), fc.nat({ max: 3 }), ({ changes, truncateTo }, profile) =>
      withMutations(working, changes, truncateTo, (bytes) => {
        probeUki(bytes);
        onlyParseErrors(() => {
          const uki = parseUki(bytes, { profile });
          combineUkiCmdline(uki, [{ fileName: addon.fileName, bytes: addon.bytes }, { fileName: 'self.addon.efi', bytes }]);
        });
        onlyParseErrors(() => void parseAddon(bytes));
      }),
    ),
    fuzzSettings(300),
  );
});

test('PE addon with lying headers: only ParseError', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const working = new Uint8Array(fixture.addons[0]!.bytes);
  const pe = parsePe(working);
  fc.assert(
    fc.property(mutations(pe, working.length), ({ changes, truncateTo }) =>
      withMutations(working, changes, truncateTo, (bytes) => onlyParseErrors(() => void parseAddon(bytes))),
    ),
    fuzzSettings(300),
  );
});
