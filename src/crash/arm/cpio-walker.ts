import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_ARM_LIMITS } from '../../limits.js';

/**
 * Walks newc cpio archives as the kernel's initramfs unpacker does (init/initramfs.c), fed in
 * chunks, to count what they will occupy once unpacked, without keeping any file data.
 *
 * The unpacker's rules followed here: a header is 110 ASCII bytes ("070701" or "070702" and 13
 * fields of 8 hex digits); the name is padded so that header + name end on a 4-byte boundary
 * (N_ALIGN), the data so that the next header starts on one; "TRAILER!!!" ends an archive;
 * between entries and archives any number of NUL bytes may follow, but the next header must be
 * 4-byte aligned ("broken padding" otherwise). Offsets are counted from the start of the stream
 * (a compressed archive's output starts a new stream, as the kernel resets this_header).
 */

const HEADER_BYTES = 110;
const TRAILER = 'TRAILER!!!';
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const ASCII_ZERO = 0x30;

export interface CpioTotals {
  /** Entries unpacked (the trailers not counted). */
  entries: number;
  /** Archives that ended with their trailer. */
  archives: number;
  /** Sum of the data of regular files and symlink targets. */
  fileDataBytes: number;
  /** The same, each rounded up to whole pages: what the page cache of a ramfs/tmpfs holds. */
  pageBytes: number;
  /** Names (without a leading "/") of the entries asked about in `lookFor` that were seen. */
  found: Set<string>;
}

export function emptyTotals(): CpioTotals {
  return { entries: 0, archives: 0, fileDataBytes: 0, pageBytes: 0, found: new Set() };
}

type State =
  | { kind: 'reset' } // between entries or archives: NULs, then a header
  | { kind: 'header'; bytes: Uint8Array; have: number }
  | { kind: 'name'; bytes: Uint8Array; have: number; nameSize: number; mode: number; fileSize: number }
  | { kind: 'skip'; remaining: number };

export interface CpioWalkerOptions {
  readonly format: string;
  readonly pageSizeBytes: number;
  /** Entry names to report in `found` (e.g. "init", "etc/kexec-ts/capture.conf"). */
  readonly lookFor?: ReadonlySet<string>;
  /**
   * true at the top of an initrd file: a byte that cannot start an entry ends the walk (the
   * caller then looks for compressed data there). false inside a compressed archive's output,
   * where such a byte is the kernel's "junk within compressed archive".
   */
  readonly stopAtForeignData: boolean;
}

export class CpioWalker {
  private state: State = { kind: 'reset' };
  /** Bytes consumed since the stream started; alignment is relative to this. */
  offset = 0;
  /** Set when a top-level walk met bytes that are not cpio (compressed data, or junk). */
  stoppedAtForeignData = false;

  constructor(
    readonly totals: CpioTotals,
    private readonly options: CpioWalkerOptions,
  ) {}

  /** Between entries or archives: where a stream may end. */
  get atBoundary(): boolean {
    return this.state.kind === 'reset';
  }

  /** File data the walker will pass over next without looking at it: a reader may seek instead. */
  get skippableBytes(): number {
    return this.state.kind === 'skip' ? this.state.remaining : 0;
  }

  /** Passes over `count` bytes of file data (at most skippableBytes). */
  skip(count: number): void {
    if (this.state.kind !== 'skip' || count > this.state.remaining) throw new RangeError('skip past the file data');
    this.state.remaining -= count;
    this.offset += count;
    if (this.state.remaining === 0) this.afterEntry();
  }

  /** Feeds bytes; returns how many were taken (fewer only when a top-level walk stopped at foreign data). */
  push(chunk: Uint8Array): number {
    let at = 0;
    while (at < chunk.length && !this.stoppedAtForeignData) {
      const state = this.state;
      switch (state.kind) {
        case 'reset': {
          const byte = chunk[at]!;
          if (byte === 0) {
            at += 1;
            this.offset += 1;
            break;
          }
          if (byte === ASCII_ZERO && this.offset % 4 === 0) {
            this.state = { kind: 'header', bytes: new Uint8Array(HEADER_BYTES), have: 0 };
            break;
          }
          if (this.options.stopAtForeignData) {
            this.stoppedAtForeignData = true;
            break;
          }
          throw this.error(
            ErrorCode.FORMAT_INVALID,
            this.offset % 4 !== 0 && byte === ASCII_ZERO ? 'broken padding: an entry starts off a 4-byte boundary' : `junk within compressed archive (byte 0x${byte.toString(16)} where a header or padding belongs)`,
          );
        }
        case 'header': {
          const take = Math.min(HEADER_BYTES - state.have, chunk.length - at);
          state.bytes.set(chunk.subarray(at, at + take), state.have);
          state.have += take;
          at += take;
          this.offset += take;
          if (state.have === HEADER_BYTES) this.readHeader(state.bytes);
          break;
        }
        case 'name': {
          const take = Math.min(state.bytes.length - state.have, chunk.length - at);
          state.bytes.set(chunk.subarray(at, at + take), state.have);
          state.have += take;
          at += take;
          this.offset += take;
          if (state.have === state.bytes.length) this.readName(state);
          break;
        }
        case 'skip': {
          const take = Math.min(state.remaining, chunk.length - at);
          at += take;
          this.skip(take);
          break;
        }
      }
    }
    return at;
  }

