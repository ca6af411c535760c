// The arm64 purgatory's words decoded by binutils (aarch64-linux-gnu-objdump, Debian's
// binutils-aarch64-linux-gnu): each must be the instruction written beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARM64_PURGATORY_CODE, ARM64_PURGATORY_LAYOUT, arm64Purgatory } from '../../src/handoff/kexec-load/purgatory-arm64.js';

const OBJDUMP = 'aarch64-linux-gnu-objdump';
const hasObjdump = spawnSync(OBJDUMP, ['--version']).status === 0;
const skip = !hasObjdump && process.env.CI !== 'true' ? `${OBJDUMP} missing: apt-get install binutils-aarch64-linux-gnu` : false;

test('every purgatory word decodes to the assembly written beside it', { skip }, () => {
  const file = join(mkdtempSync(join(tmpdir(), 'kexec-ts-purgatory-')), 'purgatory.bin');
  const bytes = arm64Purgatory(0x4820_0000n, 0x4000_0000n);
  writeFileSync(file, bytes.subarray(0, ARM64_PURGATORY_CODE.length * 4));
  const dumped = spawnSync(OBJDUMP, ['-D', '-b', 'binary', '-m', 'aarch64', file], { encoding: 'utf8' });
  assert.equal(dumped.status, 0, dumped.stderr);
  // "   0:	580000c0 	ldr	x0, 0x18"
  const decoded = [...dumped.stdout.matchAll(/^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.+)$/gm)].map((match) => ({
    offset: Number.parseInt(match[1]!, 16),
    word: Number.parseInt(match[2]!, 16),
    assembly: match[3]!.replace(/\s+/g, ' ').trim(),
  }));
  assert.deepEqual(decoded, ARM64_PURGATORY_CODE.map((instruction, index) => ({ offset: index * 4, word: instruction.word, assembly: instruction.assembly })));
});

test('the literals the two ldr instructions read hold the device tree and the kernel entry', () => {
  const bytes = arm64Purgatory(0x4820_0000n, 0x4000_0000n);
  const view = new DataView(bytes.buffer);
  assert.equal(bytes.length, ARM64_PURGATORY_LAYOUT.sizeBytes);
  assert.equal(view.getBigUint64(ARM64_PURGATORY_LAYOUT.dtbAddressOffset, true), 0x4820_0000n);
  assert.equal(view.getBigUint64(ARM64_PURGATORY_LAYOUT.kernelEntryOffset, true), 0x4000_0000n);
  // The ldr offsets (imm19 * 4 from the instruction's own address) land on those literals.
  const literalOf = (index: number): number => index * 4 + ((ARM64_PURGATORY_CODE[index]!.word >> 5) & 0x7ffff) * 4;
  assert.equal(literalOf(0), ARM64_PURGATORY_LAYOUT.dtbAddressOffset);
  assert.equal(literalOf(4), ARM64_PURGATORY_LAYOUT.kernelEntryOffset);
});
