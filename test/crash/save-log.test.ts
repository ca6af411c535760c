// crash save --dir is what the capture unit runs, where journald may not be running: what it says
// must also land in kexec-ts-save.log beside the dump, success or failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMain } from '../cli/run-main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { scratchDir, vmcoreFixture } from './vmcore-fixtures.js';

const run = runMain;

function onlyDatedDirectory(root: string): string {
  const entries = readdirSync(root);
  assert.equal(entries.length, 1, `one dated directory in ${root}: ${entries.join(', ')}`);
  assert.match(entries[0]!, /^\d{8}-\d{6}$/);
  return join(root, entries[0]!);
}

test('crash save --dir: the log beside the dump has the command, and what it printed', async (t) => {
  const fixture = vmcoreFixture(t);
  if (!fixture) return;
  const root = scratchDir(t);
  const result = await run('crash', 'save', '--vmcore', fixture.path, '--dir', root, '--dump-level', '31');
  assert.equal(result.exitCode, ExitCode.OK, result.err);
  const dir = onlyDatedDirectory(root);
  assert.deepEqual(readdirSync(dir).sort(), ['kexec-ts-save.log', 'vmcore', 'vmcore-dmesg.txt']);
  const log = readFileSync(join(dir, 'kexec-ts-save.log'), 'utf8');
  assert.match(log, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[^ ]+ kexec-ts crash save --vmcore ${fixture.path} --dir ${root} --dump-level 31\\n`));
  assert.ok(log.includes(result.out), `the log holds what was printed:\n${log}`);
  assert.match(log, /^Saved .*\/vmcore: .*dump level 31/m);
});

test('crash save --dir that fails: the error, its remedy and code are in the log too', async (t) => {
  const root = scratchDir(t);
  const notAVmcore = join(root, 'not-a-vmcore');
  writeFileSync(notAVmcore, 'this is text, not a crash dump\n'.repeat(100));
  const dumps = join(root, 'crash');
  const result = await run('crash', 'save', '--vmcore', notAVmcore, '--dir', dumps);
  assert.notEqual(result.exitCode, ExitCode.OK);
  const log = readFileSync(join(onlyDatedDirectory(dumps), 'kexec-ts-save.log'), 'utf8');
  assert.match(log, /^kexec-ts: .+/m);
  assert.match(log, /^ {2}error code +[A-Z_]+$/m);
});
