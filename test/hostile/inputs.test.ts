// Every command that reads a file the user names, against every kind of input that is not what
// it should be: missing, empty, a huge sparse file, unreadable to the user, a FIFO with no
// writer, a device, a directory, a symlink loop. Each must be refused with its exit code and
// error code, at once, in bounded memory, with no stack trace (test/hostile/cli-run.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertRefused, requireRoot, runCli, scratchReachableByAll } from './cli-run.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-hostile-inputs-'));
chmodSync(dir, 0o755);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'out');
mkdirSync(out);
chmodSync(out, 0o777);
const emptyRoot = join(dir, 'empty-root');
mkdirSync(emptyRoot);

/** A huge input, sparse so that it costs no disk: larger than any limit, and than 2^31. */
const HUGE_BYTES = 3 * 1024 ** 3;

interface InputKind {
  readonly name: string;
  readonly path: string;
  /** The error code every reader reports for it. */
  readonly code: string;
  readonly asUser?: boolean;
}

function inputKinds(): InputKind[] {
  const empty = join(dir, 'empty');
  writeFileSync(empty, '');
  const huge = join(dir, 'huge');
  writeFileSync(huge, '');
  truncateSync(huge, HUGE_BYTES);
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'not for nobody');
  chmodSync(secret, 0o600);
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
  symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
  return [
    { name: 'a missing file', path: join(dir, 'absent'), code: 'INPUT_NOT_FOUND' },
    { name: 'an empty file', path: empty, code: 'INPUT_EMPTY' },
    { name: 'a 3 GiB sparse file', path: huge, code: 'HUGE' },
    { name: 'a file the user may not read', path: secret, code: 'INPUT_UNREADABLE', asUser: true },
    { name: 'a FIFO nobody writes to', path: fifo, code: 'INPUT_NOT_REGULAR_FILE' },
    { name: 'a character device', path: '/dev/zero', code: 'INPUT_NOT_REGULAR_FILE' },
    { name: 'a directory', path: dir, code: 'INPUT_NOT_REGULAR_FILE' },
    { name: 'a symlink loop', path: join(dir, 'loop-a'), code: 'INPUT_SYMLINK_LOOP' },
  ];
}

interface Reader {
  readonly command: string;
  readonly args: (path: string) => string[];
  /** Where the error is in the JSON: a failed command's `error`, or `crash status`'s `planError`. */
  readonly errorAt?: 'planError';
  /** What a huge sparse file (all zeros) is to this reader. */
  readonly huge: string;
  /** Codes this reader reports instead, by input kind. */
  readonly instead?: Readonly<Record<string, string>>;
  /** Kinds this reader accepts on purpose (a flattened dump may come down a FIFO). */
  readonly skip?: readonly string[];
}

const READERS: Reader[] = [
  { command: 'inspect', args: (path) => ['inspect', path], huge: 'INPUT_TOO_LARGE' },
  // Every one of these inputs is refused before the syscall, so the host's kernel is never asked.
  { command: 'load', args: (path) => ['load', path, '--append', ''], huge: 'INPUT_TOO_LARGE' },
  { command: 'crash status --kernel', args: (path) => ['crash', 'status', '--kernel', path], errorAt: 'planError', huge: 'INPUT_TOO_LARGE' },
  { command: 'crash dmesg', args: (path) => ['crash', 'dmesg', path], huge: 'FORMAT_UNRECOGNIZED', instead: { 'a missing file': 'VMCORE_NOT_FOUND' } },
  { command: 'crash save --vmcore', args: (path) => ['crash', 'save', '--vmcore', path, join(out, 'dump')], huge: 'FORMAT_UNRECOGNIZED', instead: { 'a missing file': 'VMCORE_NOT_FOUND' } },
  {
    command: 'crash reassemble',
    args: (path) => ['crash', 'reassemble', path, join(out, 'reassembled')],
    huge: 'FORMAT_UNRECOGNIZED',
    instead: { 'a missing file': 'VMCORE_NOT_FOUND', 'an empty file': 'FORMAT_TRUNCATED' },
    skip: ['a FIFO nobody writes to'],
  },
  { command: 'list --iso', args: (path) => ['list', '--root', emptyRoot, '--iso', path], huge: 'FORMAT_UNRECOGNIZED' },
  { command: 'reboot --dry-run --iso', args: (path) => ['reboot', '--dry-run', '--iso', path], huge: 'FORMAT_UNRECOGNIZED' },
];

