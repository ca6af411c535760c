import type { StreamDecoder } from './codec.js';
import { LzmaDataError, LzmaDecoder, LzmaStop, decodeLzmaProperties } from './lzma-decoder.js';
import { corrupt, truncated, type OutputMeter } from './output-meter.js';

/**
 * The legacy .lzma ("LZMA alone") file, as `lzma -9` writes it for CONFIG_KERNEL_LZMA
 * (scripts/Makefile.lib cmd_lzma) and lib/decompress_unlzma.c reads it: a 13-byte header
 * (properties byte, u32 LE dictionary size, u64 LE uncompressed size, all ones when unknown)
 * followed by one LZMA stream. Piped through stdin, as the kernel's build does, the size is
 * unknown and the stream ends with an end marker.
 *
 * Decoded by our LZMA decoder (lzma-decoder.ts), which xz.ts needs anyway: the npm packages
 * that read .lzma (`lzma`/LZMA-JS, `lzma1`) decode a whole buffer at once with no output cap.
 */
const HEADER_BYTES = 13;
const UNKNOWN_SIZE = 0xffffffffffffffffn;

export const decodeLzmaAlone: StreamDecoder = async function* (input, meter) {
  if (input.length < HEADER_BYTES) throw truncated('lzma', `header needs ${HEADER_BYTES} bytes, the input has ${input.length}`, { offset: 0 });
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const properties = decodeLzmaProperties(input[0]!);
  if (!properties) throw corrupt('lzma', `properties byte ${input[0]} is out of range (at most 224)`, { offset: 0, field: 'properties' });
  const dictionaryBytes = view.getUint32(1, true);
  const declaredSize = view.getBigUint64(5, true);
  let remaining = Number.POSITIVE_INFINITY;
  if (declaredSize !== UNKNOWN_SIZE) {
    if (declaredSize > BigInt(meter.remainingBytes)) {
      throw corrupt('lzma', `header declares ${declaredSize} bytes, more than the allowed ${meter.maxOutputBytes}`, { offset: 5, field: 'uncompressed_size' });
    }
    remaining = Number(declaredSize);
  }
  // The window never needs to be larger than the output it may hold.
  const decoder = new LzmaDecoder(Math.min(Math.max(dictionaryBytes, 4096), meter.remainingBytes, remaining));
  decoder.setProperties(properties);
  yield* runLzma(decoder, input, HEADER_BYTES, remaining, meter);
  return decoder.inputOffset;
};

async function* runLzma(decoder: LzmaDecoder, input: Uint8Array, start: number, declared: number, meter: OutputMeter): AsyncGenerator<Uint8Array, void, void> {
  try {
    decoder.startRangeCoder(input, start, input.length);
    let remaining = declared;
    for (;;) {
      const { stop, produced } = decoder.decode(remaining, true);
      remaining -= produced;
      for (const chunk of decoder.takeOutput()) {
        meter.produce(chunk.length, decoder.inputOffset);
        yield chunk;
      }
      if (stop !== LzmaStop.MORE) return;
    }
  } catch (error) {
    if (error instanceof LzmaDataError) {
      throw error.isTruncation ? truncated('lzma', error.message, { offset: error.offset }) : corrupt('lzma', error.message, { offset: error.offset });
    }
    throw error;
  }
}
