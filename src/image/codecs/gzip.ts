import { once } from 'node:events';
import * as zlib from 'node:zlib';
import { crc32 as crc32InJs } from './checksums.js';
import type { StreamDecoder } from './codec.js';
import { corrupt, truncated, type OutputMeter } from './output-meter.js';

/**
 * gzip (CONFIG_KERNEL_GZIP: `gzip -n -9`, scripts/Makefile.lib cmd_gzip). The deflate data is
 * inflated by Node's own zlib, as a stream: input goes in slices and output comes out in pieces,
 * so the cap stops a bomb as it happens. The member framing (RFC 1952) we read ourselves,
 * because zlib's gunzip mode treats any non-zero byte after a member as the start of another and
 * fails on the kernel's appended size; this way we know exactly where each member ends, check
 * its CRC32 and ISIZE, and go on only when another member really follows.
 */

const SLICE_BYTES = 1 << 20;
const OUTPUT_CHUNK_BYTES = 256 * 1024;
const MEMBER_MAGIC = [0x1f, 0x8b, 0x08]; // ID1, ID2, CM = deflate
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0;

// zlib.crc32 arrived in Node 20.15; the table-driven one is the fallback for older 20.x.
const crc32: (bytes: Uint8Array, previous: number) => number = typeof zlib.crc32 === 'function' ? (bytes, previous) => zlib.crc32(bytes, previous) : crc32InJs;

export const decodeGzip: StreamDecoder = async function* (input, meter) {
  let offset = 0;
  do {
    const dataStart = readMemberHeader(input, offset);
    let checksum = 0;
    let size = 0;
    const inflated = inflateRaw(input.subarray(dataStart), dataStart, meter);
    let dataEnd: number;
    for (;;) {
      const step = await inflated.next();
      if (step.done) {
        dataEnd = step.value;
        break;
      }
      checksum = crc32(step.value, checksum);
      size += step.value.length;
      yield step.value;
    }
    if (dataEnd + 8 > input.length) throw truncated('gzip', 'member trailer (CRC32, ISIZE) is missing', { offset: dataEnd, field: 'CRC32' });
    const view = new DataView(input.buffer, input.byteOffset + dataEnd, 8);
    if (view.getUint32(0, true) !== checksum) throw corrupt('gzip', 'CRC32 of the decompressed data does not match', { offset: dataEnd, field: 'CRC32' });
    if (view.getUint32(4, true) !== size % 2 ** 32) throw corrupt('gzip', 'ISIZE does not match the decompressed size', { offset: dataEnd + 4, field: 'ISIZE' });
    offset = dataEnd + 8;
  } while (MEMBER_MAGIC.every((byte, index) => input[offset + index] === byte));
  return offset;
};

/** RFC 1952, 2.3.1: returns where the deflate data starts. */
function readMemberHeader(input: Uint8Array, start: number): number {
  const need = (offset: number, length: number, field: string): void => {
    if (offset + length > input.length) throw truncated('gzip', `${field} needs ${length} bytes at ${offset}, the input has ${input.length}`, { offset, field });
  };
  need(start, 10, 'member header');
  if (!MEMBER_MAGIC.every((byte, index) => input[start + index] === byte)) throw corrupt('gzip', 'no gzip magic (1f 8b 08)', { offset: start, field: 'ID1' });
  const flags = input[start + 3]!;
  if (flags & RESERVED_FLAGS) throw corrupt('gzip', 'reserved FLG bits are set', { offset: start + 3, field: 'FLG' });
  let offset = start + 10;
  if (flags & FEXTRA) {
    need(offset, 2, 'XLEN');
    offset += 2 + (input[offset]! | (input[offset + 1]! << 8));
  }
  for (const [flag, field] of [[FNAME, 'FNAME'], [FCOMMENT, 'FCOMMENT']] as const) {
    if (!(flags & flag)) continue;
    const end = input.indexOf(0, offset);
    if (end === -1) throw truncated('gzip', `${field} is not terminated`, { offset, field });
    offset = end + 1;
  }
  if (flags & FHCRC) offset += 2;
  need(offset, 0, 'deflate data');
  return offset;
}

/** Inflates raw deflate data; yields output, returns the offset (in the whole input) where it ended. */
async function* inflateRaw(data: Uint8Array, dataOffset: number, meter: OutputMeter): AsyncGenerator<Uint8Array, number, void> {
  const inflater = zlib.createInflateRaw({ chunkSize: OUTPUT_CHUNK_BYTES });
  const feeding = (async () => {
    for (let start = 0; start < data.length && !inflater.destroyed; start += SLICE_BYTES) {
      if (!inflater.write(data.subarray(start, start + SLICE_BYTES))) await once(inflater, 'drain');
    }
    inflater.end();
  })();
  feeding.catch(() => undefined); // a failure surfaces through the read side below
  const consumed = (): number => dataOffset + Math.min(inflater.bytesWritten, data.length);
  try {
    for await (const chunk of inflater as AsyncIterable<Uint8Array>) {
      meter.produce(chunk.length, consumed());
      yield chunk;
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'Z_BUF_ERROR') throw truncated('gzip', 'compressed data ends early', { offset: consumed() });
    if (error instanceof Error && 'errno' in error) throw corrupt('gzip', error.message, { offset: consumed() }, error);
    throw error;
  } finally {
    inflater.destroy();
  }
  return consumed();
}
