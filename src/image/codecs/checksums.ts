/**
 * The integrity checks an .xz stream may carry (xz-file-format.txt, 3.4 "Check"): CRC32
 * (IEEE 802.3, what the kernel's build asks for with --check=crc32) and CRC64 (ECMA-182, the
 * xz tool's default). Table-driven; CRC64 runs on two 32-bit halves because a bigint per byte
 * would be slow on tens of megabytes.
 */

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let value = index;
    for (let bit = 0; bit < 8; bit++) value = value & 1 ? (value >>> 1) ^ 0xedb88320 : value >>> 1;
    table[index] = value >>> 0;
  }
  return table;
})();

/** CRC32 of `bytes`, continuing from `previous` (0 for a fresh one). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  for (let index = 0; index < bytes.length; index++) crc = CRC32_TABLE[(crc ^ bytes[index]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

// ECMA-182 polynomial, reflected: 0xC96C5795D7870F42.
const CRC64_POLY_HIGH = 0xc96c5795;
const CRC64_POLY_LOW = 0xd7870f42;
const [CRC64_TABLE_HIGH, CRC64_TABLE_LOW] = (() => {
  const high = new Uint32Array(256);
  const low = new Uint32Array(256);
  for (let index = 0; index < 256; index++) {
    let h = 0;
    let l = index;
    for (let bit = 0; bit < 8; bit++) {
      const carry = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (carry) {
        h = (h ^ CRC64_POLY_HIGH) >>> 0;
        l = (l ^ CRC64_POLY_LOW) >>> 0;
      }
    }
    high[index] = h;
    low[index] = l;
  }
  return [high, low] as const;
})();

/** A running CRC64, since an .xz block's output arrives in chunks. */
export class Crc64 {
  private high = 0xffffffff;
  private low = 0xffffffff;

  update(bytes: Uint8Array): void {
    let high = this.high;
    let low = this.low;
    for (let index = 0; index < bytes.length; index++) {
      const slot = (low ^ bytes[index]!) & 0xff;
      const nextLow = ((low >>> 8) | ((high & 0xff) << 24)) >>> 0;
      high = (high >>> 8) ^ CRC64_TABLE_HIGH[slot]!;
      low = (nextLow ^ CRC64_TABLE_LOW[slot]!) >>> 0;
    }
    this.high = high >>> 0;
    this.low = low;
  }

  /** The 8 bytes as .xz stores them (little-endian). */
  digest(): Uint8Array {
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, ~this.low >>> 0, true);
    view.setUint32(4, ~this.high >>> 0, true);
    return out;
  }
}
