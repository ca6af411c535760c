import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runMain } from './run-main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const run = runMain;

test('status --json has the documented keys, with null for what could not be read', async () => {
  const { exitCode, out } = await run('status', '--json');
  assert.equal(exitCode, ExitCode.OK);
  const parsed = JSON.parse(out) as { ok: boolean; command: string; status: Record<string, unknown> };
  assert.equal(parsed.ok, true);
  assert.equal(parsed.command, 'status');
  for (const key of ['canLoad', 'canLoadCrash', 'blockers', 'arch', 'kernelRelease', 'loaded', 'crashLoaded', 'crashReservationBytes', 'lockdown', 'kexecLoadDisabled', 'hasCapSysBoot', 'kernelConfig', 'initSystem', 'checks']) {
    assert.ok(key in parsed.status, `status.${key}`);
  }
});

test('status in text starts with the verdict', async () => {
  const { out } = await run('status');
  assert.match(out.split('\n')[0]!, /^kexec: (possible here|not possible here: .+|probably possible here)/);
});

test('a missing kernel is refused before any syscall, with exit code 3 and the reason', async () => {
  const { exitCode, err } = await run('load', '/nonexistent/vmlinuz', '--append', 'quiet');
  assert.equal(exitCode, ExitCode.INPUT_REJECTED);
  assert.match(err, /^kexec-ts: The kernel image \/nonexistent\/vmlinuz does not exist\./);
  assert.match(err, /what to do/);
  assert.match(err, /error code\s+INPUT_NOT_FOUND/);
});

test('--json failures carry the code, message and remedy', async () => {
  const { exitCode, out } = await run('load', '/dev/null', '--append', '', '--json');
  assert.equal(exitCode, ExitCode.INPUT_REJECTED);
  const parsed = JSON.parse(out) as { ok: boolean; error: Record<string, unknown> };
  assert.equal(parsed.ok, false);
  assert.equal(parsed.error.code, 'INPUT_NOT_REGULAR_FILE');
  assert.equal(parsed.error.path, '/dev/null');
  assert.equal(typeof parsed.error.remedy, 'string');
});

test('usage errors exit 2: unknown command, unknown option, a bad option value', async () => {
  assert.equal((await run('frobnicate')).exitCode, ExitCode.USAGE);
  const unknownOption = await run('unload', '--bogus');
  assert.equal(unknownOption.exitCode, ExitCode.USAGE);
  assert.match(unknownOption.err, /Unknown option '--bogus'/);
  assert.equal((await run('load', '/etc/hostname', '--uki-profile', 'x')).exitCode, ExitCode.USAGE);
});

test('--help prints each command\'s usage and exits 0', async () => {
  for (const command of ['status', 'load', 'unload', 'exec']) {
    const { exitCode, out } = await run(command, '--help');
    assert.equal(exitCode, ExitCode.OK);
    assert.match(out, new RegExp(`^Usage: kexec-ts ${command}`));
  }
});

test('the installed bin runs and reports its version', () => {
  const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const child = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('inspect says what Debian\'s kernel is and whether it is loadable, in text and JSON', async (t) => {
  const { cloudKernelFixture } = await import('../vm/fixtures.js');
  const { existsSync } = await import('node:fs');
  const path = cloudKernelFixture().vmlinuzPath;
  if (!existsSync(path)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${path}`);
    return t.skip(`fixture missing: ${path}`);
  }
  const text = await run('inspect', path, '--arch', 'x86_64');
  assert.equal(text.exitCode, ExitCode.OK, text.err);
  assert.match(text.out, /x86 bzImage, boot protocol 2\.\d+, with an EFI stub/);
  assert.match(text.out, /cmdline_size\s+2047/);
  assert.match(text.out, /loadable here \(x86_64\): yes, because it is a 64-bit bzImage/);
  const onArm = await run('inspect', path, '--arch', 'aarch64');
  assert.match(onArm.out, /loadable here \(aarch64\): no, because it is an x86 bzImage, which kexec_file_load on aarch64 does not take/);
  const json = JSON.parse((await run('inspect', path, '--arch', 'x86_64', '--json')).out) as Record<string, any>;
  assert.equal(json.image.format, 'bzImage');
  assert.equal(json.image.bzImage.cmdlineSize, 2047);
  assert.equal(typeof json.image.bzImage.header.pref_address, 'number', 'a safe bigint is a JSON number');
  assert.equal(json.loadable.loadable, true);
  assert.equal(json.payload.codec, 'lz4');
  assert.match(json.payload.content, /^ELF64 x86_64 vmlinux/);
  assert.equal(json.signature.status, 'signed');
  // Judged for this machine, the running kernel's own abilities count too (this host's kernel
  // may have no kexec at all): the verdict then says so after the image's part.
  const here = JSON.parse((await run('inspect', path, '--json')).out) as Record<string, any>;
  if (!here.loadable.loadable) assert.match(here.loadable.because, /(but the running kernel|x86_64 takes only|no kexec support)/);
  assert.equal((await run('inspect', path, '--arch', 'sparc')).exitCode, ExitCode.USAGE);
});

test('crash SUBCOMMAND --help shows that subcommand\'s usage, as crash help SUBCOMMAND does', async () => {
  const viaFlag = await run('crash', 'load', '--help');
  const viaWord = await run('crash', 'help', 'load');
  assert.equal(viaFlag.exitCode, ExitCode.OK);
  assert.match(viaFlag.out, /^Usage: kexec-ts crash load/);
  assert.equal(viaFlag.out, viaWord.out);
  assert.match((await run('crash', '--help')).out, /^Usage: kexec-ts crash SUBCOMMAND/);
});

test('a progress bar only on a terminal that can redraw: not for --json, a pipe, or TERM=dumb (a serial console)', async () => {
  const { canDrawProgress } = await import('../../src/cli/progress.js');
  const terminal = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  const human = { json: false, out: () => {}, err: () => {} };
  assert.equal(canDrawProgress(human, terminal, { TERM: 'xterm-256color' }), true);
  assert.equal(canDrawProgress(human, terminal, { TERM: 'dumb' }), false);
  assert.equal(canDrawProgress(human, pipe, { TERM: 'xterm-256color' }), false);
  assert.equal(canDrawProgress({ ...human, json: true }, terminal, {}), false);
});
