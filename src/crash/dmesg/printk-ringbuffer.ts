import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_LIMITS } from '../../limits.js';
import type { VirtualMemory } from '../vmcore/x86-64.js';
import { requireOffset, requireSize, requireSymbol, type Vmcoreinfo } from '../vmcore/vmcoreinfo.js';
import type { PrintkRecord } from './record.js';

// The lockless printk ring buffer of Linux 5.10 and later (kernel/printk/printk_ringbuffer.h):
// a descriptor ring (struct prb_desc: state_var, text_blk_lpos), a parallel ring of struct
// printk_info (seq, ts_nsec, text_len, ...), and a text data ring whose blocks start with the
// owning descriptor's id. VMCOREINFO exports every size and offset read here.

const FORMAT = 'printk ringbuffer';
const WHAT = 'reading the lockless printk ring buffer';
/** state_var: the top two bits are the state, the rest the descriptor id (64-bit longs). */
const DESC_FLAGS_SHIFT = 62n;
const DESC_ID_MASK = (1n << DESC_FLAGS_SHIFT) - 1n;
const DESC_COMMITTED = 1n;
const DESC_FINALIZED = 2n;
const SIZEOF_LONG = 8;

export function hasLocklessRingbuffer(info: Vmcoreinfo): boolean {
  return info.symbols.prb !== undefined;
}

function u64(bytes: Uint8Array, offset: number, field: string): bigint {
  if (offset < 0 || offset + 8 > bytes.length) throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `${field} lies outside its structure`, { field });
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}

function u32(bytes: Uint8Array, offset: number, field: string): number {
  if (offset < 0 || offset + 4 > bytes.length) throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `${field} lies outside its structure`, { field });
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

function u16(bytes: Uint8Array, offset: number, field: string): number {
  if (offset < 0 || offset + 2 > bytes.length) throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `${field} lies outside its structure`, { field });
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(offset, true);
}

function ringBits(value: number, field: string, maximum: number): number {
  if (value > 40 || 2 ** value > maximum) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `${field} is ${value}: a ring of 2^${value}, more than the ${maximum} read`, { field });
  }
  return 2 ** value;
}

/** Every committed or finalized record from the oldest (tail) to the newest (head), as makedumpfile reads them. */
export async function readLocklessRecords(memory: VirtualMemory, info: Vmcoreinfo): Promise<PrintkRecord[]> {
  const prbPointer = await memory.readVirtual(requireSymbol(info, 'prb', WHAT), SIZEOF_LONG);
  const prbAddress = u64(prbPointer, 0, 'prb');
  const prb = await memory.readVirtual(prbAddress, requireSize(info, 'printk_ringbuffer', WHAT));
  const descRing = requireOffset(info, 'printk_ringbuffer.desc_ring', WHAT);
  const textRing = requireOffset(info, 'printk_ringbuffer.text_data_ring', WHAT);
  const counter = info.offsets['atomic_long_t.counter'] ?? 0;

  const descCount = ringBits(u32(prb, descRing + requireOffset(info, 'prb_desc_ring.count_bits', WHAT), 'count_bits'), 'prb_desc_ring.count_bits', CRASH_LIMITS.printkDescriptors);
  const descSize = requireSize(info, 'prb_desc', WHAT);
  const infoSize = requireSize(info, 'printk_info', WHAT);
  const descs = await memory.readVirtual(u64(prb, descRing + requireOffset(info, 'prb_desc_ring.descs', WHAT), 'descs'), descCount * descSize);
  const infos = await memory.readVirtual(u64(prb, descRing + requireOffset(info, 'prb_desc_ring.infos', WHAT), 'infos'), descCount * infoSize);
  const textSize = ringBits(u32(prb, textRing + requireOffset(info, 'prb_data_ring.size_bits', WHAT), 'size_bits'), 'prb_data_ring.size_bits', CRASH_LIMITS.printkTextBytes);
  const text = await memory.readVirtual(u64(prb, textRing + requireOffset(info, 'prb_data_ring.data', WHAT), 'data'), textSize);

  const tailId = u64(prb, descRing + requireOffset(info, 'prb_desc_ring.tail_id', WHAT) + counter, 'tail_id') & DESC_ID_MASK;
  const headId = u64(prb, descRing + requireOffset(info, 'prb_desc_ring.head_id', WHAT) + counter, 'head_id') & DESC_ID_MASK;
  const span = (headId - tailId) & DESC_ID_MASK;
  if (span >= BigInt(descCount)) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `head_id ${headId} is ${span} descriptors after tail_id ${tailId}, but the ring holds ${descCount}`, { field: 'head_id' });
  }

  const stateOffset = requireOffset(info, 'prb_desc.state_var', WHAT) + counter;
  const lposOffset = requireOffset(info, 'prb_desc.text_blk_lpos', WHAT);
  const beginOffset = lposOffset + requireOffset(info, 'prb_data_blk_lpos.begin', WHAT);
  const nextOffset = lposOffset + requireOffset(info, 'prb_data_blk_lpos.next', WHAT);
  const seqOffset = info.offsets['printk_info.seq'];
  const tsOffset = requireOffset(info, 'printk_info.ts_nsec', WHAT);
  const lenOffset = requireOffset(info, 'printk_info.text_len', WHAT);
  const levelOffset = info.offsets['printk_info.level'];
  const ringSize = BigInt(textSize);

  const records: PrintkRecord[] = [];
  for (let step = 0n; step <= span; step++) {
    const id = (tailId + step) & DESC_ID_MASK;
    const slot = Number(id % BigInt(descCount));
    const desc = slot * descSize;
    const stateVar = u64(descs, desc + stateOffset, 'prb_desc.state_var');
    // Skip what is not (yet) a finished record: reserved, reusable, or a slot already reused.
    if ((stateVar & DESC_ID_MASK) !== id) continue;
    const state = stateVar >> DESC_FLAGS_SHIFT;
    if (state !== DESC_COMMITTED && state !== DESC_FINALIZED) continue;
    const record = slot * infoSize;
    const tsNsec = u64(infos, record + tsOffset, 'printk_info.ts_nsec');
    const seq = seqOffset === undefined ? undefined : u64(infos, record + seqOffset, 'printk_info.seq');
    const level = levelOffset === undefined ? undefined : (infos[record + levelOffset] ?? 0) & 7;
    let begin = Number(u64(descs, desc + beginOffset, 'text_blk_lpos.begin') % ringSize);
    const next = Number(u64(descs, desc + nextOffset, 'text_blk_lpos.next') % ringSize);
    if (begin === next) {
      records.push({ tsNsec, text: undefined, seq, level });
      continue;
    }
    // A block that wraps is stored whole at the start of the ring; skip the block's id.
    if (begin > next) begin = 0;
    begin += SIZEOF_LONG;
    let length = u16(infos, record + lenOffset, 'printk_info.text_len');
    // A truncated message: its block ends before text_len says.
    if (next - begin < length) length = Math.max(0, next - begin);
    records.push({ tsNsec, text: text.slice(Math.min(begin, textSize), Math.min(begin + length, textSize)), seq, level });
  }
  return records;
}
