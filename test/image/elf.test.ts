import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseElf, probeElf } from '../../src/image/elf/parse.js';
import { PT_LOAD } from '../../src/image/elf/layout.js';
import { ParseError } from '../../src/errors.js';
import { fuzzSettings, readFixture } from './image-fixtures.js';

test('ELF32 little-endian: Debian i386 busybox-static', (t) => {
  const bytes = readFixture(t, 'busyboxI386');
  if (!bytes) return;
  const elf = parseElf(bytes);
  assert.equal(elf.class, 32);
  assert.equal(elf.littleEndian, true);
  assert.equal(elf.machineName, 'i386');
  assert.equal(elf.typeName, 'executable');
  assert.ok(elf.programHeaders.some((header) => header.p_type === PT_LOAD));
  // The entry point lies inside an executable PT_LOAD.
  assert.ok(elf.programHeaders.some((h) => h.p_type === PT_LOAD && (h.p_flags & 1) === 1 && elf.entry >= h.p_vaddr && elf.entry < h.p_vaddr + h.p_memsz));
});

test('ELF64 big-endian: Debian s390x busybox-static', (t) => {
  const bytes = readFixture(t, 'busyboxS390x');
  if (!bytes) return;
  const elf = parseElf(bytes);
  assert.equal(elf.class, 64);
  assert.equal(elf.littleEndian, false);
  assert.equal(elf.machine, 22);
  assert.equal(elf.machineName, 's390');
  assert.ok(elf.programHeaders.some((h) => h.p_type === PT_LOAD && elf.entry >= h.p_vaddr && elf.entry < h.p_vaddr + h.p_memsz));
});

test('ELF64 little-endian: this machine\'s node binary', () => {
  const bytes = readFileSync(process.execPath);
  assert.ok(probeElf(bytes));
  const elf = parseElf(bytes);
  assert.equal(elf.class, 64);
  assert.equal(elf.littleEndian, true);
  assert.equal(elf.machineName, process.arch === 'x64' ? 'x86_64' : elf.machineName);
});

test('a lying e_phnum is refused before any entry is read', (t) => {
  const bytes = readFixture(t, 'busyboxS390x');
  if (!bytes) return;
  const head = Buffer.from(bytes.subarray(0, 4096));
  head.writeUInt16BE(60000, 56); // e_phnum of an ELF64 big-endian header
  assert.throws(() => parseElf(head), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_TRUNCATED' && error.field === 'program header table');
});

test('mutated real ELF headers give a result or a ParseError, nothing else', (t) => {
  const samples = [readFixture(t, 'busyboxI386'), readFixture(t, 'busyboxS390x')].filter((bytes): bytes is Buffer => bytes !== undefined);
  if (samples.length === 0) return;
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: samples.length - 1 }),
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 400 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
      fc.integer({ min: 0, max: 8192 }),
      (which, edits, cut) => {
        const mutated = Buffer.from(samples[which]!.subarray(0, cut));
        for (const { at, value } of edits) if (at < mutated.length) mutated[at] = value;
        try {
          parseElf(mutated);
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      },
    ),
    fuzzSettings(2000),
  );
});
