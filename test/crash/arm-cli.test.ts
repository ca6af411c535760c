import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/cli.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { vmcoreFixture } from './vmcore-fixtures.js';

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const exitCode = await main(argv, { out: (text) => void (out += text), err: (text) => void (err += text) });
  return { exitCode, out, err };
}

test('crash alone, crash help and crash help SUBCOMMAND: the overview, then each subcommand\'s options', async () => {
  const bare = await run('crash');
  assert.equal(bare.exitCode, ExitCode.USAGE);
  assert.match(bare.err, /Subcommands:\n {2}load /);
  const overview = await run('crash', 'help');
  assert.equal(overview.exitCode, ExitCode.OK);
  for (const name of ['load', 'unload', 'status', 'initrd', 'dmesg']) {
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
