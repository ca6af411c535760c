import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KexecRefusedError, SyscallError } from '../../src/errors.js';
import { explainKexecFailure, type FailedCall } from '../../src/handoff/explain.js';
import { parseKernelConfig } from '../../src/image/kernel-config.js';
import { errnoNumber } from '../../src/syscall/errno.js';
import { permissiveFacts } from './facts-fixture.js';

const LOAD: FailedCall = { operation: 'load', kernelPath: '/boot/vmlinuz', initrdPath: '/boot/initrd.img' };
const LOCKDOWN_LINE = '[    5.123456] Lockdown: node: kexec of unsigned images is restricted; see man kernel_lockdown.7';

function failure(errnoName: string): SyscallError {
  return new SyscallError('kexec_file_load', errnoNumber(errnoName)!, errnoName);
}

function explain(errnoName: string, facts = permissiveFacts(), log: string[] = [], call = LOAD): KexecRefusedError {
  return explainKexecFailure(failure(errnoName), call, facts, log);
}

test('EPERM without CAP_SYS_BOOT is explained as that, before any other cause', () => {
  // Every other cause holds too: the capability is what the kernel checks first.
  const error = explain('EPERM', permissiveFacts({ hasCapSysBoot: false, uid: 1000, kexecLoadDisabled: true, lockdown: 'integrity' }), [LOCKDOWN_LINE]);
  assert.equal(error.code, 'NO_CAP_SYS_BOOT');
  assert.match(error.reason, /lacks CAP_SYS_BOOT \(running as uid 1000, not root\)/);
  assert.equal(error.errno, 1);
  assert.equal(error.errnoName, 'EPERM');
});

test('EPERM with kexec_load_disabled=1 is explained as that, before lockdown', () => {
  const error = explain('EPERM', permissiveFacts({ kexecLoadDisabled: true, lockdown: 'integrity' }));
  assert.equal(error.code, 'KEXEC_LOAD_DISABLED');
  assert.match(error.message, /kexec_load_disabled is 1/);
  assert.match(error.remedy ?? '', /Reboot/);
});

test('EPERM with the reboot load limit at 0 is explained; the panic limit counts for crash loads only', () => {
  assert.equal(explain('EPERM', permissiveFacts({ loadLimitReboot: 0, lockdown: 'integrity' })).code, 'KEXEC_LOAD_LIMIT_REACHED');
  assert.equal(explain('EPERM', permissiveFacts({ loadLimitPanic: 0 })).code, 'PERMISSION_DENIED');
  assert.equal(
    explain('EPERM', permissiveFacts({ loadLimitPanic: 0 }), [], { operation: 'crash-load', kernelPath: '/boot/vmlinuz' }).code,
    'KEXEC_LOAD_LIMIT_REACHED',
  );
});

test('EPERM under lockdown is explained as lockdown, from securityfs or from the kernel log alone', () => {
  const fromSecurityfs = explain('EPERM', permissiveFacts({ lockdown: 'integrity' }));
  assert.equal(fromSecurityfs.code, 'LOCKDOWN_REFUSED');
  assert.match(fromSecurityfs.reason, /locked down \(integrity mode\)/);
  const fromLog = explain('EPERM', permissiveFacts({ lockdown: undefined }), [LOCKDOWN_LINE]);
  assert.equal(fromLog.code, 'LOCKDOWN_REFUSED');
  assert.deepEqual(fromLog.kernelLog, [LOCKDOWN_LINE]);
});

test('EPERM with signature enforcement is explained after lockdown', () => {
  const forced = permissiveFacts({ kernelConfig: parseKernelConfig('CONFIG_KEXEC_FILE=y\nCONFIG_KEXEC_SIG_FORCE=y\n') });
  assert.equal(explain('EPERM', forced).code, 'SIGNATURE_REJECTED');
  assert.equal(explain('EPERM', { ...forced, lockdown: 'confidentiality' }).code, 'LOCKDOWN_REFUSED');
});

test('EPERM with no cause confirmed says so instead of guessing', () => {
  const error = explain('EPERM', permissiveFacts({ lockdown: undefined }));
  assert.equal(error.code, 'PERMISSION_DENIED');
  assert.match(error.reason, /none of the known causes/);
});

test('ENOEXEC names the file and the arch, and keeps the kernel\'s log line', () => {
  const line = '[   12.000001] kexec-bzImage64: Not a bzImage';
  const error = explain('ENOEXEC', permissiveFacts(), [line]);
  assert.equal(error.code, 'NOT_A_KERNEL');
  assert.match(error.reason, /\/boot\/vmlinuz as a kernel it can load on x86_64/);
  assert.deepEqual(error.kernelLog, [line]);
  assert.match(error.message, /^Loading \/boot\/vmlinuz was refused: ENOEXEC/);
});

test('EADDRNOTAVAIL on a crash load says whether anything is reserved', () => {
  const crash: FailedCall = { operation: 'crash-load', kernelPath: '/boot/vmlinuz' };
  const none = explain('EADDRNOTAVAIL', permissiveFacts({ crashReservationBytes: 0 }), [], crash);
  assert.equal(none.code, 'NO_CRASH_RESERVATION');
  assert.match(none.reason, /booted without crashkernel=/);
  assert.match(none.remedy ?? '', /crashkernel=256M/);
  const small = explain('EADDRNOTAVAIL', permissiveFacts({ crashReservationBytes: 64 << 20, crashkernelParameter: 'crashkernel=64M' }), [], crash);
  assert.match(small.reason, /does not fit the 64 MiB reserved by crashkernel=64M/);
});

test('every errno the issue names maps to its own stable code', () => {
  const expected: Record<string, string> = {
    ENOEXEC: 'NOT_A_KERNEL',
    EKEYREJECTED: 'SIGNATURE_REJECTED',
    EADDRNOTAVAIL: 'NO_CRASH_RESERVATION',
    EBUSY: 'KEXEC_BUSY',
    EINVAL: 'INVALID_ARGUMENT',
    ENOMEM: 'OUT_OF_MEMORY',
    ENOSYS: 'KEXEC_FILE_NOT_SUPPORTED',
    ETXTBSY: 'FILE_OPEN_FOR_WRITING',
    EFBIG: 'IMAGE_TOO_LARGE',
    EIO: 'SYSCALL_FAILED',
  };
  for (const [errnoName, code] of Object.entries(expected)) {
    const error = explain(errnoName);
    assert.equal(error.code, code, errnoName);
    assert.ok((error.remedy ?? '').length > 10, `${errnoName} has a remedy`);
    assert.ok(error.cause instanceof SyscallError, `${errnoName} keeps its cause`);
  }
});

test('EINVAL is explained per arch: an unknown image on arm64 is EINVAL, not ENOEXEC', () => {
  assert.match(explain('EINVAL', permissiveFacts({ arch: 'aarch64' })).reason, /on aarch64 an image it does not recognise/);
  assert.match(explain('EINVAL').reason, /cmdline_size/);
});

test('ENOSYS says when the config shows KEXEC_FILE is off', () => {
  const facts = permissiveFacts({ kernelConfig: parseKernelConfig('# CONFIG_KEXEC_FILE is not set\n') });
  assert.match(explain('ENOSYS', facts).reason, /CONFIG_KEXEC_FILE is not set/);
});
