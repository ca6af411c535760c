/**
 * Where decompress() gathers a whole output: one buffer that grows in place up to the cap. An
 * array of chunks joined at the end would hold the output twice at the moment of joining, and a
 * buffer that grows by copying holds the old and the new one while it copies; both would let a
 * legitimate payload near the cap, or a bomb stopped at it, cost up to twice the cap. A resizable
 * ArrayBuffer (ES2024, in Node 20's V8) reserves address space for the cap once and commits pages
 * only as they are written, so memory follows the bytes actually produced, and nothing is copied
 * but each chunk, once, as it arrives.
 */

/** The largest ArrayBuffer Node 20 makes (buffer.constants.MAX_LENGTH on 64-bit hosts). */
const MAX_ARRAY_BUFFER_BYTES = 2 ** 32;
/** First size committed: the growth steps cost address space, not memory, so they can be coarse. */
const INITIAL_BYTES = 1 << 20;

interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
type ResizableArrayBufferConstructor = new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

export class OutputBuffer {
  private readonly buffer: ResizableArrayBuffer;
  private length = 0;

  /** `maxBytes`: the cap, already enforced by the meter; the reservation never exceeds it. */
  constructor(maxBytes: number) {
    const Resizable = ArrayBuffer as unknown as ResizableArrayBufferConstructor;
    this.buffer = new Resizable(0, { maxByteLength: Math.min(maxBytes, MAX_ARRAY_BUFFER_BYTES) });
  }

  append(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.byteLength) {
      // The meter has already refused anything past the cap. Past what an ArrayBuffer can hold
      // (only with a caller's cap above 4 GiB) resize throws a RangeError, as any allocation would.
      this.buffer.resize(Math.min(this.buffer.maxByteLength, Math.max(needed, this.buffer.byteLength * 2, INITIAL_BYTES)));
    }
    new Uint8Array(this.buffer, this.length, chunk.length).set(chunk);
    this.length = needed;
  }

  /** The output, exactly as long as what was appended; the committed tail past it is released. */
  finish(): Uint8Array {
    this.buffer.resize(this.length);
    return new Uint8Array(this.buffer, 0, this.length);
  }
}
