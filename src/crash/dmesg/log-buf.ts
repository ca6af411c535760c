import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_LIMITS } from '../../limits.js';
import type { VirtualMemory } from '../vmcore/x86-64.js';
import { requireOffset, requireSymbol, missingVmcoreinfo, type Vmcoreinfo } from '../vmcore/vmcoreinfo.js';
import type { PrintkRecord } from './record.js';

// The log before the lockless ring buffer. Linux 3.5 to 5.9: variable-length records
// (struct printk_log, called struct log before 3.11) in log_buf, from log_first_idx to
// log_next_idx; a record with len 0 marks the end of the buffer and sends the reader back to
// its start. Before 3.5: plain text in a ring of log_buf_len bytes ending at log_end.

const FORMAT = 'printk log_buf';
const WHAT = 'reading the printk log_buf';
const SIZEOF_LONG = 8;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function readLogBufAddress(memory: VirtualMemory, info: Vmcoreinfo): Promise<{ address: bigint; length: number }> {
  const address = view(await memory.readVirtual(requireSymbol(info, 'log_buf', WHAT), SIZEOF_LONG)).getBigUint64(0, true);
  const length = view(await memory.readVirtual(requireSymbol(info, 'log_buf_len', WHAT), 4)).getInt32(0, true);
  if (length <= 0 || length > CRASH_LIMITS.printkTextBytes) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `log_buf_len is ${length}`, { field: 'log_buf_len' });
  }
  return { address, length };
}

/** Whether the dump has the 3.5-5.9 record layout (log_first_idx) rather than plain text (log_end). */
export function hasStructuredLogBuf(info: Vmcoreinfo): boolean {
  return info.symbols.log_first_idx !== undefined && info.symbols.log_next_idx !== undefined;
}

export async function readStructuredRecords(memory: VirtualMemory, info: Vmcoreinfo): Promise<PrintkRecord[]> {
  const recordSize = info.sizes.printk_log ?? info.sizes.log;
  if (recordSize === undefined) throw missingVmcoreinfo('SIZE(printk_log)', WHAT);
  const struct = info.sizes.printk_log !== undefined ? 'printk_log' : 'log';
  const tsOffset = requireOffset(info, `${struct}.ts_nsec`, WHAT);
  const lenOffset = requireOffset(info, `${struct}.len`, WHAT);
  const textLenOffset = requireOffset(info, `${struct}.text_len`, WHAT);
  const levelOffset = info.offsets[`${struct}.level`];
  const firstIdx = view(await memory.readVirtual(requireSymbol(info, 'log_first_idx', WHAT), 4)).getUint32(0, true);
  const nextIdx = view(await memory.readVirtual(requireSymbol(info, 'log_next_idx', WHAT), 4)).getUint32(0, true);
  const { address, length } = await readLogBufAddress(memory, info);
  const buffer = await memory.readVirtual(address, length);
  const data = view(buffer);
  const header = (at: number, field: string): void => {
    if (at + recordSize > length) throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `a record at index ${at} runs past log_buf_len ${length}`, { field, offset: at });
  };

  const records: PrintkRecord[] = [];
  let index = firstIdx;
  while (index !== nextIdx) {
    if (records.length >= CRASH_LIMITS.logBufRecords || records.length > length / Math.max(1, recordSize)) {
      throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `no way from log_first_idx ${firstIdx} to log_next_idx ${nextIdx}: the records form a cycle`, { field: 'len' });
    }
    header(index, 'log_first_idx');
    // len 0: the end-of-buffer marker; the record really is at the start.
    let at = index;
    if (data.getUint16(at + lenOffset, true) === 0) at = 0;
    header(at, 'len');
    const textLength = data.getUint16(at + textLenOffset, true);
    const textStart = at + recordSize;
    if (textStart + textLength > length) throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `the text of the record at ${at} runs past log_buf_len`, { field: 'text_len', offset: at });
    records.push({
      tsNsec: data.getBigUint64(at + tsOffset, true),
      text: buffer.slice(textStart, textStart + textLength),
      seq: undefined,
      level: levelOffset === undefined ? undefined : (buffer[at + levelOffset] ?? 0) & 7,
    });
    const recordLength = data.getUint16(at + lenOffset, true);
    if (recordLength === 0) throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, 'an end-of-buffer marker at the start of log_buf', { field: 'len', offset: at });
    index = at + recordLength;
  }
  return records;
}

/** Pre-3.5 plain text: the last min(log_end, log_buf_len) bytes written, oldest first. */
export async function readPlainLog(memory: VirtualMemory, info: Vmcoreinfo): Promise<Uint8Array> {
  const { address, length } = await readLogBufAddress(memory, info);
  const logEnd = view(await memory.readVirtual(requireSymbol(info, 'log_end', WHAT), 4)).getUint32(0, true);
  if (logEnd < length) return memory.readVirtual(address, logEnd);
  const index = logEnd % length;
  const older = await memory.readVirtual(address + BigInt(index), length - index);
  const newer = await memory.readVirtual(address, index);
  const text = new Uint8Array(length);
  text.set(older, 0);
  text.set(newer, older.length);
  return text;
}
