import fs from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { DumpExistsError, DumpWriteError, outputPathError } from './errors.js';
import {
  MAKEDUMPFILE_SIGNATURE,
  MAX_SIZE_MDF_HEADER,
  TYPE_FLAT_HEADER,
  VERSION_FLAT_HEADER,
  makedumpfileDataHeaderLayout,
  makedumpfileHeaderLayout,
} from '../vmcore/kdump-layout.js';

// Where a dump goes. A file is written as OUT.incomplete, fsynced, then renamed to OUT (and the
// directory fsynced), so a file under the final name is always complete; a failure leaves only
// OUT.incomplete. The flattened form turns every positional write into a record of the stream.

/** Positional writes of the dump being written. */
export interface DumpSink {
  write(offset: number, bytes: Uint8Array): Promise<void>;
  /** Bytes that reached the file or stream so far. */
  readonly bytesWritten: number;
}

export interface DumpTarget extends DumpSink {
  /** The final path, or the stream's name. */
  readonly name: string;
  /** Makes the dump complete: fsync and rename (a file), the end record (flattened). */
  commit(): Promise<void>;
  /**
   * Stops after a failure; never throws. `keepPartial` leaves what was written as
   * OUT.incomplete (a write failure: the error names it); otherwise it is removed, so a failure
   * that was the input's leaves nothing behind. An empty OUT.incomplete is always removed.
   */
  abort(keepPartial: boolean): Promise<void>;
  /** Turns an I/O failure into a DumpWriteError with the byte count. */
  failure(error: unknown, what: string): DumpWriteError;
}

export type DumpDestination = string | { stream: Writable; name?: string };

export const INCOMPLETE_SUFFIX = '.incomplete';

/**
 * The crashed kernel's log beside its dump, named after it (vmcore-dmesg.txt for vmcore, as
 * Fedora's kdump names it): two dumps in one directory never share, and so never replace, a log.
 */
export function dmesgPathFor(dumpPath: string): string {
  return `${dumpPath.replace(/\.flat$/, '')}-dmesg.txt`;
}

function errnoName(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Opens `destination` for a dump: refuses an existing complete file unless `force`, and writes
 * the flattened form when `flatten` (always for a stream, which cannot seek).
 */
export async function openDumpTarget(destination: DumpDestination, options: { force: boolean; flatten: boolean }): Promise<DumpTarget> {
  if (typeof destination !== 'string') return flattenedTarget(streamWriter(destination.stream, destination.name ?? 'stream'));
  const file = await fileTarget(destination, options.force);
  if (!options.flatten) return file;
  return flattenedTarget(file);
}

async function fileTarget(finalPath: string, force: boolean, what = 'dump'): Promise<DumpTarget> {
  const incompletePath = `${finalPath}${INCOMPLETE_SUFFIX}`;
  let existing: Awaited<ReturnType<typeof fs.lstat>> | undefined;
  try {
    existing = await fs.lstat(finalPath);
  } catch (error) {
    if (errnoName(error) !== 'ENOENT') throw outputPathError(finalPath, what, error);
  }
  // A directory under the final name would take the whole dump and then refuse the rename: even
  // --force cannot put a file there, so it is refused before a byte is written.
  if (existing?.isDirectory() === true) throw outputPathError(finalPath, what, { code: 'EISDIR' });
  if (existing !== undefined && !force) throw new DumpExistsError(finalPath);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(incompletePath, 'w', 0o600);
  } catch (error) {
    throw outputPathError(finalPath, what, error);
  }
  let bytesWritten = 0;
  let closed = false;
  const target: DumpTarget = {
    name: finalPath,
    get bytesWritten() {
      return bytesWritten;
    },
    async write(offset, bytes) {
      let done = 0;
      while (done < bytes.length) {
        let written: number;
        try {
          ({ bytesWritten: written } = await handle.write(bytes, done, bytes.length - done, offset + done));
        } catch (error) {
          throw failureOf(error, 'writing', finalPath, incompletePath, bytesWritten);
        }
        // A zero-byte write makes no progress: a full device that does not say ENOSPC.
        if (written === 0) throw failureOf(Object.assign(new Error('write returned 0'), { code: 'ENOSPC' }), 'writing', finalPath, incompletePath, bytesWritten);
        done += written;
        bytesWritten += written;
      }
    },
    async commit() {
      try {
        await handle.sync();
        closed = true;
        await handle.close();
        await fs.rename(incompletePath, finalPath);
      } catch (error) {
        throw failureOf(error, 'completing', finalPath, incompletePath, bytesWritten);
      }
      // The rename itself must survive a crash of the capture kernel's machine.
      try {
        const directory = await fs.open(path.dirname(finalPath), 'r');
        try {
          await directory.sync();
        } finally {
          await directory.close();
        }
      } catch {
        // Some filesystems refuse fsync on a directory; the file's own data is already synced.
      }
    },
    async abort(keepPartial) {
      if (!closed) {
        closed = true;
        await handle.close().catch(() => undefined);
      }
      if (!keepPartial || bytesWritten === 0) await fs.rm(incompletePath, { force: true }).catch(() => undefined);
    },
    failure: (error, what) => failureOf(error, what, finalPath, incompletePath, bytesWritten),
  };
  return target;
}

