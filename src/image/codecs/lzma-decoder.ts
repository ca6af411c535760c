/**
 * The LZMA decoder shared by the .lzma ("alone") and .xz (LZMA2) containers: a range decoder,
 * the literal/match model and a sliding window, as Igor Pavlov's lzma-specification.txt (LZMA
 * SDK, public domain) describes them. Variable names follow that text (rep0..rep3, posState,
 * lc/lp/pb) so the two can be read side by side.
 *
 * Why our own: npm has no maintained pure-JS/WASM LZMA decoder that streams with bounded memory
 * and also handles what the kernel's xz payloads need (see xz.ts); this one is shared by both
 * containers, so one audited decoder covers two codecs. Every read is bounds-checked, every
 * distance checked against the data actually in the window, and the window only grows as output
 * arrives, so a lying header cannot allocate or loop without end.
 */

import { LzmaDataError } from './lzma-errors.js';
import { LzmaWindow } from './lzma-window.js';

export { LzmaDataError } from './lzma-errors.js';

const kNumBitModelTotalBits = 11;
const kBitModelTotal = 1 << kNumBitModelTotalBits;
const kNumMoveBits = 5;
const kTopValue = 1 << 24;

const kNumStates = 12;
const kNumPosBitsMax = 4;
const kNumLenToPosStates = 4;
const kNumAlignBits = 4;
const kStartPosModelIndex = 4;
const kEndPosModelIndex = 14;
const kNumFullDistances = 1 << (kEndPosModelIndex >> 1);
const kMatchMinLen = 2;

// Offsets of each probability table inside one Uint16Array (one allocation, one reset).
const IS_MATCH = 0;
const IS_REP = IS_MATCH + (kNumStates << kNumPosBitsMax);
const IS_REP_G0 = IS_REP + kNumStates;
const IS_REP_G1 = IS_REP_G0 + kNumStates;
const IS_REP_G2 = IS_REP_G1 + kNumStates;
const IS_REP0_LONG = IS_REP_G2 + kNumStates;
const POS_SLOT = IS_REP0_LONG + (kNumStates << kNumPosBitsMax);
const SPEC_POS = POS_SLOT + (kNumLenToPosStates << 6);
const ALIGN = SPEC_POS + 1 + kNumFullDistances - kEndPosModelIndex;
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + (1 << kNumPosBitsMax) * 8;
const LEN_HIGH = LEN_MID + (1 << kNumPosBitsMax) * 8;
const LEN_CODER_SIZE = LEN_HIGH + 256;
const LEN_CODER = ALIGN + (1 << kNumAlignBits);
const REP_LEN_CODER = LEN_CODER + LEN_CODER_SIZE;
const LITERAL = REP_LEN_CODER + LEN_CODER_SIZE;

const FLUSH_THRESHOLD_BYTES = 1 << 20;

export interface LzmaProperties {
  lc: number;
  lp: number;
  pb: number;
}

/** The one properties byte: (pb * 5 + lp) * 9 + lc. Undefined when out of range. */
export function decodeLzmaProperties(byte: number): LzmaProperties | undefined {
  if (byte >= 9 * 5 * 5) return undefined;
  return { lc: byte % 9, lp: Math.floor(byte / 9) % 5, pb: Math.floor(byte / 45) };
}

export const LzmaStop = {
  /** About a MiB of output is waiting: take it and call again. */
  MORE: 'more',
  /** Saw the end marker (distance 0xFFFFFFFF) with the range coder cleanly finished. */
  END_MARKER: 'end-marker',
  /** Produced exactly the bytes asked for. */
  SIZE_REACHED: 'size-reached',
} as const;
export type LzmaStop = (typeof LzmaStop)[keyof typeof LzmaStop];

export class LzmaDecoder {
  private input: Uint8Array = new Uint8Array(0);
  private inPos = 0;
  private inEnd = 0;
  private range = 0;
  private code = 0;

  private lc = 0;
  private lp = 0;
  private pb = 0;
  private probs = new Uint16Array(0);
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;

  private readonly window: LzmaWindow;

  /** `windowLimit`: the dictionary size, already capped by the caller at the output cap. */
  constructor(windowLimit: number) {
    this.window = new LzmaWindow(windowLimit);
  }

  get inputOffset(): number {
    return this.inPos;
  }

