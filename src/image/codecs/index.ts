import { ErrorCode, ParseError } from '../../errors.js';
import { decodeBzip2 } from './bzip2.js';
import { CODECS, type Codec, type StreamDecoder } from './codec.js';
import { decodeGzip } from './gzip.js';
import { decodeLz4Legacy } from './lz4-legacy.js';
import { decodeLzmaAlone } from './lzma.js';
import { decodeLzop } from './lzop.js';
import { OutputBuffer } from './output-buffer.js';
import { corrupt, OutputMeter, type ProgressListener } from './output-meter.js';
import { decodeXz } from './xz.js';
import { decodeZstd } from './zstd.js';

/**
 * The one place that maps a payload codec to the code that decodes it, and the rules every
 * codec shares: the output cap, progress, what may follow the compressed data, and that every
 * failure comes out as a ParseError with the codec as its format (a library's own error kept
 * as the cause).
 *
 * Which library and why, per codec: gzip.ts (Node's zlib), bzip2.ts (seek-bzip), lzma.ts and
 * xz.ts (our LZMA decoder: no npm package handles the x86 BCJ filter on Node 20), lzop.ts +
 * lzo1x.ts (our LZO1X decoder: none maintained on npm), lz4-legacy.ts (our container, lz4-napi
 * for the blocks), zstd.ts (libzstd as WASM, from zstddec, behind our frame walker; fzstd names
 * what libzstd refuses).
 */

export { CODECS, type Codec } from './codec.js';
export type { ProgressListener } from './output-meter.js';

export interface DecompressOptions {
  /** Refuse (FORMAT_LIMIT_EXCEEDED) once the output would pass this; LIMITS.kernelPayloadBytes
   * is the cap meant for kernel payloads. */
  maxOutputBytes: number;
  /** Called as output is produced: compressed bytes consumed so far (as far as the codec can
   * tell) and bytes produced. */
  onProgress?: ProgressListener;
  /** Where the input lies (a payload inside a file): an error's offset is then the file's, not the payload's. */
  within?: { readonly container: string; readonly offset: number };
}

const DECODERS: Record<Codec, StreamDecoder> = {
  gzip: decodeGzip,
  bzip2: decodeBzip2,
  lzma: decodeLzmaAlone,
  xz: decodeXz,
  lzo: decodeLzop,
  lz4: decodeLz4Legacy,
  zstd: decodeZstd,
};

/**
 * Magic numbers, longest first where one is a prefix of another's family. The same bytes
 * scripts/extract-vmlinux searches a bzImage for, and lib/decompress.c's compressed_formats
 * table matches (it uses only the first two bytes of each).
 */
const MAGICS: readonly { codec: Codec; bytes: readonly number[] }[] = [
  { codec: 'gzip', bytes: [0x1f, 0x8b, 0x08] }, // ID1 ID2 CM=deflate (RFC 1952)
  { codec: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] }, // "\xFD7zXZ\0"
  { codec: 'bzip2', bytes: [0x42, 0x5a, 0x68] }, // "BZh"
  // lc=3 lp=0 pb=2 (0x5D), the only properties the lzma tool writes, then the low bytes of a
  // power-of-two dictionary size. extract-vmlinux asks for a third zero; lib/decompress.c for one.
  { codec: 'lzma', bytes: [0x5d, 0x00, 0x00] },
  { codec: 'lzo', bytes: [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a] }, // lzop's magic
  { codec: 'lz4', bytes: [0x02, 0x21, 0x4c, 0x18] }, // legacy frame, 0x184C2102 LE
  { codec: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] }, // 0xFD2FB528 LE
];

/** The codec whose magic `head` starts with, or undefined (not compressed, or unknown). */
export function detectCodec(head: Uint8Array): Codec | undefined {
  return MAGICS.find(({ bytes }) => bytes.length <= head.length && bytes.every((byte, index) => head[index] === byte))?.codec;
}

/**
 * Decompresses `input` as `codec`, yielding the output in pieces (a block of the format, at
 * most a few MiB each) and never more than `maxOutputBytes` in all. The input is in memory
 * (a payload is read once from its image); the output need not be.
 */
export async function* decompressStream(codec: Codec, input: Uint8Array, options: DecompressOptions): AsyncGenerator<Uint8Array, void, void> {
  const decoder = DECODERS[codec];
  if (!decoder) throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, String(codec), `unknown codec; known: ${CODECS.join(', ')}`);
  if (!Number.isSafeInteger(options.maxOutputBytes) || options.maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${options.maxOutputBytes}`);
  }
  const meter = new OutputMeter(codec, options.maxOutputBytes, options.onProgress);
  let end: number | undefined;
  const steps = decoder(input, meter);
  try {
    for (;;) {
      const step = await steps.next();
      if (step.done) {
        end = step.value;
        break;
      }
      yield step.value;
      // Long decodes are synchronous work between yields: let timers and I/O run.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    throw asParseError(codec, error, meter.inBytes);
  } finally {
    // A consumer that stops early (it has seen enough) leaves the decoder mid-stream: close it,
    // so that what it holds (a zlib stream, libzstd's context) is released now.
    if (end === undefined) await steps.return(0).catch(() => undefined);
  }
  checkTrailingBytes(codec, input, end, meter.outBytes);
  meter.finish(end);
}

/**
 * Decompresses `input` as `codec` into one buffer; the same rules as decompressStream. Memory
 * follows the output (output-buffer.ts): a bomb stopped at the cap costs the cap, not twice it.
 * The result is a view over a resizable ArrayBuffer of exactly its length.
 */
export async function decompress(codec: Codec, input: Uint8Array, options: DecompressOptions): Promise<Uint8Array> {
  let output: OutputBuffer | undefined;
  try {
    for await (const chunk of decompressStream(codec, input, options)) {
      output ??= new OutputBuffer(options.maxOutputBytes);
      output.append(chunk);
    }
  } catch (error) {
    if (error instanceof ParseError && options.within !== undefined) throw error.within(options.within.container, options.within.offset);
    throw error;
  }
  return output?.finish() ?? new Uint8Array(0);
}

/**
 * What may follow the compressed data: nothing, or exactly the 4-byte little-endian
 * uncompressed size that the kernel's build appends to every payload but gzip's
 * (scripts/Makefile.lib size_append; the boot decompressors read it as the output length).
 * Anything else means the payload's length field is wrong or the data is not what it claims.
 */
function checkTrailingBytes(codec: Codec, input: Uint8Array, end: number, outBytes: number): void {
  const rest = input.length - end;
  if (rest === 0) return;
  if (rest === 4) {
    const appendedSize = (input[end]! | (input[end + 1]! << 8) | (input[end + 2]! << 16) | (input[end + 3]! << 24)) >>> 0;
    if (appendedSize === outBytes % 2 ** 32) return;
    throw corrupt(codec, `the 4 bytes after the compressed data say ${appendedSize}, but it decompressed to ${outBytes}`, { offset: end, field: 'size_append' });
  }
  throw corrupt(codec, `${rest} bytes follow the end of the compressed data`, { offset: end });
}

function asParseError(codec: Codec, error: unknown, offset: number): ParseError {
  if (error instanceof ParseError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return corrupt(codec, `decoder failed: ${message}`, { offset }, error);
}
