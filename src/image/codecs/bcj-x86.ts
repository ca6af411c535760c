/**
 * The x86 BCJ filter's decoder (.xz filter ID 0x04). scripts/xz_wrap.sh passes --x86 when
 * compressing an x86 kernel: the encoder turned the relative targets of CALL (E8) and JMP (E9)
 * into absolute ones so that repeated calls to one function compress well; decoding turns them
 * back. The algorithm is the one in xz-embedded (lib/xz/xz_dec_bcj.c, bcj_x86), which the
 * kernel itself runs, and in liblzma's simple/x86.c.
 */

const MASK_TO_ALLOWED_STATUS = [true, true, true, false, true, false, false, false];
const MASK_TO_BIT_NUMBER = [0, 1, 2, 2, 3, 3, 3, 3];

function isMostSignificantByteValid(byte: number): boolean {
  return byte === 0x00 || byte === 0xff;
}

export class BcjX86Decoder {
  /** Stream position of the next unfiltered byte: the filter converts against it. */
  private position: number;
  private previousMask = 0;
  /** Up to 4 trailing bytes not yet filtered: an E8/E9 there needs its operand first. */
  private carry = new Uint8Array(0);

  constructor(startOffset = 0) {
    this.position = startOffset;
  }

  /** Filters `chunk` (with what was held back) and returns what is final. */
  update(chunk: Uint8Array): Uint8Array {
    const buffer = new Uint8Array(this.carry.length + chunk.length);
    buffer.set(this.carry);
    buffer.set(chunk, this.carry.length);
    const done = this.filter(buffer);
    this.carry = buffer.slice(done);
    this.position = (this.position + done) >>> 0;
    return buffer.subarray(0, done);
  }

  /** The end of the data: the held-back bytes are passed through as they are. */
  finish(): Uint8Array {
    const rest = this.carry;
    this.carry = new Uint8Array(0);
    return rest;
  }

  private filter(buffer: Uint8Array): number {
    if (buffer.length <= 4) return 0;
    const size = buffer.length - 4;
    let previousPosition = -1;
    let previousMask = this.previousMask;
    let index = 0;
    for (; index < size; index++) {
      if ((buffer[index]! & 0xfe) !== 0xe8) continue;
      const gap = index - previousPosition;
      if (gap > 3) {
        previousMask = 0;
      } else {
        previousMask = (previousMask << (gap - 1)) & 7;
        if (previousMask !== 0) {
          const byte = buffer[index + 4 - MASK_TO_BIT_NUMBER[previousMask]!]!;
          if (!MASK_TO_ALLOWED_STATUS[previousMask] || isMostSignificantByteValid(byte)) {
            previousPosition = index;
            previousMask = (previousMask << 1) | 1;
            continue;
          }
        }
      }
      previousPosition = index;
      if (isMostSignificantByteValid(buffer[index + 4]!)) {
        let source = (buffer[index + 1]! | (buffer[index + 2]! << 8) | (buffer[index + 3]! << 16) | (buffer[index + 4]! << 24)) >>> 0;
        let destination: number;
        for (;;) {
          destination = (source - ((this.position + index + 5) >>> 0)) >>> 0;
          if (previousMask === 0) break;
          const shift = MASK_TO_BIT_NUMBER[previousMask]! * 8;
          const byte = (destination >>> (24 - shift)) & 0xff;
          if (!isMostSignificantByteValid(byte)) break;
          source = (destination ^ (2 ** (32 - shift) - 1)) >>> 0;
        }
        destination &= 0x01ffffff;
        destination = (destination | (0 - (destination & 0x01000000))) >>> 0;
        buffer[index + 1] = destination & 0xff;
        buffer[index + 2] = (destination >>> 8) & 0xff;
        buffer[index + 3] = (destination >>> 16) & 0xff;
        buffer[index + 4] = destination >>> 24;
        index += 4;
      } else {
        previousMask = (previousMask << 1) | 1;
      }
    }
    const gap = index - previousPosition;
    this.previousMask = gap > 3 ? 0 : (previousMask << (gap - 1)) & 0xff;
    return index;
  }
}
