// What saving costs beyond the dump itself: memory that does not grow with the vmcore, and a
// full filesystem that ends in a typed error with nothing under the final name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DumpWriteError } from '../../src/crash/dump/errors.js';
import { saveDump } from '../../src/crash/dump/save.js';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { scratchDir, vmcoreFixture, vmcoreFixturePath } from './vmcore-fixtures.js';

const MIB = 1024 * 1024;
/** The budget over Node's own footprint (with our modules loaded). */
const RSS_BUDGET_BYTES = 64 * MIB;
/**
 * How much the peak may differ between the 846 MB and the 410 MB vmcore. Holding either the
 * input or an uncompressed output would add over 400 MB; what is left is the garbage
 * collector's timing.
 */
const FLATNESS_TOLERANCE_BYTES = 32 * MIB;

const CRASH_MODULE = fileURLToPath(new URL('../../src/crash/index.js', import.meta.url));

interface MemoryRun {
  baselineBytes: number;
  peakBytes: number;
  bytesWritten: number;
}

/** Saves in a fresh Node process and reads its peak RSS (VmHWM) before and after. */
function measure(vmcorePath: string, out: string, options: string): MemoryRun {
  const script = `
    import fs from 'node:fs';
    const hwm = () => Number(/VmHWM:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    const { openVmcore, saveDump } = await import(${JSON.stringify(CRASH_MODULE)});
    const baselineBytes = hwm();
    const vmcore = await openVmcore(${JSON.stringify(vmcorePath)});
    const result = await saveDump(vmcore, { out: ${JSON.stringify(out)}, force: true, ...${options} });
    await vmcore.close();
    console.log(JSON.stringify({ baselineBytes, peakBytes: hwm(), bytesWritten: result.bytesWritten }));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as MemoryRun;
}

for (const [label, options] of [
  ['kdump, no compression, level 0 (the output is all of memory)', "{ format: 'kdump', compress: 'none', dumpLevel: 0 }"],
  ['ELF, level 0', "{ format: 'elf', dumpLevel: 0 }"],
  ['kdump, zlib, level 1', "{ format: 'kdump', compress: 'zlib', dumpLevel: 1 }"],
] as const) {
  test(`peak memory stays flat as the vmcore doubles: ${label}`, (t) => {
    const large = vmcoreFixture(t, 'vmcore');
    const small = vmcoreFixture(t, 'vmcore-small');
    if (!large || !small) return;
    const dir = scratchDir(t);
    const big = measure(vmcoreFixturePath('vmcore'), join(dir, 'large'), options);
    const little = measure(vmcoreFixturePath('vmcore-small'), join(dir, 'small'), options);
    const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
    t.diagnostic(`846 MB vmcore: peak ${mib(big.peakBytes)} (baseline ${mib(big.baselineBytes)}), wrote ${mib(big.bytesWritten)}`);
    t.diagnostic(`410 MB vmcore: peak ${mib(little.peakBytes)} (baseline ${mib(little.baselineBytes)}), wrote ${mib(little.bytesWritten)}`);
    for (const run of [big, little]) assert.ok(run.peakBytes - run.baselineBytes < RSS_BUDGET_BYTES, `peak ${mib(run.peakBytes)} is over baseline ${mib(run.baselineBytes)} + 64 MiB`);
    assert.ok(Math.abs(big.peakBytes - little.peakBytes) < FLATNESS_TOLERANCE_BYTES, `peaks ${mib(big.peakBytes)} and ${mib(little.peakBytes)}`);
  });
}

function mountTinyTmpfs(t: import('node:test').TestContext): string | undefined {
  const reason = 'mounting a 1 MiB tmpfs needs root';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return undefined;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'kexec-ts-enospc-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  t.after(() => {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(mount.status, 0, `mount -t tmpfs: ${mount.stderr}`);
  return dir;
}

test('a full filesystem: DumpWriteError DUMP_NO_SPACE with the bytes written, nothing under the final name', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const dir = mountTinyTmpfs(t);
  if (!dir) return;
  const vmcore = await openVmcore(fixture.path);
  try {
    for (const [name, options] of [
      ['dump.kdump', { compress: 'lzo' as const }],
      ['dump.elf', { format: 'elf' as const }],
      ['dump.flat', { format: 'flat' as const, compress: 'lzo' as const }],
    ] as const) {
      const out = join(dir, name);
      const error = await saveDump(vmcore, { out, dumpLevel: 31, ...options }).then(
        () => assert.fail(`${name}: 1 MiB cannot hold the dump`),
        (caught: unknown) => caught,
      );
      assert.ok(error instanceof DumpWriteError, `${name}: ${String(error)}`);
      assert.equal(error.code, 'DUMP_NO_SPACE');
      assert.equal(error.errnoName, 'ENOSPC');
      assert.ok(error.bytesWritten > 0 && error.bytesWritten <= MIB, `${name}: ${error.bytesWritten} bytes written`);
      assert.match(error.message, /after \d+ bytes/);
      assert.equal(existsSync(out), false, `${name}: no file under the final name`);
      assert.equal(error.incompletePath, `${out}.incomplete`);
      assert.ok(existsSync(error.incompletePath!));
      spawnSync('rm', ['-f', error.incompletePath!]);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await vmcore.close();
  }
});