  /** New lc/lp/pb: the probability tables are sized by lc + lp. Also resets the state. */
  setProperties(properties: LzmaProperties): void {
    this.lc = properties.lc;
    this.lp = properties.lp;
    this.pb = properties.pb;
    const size = LITERAL + (0x300 << (this.lc + this.lp));
    if (this.probs.length !== size) this.probs = new Uint16Array(size);
    this.resetState();
  }

  resetState(): void {
    this.probs.fill(kBitModelTotal >>> 1);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  /** LZMA2's dictionary reset: earlier output can no longer be referenced. */
  resetDictionary(): void {
    this.window.reset();
  }

  /** Starts the range decoder on input[start, end): 5 bytes, the first of them zero. */
  startRangeCoder(input: Uint8Array, start: number, end: number): void {
    this.input = input;
    this.inPos = start;
    this.inEnd = end;
    if (end - start < 5) throw new LzmaDataError('range coder needs 5 bytes to start', start, true);
    if (input[start] !== 0) throw new LzmaDataError('first range coder byte is not 0', start);
    this.code = ((input[start + 1]! << 24) | (input[start + 2]! << 16) | (input[start + 3]! << 8) | input[start + 4]!) >>> 0;
    this.range = 0xffffffff;
    this.inPos = start + 5;
    if (this.code === this.range) throw new LzmaDataError('range coder code equals range', start);
  }

  /** True when the range coder ended cleanly (the encoder's flush leaves code at 0). */
  get rangeCoderFinished(): boolean {
    return this.code === 0;
  }

  /** LZMA2 uncompressed chunk: bytes go into the window as they are. */
  appendUncompressed(input: Uint8Array, start: number, length: number): void {
    for (let index = 0; index < length; index++) this.window.putByte(input[start + index]!);
  }

  /**
   * Decodes until `remaining` bytes are produced (when `remaining` is finite), the end marker is
   * seen, or about a MiB is waiting to be taken with `takeOutput`.
   * `allowEndMarker`: .lzma with unknown size needs one; LZMA2 chunks must not have one.
   */
  decode(remaining: number, allowEndMarker: boolean): { stop: LzmaStop; produced: number } {
    const pbMask = (1 << this.pb) - 1;
    let produced = 0;
    const window = this.window;
    while (window.waitingBytes < FLUSH_THRESHOLD_BYTES) {
      if (produced === remaining) {
        // With a known size an end marker may still follow; .lzma allows it (the spec's
        // "markerIsMandatory = false"), so only a clean coder ends here.
        if (!allowEndMarker || this.code === 0) return { stop: LzmaStop.SIZE_REACHED, produced };
      }
      const posState = window.totalPos & pbMask;
      const state = this.state;
      if (this.bit(IS_MATCH + (state << kNumPosBitsMax) + posState) === 0) {
        if (produced === remaining) throw new LzmaDataError('data continues past the declared size', this.inPos);
        this.decodeLiteral(state);
        produced++;
        continue;
      }
      let length: number;
      if (this.bit(IS_REP + state) !== 0) {
        if (produced === remaining) throw new LzmaDataError('data continues past the declared size', this.inPos);
        if (window.totalPos === 0) throw new LzmaDataError('repeated match before any output', this.inPos);
        if (this.bit(IS_REP_G0 + state) === 0) {
          if (this.bit(IS_REP0_LONG + (state << kNumPosBitsMax) + posState) === 0) {
            this.state = state < 7 ? 9 : 11;
            window.putByte(window.byteAt(this.rep0, this.inPos));
            produced++;
            continue;
          }
        } else {
          let distance: number;
          if (this.bit(IS_REP_G1 + state) === 0) {
            distance = this.rep1;
          } else {
            if (this.bit(IS_REP_G2 + state) === 0) {
              distance = this.rep2;
            } else {
              distance = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = distance;
        }
        length = this.decodeLength(REP_LEN_CODER, posState);
        this.state = state < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        length = this.decodeLength(LEN_CODER, posState);
        this.state = state < 7 ? 7 : 10;
        const distance = this.decodeDistance(length);
        if (distance === 0xffffffff) {
          if (!allowEndMarker) throw new LzmaDataError('end marker where none is allowed', this.inPos);
          if (this.code !== 0) throw new LzmaDataError('range coder not finished at the end marker', this.inPos);
          return { stop: LzmaStop.END_MARKER, produced };
        }
        if (produced === remaining) throw new LzmaDataError('data continues past the declared size', this.inPos);
        this.rep0 = distance;
      }
      length += kMatchMinLen;
      if (length > remaining - produced) throw new LzmaDataError('match runs past the declared size', this.inPos);
      window.copyMatch(this.rep0, length, this.inPos);
      produced += length;
    }
    return { stop: LzmaStop.MORE, produced };
  }

  /** Output decoded since the last call, in order; the window keeps what matches still need. */
  takeOutput(): Uint8Array[] {
    return this.window.take();
  }

  private nextInputByte(): number {
    if (this.inPos >= this.inEnd) throw new LzmaDataError('compressed data ends early', this.inPos, true);
    return this.input[this.inPos++]!;
  }

  private bit(index: number): number {
    const probs = this.probs;
    const probability = probs[index]!;
    const bound = (this.range >>> kNumBitModelTotalBits) * probability;
    let result: number;
    if (this.code < bound) {
      this.range = bound;
      probs[index] = probability + ((kBitModelTotal - probability) >>> kNumMoveBits);
      result = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[index] = probability - (probability >>> kNumMoveBits);
      result = 1;
    }
    if (this.range < kTopValue) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.nextInputByte()) >>> 0;
    }
    return result;
  }

  private directBits(count: number): number {
    let result = 0;
    for (let index = 0; index < count; index++) {
      this.range >>>= 1;
      let bitValue = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        bitValue = 1;
      }
      if (this.code === this.range) throw new LzmaDataError('range coder corrupted in direct bits', this.inPos);
      if (this.range < kTopValue) {
        this.range = (this.range << 8) >>> 0;
        this.code = ((this.code << 8) | this.nextInputByte()) >>> 0;
      }
      result = ((result << 1) | bitValue) >>> 0;
    }
    return result;
  }

