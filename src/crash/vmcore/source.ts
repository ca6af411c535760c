import fs from 'node:fs';
import { ErrorCode, ParseError } from '../../errors.js';
import { inputFileError, openInputFile } from '../../input-file.js';

/**
 * Random access to a dump's bytes. The readers only ever call `readAt`, so they work the same
 * on /proc/vmcore, a dump file on disk, or bytes in memory (tests); the file-backed one is the
 * only I/O edge.
 */
export interface RandomAccessSource {
  /** What the source is, for messages (a path, or "memory"). */
  readonly name: string;
  readonly sizeBytes: number;
  /**
   * Exactly `length` bytes at `offset`; a read past the end is a FORMAT_TRUNCATED ParseError
   * naming `field`. The returned bytes may be a view into a reused buffer only when `into` is
   * given; otherwise they are the caller's.
   */
  readAt(offset: number, length: number, field: string, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

function truncated(source: { name: string; sizeBytes: number }, format: string, offset: number, length: number, field: string): ParseError {
  return new ParseError(
    ErrorCode.FORMAT_TRUNCATED,
    format,
    `${field} needs ${length} bytes at ${offset}, but ${source.name} has ${source.sizeBytes}`,
    { offset: Number.isSafeInteger(offset) ? offset : undefined, field },
  );
}

function checkRange(source: { name: string; sizeBytes: number }, format: string, offset: number, length: number, field: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.sizeBytes) {
    throw truncated(source, format, offset, length, field);
  }
}

/** Bytes already in memory (tests, and small dumps built on the fly). */
export function memorySource(bytes: Uint8Array, name = 'memory', format = 'vmcore'): RandomAccessSource {
  const source: RandomAccessSource = {
    name,
    sizeBytes: bytes.length,
    async readAt(offset, length, field, into) {
      checkRange(source, format, offset, length, field);
      const slice = bytes.subarray(offset, offset + length);
      if (into) {
        into.set(slice);
        return into.subarray(0, length);
      }
      return slice.slice();
    },
    async close() {},
  };
  return source;
}

/**
 * A file opened once and read with positional reads. /proc/vmcore reports its real size in
 * stat(2), so the bounds check works there too. The reads are synchronous pread(2) calls: a
 * dump is read in thousands of runs, and a trip through libuv's thread pool for each costs more
 * than the read (measured: 40% of a save at dump level 31 was spent waiting for it).
 */
export async function openFileSource(path: string, format = 'vmcore'): Promise<RandomAccessSource> {
  // The one input path: a FIFO or a device is refused before it can block, errnos are typed.
  const { fd, sizeBytes } = openInputFile(path, { what: format === 'vmcore' ? 'dump' : format });
  let closed = false;
  const source: RandomAccessSource = {
    name: path,
    sizeBytes,
    async readAt(offset, length, field, into) {
      checkRange(source, format, offset, length, field);
      const target = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      while (done < length) {
        let bytesRead: number;
        try {
          bytesRead = fs.readSync(fd, target, done, length - done, offset + done);
        } catch (cause) {
          throw inputFileError(path, format === 'vmcore' ? 'dump' : format, cause);
        }
        // A file that shrank under us (or a short /proc read) is a truncated dump, not a hang.
        if (bytesRead === 0) throw truncated({ name: path, sizeBytes: offset + done }, format, offset, length, field);
        done += bytesRead;
      }
      return target;
    },
    async close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
  return source;
}
