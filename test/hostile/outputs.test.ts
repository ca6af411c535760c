// Where crash save writes, when that place cannot take it: a read-only filesystem, a full one, a
// directory named as the dump, a file named as --dir, a pipe whose reader is gone, and files of
// an earlier crash already there. Each is refused with its code and remedy, and nothing is lost:
// no file is left under a final name unless it is complete, and none is replaced without --force.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { vmcoreFixture } from '../crash/vmcore-fixtures.js';
import { assertRefused, requireRoot, runCli } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-hostile-outputs-'));
const mounts: string[] = [];
process.on('exit', () => {
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
  rmSync(dir, { recursive: true, force: true });
});

/** A tmpfs of its own: `ro` for a read-only filesystem, a small size for a full one. */
function tmpfs(name: string, options: string): string {
  const mountPoint = join(dir, name);
  mkdirSync(mountPoint);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mountPoint], { encoding: 'utf8' });
  assert.equal(mounted.status, 0, `mount -o ${options}: ${mounted.stderr}`);
  mounts.push(mountPoint);
  return mountPoint;
}

function fixture(t: TestContext): string | undefined {
  if (!requireRoot(t)) return undefined;
  return vmcoreFixture(t, 'vmcore-small')?.path;
}

test('crash save onto a read-only filesystem: OUTPUT_NOT_WRITABLE, with OUT and with --dir, and nothing written', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const readOnly = tmpfs('read-only', 'ro,size=1m');
  const named = assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, join(readOnly, 'vmcore'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'OUTPUT_NOT_WRITABLE' }, 'OUT on a read-only tmpfs');
  assert.match(named.error.message, /read-only \(EROFS\)/);
  assert.match(named.error.remedy, /remount/);
  assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, '--dir', join(readOnly, 'crash'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'OUTPUT_NOT_WRITABLE' }, '--dir on a read-only tmpfs');
  assert.deepEqual(readdirSync(readOnly), []);
});

test('crash save onto a full filesystem: DUMP_NO_SPACE; the partial dump is named and kept, a second save replaces nothing', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const full = tmpfs('full', 'size=2m');
  const first = assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, join(full, 'vmcore'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DUMP_NO_SPACE' }, 'a dump larger than the tmpfs');
  assert.match(first.error.message, /the partial dump is .*vmcore\.incomplete/);
  // Dump level 31 with zlib is as small as it gets: the remedy does not suggest it again.
  assert.doesNotMatch(first.error.remedy, /dump level|-d 31/);
  assert.deepEqual(readdirSync(full).sort(), ['vmcore-dmesg.txt', 'vmcore.incomplete']);
  const log = readFileSync(join(full, 'vmcore-dmesg.txt'));
  // Another name in the same directory, the disk still full: its own log cannot be written, and the first crash's log is untouched.
  assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, join(full, 'vmcore-2'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DUMP_NO_SPACE' }, 'a second save onto the full tmpfs');
  assert.deepEqual(readFileSync(join(full, 'vmcore-dmesg.txt')), log);
  assert.deepEqual(readdirSync(full).sort(), ['vmcore-dmesg.txt', 'vmcore.incomplete']);
  // At a lower dump level the remedy says what would make the dump smaller.
  rmSync(join(full, 'vmcore.incomplete'));
  const lower = assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, '--dump-level', '1', '--no-dmesg', join(full, 'vmcore-3'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DUMP_NO_SPACE' }, 'dump level 1');
  assert.match(lower.error.remedy, /--dump-level 31/);
});

test('crash save names a directory as OUT, or a file as --dir: OUTPUT_WRONG_KIND, nothing written', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const target = join(dir, 'kinds');
  mkdirSync(join(target, 'a-directory'), { recursive: true });
  writeFileSync(join(target, 'a-file'), 'in the way');
  assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, '--no-dmesg', join(target, 'a-directory'), '--force', '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'OUTPUT_WRONG_KIND' }, 'OUT is a directory, even with --force');
  assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, '--dir', join(target, 'a-file'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'OUTPUT_WRONG_KIND' }, '--dir is a file');
  assert.deepEqual(readdirSync(target).sort(), ['a-directory', 'a-file']);
  assert.deepEqual(readdirSync(join(target, 'a-directory')), []);
  assert.equal(readFileSync(join(target, 'a-file'), 'utf8'), 'in the way');
});

test('crash save onto an earlier dump: DUMP_EXISTS before anything is written, and the dump and its log stay as they were', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const target = join(dir, 'earlier');
  mkdirSync(target);
  writeFileSync(join(target, 'vmcore'), 'the earlier dump');
  writeFileSync(join(target, 'vmcore-dmesg.txt'), 'the earlier log');
  const before = statSync(join(target, 'vmcore-dmesg.txt')).mtimeMs;
  assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, join(target, 'vmcore'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DUMP_EXISTS' }, 'onto an existing dump');
  // The log alone exists (its dump was moved away): it is not replaced either.
  rmSync(join(target, 'vmcore'));
  const logOnly = assertRefused(runCli(['crash', 'save', '--vmcore', vmcore, join(target, 'vmcore'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'DUMP_EXISTS' }, 'onto an existing log');
  assert.match(logOnly.error.message, /vmcore-dmesg\.txt already exists/);
  assert.match(logOnly.error.remedy, /--force/);
  assert.equal(readFileSync(join(target, 'vmcore-dmesg.txt'), 'utf8'), 'the earlier log');
  assert.equal(statSync(join(target, 'vmcore-dmesg.txt')).mtimeMs, before);
  assert.deepEqual(readdirSync(target), ['vmcore-dmesg.txt']);
});

test('crash save to a pipe whose reader is gone: DUMP_WRITE_FAILED (EPIPE) with a remedy about the pipe, no stack trace', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  // `true` exits at once, so every write of the flattened dump meets a closed pipe.
  const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${main}" crash save --vmcore "${vmcore}" --format flat - | true; echo "status:\${PIPESTATUS:-$?}"`], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, TERM: 'dumb' },
  });
  assert.equal(piped.signal, null, 'no hang');
  assert.doesNotMatch(piped.stderr, /internal error|^\s+at /m, piped.stderr);
  assert.match(piped.stderr, /EPIPE/, piped.stderr);
  assert.match(piped.stderr, /error code +DUMP_WRITE_FAILED/, piped.stderr);
  assert.match(piped.stderr, /other end of the pipe went away/, piped.stderr);
});

test('crash reassemble of a truncated flattened dump: FORMAT_TRUNCATED, and no partial file left behind', (t) => {
  const vmcore = fixture(t);
  if (vmcore === undefined) return;
  const target = join(dir, 'truncated');
  mkdirSync(target);
  const flat = join(target, 'vmcore.flat');
  const saved = runCli(['crash', 'save', '--vmcore', vmcore, '--format', 'flat', '--no-dmesg', flat, '--json']);
  assert.equal(saved.status, ExitCode.OK, saved.stderr);
  truncateSync(flat, Math.floor(statSync(flat).size / 2));
  assertRefused(runCli(['crash', 'reassemble', flat, join(target, 'vmcore'), '--json']), { exitCode: ExitCode.INPUT_REJECTED, code: 'FORMAT_TRUNCATED' }, 'reassemble of half a flattened dump');
  assert.deepEqual(readdirSync(target), ['vmcore.flat']);
});
