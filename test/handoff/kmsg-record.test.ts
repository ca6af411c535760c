import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import fc from 'fast-check';
import { formatKernelLogRecord, parseKmsgRecord } from '../../src/handoff/kmsg-record.js';

test('a record with continuation lines parses to its first line', () => {
  const record = parseKmsgRecord('3,1234,5123456,-,caller=T1;kexec-bzImage64: Not a bzImage\n SUBSYSTEM=kexec\n');
  assert.deepEqual(record, { level: 3, facility: 0, sequence: 1234n, timestampMicros: 5123456n, message: 'kexec-bzImage64: Not a bzImage' });
  assert.equal(formatKernelLogRecord(record!), '[    5.123456] kexec-bzImage64: Not a bzImage');
});

test('the facility is split from the level (user-space writes to /dev/kmsg are facility 1)', () => {
  const record = parseKmsgRecord('12,7,100,-;hello\n');
  assert.equal(record?.facility, 1);
  assert.equal(record?.level, 4);
});

test('records read from this machine\'s /dev/kmsg all parse', (t) => {
  let fd: number;
  try {
    fd = openSync('/dev/kmsg', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return t.skip(`/dev/kmsg is not readable here (${(error as NodeJS.ErrnoException).code})`);
  }
  const buffer = Buffer.alloc(8192);
  let parsed = 0;
  try {
    for (let i = 0; i < 500; i++) {
      let length: number;
      try {
        length = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EPIPE') continue;
        break;
      }
      const text = buffer.toString('utf8', 0, length);
      assert.ok(parseKmsgRecord(text) !== undefined, `unparsed: ${JSON.stringify(text)}`);
      parsed++;
    }
  } finally {
    closeSync(fd);
  }
  assert.ok(parsed > 0, 'the kernel log had records');
});

test('arbitrary text never throws: it parses or is undefined', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (text) => {
      const record = parseKmsgRecord(text);
      if (record !== undefined) assert.equal(typeof record.message, 'string');
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 64n }), fc.bigInt({ min: 0n, max: 1n << 64n }), fc.string(), (prefix, sequence, time, message) => {
      const record = parseKmsgRecord(`${prefix},${sequence},${time},-;${message.replace(/\n/g, ' ')}\n`);
      assert.equal(record?.sequence, sequence);
      assert.equal(record?.timestampMicros, time);
      assert.equal(record?.level, prefix & 7);
    }),
  );
});
