import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KexecError, ParseError } from '../../src/errors.js';
import { extractDmesg, kernelLogLines, readKernelLog, readKernelLogFrom, formatRecords, type PrintkRecord } from '../../src/crash/dmesg/index.js';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { parseVmcoreinfo, type Vmcoreinfo } from '../../src/crash/vmcore/vmcoreinfo.js';
import { x86_64Memory, type VirtualMemory } from '../../src/crash/vmcore/x86-64.js';
import { fuzzSettings } from '../image/image-fixtures.js';
import { judge, makedumpfileDmesg, runJudge, splitLines, vmcoreFixture } from './vmcore-fixtures.js';

test('dmesg of the real vmcore equals makedumpfile --dump-dmesg line for line and holds the marker', async (t) => {
  const fixture = vmcoreFixture(t);
  const makedumpfile = judge(t, 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const ours = await extractDmesg(fixture.path);
  const theirs = makedumpfileDmesg(makedumpfile, fixture.path);
  assert.ok(ours.length > 100, `${ours.length} lines`);
  assert.deepEqual(ours, theirs);
  assert.equal(ours.filter((line) => line.endsWith(`] ${fixture.manifest.marker}`)).length, 1, 'the marker written to /dev/kmsg before the crash');
  // The crash itself is logged after the marker (sysrq's "Trigger a crash").
  const markerAt = ours.findIndex((line) => line.includes(fixture.manifest.marker));
  assert.ok(ours.slice(markerAt).some((line) => /sysrq: Trigger a crash/.test(line)));
  // makedumpfile indents continuation lines under the text.
  assert.ok(ours.some((line) => /^ {15}\S/.test(line)), 'a continuation line');
});

test("dmesg in vmcore-dmesg's style equals kexec-tools' vmcore-dmesg on the real vmcore", async (t) => {
  const fixture = vmcoreFixture(t);
  const vmcoreDmesg = judge(t, 'vmcore-dmesg');
  if (!fixture || !vmcoreDmesg) return;
  const run = runJudge(vmcoreDmesg, [fixture.path]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(await extractDmesg(fixture.path, { style: 'vmcore-dmesg' }), splitLines(run.stdout));
});

test('the page-table walk translates the direct map as the PT_LOADs do, and the log reads the same through it', async (t) => {
  const fixture = vmcoreFixture(t);
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  try {
    const viaLoads = x86_64Memory(vmcore);
    const viaWalk = x86_64Memory(vmcore, { directMapFromLoads: false });
    const direct = vmcore.loads!.find((load) => load.p_vaddr < 0xffffffff80000000n)!;
    for (let step = 0; step < 64; step++) {
      const offset = Math.floor((direct.p_memsz - 8) * (step / 64));
      const vaddr = direct.p_vaddr + BigInt(offset);
      assert.equal(await viaWalk.toPhysical(vaddr), await viaLoads.toPhysical(vaddr), `0x${vaddr.toString(16)}`);
      assert.equal(await viaLoads.toPhysical(vaddr), direct.p_paddr + offset);
    }
    const walked = await readKernelLogFrom(viaWalk, vmcore.vmcoreinfo);
    assert.deepEqual(kernelLogLines(walked), kernelLogLines(await readKernelLog(vmcore)));
    // vmemmap is reachable only through the walk: struct page of the first RAM pfn.
    const info = vmcore.vmcoreinfo;
    const root = await viaWalk.readVirtual(info.symbols.mem_section!, 8);
    assert.notEqual(new DataView(root.buffer, root.byteOffset).getBigUint64(0, true), 0n);
  } finally {
    await vmcore.close();
  }
});

/** Kernel memory made of a few regions, for layouts no real dump here has. */
function regionMemory(regions: Map<bigint, Uint8Array>): VirtualMemory {
  const find = (vaddr: bigint, length: number): Uint8Array => {
    for (const [start, bytes] of regions) {
      if (vaddr >= start && vaddr + BigInt(length) <= start + BigInt(bytes.length)) return bytes.subarray(Number(vaddr - start), Number(vaddr - start) + length);
    }
    throw new ParseError('FORMAT_INVALID', 'test memory', `0x${vaddr.toString(16)} is not mapped`);
  };
  return {
    toPhysical: async (vaddr) => Number(vaddr & 0xffffffffn),
    readVirtual: async (vaddr, length) => find(vaddr, length).slice(),
  };
}

const u64le = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
};
const u32le = (value: number): Uint8Array => {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
};

async function realRecords(t: import('node:test').TestContext): Promise<PrintkRecord[] | undefined> {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return undefined;
  const vmcore = await openVmcore(fixture.path);
  try {
    const log = await readKernelLog(vmcore);
    assert.equal(log.layout, 'lockless');
    return log.layout === 'lockless' ? [...log.records] : undefined;
  } finally {
    await vmcore.close();
  }
}

const LOG_BUF = 0xffff888000100000n;
const SYMBOLS = { log_buf: 0xffffffff82000000n, log_buf_len: 0xffffffff82000008n, log_first_idx: 0xffffffff82000010n, log_next_idx: 0xffffffff82000014n, log_end: 0xffffffff82000018n };

function legacyVmcoreinfo(structured: boolean): Vmcoreinfo {
  const lines = ['OSRELEASE=5.4.0-legacy', 'PAGESIZE=4096', `SYMBOL(log_buf)=${SYMBOLS.log_buf.toString(16)}`, `SYMBOL(log_buf_len)=${SYMBOLS.log_buf_len.toString(16)}`];
  if (structured) {
    lines.push(`SYMBOL(log_first_idx)=${SYMBOLS.log_first_idx.toString(16)}`, `SYMBOL(log_next_idx)=${SYMBOLS.log_next_idx.toString(16)}`);
    lines.push('SIZE(printk_log)=16', 'OFFSET(printk_log.ts_nsec)=0', 'OFFSET(printk_log.len)=8', 'OFFSET(printk_log.text_len)=10');
  } else {
    lines.push(`SYMBOL(log_end)=${SYMBOLS.log_end.toString(16)}`);
  }
  return parseVmcoreinfo(lines.join('\n'));
}

test('synthetic 3.5-5.9 log_buf (struct printk_log records from the real log, wrapped once): the records still in it, in order', async (t) => {
  const records = await realRecords(t);
  if (!records) return;
  const bufferLength = 16 * 1024;
  const buffer = new Uint8Array(bufferLength);
  const view = new DataView(buffer.buffer);
  type Live = { index: number; lap: number; record: PrintkRecord };
  const live: Live[] = [];
  let next = 0;
  let lap = 0;
  const written = records.filter((record) => record.text !== undefined);
  for (const record of written) {
    const size = Math.ceil((16 + record.text!.length) / 8) * 8;
    if (next + size + 16 > bufferLength) {
      if (lap === 1) break; // one wrap is the case under test
      view.setUint16(next + 8, 0, true); // end-of-buffer marker: len 0
      next = 0;
      lap = 1;
    }
    while (live.length > 0 && live[0]!.lap === 0 && lap === 1 && live[0]!.index <= next + size) live.shift();
    view.setBigUint64(next, record.tsNsec, true);
    view.setUint16(next + 8, size, true);
    view.setUint16(next + 10, record.text!.length, true);
    buffer.set(record.text!, next + 16);
    live.push({ index: next, lap, record });
    next += size;
  }
  assert.equal(lap, 1, 'the test log wrapped');
  const memory = regionMemory(new Map([
    [SYMBOLS.log_buf, new Uint8Array([...u64le(LOG_BUF), ...u32le(bufferLength), 0, 0, 0, 0, ...u32le(live[0]!.index), ...u32le(next), 0, 0, 0, 0])],
    [LOG_BUF, buffer],
  ]));
  const log = await readKernelLogFrom(memory, legacyVmcoreinfo(true));
  assert.equal(log.layout, 'structured');
  assert.deepEqual(kernelLogLines(log), formatRecords(live.map((entry) => entry.record)));
  assert.ok(live.length > 10 && live.length < written.length);
});

test('synthetic pre-3.5 plain log_buf: the last log_buf_len bytes, oldest first', async (t) => {
  const records = await realRecords(t);
  if (!records) return;
  const text = Buffer.from(`${formatRecords(records).join('\n')}\n`, 'latin1');
  const bufferLength = 8192;
  const ring = new Uint8Array(bufferLength);
  for (let index = 0; index < text.length; index++) ring[index % bufferLength] = text[index]!;
  const memory = regionMemory(new Map([
    [SYMBOLS.log_buf, new Uint8Array([...u64le(LOG_BUF), ...u32le(bufferLength), ...new Uint8Array(12), ...u32le(text.length)])],
    [LOG_BUF, ring],
  ]));
  const log = await readKernelLogFrom(memory, legacyVmcoreinfo(false));
  assert.equal(log.layout, 'plain');
  assert.equal(Buffer.from(log.layout === 'plain' ? log.plainText : []).toString('latin1'), text.subarray(text.length - bufferLength).toString('latin1'));
});

test('property: the printk ring buffer with corrupted memory or VMCOREINFO fails only with typed errors', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  t.after(() => vmcore.close());
  const real = x86_64Memory(vmcore);
  const info = vmcore.vmcoreinfo;
  const prbKeys = Object.keys(info.offsets).filter((key) => /^(printk_|prb_|atomic_long_t)/.test(key));
  const prbAddress = new DataView((await real.readVirtual(info.symbols.prb!, 8)).buffer).getBigUint64(0, true);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(info.sizes.printk_ringbuffer! - 1), fc.nat(255)), { maxLength: 6 }),
      fc.option(fc.tuple(fc.constantFrom(...prbKeys), fc.nat(1 << 20))),
      async (patches, offsetChange) => {
        const memory: VirtualMemory = {
          toPhysical: real.toPhysical,
          async readVirtual(vaddr, length) {
            const bytes = await real.readVirtual(vaddr, length);
            for (const [at, value] of patches) {
              const target = prbAddress + BigInt(at);
              if (target >= vaddr && target < vaddr + BigInt(length)) bytes[Number(target - vaddr)] = value;
            }
            return bytes;
          },
        };
        const changed = offsetChange ? { ...info, offsets: { ...info.offsets, [offsetChange[0]]: offsetChange[1] } } : info;
        try {
          kernelLogLines(await readKernelLogFrom(memory, changed));
        } catch (error) {
          if (!(error instanceof KexecError)) throw error;
        }
      },
    ),
    fuzzSettings(200),
  );
});
