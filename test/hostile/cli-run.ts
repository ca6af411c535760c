// Runs the real kexec-ts command in a child process, as a user would, and reports what a hostile
// input must never cause: a stack trace, an "internal error", a hang, or unbounded memory.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Longer than any refusal takes (they are immediate); a hang meets it. */
export const RUN_TIMEOUT_MS = 30_000;
/**
 * Peak memory a refusal may take: Node and the command's modules are ~60-90 MiB; reading a
 * multi-GiB input or inflating a bomb would be far above it.
 */
export const PEAK_RSS_LIMIT_BYTES = 400 * 1024 * 1024;

export interface CliRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** VmHWM of the child, read from its /proc/self/status as it exited. */
  readonly peakRssBytes: number | undefined;
}

const scratch = mkdtempSync(join(tmpdir(), 'kexec-ts-hostile-run-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
/** Loaded with --import into each child: on exit it writes its peak RSS where the test reads it. */
const PEAK_HOOK = join(scratch, 'peak-rss-hook.mjs');
writeFileSync(
  PEAK_HOOK,
  `import { readFileSync, writeFileSync } from 'node:fs';
process.on('exit', () => {
  const kb = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (kb !== undefined && process.env.KEXEC_TS_PEAK_FILE) writeFileSync(process.env.KEXEC_TS_PEAK_FILE, kb);
});
`,
);
let runCount = 0;

/** Runs `kexec-ts args...`; `asUser` runs it as nobody (the caller checks that we are root). */
export function runCli(args: readonly string[], options: { asUser?: boolean; input?: string; stdio?: SpawnSyncOptions['stdio'] } = {}): CliRun {
  const peakFile = join(scratch, `peak-${++runCount}`);
  const started = performance.now();
  const result = spawnSync(process.execPath, ['--import', PEAK_HOOK, MAIN, ...args], {
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    env: { ...process.env, KEXEC_TS_PEAK_FILE: peakFile, TERM: 'dumb' },
    ...(options.asUser === true ? { uid: 65534, gid: 65534 } : {}),
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(options.stdio !== undefined ? { stdio: options.stdio } : {}),
  });
  let peakRssBytes: number | undefined;
  try {
    peakRssBytes = Number(readFileSync(peakFile, 'utf8')) * 1024;
  } catch {
    peakRssBytes = undefined;
  }
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    durationMs: Math.round(performance.now() - started),
    peakRssBytes,
  };
}

/** The child writes its peak into the scratch directory, as nobody too. */
export function scratchReachableByAll(): void {
  spawnSync('chmod', ['1777', scratch]);
}

/**
 * The command refused as it should: exited with `exitCode`, printed `code` as the JSON error
 * code, with no stack trace and no internal error, within the time and memory bounds.
 */
export function assertRefused(run: CliRun, expected: { exitCode: number; code: string | RegExp }, label: string): Record<string, any> {
  const context = `${label}\nexit ${run.status} signal ${run.signal} in ${run.durationMs} ms, peak ${run.peakRssBytes} bytes\nstdout: ${run.stdout.slice(0, 2000)}\nstderr: ${run.stderr.slice(0, 2000)}`;
  assert.equal(run.signal, null, `killed (a hang past ${RUN_TIMEOUT_MS} ms?): ${context}`);
  assert.doesNotMatch(run.stderr, /internal error|^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${context}`);
  assert.equal(run.status, expected.exitCode, context);
  let json: Record<string, any>;
  try {
    json = JSON.parse(run.stdout) as Record<string, any>;
  } catch {
    assert.fail(`--json printed no JSON: ${context}`);
  }
  assert.equal(json.ok, false, context);
  if (typeof expected.code === 'string') assert.equal(json.error?.code, expected.code, context);
  else assert.match(String(json.error?.code), expected.code, context);
  assert.ok(typeof json.error?.message === 'string' && json.error.message.length > 0, context);
  assert.ok(run.peakRssBytes !== undefined && run.peakRssBytes < PEAK_RSS_LIMIT_BYTES, `peak memory: ${context}`);
  return json;
}

/** Root can make read-only and full filesystems and run as nobody; elsewhere those cases skip (and fail under CI). */
export function requireRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.CI === 'true') assert.fail('the hostile-input suite runs as root under CI (it mounts tmpfs and switches to nobody)');
  t.skip('needs root: mounts tmpfs and switches to nobody');
  return false;
}
