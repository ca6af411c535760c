import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { ErrorCode, ParseError } from '../../errors.js';
import { MAX_SIZE_MDF_HEADER, makedumpfileDataHeaderLayout } from '../vmcore/kdump-layout.js';
import { checkFlatHeader, parseFlatDataHeader } from '../vmcore/flattened.js';
import { DumpWriteError } from './errors.js';
import { openDumpTarget } from './output.js';

// makedumpfile -R: a flattened dump (from a pipe or a file) back into the dump it stands for,
// record by record, in bounded memory, written like every dump (PATH.incomplete, fsync, rename).

const FORMAT = 'flattened dump';
const COPY_BYTES = 1024 * 1024;

export interface ReassembleOptions {
  force?: boolean;
}

export interface ReassembleResult {
  path: string;
  /** Size of the reassembled file. */
  sizeBytes: number;
  records: number;
}

/** Reads exactly what is asked, across chunk boundaries, copying only when a read spans two chunks. */
class ChunkReader {
  private current: Buffer = Buffer.alloc(0);
  private position = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<Buffer | string>;
  consumed = 0;

  constructor(input: AsyncIterable<Buffer | string>) {
    this.iterator = input[Symbol.asyncIterator]();
  }

  private async nextChunk(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const next = await this.iterator.next();
    if (next.done) {
      this.ended = true;
      return undefined;
    }
    return typeof next.value === 'string' ? Buffer.from(next.value, 'latin1') : next.value;
  }

  async read(length: number, field: string): Promise<Buffer> {
    const available = this.current.length - this.position;
    if (available >= length) {
      const result = this.current.subarray(this.position, this.position + length);
      this.position += length;
      this.consumed += length;
      return result;
    }
    const parts = [this.current.subarray(this.position)];
    let have = available;
    let last: Buffer | undefined;
    while (have < length) {
      const chunk = await this.nextChunk();
      if (!chunk) {
        throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `${field} needs ${length} bytes at ${this.consumed}, the input ends after ${have}`, { offset: this.consumed, field });
      }
      parts.push(chunk);
      have += chunk.length;
      last = chunk;
    }
    // Keep the last chunk as the current one; what the read took of it is skipped.
    const takenFromLast = last!.length - (have - length);
    const result = Buffer.concat(parts, have).subarray(0, length);
    this.current = last!;
    this.position = takenFromLast;
    this.consumed += length;
    return result;
  }
}

/** Reassembles `input` (a path or a stream) into `outPath`. */
export async function reassembleFlattened(input: string | Readable, outPath: string, options: ReassembleOptions = {}): Promise<ReassembleResult> {
  const stream = typeof input === 'string' ? fs.createReadStream(input, { highWaterMark: COPY_BYTES }) : input;
  const reader = new ChunkReader(stream);
  try {
    checkFlatHeader(await reader.read(MAX_SIZE_MDF_HEADER, 'makedumpfile_header'));
    const target = await openDumpTarget(outPath, { force: options.force === true, flatten: false });
    let sizeBytes = 0;
    let records = 0;
    try {
      for (;;) {
        const at = reader.consumed;
        const header = parseFlatDataHeader(await reader.read(makedumpfileDataHeaderLayout.sizeBytes, 'makedumpfile_data_header'), at);
        if (!header) break;
        records++;
        for (let done = 0; done < header.size; ) {
          const count = Math.min(COPY_BYTES, header.size - done);
          await target.write(header.offset + done, await reader.read(count, 'record data'));
          done += count;
        }
        sizeBytes = Math.max(sizeBytes, header.offset + header.size);
      }
      await target.commit();
    } catch (error) {
      // A write failure keeps the partial dump (its error names it); one of the input leaves nothing.
    await target.abort(error instanceof DumpWriteError);
      throw error;
    }
    return { path: outPath, sizeBytes, records };
  } finally {
    if (typeof input === 'string') (stream as fs.ReadStream).destroy();
  }
}