/**
 * A small file that goes with a dump (the crashed kernel's log), under the dump's own rules:
 * written as PATH.incomplete, fsynced and renamed, so PATH is complete or absent; an existing
 * PATH is kept unless `force`; on failure nothing is left behind.
 */
export async function writeCompleteFile(finalPath: string, bytes: Uint8Array, options: { force: boolean; what: string }): Promise<void> {
  const target = await fileTarget(finalPath, options.force, options.what);
  try {
    await target.write(0, bytes);
    await target.commit();
  } catch (error) {
    await target.abort(false);
    // Nothing partial is left to name: the error says only what failed.
    if (error instanceof DumpWriteError) throw new DumpWriteError({ ...error, incompletePath: undefined, what: `writing the ${options.what}` }, { cause: error.cause });
    throw error;
  }
}

/**
 * Makes `directory` and the missing ones above it, one mkdir(2) each so that the errno is the
 * real one (a recursive mkdir reports ENOENT for a read-only parent); typed as output errors.
 */
export async function makeOutputDirectory(directory: string): Promise<void> {
  const what = 'directory for the dump';
  const missing: string[] = [];
  for (let at = path.resolve(directory); ; at = path.dirname(at)) {
    let stats;
    try {
      stats = await fs.stat(at);
    } catch (error) {
      if (errnoName(error) === 'ENOENT' && at !== path.dirname(at)) {
        missing.unshift(at);
        continue;
      }
      throw outputPathError(directory, what, error);
    }
    if (!stats.isDirectory()) throw outputPathError(directory, what, { code: 'ENOTDIR' });
    break;
  }
  for (const at of missing) {
    try {
      await fs.mkdir(at);
    } catch (error) {
      if (errnoName(error) !== 'EEXIST') throw outputPathError(directory, what, error);
    }
  }
}

/** Refuses, before anything is written, when one of `paths` exists and `force` is not set. */
export async function refuseExisting(paths: readonly string[], force: boolean): Promise<void> {
  // What a later create would refuse for the same reason (a read-only or missing directory) is
  // that create's to report; here only what is there already.
  if (force) return;
  for (const finalPath of paths) {
    try {
      await fs.lstat(finalPath);
    } catch (error) {
      if (errnoName(error) === 'ENOENT') continue;
      throw outputPathError(finalPath, 'dump', error);
    }
    throw new DumpExistsError(finalPath);
  }
}

function failureOf(error: unknown, what: string, finalPath: string, incompletePath: string | undefined, bytesWritten: number): DumpWriteError {
  if (error instanceof DumpWriteError) return error;
  return new DumpWriteError({ path: finalPath, incompletePath, bytesWritten, errnoName: errnoName(error), what: `${what}` }, { cause: error });
}