const kinds = inputKinds();

for (const reader of READERS) {
  test(`${reader.command}: every hostile input is refused with its code, at once, in bounded memory`, (t) => {
    const canSwitchUser = process.getuid?.() === 0;
    if (!canSwitchUser && !requireRoot(t)) return;
    scratchReachableByAll();
    for (const kind of kinds) {
      if (reader.skip?.includes(kind.name)) continue;
      const code = kind.code === 'HUGE' ? reader.huge : (reader.instead?.[kind.name] ?? kind.code);
      const run = runCli([...reader.args(kind.path), '--json'], { asUser: kind.asUser === true });
      const label = `${reader.command} on ${kind.name} (${kind.path})`;
      if (reader.errorAt === 'planError') {
        // crash status reports on the machine and says what is wrong with the kernel it was given.
        assert.equal(run.signal, null, label);
        assert.equal(run.status, ExitCode.OK, `${label}: ${run.stderr}`);
        const json = JSON.parse(run.stdout) as Record<string, any>;
        assert.equal(json.planError?.code, code, `${label}: ${run.stdout}`);
        assert.doesNotMatch(run.stderr, /internal error/, label);
      } else {
        assertRefused(run, { exitCode: ExitCode.INPUT_REJECTED, code }, label);
      }
    }
    // Nothing was written under a final name by any refusal.
    assert.deepEqual(readdirSync(out), [], `left in ${out}`);
  });
}

test('crash reassemble takes a FIFO (a flattened dump is made for pipes) and refuses garbage coming down it', () => {
  const fifo = join(dir, 'reassemble-fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  // A writer that sends a page of garbage and goes away (it blocks until the reader opens the FIFO).
  const writer = spawn('sh', ['-c', `head -c 8192 /dev/urandom > ${fifo}`], { stdio: 'ignore', detached: true });
  writer.unref();
  const run = runCli(['crash', 'reassemble', fifo, join(out, 'from-fifo'), '--json']);
  writer.kill('SIGKILL');
  assertRefused(run, { exitCode: ExitCode.INPUT_REJECTED, code: /^FORMAT_/ }, 'reassemble of garbage from a FIFO');
  assert.deepEqual(readdirSync(out), [], 'nothing left behind');
});

test('list and reboot --dry-run --root never reach outside the root: a BLS entry climbing with .. and a symlink to an absolute path', () => {
  const root = join(dir, 'escaping-root');
  mkdirSync(join(root, 'boot/loader/entries'), { recursive: true });
  writeFileSync(join(root, 'boot/loader/entries/climb.conf'), 'title Climb\nlinux /../../../../../../etc/hostname\noptions quiet\n');
  symlinkSync('/etc/hostname', join(root, 'boot/vmlinuz-6.1.0-99-amd64'));
  writeFileSync(join(root, 'boot/loader/entries/link.conf'), 'title Link\nlinux /vmlinuz-6.1.0-99-amd64\noptions quiet\n');
  const listed = runCli(['list', '--root', root, '--json']);
  assert.equal(listed.status, ExitCode.OK, listed.stderr);
  const entries = (JSON.parse(listed.stdout) as { entries: Array<{ title: string; kernelFile?: string | null; unbootableReason?: { message: string } | null }> }).entries;
  assert.equal(entries.length, 2, listed.stdout);
  for (const entry of entries) {
    // Neither kernel exists inside the root: both entries say so rather than point at the host's /etc.
    assert.ok(entry.kernelFile === null || entry.kernelFile === undefined || entry.kernelFile.startsWith(`${root}/`), `${entry.title}: ${entry.kernelFile}`);
    assert.match(entry.unbootableReason?.message ?? '', /not found .* under /, entry.title);
  }
  const dry = runCli(['reboot', '--dry-run', '--root', root, 'Climb', '--json']);
  assert.equal(dry.signal, null);
  assert.notEqual(dry.status, ExitCode.OK, dry.stdout);
  assert.doesNotMatch(dry.stdout, /"path": "\/etc\/hostname"/);
});
