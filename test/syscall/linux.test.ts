import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { SyscallError } from '../../src/errors.js';
import { MFD_CLOEXEC, kernelArchOf } from '../../src/syscall/numbers.js';
import { hostSyscalls } from '../../src/syscall/index.js';

// Real calls through koffi on this host, for the syscalls that are harmless to make here
// (kexec_file_load and reboot are made only inside the test VM).
const skip = process.platform !== 'linux' || kernelArchOf(process.arch) === undefined ? 'not a supported Linux host' : false;

test('memfd_create gives an anonymous file that reads back what was written', { skip }, () => {
  const fd = hostSyscalls().memfdCreate('kexec-ts-test', MFD_CLOEXEC);
  try {
    assert.match(readlinkSync(`/proc/self/fd/${fd}`), /^\/memfd:kexec-ts-test \(deleted\)$/);
    writeSync(fd, 'initrd bytes');
    assert.equal(readFileSync(`/proc/self/fd/${fd}`, 'utf8'), 'initrd bytes');
  } finally {
    closeSync(fd);
  }
});

test('a failing call throws SyscallError with the errno named', { skip }, () => {
  assert.throws(() => hostSyscalls().seekEnd(987654), (error: unknown) => {
    assert.ok(error instanceof SyscallError);
    assert.equal(error.syscall, 'lseek');
    assert.equal(error.errno, 9);
    assert.equal(error.errnoName, 'EBADF');
    return true;
  });
});

test('seekEnd moves a descriptor to the end of its file', { skip }, () => {
  const fd = openSync('/proc/self/exe', 'r');
  try {
    hostSyscalls().seekEnd(fd);
    const buffer = Buffer.alloc(16);
    assert.equal(readSync(fd, buffer), 0, 'nothing left to read after SEEK_END');
  } finally {
    closeSync(fd);
  }
});

