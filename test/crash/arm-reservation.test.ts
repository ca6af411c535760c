import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ErrorCode, ParseError } from '../../src/errors.js';
import { parseCrashkernel, requestedCrashkernel, findCrashkernelParameters } from '../../src/crash/arm/crashkernel.js';
import { crashKernelRanges, parseIomem, runningKernelImageBytes, systemRamBytes } from '../../src/crash/arm/iomem.js';
import { parseMemSize } from '../../src/crash/arm/memory-size.js';
import { assessReservation } from '../../src/crash/arm/reservation.js';
import { fuzzSettings } from '../image/image-fixtures.js';

const M = 1n << 20n;
const G = 1n << 30n;

test('memparse: suffixes K..E in either case, 0x hex and leading-0 octal, stops at the first other character', () => {
  assert.deepEqual(parseMemSize('256M'), { bytes: 256n * M, length: 4 });
  assert.deepEqual(parseMemSize('1g'), { bytes: G, length: 2 });
  assert.deepEqual(parseMemSize('0x10000000'), { bytes: 0x10000000n, length: 10 });
  assert.deepEqual(parseMemSize('010M'), { bytes: 8n * M, length: 4 });
  assert.deepEqual(parseMemSize('08'), { bytes: 0n, length: 1 });
  assert.deepEqual(parseMemSize('2T'), { bytes: 2n << 40n, length: 2 });
  assert.deepEqual(parseMemSize('12345'), { bytes: 12345n, length: 5 });
  assert.equal(parseMemSize('M').length, 0);
  assert.deepEqual(parseMemSize('64M,high', 0), { bytes: 64n * M, length: 3 });
});

test('crashkernel=: every form the kernel takes', () => {
  assert.deepEqual(parseCrashkernel('256M'), { form: 'size', text: '256M', sizeBytes: 256n * M, offsetBytes: undefined });
  assert.deepEqual(parseCrashkernel('256M@16M'), { form: 'size', text: '256M@16M', sizeBytes: 256n * M, offsetBytes: 16n * M });
  assert.deepEqual(parseCrashkernel('256M,high'), { form: 'high', text: '256M,high', sizeBytes: 256n * M });
  assert.deepEqual(parseCrashkernel('0,low'), { form: 'low', text: '0,low', sizeBytes: 0n });
  assert.deepEqual(parseCrashkernel('64M,cma'), { form: 'cma', text: '64M,cma', sizeBytes: 64n * M });
  const ranges = parseCrashkernel('512M-2G:64M,2G-:128M');
  assert.equal(ranges.form, 'ranges');
  assert.deepEqual(ranges.form === 'ranges' && ranges.ranges, [
    { startBytes: 512n * M, endBytes: 2n * G, sizeBytes: 64n * M },
    { startBytes: 2n * G, endBytes: undefined, sizeBytes: 128n * M },
  ]);
  // kdump-utils' x86_64 default, and Debian's kdump-tools default (/etc/default/grub.d/kdump-tools.cfg).
  const fedora = parseCrashkernel('1G-4G:192M,4G-64G:256M,64G-:512M@16M');
  assert.equal(fedora.form === 'ranges' && fedora.offsetBytes, 16n * M);
  assert.equal(parseCrashkernel('384M-:128M').form, 'ranges');
});

test('crashkernel=: what the kernel refuses is a ParseError with the kernel\'s own complaint', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /memory value expected/],
    ['abc', /memory value expected/],
    ['256Q', /unrecognized char: Q/],
    ['256M@', /memory value expected after '@'/],
    ['2G-1G:64M', /end <= start/],
    // No ':' at all: the kernel reads the simple form, and stops at the '-'.
    ['512M-2G', /unrecognized char: -/],
    ['512M-2G@1G:64M', /':' expected/],
    ['512M:64M', /'-' expected/],
    ['512M-2G:', /memory value expected/],
    ['256M,higher', /unrecognized char/],
    ['1G-:256Mx', /unrecognized char: x/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => parseCrashkernel(value), (error: unknown) => error instanceof ParseError && error.code === ErrorCode.FORMAT_INVALID && message.test(error.message), value);
  }
});

test('crashkernel= ranges: RAM rounded up to 128 MiB, start inclusive, end exclusive, first match wins (parse_crashkernel_mem)', () => {
  const line = 'quiet crashkernel=512M-2G:64M,2G-:128M';
  assert.equal(requestedCrashkernel(line, 1023n * M)?.sizeBytes, 64n * M);
  // 2 GiB minus a firmware hole rounds up to 2 GiB, which is in the second range.
  assert.equal(requestedCrashkernel(line, 2n * G - 3n * M)?.sizeBytes, 128n * M);
  assert.equal(requestedCrashkernel(line, 2n * G - 200n * M)?.sizeBytes, 64n * M);
  assert.equal(requestedCrashkernel(line, 256n * M)?.sizeBytes, 0n);
  assert.equal(requestedCrashkernel(line, undefined)?.sizeBytes, 0n, 'RAM unknown: no range can be matched');
  assert.equal(requestedCrashkernel('crashkernel=384M-:128M', 8n * G)?.matchedRange?.sizeBytes, 128n * M);
});

