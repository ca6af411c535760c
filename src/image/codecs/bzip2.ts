import Bunzip from 'seek-bzip';
import type { StreamDecoder } from './codec.js';
import { corrupt, truncated, type OutputMeter } from './output-meter.js';

/**
 * bzip2 (CONFIG_KERNEL_BZIP2: `bzip2 -9`, scripts/Makefile.lib cmd_bzip2), decoded by
 * seek-bzip: pure JavaScript, checks every block CRC and the stream CRC. We run its per-block
 * loop ourselves (what its Bunzip.decode does) so that output leaves one block at a time and
 * the cap is enforced while a block is still being written, not after the whole file.
 * Concatenated streams (as `cat a.bz2 b.bz2` makes, and bzip2 -d accepts) are decoded in turn.
 */

const CHUNK_BYTES = 1 << 20;
const STREAM_MAGIC = [0x42, 0x5a, 0x68]; // "BZh"

class InputEnded extends Error {}

export const decodeBzip2: StreamDecoder = async function* (input, meter) {
  let streamStart = 0;
  for (;;) {
    const source = new ByteSource(input, streamStart);
    const sink = new ChunkSink(meter, source);
    try {
      const decoder = new Bunzip(source, sink);
      while (decoder._init_block()) {
        decoder._read_bunzip();
        yield* sink.take();
      }
      const storedCrc = decoder.reader.read(32) >>> 0;
      if (storedCrc !== decoder.streamCRC) throw corrupt('bzip2', 'stream CRC mismatch', { offset: source.position, field: 'combined CRC' });
      sink.flush();
      yield* sink.take();
    } catch (error) {
      throw translate(error, source.position);
    }
    // The stream's last byte is padded to a byte boundary, so the next one starts at position.
    const next = source.position;
    if (!STREAM_MAGIC.every((byte, index) => input[next + index] === byte)) return next;
    streamStart = next;
  }
};

function translate(error: unknown, offset: number): unknown {
  if (error instanceof InputEnded) return truncated('bzip2', 'compressed data ends early', { offset });
  if (error instanceof TypeError && typeof (error as { errorCode?: unknown }).errorCode === 'number') {
    const code = (error as unknown as { errorCode: number }).errorCode;
    if (code === Bunzip.Err.UNEXPECTED_INPUT_EOF) return truncated('bzip2', 'compressed data ends early', { offset });
    return corrupt('bzip2', error.message, { offset }, error);
  }
  return error;
}

/** seek-bzip's input: reading past the end throws, never hands back undefined as a byte. */
class ByteSource {
  private readonly input: Uint8Array;
  position: number;

  constructor(input: Uint8Array, start: number) {
    this.input = input;
    this.position = start;
  }

  readByte(): number {
    if (this.position >= this.input.length) throw new InputEnded();
    return this.input[this.position++]!;
  }

  read(buffer: Uint8Array, offset: number, length: number): number {
    const count = Math.min(length, this.input.length - this.position);
    if (count <= 0) return -1;
    buffer.set(this.input.subarray(this.position, this.position + count), offset);
    this.position += count;
    return count;
  }

  seek(position: number): void {
    this.position = position;
  }

  eof(): boolean {
    return this.position >= this.input.length;
  }
}

/** seek-bzip's output, a byte at a time: gathered into chunks, each counted before it is kept. */
class ChunkSink {
  private readonly meter: OutputMeter;
  private readonly source: ByteSource;
  private buffer = new Uint8Array(CHUNK_BYTES);
  private used = 0;
  private ready: Uint8Array[] = [];

  constructor(meter: OutputMeter, source: ByteSource) {
    this.meter = meter;
    this.source = source;
  }

  writeByte(byte: number): void {
    this.buffer[this.used++] = byte;
    if (this.used === CHUNK_BYTES) this.flush();
  }

  flush(): void {
    if (this.used === 0) return;
    this.meter.produce(this.used, this.source.position);
    this.ready.push(this.used === CHUNK_BYTES ? this.buffer : this.buffer.slice(0, this.used));
    if (this.used === CHUNK_BYTES) this.buffer = new Uint8Array(CHUNK_BYTES);
    this.used = 0;
  }

  take(): Uint8Array[] {
    return this.ready.splice(0);
  }
}
