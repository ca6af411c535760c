import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { KEXEC_ARCH, KEXEC_ARCH_MASK, KEXEC_ON_CRASH, KEXEC_SEGMENT_MAX, SYSCALL_NUMBERS, type SyscallName } from '../../src/syscall/numbers.js';
import { linuxErrnoTable } from '../../src/syscall/errno.js';

// The kernel's own tables as installed by Debian's linux-libc-dev: a second source, so the
// numbers in src/syscall/numbers.ts are checked, not restated.
const X86_64_HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';
const GENERIC_HEADER = '/usr/include/asm-generic/unistd.h';
const KEXEC_HEADER = '/usr/include/linux/kexec.h';
const ERRNO_HEADERS = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];
const headersMissing = [X86_64_HEADER, GENERIC_HEADER, ...ERRNO_HEADERS].filter((path) => !existsSync(path));
const skip = headersMissing.length > 0 && process.env.CI !== 'true' ? `kernel headers missing (${headersMissing.join(', ')}): apt-get install linux-libc-dev` : false;

/** #define __NR_x N, following one level of indirection (__NR_lseek -> __NR3264_lseek). */
function headerNumbers(path: string): Map<string, number> {
  const defines = new Map<string, string>();
  for (const match of readFileSync(path, 'utf8').matchAll(/^#define\s+(__NR\w+)\s+(\w+)/gm)) defines.set(match[1]!, match[2]!);
  const resolve = (value: string | undefined, depth = 0): number | undefined => {
    if (value === undefined || depth > 3) return undefined;
    return /^\d+$/.test(value) ? Number(value) : resolve(defines.get(value), depth + 1);
  };
  const numbers = new Map<string, number>();
  for (const [name, value] of defines) {
    const number = resolve(value);
    if (number !== undefined) numbers.set(name.replace(/^__NR(3264)?_/, ''), number);
  }
  return numbers;
}

test('x86_64 syscall numbers match asm/unistd_64.h', { skip }, () => {
  const fromHeader = headerNumbers(X86_64_HEADER);
  for (const [name, number] of Object.entries(SYSCALL_NUMBERS.x86_64)) {
    assert.equal(number, fromHeader.get(name), `${name}`);
  }
});

test('aarch64 and riscv64 syscall numbers match asm-generic/unistd.h', { skip }, () => {
  const fromHeader = headerNumbers(GENERIC_HEADER);
  for (const arch of ['aarch64', 'riscv64'] as const) {
    for (const name of Object.keys(SYSCALL_NUMBERS[arch]) as SyscallName[]) {
      assert.equal(SYSCALL_NUMBERS[arch][name], fromHeader.get(name), `${arch} ${name}`);
    }
  }
});

test('every errno in our table matches the generic errno headers, and none is missing', { skip }, () => {
  const fromHeader = new Map<number, string>();
  for (const path of ERRNO_HEADERS) {
    for (const match of readFileSync(path, 'utf8').matchAll(/^#define\s+(E[A-Z0-9]+)\s+(\d+)/gm)) {
      if (!fromHeader.has(Number(match[2]))) fromHeader.set(Number(match[2]), match[1]!);
    }
  }
  const ours = new Map(linuxErrnoTable().map(([number, name]) => [number, name]));
  assert.deepEqual([...ours.entries()].sort((a, b) => a[0] - b[0]), [...fromHeader.entries()].sort((a, b) => a[0] - b[0]));
});

test('kexec_load flags and limits match linux/kexec.h', { skip: existsSync(KEXEC_HEADER) || process.env.CI === 'true' ? false : `${KEXEC_HEADER} missing: apt-get install linux-libc-dev` }, () => {
  const header = readFileSync(KEXEC_HEADER, 'utf8');
  const define = (name: string): number => {
    const match = new RegExp(`^#define\\s+${name}\\s+\\(?\\s*(\\w+)(?:\\s*<<\\s*(\\d+))?\\s*\\)?`, 'm').exec(header);
    assert.ok(match, `${name} not in ${KEXEC_HEADER}`);
    return Number(match[1]) * 2 ** Number(match[2] ?? 0);
  };
  assert.equal(KEXEC_ON_CRASH, define('KEXEC_ON_CRASH'));
  assert.equal(KEXEC_ARCH_MASK >>> 0, define('KEXEC_ARCH_MASK'));
  assert.equal(KEXEC_SEGMENT_MAX, define('KEXEC_SEGMENT_MAX'));
  assert.deepEqual(KEXEC_ARCH, { x86_64: define('KEXEC_ARCH_X86_64'), aarch64: define('KEXEC_ARCH_AARCH64'), riscv64: define('KEXEC_ARCH_RISCV') });
});