test('crashkernel= on a line: the last plain one wins; ,high brings a low region (256 MiB unless ,low says)', () => {
  assert.equal(requestedCrashkernel('crashkernel=128M root=/dev/vda1 crashkernel=256M', undefined)?.parameter, 'crashkernel=256M');
  const high = requestedCrashkernel('crashkernel=512M,high', 16n * G);
  assert.equal(high?.sizeBytes, 512n * M);
  assert.equal(high?.lowSizeBytes, 256n * M);
  assert.equal(requestedCrashkernel('crashkernel=512M,high crashkernel=72M,low', 16n * G)?.lowSizeBytes, 72n * M);
  assert.equal(requestedCrashkernel('crashkernel=256M crashkernel=512M,high', 16n * G)?.parameter, 'crashkernel=256M', 'a plain one is used before ,high');
  assert.equal(requestedCrashkernel('root=/dev/sda1 quiet', 16n * G), undefined);
  assert.deepEqual(findCrashkernelParameters('crashkernel=1G,high crashkernel=64M,cma crashkernel=2G').all, ['crashkernel=1G,high', 'crashkernel=64M,cma', 'crashkernel=2G']);
});

test('crashkernel= property: a rendered spec parses back to itself; any other text is a ParseError or a parse, never another error', () => {
  const size = fc.tuple(fc.integer({ min: 1, max: 4095 }), fc.constantFrom('', 'K', 'M', 'G'));
  const render = ([value, suffix]: [number, string]) => `${value}${suffix}`;
  const bytes = ([value, suffix]: [number, string]) => BigInt(value) << BigInt({ '': 0, K: 10, M: 20, G: 30 }[suffix]!);
  fc.assert(
    fc.property(size, fc.option(size, { nil: undefined }), (main, offset) => {
      const text = `${render(main)}${offset === undefined ? '' : `@${render(offset)}`}`;
      const spec = parseCrashkernel(text);
      assert.equal(spec.form, 'size');
      assert.equal(spec.form === 'size' && spec.sizeBytes, bytes(main));
      assert.equal(spec.form === 'size' && spec.offsetBytes, offset === undefined ? undefined : bytes(offset));
    }),
    fuzzSettings(300),
  );
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789xXkKmMgG-:,@lowhigcma'.split('')), maxLength: 40 }), (text) => {
      try {
        parseCrashkernel(text);
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }),
    fuzzSettings(2000),
  );
});

test('/proc/iomem of a VM booted with crashkernel=256M: the range, RAM as the kernel counts it, the running kernel\'s image', () => {
  const iomem = parseIomem(IOMEM_QEMU_1G_CRASHKERNEL_256M);
  assert.equal(iomem.addressesHidden, false);
  const ranges = crashKernelRanges(iomem);
  assert.equal(ranges.length, 1);
  assert.equal(ranges[0]!.startAddress, 0x16000000n);
  assert.equal(ranges[0]!.endAddress, 0x25ffffffn);
  assert.equal(ranges[0]!.depth, 1);
  // The kernel logged "System RAM: 1023MB" for the same boot.
  assert.equal(systemRamBytes(iomem)! >> 20n, 1023n);
  // code + rodata + data + bss, each as printed (end inclusive).
  assert.equal(runningKernelImageBytes(iomem), 0xe01ef2n + 0x827000n + 0x245e00n + 0x54f000n);
});

test('/proc/iomem with crashkernel=256M,high: two Crash kernel ranges, the low one below 4 GiB', () => {
  const reservation = assessReservation({ procCmdline: 'console=ttyS0 crashkernel=256M,high', kexecCrashSize: '268435456\n', procIomem: IOMEM_QEMU_5G_CRASHKERNEL_256M_HIGH });
  assert.deepEqual(reservation.ranges?.map((range) => [range.startAddress, range.sizeBytes]), [[0xa8000000n, 256 * 2 ** 20], [0x16f000000n, 256 * 2 ** 20]]);
  assert.equal(reservation.mainBytes, 256 * 2 ** 20, 'kexec_crash_size is the main (high) region');
  assert.equal(reservation.totalBytes, 512 * 2 ** 20, 'the capture kernel runs in both');
  assert.equal(reservation.request?.lowSizeBytes, 256n * M);
  assert.deepEqual(reservation.notes, []);
});

test('reservation: the three sources weighed, each disagreement explained', () => {
  const none = assessReservation({ procCmdline: 'root=/dev/vda1 quiet', kexecCrashSize: '0\n', procIomem: IOMEM_QEMU_1G_CRASHKERNEL_256M.replace(/.*Crash kernel\n/, '') });
  assert.equal(none.mainBytes, 0);
  assert.match(none.notes.join(), /booted without crashkernel=/);
  const failed = assessReservation({ procCmdline: 'crashkernel=2G', kexecCrashSize: '0', procIomem: undefined });
  assert.match(failed.notes.join(), /asked for 2 GiB, but nothing is reserved/);
  const shrunk = assessReservation({ procCmdline: 'crashkernel=256M', kexecCrashSize: String(128 * 2 ** 20), procIomem: undefined });
  assert.match(shrunk.notes.join(), /128 MiB remain reserved/);
  const noRange = assessReservation({ procCmdline: 'crashkernel=384M-:128M', kexecCrashSize: '0', procIomem: IOMEM_QEMU_1G_CRASHKERNEL_256M.replace(/.*Crash kernel\n/, '').replace('00100000-3ffdffff', '00100000-0fffffff') });
  assert.match(noRange.notes.join(), /asks for nothing .* no range matches/);
  const invalid = assessReservation({ procCmdline: 'crashkernel=lots', kexecCrashSize: '0', procIomem: undefined });
  assert.equal(invalid.parameter, 'crashkernel=lots');
  assert.match(invalid.parameterError ?? '', /memory value expected/);
});

