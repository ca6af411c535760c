import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeImage, openImage } from '../../src/handoff/open-image.js';
import { ValidationError } from '../../src/errors.js';

const scratch = mkdtempSync(join(tmpdir(), 'kexec-ts-open-'));
const kernelFile = join(scratch, 'vmlinuz-test');
writeFileSync(kernelFile, Buffer.alloc(4096, 0x4d));

function rejects(path: string, code: string, messagePattern: RegExp) {
  assert.throws(() => openImage(path, 'kernel'), (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, messagePattern);
    assert.ok(error.remedy !== undefined && error.remedy.length > 0, 'a remedy is given');
    return true;
  });
}

test('a regular file is opened read-only with O_CLOEXEC, once, through its real path', () => {
  const link = join(scratch, 'vmlinuz');
  symlinkSync(kernelFile, link);
  const image = openImage(link, 'kernel');
  try {
    assert.equal(image.realPath, kernelFile);
    assert.equal(image.sizeBytes, 4096);
    assert.equal(readlinkSync(`/proc/self/fd/${image.fd}`), kernelFile);
    const flags = Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${image.fd}`, 'utf8'))![1]!, 8);
    assert.equal(flags & 0o3, 0, 'O_RDONLY');
    assert.equal(flags & 0o2000000, 0o2000000, 'O_CLOEXEC');
  } finally {
    closeImage(image);
  }
});

test('a missing file and a dangling symlink are INPUT_NOT_FOUND; a symlink loop is INPUT_SYMLINK_LOOP', () => {
  rejects(join(scratch, 'absent'), 'INPUT_NOT_FOUND', /does not exist/);
  symlinkSync(join(scratch, 'nowhere'), join(scratch, 'dangling'));
  rejects(join(scratch, 'dangling'), 'INPUT_NOT_FOUND', /does not exist/);
  symlinkSync(join(scratch, 'loop-b'), join(scratch, 'loop-a'));
  symlinkSync(join(scratch, 'loop-a'), join(scratch, 'loop-b'));
  rejects(join(scratch, 'loop-a'), 'INPUT_SYMLINK_LOOP', /ELOOP/);
});

test('a directory, a character device and a FIFO are refused without blocking', () => {
  rejects(scratch, 'INPUT_NOT_REGULAR_FILE', /is a directory/);
  rejects('/dev/null', 'INPUT_NOT_REGULAR_FILE', /is a character device/);
  const fifo = join(scratch, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  rejects(fifo, 'INPUT_NOT_REGULAR_FILE', /is a FIFO/);
});

test('an empty kernel file is INPUT_EMPTY and its descriptor is not leaked', () => {
  const empty = join(scratch, 'empty');
  writeFileSync(empty, '');
  rejects(empty, 'INPUT_EMPTY', /is empty \(0 bytes\)/);
  const openOnEmpty = readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === empty;
    } catch {
      return false;
    }
  });
  assert.deepEqual(openOnEmpty, []);
});

test('an unreadable file is INPUT_UNREADABLE (checked as an unprivileged user)', (t) => {
  const secret = join(scratch, 'secret-kernel');
  writeFileSync(secret, 'x');
  chmodSync(secret, 0o600);
  chmodSync(scratch, 0o755);
  if (process.getuid?.() !== 0) {
    // Not root: the file is ours; making it mode 000 is enough.
    chmodSync(secret, 0o000);
    rejects(secret, 'INPUT_UNREADABLE', /cannot be read: permission denied \(EACCES\)/);
    return;
  }
  // Root reads every file, so ask a child running as nobody.
  const moduleUrl = new URL('../../src/handoff/open-image.js', import.meta.url).href;
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { openImage } from ${JSON.stringify(moduleUrl)}; try { openImage(${JSON.stringify(secret)}, 'initrd'); console.log('opened'); } catch (e) { console.log(e.code + ' ' + e.message); }`],
    { uid: 65534, gid: 65534, encoding: 'utf8' },
  );
  if (child.error !== undefined) return t.skip(`cannot switch to uid 65534: ${child.error.message}`);
  assert.match(child.stdout, /^INPUT_UNREADABLE The initrd .* cannot be read: permission denied \(EACCES\)/);
});
