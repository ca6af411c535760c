// The real vmcores built by scripts/fixtures/vmcore.mjs (see test/fixtures/PROVENANCE.md) and
// the judges' binaries. Missing pieces skip a test with the reason, except under CI=true.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { kexecTsCacheDir } from '../vm/fixtures.js';
import { findOnPath } from '../vm/harness.js';

export interface VmcoreManifest {
  marker: string;
  kernelPackage: string;
  kernelVersion: string;
  /** `uname -r` of the crashed kernel (fixtures built since the other suites' kernels came in). */
  kernelRelease?: string;
  memoryMiB: number;
  cpus: number;
  crashkernel: string;
  sizeBytes: number;
}

export interface VmcoreFixture {
  path: string;
  manifest: VmcoreManifest;
}

/**
 * The vmcores scripts/fixtures/vmcore.mjs builds: Debian 12's 6.1 (two sizes), Debian 13's 6.12
 * and sid's 7.x, each from a crash of that kernel.
 */
export type VmcoreFixtureName = 'vmcore' | 'vmcore-small' | 'vmcore-trixie' | 'vmcore-sid';

export function vmcoreFixturePath(name: VmcoreFixtureName = 'vmcore'): string {
  return join(kexecTsCacheDir(), 'vmcore', name);
}

function skipOrFail(t: TestContext, reason: string): undefined {
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

/** The vmcore and its manifest, or undefined after skipping the test (failing it under CI). */
export function vmcoreFixture(t: TestContext, name: VmcoreFixtureName = 'vmcore'): VmcoreFixture | undefined {
  const path = vmcoreFixturePath(name);
  const manifestPath = join(kexecTsCacheDir(), 'vmcore', `${name}.json`);
  if (!existsSync(path) || !existsSync(manifestPath)) {
    return skipOrFail(t, `the real ${name} is missing at ${path}: npm test builds it (node scripts/prepare-tests.mjs)`);
  }
  return { path, manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as VmcoreManifest };
}

export const JUDGES = {
  makedumpfile: 'makedumpfile (Debian package makedumpfile)',
  'vmcore-dmesg': 'vmcore-dmesg (Debian package kexec-tools)',
  crash: 'crash (Debian package crash)',
} as const;

/** The judge's path, or undefined after skipping (failing under CI). */
export function judge(t: TestContext, name: keyof typeof JUDGES): string | undefined {
  const found = findOnPath(name) ?? ['/usr/sbin', '/sbin', '/usr/bin'].map((dir) => join(dir, name)).find((candidate) => existsSync(candidate));
  return found ?? skipOrFail(t, `${JUDGES[name]} is not installed: npm test installs it when run as root`);
}

/** Where the judges live in a Debian root, by name. */
const JUDGE_PATHS: Readonly<Record<keyof typeof JUDGES, string>> = {
  makedumpfile: '/usr/bin/makedumpfile',
  'vmcore-dmesg': '/usr/sbin/vmcore-dmesg',
  crash: '/usr/bin/crash',
};
const releaseJudges = new Map<string, string>();
let releaseJudgeDir: string | undefined;

/**
 * A judge of another Debian release: its binary in that release's debootstrapped root
 * (scripts/fixtures/systemd-root.mjs), run by that root's own dynamic loader and libraries, so
 * the host's older tools are not the judges of kernels they do not know. Returned as the path of
 * a small wrapper script, so it runs wherever a host judge does.
 */
export function releaseJudge(t: TestContext, suite: 'trixie' | 'sid', name: keyof typeof JUDGES): string | undefined {
  const key = `${suite}/${name}`;
  const cached = releaseJudges.get(key);
  if (cached !== undefined) return cached;
  const root = join(kexecTsCacheDir(), 'systemd-root', suite, 'root');
  const binary = join(root, JUDGE_PATHS[name]);
  const loader = join(root, 'usr/lib64/ld-linux-x86-64.so.2');
  if (!existsSync(binary) || !existsSync(loader)) {
    return skipOrFail(t, `${JUDGES[name]} of Debian ${suite} is missing at ${binary}: npm test builds that root (node scripts/prepare-tests.mjs)`);
  }
  if (releaseJudgeDir === undefined) {
    const dir = mkdtempSync(join(os.tmpdir(), 'kexec-ts-release-judges-'));
    releaseJudgeDir = dir;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const wrapper = join(releaseJudgeDir, `${suite}-${name}`);
  const libraries = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((dir) => join(root, dir)).join(':');
  writeFileSync(wrapper, `#!/bin/sh\nexec '${loader}' --library-path '${libraries}' '${binary}' "$@"\n`, { mode: 0o755 });
  releaseJudges.set(key, wrapper);
  return wrapper;
}

export interface JudgeRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runJudge(binary: string, args: string[], timeoutMs = 120_000): JudgeRun {
  const result = spawnSync(binary, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
}

/** `makedumpfile --dump-dmesg FILE OUT`: the log lines it extracted, or throws with its output. */
export function makedumpfileDmesg(makedumpfile: string, dumpPath: string): string[] {
  const dir = mkdtempSync(join(os.tmpdir(), 'kexec-ts-judge-'));
  try {
    const out = join(dir, 'dmesg.txt');
    const run = runJudge(makedumpfile, ['--dump-dmesg', dumpPath, out]);
    assert.equal(run.status, 0, `makedumpfile --dump-dmesg ${dumpPath} failed:\n${run.stdout}\n${run.stderr}`);
    return splitLines(readFileSync(out, 'latin1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A scratch directory removed after the test. */
export function scratchDir(t: TestContext, prefix = 'kexec-ts-crash-'): string {
  const dir = mkdtempSync(join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `length` bytes of a file from `offset`: for comparing headers and bitmaps of two dumps. */
export function readFileRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}
