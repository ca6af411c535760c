import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runMain } from '../cli/run-main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scratchDir, vmcoreFixture } from './vmcore-fixtures.js';

const run = runMain;

test('crash alone, crash help and crash help SUBCOMMAND: the overview, then each subcommand\'s options', async () => {
  const bare = await run('crash');
  assert.equal(bare.exitCode, ExitCode.USAGE);
  assert.match(bare.err, /Subcommands:\n {2}load /);
  const overview = await run('crash', 'help');
  assert.equal(overview.exitCode, ExitCode.OK);
  for (const name of ['load', 'unload', 'status', 'initrd', 'save', 'dmesg', 'reassemble']) {
    assert.match(overview.out, new RegExp(`^ {2}${name} `, 'm'));
    const help = await run('crash', 'help', name);
    assert.equal(help.exitCode, ExitCode.OK);
    assert.match(help.out, new RegExp(`^Usage: kexec-ts crash ${name}`));
  }
  assert.equal((await run('crash', 'frobnicate')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', '--help')).exitCode, ExitCode.OK);
});

test('crash status --json has the documented keys, null for what could not be read, and changes nothing', async () => {
  const { exitCode, out } = await run('crash', 'status', '--json');
  assert.equal(exitCode, ExitCode.OK);
  const parsed = JSON.parse(out) as Record<string, any>;
  assert.equal(parsed.command, 'crash status');
  for (const key of ['reservation', 'loaded', 'loadedRecord', 'plan', 'planError']) assert.ok(key in parsed, key);
  for (const key of ['sysfsBytes', 'ranges', 'iomemAddressesHidden', 'mainBytes', 'totalBytes', 'parameter', 'requestedBytes', 'systemRamBytes', 'notes']) assert.ok(key in parsed.reservation, `reservation.${key}`);
  assert.ok(parsed.plan !== null || parsed.planError !== null);
});

test('crash load refuses before any syscall: a missing kernel, a bad option value, contradicting options', async () => {
  const missing = await run('crash', 'load', '--kernel', '/nonexistent/vmlinuz', '--no-initrd');
  assert.equal(missing.exitCode, ExitCode.INPUT_REJECTED);
  assert.match(missing.err, /The kernel image \/nonexistent\/vmlinuz does not exist/);
  assert.equal((await run('crash', 'load', '--environment', 'cloud')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'load', '--cmdline', 'x', '--append', 'y')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'load', '--userspace-reserve', 'lots')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'load', '--bogus')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'initrd', '/tmp/x.img', '--on-failure', 'explode')).exitCode, ExitCode.USAGE);
});

test('crash dmesg without a vmcore: not a capture kernel, said so, exit 3', async () => {
  const { exitCode, out } = await run('crash', 'dmesg', '/nonexistent/vmcore', '--json');
  assert.equal(exitCode, ExitCode.INPUT_REJECTED);
  const parsed = JSON.parse(out) as Record<string, any>;
  assert.equal(parsed.error.code, 'VMCORE_NOT_FOUND');
  const proc = await run('crash', 'dmesg');
  if (proc.exitCode !== ExitCode.OK) assert.match(proc.err, /There is no \/proc\/vmcore: this is not a capture kernel/);
});

test('crash dmesg on the real vmcore prints the crashed kernel\'s log, with the mark written before the crash', async (t) => {
  const fixture = vmcoreFixture(t);
  if (fixture === undefined) return;
  const { exitCode, out } = await run('crash', 'dmesg', fixture.path);
  assert.equal(exitCode, ExitCode.OK);
  assert.ok(out.includes(fixture.manifest.marker));
  assert.match(out, /sysrq: Trigger a crash/);
});

test('crash save --dir on the real vmcore: a dated directory with the dump and vmcore-dmesg.txt; the dump reads back', async (t) => {
  const fixture = vmcoreFixture(t);
  if (fixture === undefined) return;
  const dir = scratchDir(t);
  const { exitCode, out } = await run('crash', 'save', '--vmcore', fixture.path, '--dir', dir, '--json');
  assert.equal(exitCode, ExitCode.OK, out);
  const parsed = JSON.parse(out) as Record<string, any>;
  assert.match(parsed.dump.path, new RegExp(`^${dir}/\\d{8}-\\d{6}/vmcore$`));
  assert.equal(parsed.dump.format, 'kdump');
  assert.equal(parsed.dump.compress, 'zlib');
  assert.equal(parsed.dump.dumpLevel, 31);
  assert.equal(parsed.dmesg.path, join(dirname(parsed.dump.path), 'vmcore-dmesg.txt'));
  assert.ok(readFileSync(parsed.dmesg.path, 'utf8').includes(fixture.manifest.marker));
  assert.ok(statSync(parsed.dump.path).size < fixture.manifest.sizeBytes / 10);
  const reread = await run('crash', 'dmesg', parsed.dump.path);
  assert.ok(reread.out.includes(fixture.manifest.marker));
  // A second save in the same second gets its own directory.
  const again = JSON.parse((await run('crash', 'save', '--vmcore', fixture.path, '--dir', dir, '--no-dmesg', '--json')).out) as Record<string, any>;
  assert.notEqual(dirname(again.dump.path), dirname(parsed.dump.path));
  assert.equal(again.dmesg, null);
});

test('crash save: an existing dump is kept without --force; flat to a file reassembles to the kdump file', async (t) => {
  const fixture = vmcoreFixture(t);
  if (fixture === undefined) return;
  const dir = scratchDir(t);
  const kdump = join(dir, 'dump.kdump');
  assert.equal((await run('crash', 'save', '--vmcore', fixture.path, '--no-dmesg', kdump)).exitCode, ExitCode.OK);
  const exists = await run('crash', 'save', '--vmcore', fixture.path, '--no-dmesg', kdump, '--json');
  assert.equal(exists.exitCode, ExitCode.INPUT_REJECTED);
  assert.equal((JSON.parse(exists.out) as Record<string, any>).error.code, 'DUMP_EXISTS');
  const flat = join(dir, 'dump.flat');
  assert.equal((await run('crash', 'save', '--vmcore', fixture.path, '--format', 'flat', '--no-dmesg', flat)).exitCode, ExitCode.OK);
  const back = join(dir, 'back.kdump');
  const reassembled = await run('crash', 'reassemble', flat, back, '--json');
  assert.equal(reassembled.exitCode, ExitCode.OK, reassembled.out);
  assert.ok(readFileSync(back).equals(readFileSync(kdump)));
});

test('crash save refuses what cannot work before reading anything', async () => {
  assert.equal((await run('crash', 'save', '-', '--vmcore', '/nonexistent')).exitCode, ExitCode.USAGE, "'-' needs --format flat");
  assert.equal((await run('crash', 'save', '--format', 'flat', '-', '--json')).exitCode, ExitCode.USAGE, '--json and - both want stdout');
  assert.equal((await run('crash', 'save', '--compress', 'brotli', 'out')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'save', '--dump-level', 'all', 'out')).exitCode, ExitCode.USAGE);
  assert.equal((await run('crash', 'save', 'a', 'b')).exitCode, ExitCode.USAGE);
  const missing = await run('crash', 'save', '--vmcore', '/nonexistent/vmcore', '/tmp/never-written', '--json');
  assert.equal(missing.exitCode, ExitCode.INPUT_REJECTED);
  assert.equal((JSON.parse(missing.out) as Record<string, any>).error.code, 'VMCORE_NOT_FOUND');
});
