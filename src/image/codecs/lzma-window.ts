import { LzmaDataError } from './lzma-errors.js';

const INITIAL_WINDOW_BYTES = 1 << 20;

/**
 * LZMA's dictionary: a circular window over the output, which matches copy from. It starts at
 * a MiB and doubles, up to the dictionary size, only while it has never wrapped, so a header
 * asking for a 4 GiB dictionary costs nothing until that much output exists. Output is copied
 * out into `pending` before the window overwrites it.
 */
export class LzmaWindow {
  private buffer: Uint8Array;
  private readonly limit: number;
  private pos = 0;
  private isFull = false;
  private flushedPos = 0;
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Bytes since the last reset: the position lp and pb take their low bits from. */
  totalPos = 0;

  /** `limit`: the dictionary size, already capped by the caller at the output cap. */
  constructor(limit: number) {
    this.limit = Math.max(1, limit);
    this.buffer = new Uint8Array(Math.min(this.limit, INITIAL_WINDOW_BYTES));
  }

  /** Output not yet taken. */
  get waitingBytes(): number {
    return this.pendingBytes + (this.pos - this.flushedPos);
  }

  /** LZMA2's dictionary reset: earlier output can no longer be referenced. */
  reset(): void {
    this.flushToPending();
    this.pos = 0;
    this.flushedPos = 0;
    this.isFull = false;
    this.totalPos = 0;
  }

  /** Output since the last call, in order. */
  take(): Uint8Array[] {
    this.flushToPending();
    const chunks = this.pending.splice(0);
    this.pendingBytes = 0;
    return chunks;
  }

  /** The byte `distance + 1` back from the current position (distance 0: the last byte). */
  byteAt(distance: number, inputOffset: number): number {
    this.checkDistance(distance, inputOffset);
    let index = this.pos - distance - 1;
    if (index < 0) index += this.buffer.length;
    return this.buffer[index]!;
  }

  putByte(value: number): void {
    if (this.pos === this.buffer.length) this.makeRoom();
    this.buffer[this.pos++] = value;
    this.totalPos++;
  }

  copyMatch(distance: number, length: number, inputOffset: number): void {
    this.checkDistance(distance, inputOffset);
    let remaining = length;
    while (remaining > 0) {
      if (this.pos === this.buffer.length) this.makeRoom();
      const buffer = this.buffer;
      let source = this.pos - distance - 1;
      if (source < 0) source += buffer.length;
      // Stop at the window's end and, when the source is just behind, at the distance: an LZ77
      // copy may read bytes it has itself just written (a repeating pattern), which one
      // copyWithin (memmove) would not reproduce. A source ahead of pos (wrapped) is older data
      // that this copy never overwrites before reading it.
      let run = Math.min(remaining, buffer.length - this.pos, buffer.length - source);
      if (source < this.pos) run = Math.min(run, distance + 1);
      if (distance === 0) {
        run = Math.min(remaining, buffer.length - this.pos);
        buffer.fill(buffer[source]!, this.pos, this.pos + run);
      } else if (run < 8) {
        for (let index = 0; index < run; index++) buffer[this.pos + index] = buffer[source + index]!;
      } else {
        buffer.copyWithin(this.pos, source, source + run);
      }
      this.pos += run;
      this.totalPos += run;
      remaining -= run;
    }
  }

  private checkDistance(distance: number, inputOffset: number): void {
    const available = this.isFull ? this.buffer.length : this.pos;
    if (distance >= available) throw new LzmaDataError(`match distance ${distance + 1} reaches before the start of the data`, inputOffset);
  }

  private flushToPending(): void {
    if (this.pos > this.flushedPos) {
      this.pending.push(this.buffer.slice(this.flushedPos, this.pos));
      this.pendingBytes += this.pos - this.flushedPos;
    }
    this.flushedPos = this.pos;
  }

  /** At the end of the buffer: grow it while it has never wrapped, else wrap (flushing first). */
  private makeRoom(): void {
    if (!this.isFull && this.buffer.length < this.limit) {
      const grown = new Uint8Array(Math.min(this.limit, this.buffer.length * 2));
      grown.set(this.buffer);
      this.buffer = grown;
      return;
    }
    this.flushToPending();
    this.pos = 0;
    this.flushedPos = 0;
    this.isFull = true;
  }
}
