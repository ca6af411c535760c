/**
 * LZO1X compression of one page, for kdump-compressed dumps (DUMP_DH_COMPRESSED_LZO): crash
 * and makedumpfile decode each page with lzo1x_decompress_safe(). Any valid LZO1X stream
 * decodes the same, so this is a plain greedy LZ77 over a hash of 4-byte sequences written in
 * the instructions of Documentation/staging/lzo.rst (the decoder beside the image codecs,
 * src/image/codecs/lzo1x.ts, names them the same way):
 *
 *   first byte 18..255   a literal run of (byte - 17) at the start of the block
 *   0000LLLL             a literal run of 4+ bytes (only after a match with no trailing literals)
 *   01LDDDSS / 1LLDDDSS  a match of 3-8 bytes within 2 KiB, then SS (0-3) literals
 *   001LLLLL + LE16      a match of any length within 16 KiB, then SS literals (low bits of LE16)
 *   0x11 0x00 0x00       the end of the block
 *
 * Why our own: npm's `lzo` is a node-gyp binding (it needs a compiler at install) and nothing
 * else on npm compresses LZO1X.
 */

const MIN_MATCH = 4;
const M2_MAX_LENGTH = 8;
const M2_MAX_DISTANCE = 2048;
const M3_MAX_DISTANCE = 16384;
const M3_MAX_LENGTH = 33;
const HASH_BITS = 14;
/** Blocks longer than this are not what a page codec is for (positions are stored with an epoch). */
const MAX_INPUT = 1 << 20;

export class Lzo1xCompressor {
  /** Last position + epoch base per hash: entries below the current base are from older blocks. */
  private readonly table = new Int32Array(1 << HASH_BITS);
  private base = 0;
  private output = new Uint8Array(0);

  /** The compressed block, or undefined when it would not be smaller than `limit` bytes. */
  compress(input: Uint8Array, limit = input.length): Uint8Array | undefined {
    const length = input.length;
    if (length > MAX_INPUT) throw new RangeError(`an LZO1X page of ${length} bytes`);
    const worst = length + Math.ceil(length / 255) + 16;
    if (this.output.length < worst) this.output = new Uint8Array(worst);
    if (this.base > 0x7fffffff - 2 * MAX_INPUT) {
      this.table.fill(0);
      this.base = 0;
    }
    const base = this.base + MAX_INPUT;
    this.base = base;
    const out = this.output;
    const table = this.table;
    const data = new DataView(input.buffer, input.byteOffset, input.byteLength);
    let op = 0;
    let literalStart = 0;
    /** Where the previous instruction's SS bits live, or -1 at the start of the block. */
    let lastMatchTail = -1;

    let ip = 0;
    const last = length - MIN_MATCH;
    while (ip <= last) {
      const word = data.getUint32(ip, true);
      const key = Math.imul(word, 0x9e3779b1) >>> (32 - HASH_BITS);
      const stored = table[key]!;
      table[key] = base + ip;
      const candidate = stored - base;
      if (stored < base || ip - candidate > M3_MAX_DISTANCE || data.getUint32(candidate, true) !== word) {
        // Step faster through data that does not compress (lzo1x_1's heuristic, simplified).
        ip += 1 + ((ip - literalStart) >>> 6);
        continue;
      }
      let matchLength = MIN_MATCH;
      while (ip + matchLength + 4 <= length && data.getUint32(candidate + matchLength, true) === data.getUint32(ip + matchLength, true)) matchLength += 4;
      while (ip + matchLength < length && input[candidate + matchLength] === input[ip + matchLength]) matchLength++;

      // The literals before the match: a 1-3 byte run rides on the previous match's SS bits.
      const count = ip - literalStart;
      if (count > 0) {
        if (lastMatchTail < 0 && count <= 238) out[op++] = 17 + count;
        else if (lastMatchTail >= 0 && count <= 3) out[lastMatchTail]! |= count;
        else op = literalRun(out, op, count);
        for (let index = literalStart; index < ip; index++) out[op++] = input[index]!;
      }
      op = emitMatch(out, op, ip - candidate, matchLength);
      lastMatchTail = op - 2;
      ip += matchLength;
      literalStart = ip;
      if (op + 8 > limit) return undefined;
      if (ip - 1 <= last) table[Math.imul(data.getUint32(ip - 1, true), 0x9e3779b1) >>> (32 - HASH_BITS)] = base + ip - 1;
    }
    const count = length - literalStart;
    if (count > 0) {
      if (lastMatchTail < 0 && count <= 238) out[op++] = 17 + count;
      else if (lastMatchTail >= 0 && count <= 3) out[lastMatchTail]! |= count;
      else op = literalRun(out, op, count);
      if (op + count + 3 >= limit) return undefined;
      out.set(input.subarray(literalStart, length), op);
      op += count;
    }
    // The end: an M4 instruction with distance 16384.
    out[op++] = 0x11;
    out[op++] = 0;
    out[op++] = 0;
    return op < limit ? out.slice(0, op) : undefined;
  }
}

/** 0000LLLL for 4-18 literals, else 0000 0000 with the rest in 255-steps. */
function literalRun(out: Uint8Array, op: number, count: number): number {
  if (count <= 18) {
    out[op++] = count - 3;
    return op;
  }
  out[op++] = 0;
  let rest = count - 18;
  while (rest > 255) {
    out[op++] = 0;
    rest -= 255;
  }
  out[op++] = rest;
  return op;
}

function emitMatch(out: Uint8Array, op: number, distance: number, length: number): number {
  const d = distance - 1;
  if (length <= M2_MAX_LENGTH && distance <= M2_MAX_DISTANCE) {
    out[op++] = ((length - 1) << 5) | ((d & 7) << 2);
    out[op++] = d >>> 3;
    return op;
  }
  if (length <= M3_MAX_LENGTH) out[op++] = 32 | (length - 2);
  else {
    out[op++] = 32;
    let rest = length - M3_MAX_LENGTH;
    while (rest > 255) {
      out[op++] = 0;
      rest -= 255;
    }
    out[op++] = rest;
  }
  out[op++] = (d << 2) & 0xff;
  out[op++] = d >>> 6;
  return op;
}