  private bitTree(base: number, numBits: number): number {
    let m = 1;
    for (let index = 0; index < numBits; index++) m = (m << 1) + this.bit(base + m);
    return m - (1 << numBits);
  }

  private bitTreeReverse(base: number, numBits: number): number {
    let m = 1;
    let symbol = 0;
    for (let index = 0; index < numBits; index++) {
      const bitValue = this.bit(base + m);
      m = (m << 1) + bitValue;
      symbol |= bitValue << index;
    }
    return symbol;
  }

  private decodeLength(coder: number, posState: number): number {
    if (this.bit(coder + LEN_CHOICE) === 0) return this.bitTree(coder + LEN_LOW + (posState << 3), 3);
    if (this.bit(coder + LEN_CHOICE2) === 0) return 8 + this.bitTree(coder + LEN_MID + (posState << 3), 3);
    return 16 + this.bitTree(coder + LEN_HIGH, 8);
  }

  /** `length` is the decoded length before kMatchMinLen is added. */
  private decodeDistance(length: number): number {
    const lenState = Math.min(length, kNumLenToPosStates - 1);
    const posSlot = this.bitTree(POS_SLOT + (lenState << 6), 6);
    if (posSlot < kStartPosModelIndex) return posSlot;
    const numDirectBits = (posSlot >>> 1) - 1;
    let distance = ((2 | (posSlot & 1)) << numDirectBits) >>> 0;
    if (posSlot < kEndPosModelIndex) {
      distance += this.bitTreeReverse(SPEC_POS + distance - posSlot, numDirectBits);
    } else {
      distance += (this.directBits(numDirectBits - kNumAlignBits) << kNumAlignBits) >>> 0;
      distance += this.bitTreeReverse(ALIGN, kNumAlignBits);
    }
    return distance >>> 0;
  }

  private decodeLiteral(state: number): void {
    const window = this.window;
    const previousByte = window.totalPos === 0 ? 0 : window.byteAt(0, this.inPos);
    const literalState = ((window.totalPos & ((1 << this.lp) - 1)) << this.lc) + (previousByte >>> (8 - this.lc));
    const base = LITERAL + 0x300 * literalState;
    let symbol = 1;
    if (state >= 7) {
      let matchByte = window.byteAt(this.rep0, this.inPos);
      do {
        const matchBit = (matchByte >>> 7) & 1;
        matchByte <<= 1;
        const bitValue = this.bit(base + ((1 + matchBit) << 8) + symbol);
        symbol = (symbol << 1) | bitValue;
        if (matchBit !== bitValue) break;
      } while (symbol < 0x100);
    }
    while (symbol < 0x100) symbol = (symbol << 1) | this.bit(base + symbol);
    window.putByte(symbol - 0x100);
    this.state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
  }
}