test('/proc/iomem read by a user who is not root: every address 0, nothing about sizes claimed', () => {
  const hiddenText = IOMEM_QEMU_1G_CRASHKERNEL_256M.replace(/^( *)[0-9a-f]+-[0-9a-f]+/gm, '$100000000-00000000');
  const iomem = parseIomem(hiddenText);
  assert.equal(iomem.addressesHidden, true);
  assert.equal(systemRamBytes(iomem), undefined);
  assert.equal(runningKernelImageBytes(iomem), undefined);
  const reservation = assessReservation({ procCmdline: 'crashkernel=256M', kexecCrashSize: '268435456', procIomem: hiddenText });
  assert.equal(reservation.ranges, undefined);
  assert.equal(reservation.totalBytes, 256 * 2 ** 20, 'sysfs still says');
  assert.match(reservation.notes.join(), /run as root/);
});

test('this machine\'s own /proc/iomem parses (whatever it holds)', (t) => {
  let text: string;
  try {
    text = readFileSync('/proc/iomem', 'utf8');
  } catch {
    t.skip('no /proc/iomem here');
    return;
  }
  const iomem = parseIomem(text);
  assert.ok(iomem.resources.length > 0);
  if (!iomem.addressesHidden) assert.ok(systemRamBytes(iomem)! > 0n);
});

test('/proc/iomem property: mutated real text gives a parse or a ParseError, never another error', () => {
  const lines = IOMEM_QEMU_5G_CRASHKERNEL_256M_HIGH.split('\n');
  fc.assert(
    fc.property(fc.integer({ min: 0, max: lines.length - 1 }), fc.integer({ min: 0, max: 60 }), fc.string({ maxLength: 4 }), (line, at, insert) => {
      const mutated = [...lines];
      mutated[line] = `${mutated[line]!.slice(0, at)}${insert}${mutated[line]!.slice(at + insert.length)}`;
      try {
        const iomem = parseIomem(mutated.join('\n'));
        crashKernelRanges(iomem);
        systemRamBytes(iomem);
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }),
    fuzzSettings(1000),
  );
});

/** -m 1024, crashkernel=256M: "Reserving 256MB of memory at 352MB for crashkernel (System RAM: 1023MB)". */
export const IOMEM_QEMU_1G_CRASHKERNEL_256M = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c9bff : Video ROM
000ca000-000ca5ff : Adapter ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-3ffdffff : System RAM
  16000000-25ffffff : Crash kernel
  26400000-27201ef1 : Kernel code
  27400000-27c26fff : Kernel rodata
  27e00000-28045dff : Kernel data
  286b1000-28bfffff : Kernel bss
3ffe0000-3fffffff : Reserved
40000000-febfffff : PCI Bus 0000:00
  fd000000-fdffffff : 0000:00:02.0
  febf0000-febf0fff : 0000:00:02.0
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fee00000-fee00fff : Local APIC
fffc0000-ffffffff : Reserved
100000000-17fffffff : PCI Bus 0000:00
fd00000000-ffffffffff : Reserved
`;

/**
 * -m 5120, crashkernel=256M,high: "Reserving 256MB of low memory at 2688MB for crashkernel" and
 * "Reserving 256MB of memory at 5872MB for crashkernel (System RAM: 5119MB)".
 */
export const IOMEM_QEMU_5G_CRASHKERNEL_256M_HIGH = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000a0000-000bffff : PCI Bus 0000:00
000c0000-000c9bff : Video ROM
000ca000-000ca5ff : Adapter ROM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-bffdffff : System RAM
  a8000000-b7ffffff : Crash kernel
bffe0000-bfffffff : Reserved
c0000000-febfffff : PCI Bus 0000:00
  fd000000-fdffffff : 0000:00:02.0
  febf0000-febf0fff : 0000:00:02.0
fec00000-fec003ff : IOAPIC 0
fed00000-fed003ff : HPET 0
  fed00000-fed003ff : PNP0103:00
fee00000-fee00fff : Local APIC
fffc0000-ffffffff : Reserved
100000000-17fffffff : System RAM
  151a00000-152801ef1 : Kernel code
  152a00000-153226fff : Kernel rodata
  153400000-153645dff : Kernel data
  153cb1000-1541fffff : Kernel bss
  16f000000-17effffff : Crash kernel
180000000-1ffffffff : PCI Bus 0000:00
fd00000000-ffffffffff : Reserved
`;
