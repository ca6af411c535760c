import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { startKernelLogCapture } from '../../src/handoff/kernel-log.js';
import { hostSyscalls } from '../../src/syscall/index.js';

test('only what the kernel logs after the capture starts is collected', (t) => {
  const capture = startKernelLogCapture(hostSyscalls());
  if (capture.unavailableReason !== undefined) return t.skip(capture.unavailableReason);
  try {
    const marker = `kexec-ts-test-${process.pid}-${Date.now()}`;
    try {
      // Writing to /dev/kmsg needs root (or a writable /dev/kmsg); reading was enough above.
      writeFileSync('/dev/kmsg', `${marker}\n`);
    } catch (error) {
      return t.skip(`cannot write to /dev/kmsg (${(error as NodeJS.ErrnoException).code})`);
    }
    const lines = capture.collect();
    assert.equal(lines.length, 1, `one record, got ${JSON.stringify(lines)}`);
    assert.match(lines[0]!, new RegExp(`^\\[\\s*\\d+\\.\\d{6}\\] ${marker}$`));
    assert.deepEqual(capture.collect(), [], 'a second collect starts after the first');
  } finally {
    capture.close();
  }
});

test('an unreadable kernel log is reported, not thrown', () => {
  const capture = startKernelLogCapture(hostSyscalls(), '/nonexistent/kmsg');
  assert.match(capture.unavailableReason ?? '', /cannot be opened \(ENOENT\)/);
  assert.deepEqual(capture.collect(), []);
  capture.close();
});
