// Real artefacts for the image parser tests, fetched by scripts/prepare-tests.mjs into the cache.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { cloudKernelFixture, kexecTsCacheDir } from '../vm/fixtures.js';

export const FIXTURES = {
  debianCloudAmd64Vmlinuz: () => cloudKernelFixture().vmlinuzPath,
  debianGenericAmd64Vmlinuz: () => join(kexecTsCacheDir(), 'foreign-arch', 'amd64-generic-vmlinuz'),
  debianCloudArm64Vmlinuz: () => join(kexecTsCacheDir(), 'foreign-arch', 'arm64-vmlinuz'),
  busyboxI386: () => join(kexecTsCacheDir(), 'foreign-arch', 'busybox-i386'),
  busyboxS390x: () => join(kexecTsCacheDir(), 'foreign-arch', 'busybox-s390x'),
  debianCloudUki: () => join(kexecTsCacheDir(), 'uki', 'debian-cloud.efi'),
  ukiInitrd: () => join(kexecTsCacheDir(), 'uki', 'initrd.cpio'),
  ukiConsoleAddon: () => join(kexecTsCacheDir(), 'uki', 'addons', '10-console.addon.efi'),
  ukiDebugAddon: () => join(kexecTsCacheDir(), 'uki', 'addons', '50-debug.addon.efi'),
} as const;

/**
 * The fixture's bytes; when it is missing the test is skipped with the reason, except under
 * CI=true, where a missing fixture fails (a CI that fetched nothing must not pass).
 */
export function readFixture(t: TestContext, name: keyof typeof FIXTURES): Buffer | undefined {
  const path = FIXTURES[name]();
  if (existsSync(path)) return readFileSync(path);
  const reason = `fixture ${name} missing at ${path}: npm test fetches it (node scripts/prepare-tests.mjs)`;
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

/** fast-check settings: a fixed seed for reproducible CI runs, KEXEC_TS_FUZZ_RUNS for long runs by hand. */
export function fuzzSettings(defaultRuns: number): { seed: number; numRuns: number } {
  const runs = Number(process.env.KEXEC_TS_FUZZ_RUNS);
  return { seed: Number(process.env.KEXEC_TS_FUZZ_SEED ?? 42), numRuns: Number.isFinite(runs) && runs > 0 ? runs : defaultRuns };
}