  /** The stream ended: it must end between entries (a truncated archive unpacks partly and fails). */
  finish(): void {
    if (this.state.kind !== 'reset') {
      throw this.error(ErrorCode.FORMAT_TRUNCATED, `the data ends inside an entry (${this.state.kind === 'skip' ? `${this.state.remaining} bytes of file data missing` : `in its ${this.state.kind}`})`);
    }
  }

  private readHeader(bytes: Uint8Array): void {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    const magic = text.slice(0, 6);
    if (magic !== '070701' && magic !== '070702') {
      throw this.error(ErrorCode.FORMAT_INVALID, magic === '070707' ? 'an old binary/odc cpio archive: the kernel reads only newc (cpio -H newc)' : 'no cpio magic', HEADER_BYTES);
    }
    const field = (index: number, name: string): number => {
      const digits = text.slice(6 + index * 8, 14 + index * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(digits)) throw this.error(ErrorCode.FORMAT_INVALID, `${name} is not 8 hex digits: ${JSON.stringify(digits)}`, HEADER_BYTES - 6 - index * 8);
      return Number.parseInt(digits, 16);
    };
    const mode = field(1, 'c_mode');
    const fileSize = field(6, 'c_filesize');
    const nameSize = field(11, 'c_namesize');
    if (nameSize <= 0 || nameSize > CRASH_ARM_LIMITS.cpioNameBytes) {
      throw this.error(ErrorCode.FORMAT_INVALID, `c_namesize ${nameSize} is outside 1..${CRASH_ARM_LIMITS.cpioNameBytes} (PATH_MAX)`, HEADER_BYTES);
    }
    // N_ALIGN(len) = ((len + 1) & ~3) + 2: with the 110-byte header, name ends 4-byte aligned.
    const paddedNameSize = ((nameSize + 1) & ~3) + 2;
    this.state = { kind: 'name', bytes: new Uint8Array(paddedNameSize), have: 0, nameSize, mode, fileSize };
  }

  private readName(state: Extract<State, { kind: 'name' }>): void {
    if (state.bytes[state.nameSize - 1] !== 0) throw this.error(ErrorCode.FORMAT_INVALID, 'entry name without its terminating NUL (malformed archive)', state.bytes.length);
    const name = Buffer.from(state.bytes.buffer, state.bytes.byteOffset, state.nameSize - 1).toString('utf8');
    const paddedDataSize = (state.fileSize + 3) & ~3;
    if (name === TRAILER) {
      this.totals.archives += 1;
      this.state = { kind: 'skip', remaining: paddedDataSize };
    } else {
      if (this.totals.entries >= CRASH_ARM_LIMITS.cpioEntries) {
        throw this.error(ErrorCode.FORMAT_LIMIT_EXCEEDED, `more than ${CRASH_ARM_LIMITS.cpioEntries} entries`);
      }
      this.totals.entries += 1;
      const type = state.mode & S_IFMT;
      if (type === S_IFREG || type === S_IFLNK) {
        this.totals.fileDataBytes += state.fileSize;
        // ramfs keeps a symlink's target in a page of its own (page_symlink()); tmpfs inlines
        // short ones. A page each is the bound.
        this.totals.pageBytes += type === S_IFLNK ? this.options.pageSizeBytes : Math.ceil(state.fileSize / this.options.pageSizeBytes) * this.options.pageSizeBytes;
      }
      const bare = name.replace(/^(\.\/|\/)+/, '');
      if (this.options.lookFor?.has(bare) === true) this.totals.found.add(bare);
      this.state = { kind: 'skip', remaining: paddedDataSize };
    }
    if (paddedDataSize === 0) this.afterEntry();
  }

  private afterEntry(): void {
    this.state = { kind: 'reset' };
  }

  private error(code: typeof ErrorCode.FORMAT_INVALID | typeof ErrorCode.FORMAT_TRUNCATED | typeof ErrorCode.FORMAT_LIMIT_EXCEEDED, message: string, back = 0): ParseError {
    return new ParseError(code, this.options.format, message, { offset: this.offset - back });
  }
}