/** Sequential writes to a stream (a pipe, stdout), with backpressure. */
function streamWriter(stream: Writable, name: string): DumpTarget {
  let bytesWritten = 0;
  let offset = 0;
  const target: DumpTarget = {
    name,
    get bytesWritten() {
      return bytesWritten;
    },
    async write(at, bytes) {
      if (at !== offset) throw failureOf(new Error(`a stream cannot seek to ${at}`), 'writing', name, undefined, bytesWritten);
      const copy = Buffer.from(bytes);
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error): void => reject(failureOf(error, 'writing', name, undefined, bytesWritten));
        stream.once('error', onError);
        const more = stream.write(copy, (error) => {
          if (error) return;
          bytesWritten += copy.length;
        });
        const done = (): void => {
          stream.off('error', onError);
          resolve();
        };
        if (more) done();
        else stream.once('drain', done);
      });
      offset += bytes.length;
    },
    async commit() {
      await new Promise<void>((resolve, reject) => {
        stream.once('error', (error) => reject(failureOf(error, 'completing', name, undefined, bytesWritten)));
        // Leave stdout open for whoever owns it; our own streams end here.
        if (stream === process.stdout) stream.write('', () => resolve());
        else stream.end(() => resolve());
      });
    },
    async abort() {},
    failure: (error, what) => failureOf(error, what, name, undefined, bytesWritten),
  };
  return target;
}

/**
 * makedumpfile's flattened format over a sequential target: the 4096-byte header, then for
 * every write a big-endian (offset, size) record and the bytes, and (-1, -1) at the end.
 */
function flattenedTarget(inner: DumpTarget): DumpTarget {
  let position = 0;
  let started = false;
  const append = async (bytes: Uint8Array): Promise<void> => {
    await inner.write(position, bytes);
    position += bytes.length;
  };
  const start = async (): Promise<void> => {
    if (started) return;
    started = true;
    const header = new Uint8Array(MAX_SIZE_MDF_HEADER);
    makedumpfileHeaderLayout.write(header, { signature: MAKEDUMPFILE_SIGNATURE, type: TYPE_FLAT_HEADER, version: VERSION_FLAT_HEADER }, 0, false);
    await append(header);
  };
  const record = (offset: bigint, size: bigint): Uint8Array => {
    const bytes = new Uint8Array(makedumpfileDataHeaderLayout.sizeBytes);
    makedumpfileDataHeaderLayout.write(bytes, { offset, buf_size: size }, 0, false);
    return bytes;
  };
  return {
    name: inner.name,
    get bytesWritten() {
      return inner.bytesWritten;
    },
    async write(offset, bytes) {
      await start();
      if (bytes.length === 0) return;
      await append(record(BigInt(offset), BigInt(bytes.length)));
      await append(bytes);
    },
    async commit() {
      await start();
      await append(record(BigInt.asUintN(64, -1n), BigInt.asUintN(64, -1n)));
      await inner.commit();
    },
    abort: (keepPartial) => inner.abort(keepPartial),
    failure: (error, what) => inner.failure(error, what),
  };
}

/**
 * Buffers one region of the dump written front to back (the page_desc table, the page data)
 * and hands it to the sink in large pieces.
 */
export class RegionWriter {
  private readonly buffer: Uint8Array;
  private fill = 0;

  constructor(
    private readonly sink: DumpSink,
    private offset: number,
    capacity: number,
  ) {
    this.buffer = new Uint8Array(capacity);
  }

  /** Where the next byte will go in the dump. */
  get position(): number {
    return this.offset + this.fill;
  }

  async append(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const count = Math.min(bytes.length - done, this.buffer.length - this.fill);
      this.buffer.set(bytes.subarray(done, done + count), this.fill);
      this.fill += count;
      done += count;
      if (this.fill === this.buffer.length) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.fill === 0) return;
    await this.sink.write(this.offset, this.buffer.subarray(0, this.fill));
    this.offset += this.fill;
    this.fill = 0;
  }
}
