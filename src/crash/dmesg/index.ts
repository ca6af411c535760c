import { openVmcore } from '../vmcore/open.js';
import type { Vmcore } from '../vmcore/vmcore.js';
import { x86_64Memory, type VirtualMemory } from '../vmcore/x86-64.js';
import { formatRecords, type DmesgStyle } from './format.js';
import { hasStructuredLogBuf, readPlainLog, readStructuredRecords } from './log-buf.js';
import { hasLocklessRingbuffer, readLocklessRecords } from './printk-ringbuffer.js';
import type { KernelLog } from './record.js';
import type { Vmcoreinfo } from '../vmcore/vmcoreinfo.js';

export { formatRecord, formatRecords, timestampPrefix, type DmesgStyle } from './format.js';
export type { KernelLog, PrintkRecord } from './record.js';

/** The crashed kernel's log from its memory, in whichever layout that kernel used. */
export async function readKernelLogFrom(memory: VirtualMemory, info: Vmcoreinfo): Promise<KernelLog> {
  if (hasLocklessRingbuffer(info)) return { layout: 'lockless', records: await readLocklessRecords(memory, info) };
  if (hasStructuredLogBuf(info)) return { layout: 'structured', records: await readStructuredRecords(memory, info) };
  return { layout: 'plain', plainText: await readPlainLog(memory, info) };
}

export async function readKernelLog(vmcore: Vmcore): Promise<KernelLog> {
  return readKernelLogFrom(x86_64Memory(vmcore), vmcore.vmcoreinfo);
}

export interface ExtractDmesgOptions {
  /** 'makedumpfile' (the default) or 'vmcore-dmesg': see DmesgStyle. */
  style?: DmesgStyle;
}

/** Log lines as makedumpfile --dump-dmesg (or vmcore-dmesg) prints them. */
export function kernelLogLines(log: KernelLog, style: DmesgStyle = 'makedumpfile'): string[] {
  if (log.layout !== 'plain') return formatRecords(log.records, style);
  const lines = Buffer.from(log.plainText).toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * The crashed kernel's log from /proc/vmcore, an ELF dump or a kdump-compressed dump (a path
 * is opened and closed here; a Vmcore stays open).
 */
export async function extractDmesg(source: string | Vmcore, options: ExtractDmesgOptions = {}): Promise<string[]> {
  const vmcore = typeof source === 'string' ? await openVmcore(source) : source;
  try {
    return kernelLogLines(await readKernelLog(vmcore), options.style);
  } finally {
    if (typeof source === 'string') await vmcore.close();
  }
}
