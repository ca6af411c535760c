import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ParseError } from '../../src/errors.js';
import { CODECS, decompress, type Codec } from '../../src/image/codecs/index.js';
import { CODEC_EXTENSIONS, readCodecSample } from './codec-fixtures.js';
import { fuzzSettings } from './image-fixtures.js';

// Every codec is fed its real slice sample (the kernel's code, compressed by the real tool as the
// kernel's build does) with bits flipped, cut short, or its length fields overwritten with
// extreme values. The only acceptable outcomes: a result, or a ParseError; never another error,
// never a hang, never more output than the cap. A fixed seed by default;
// KEXEC_TS_FUZZ_RUNS=100000 (and KEXEC_TS_FUZZ_SEED) for long runs by hand.

const CAP_BYTES = 16 << 20;

/** Runs per codec in the default run, each codec's test kept to a few seconds. zstd is fewest:
 * a refused frame is decoded a second time by fzstd (to name the error), which allocates the
 * kernel's 128 MiB window each time. */
const DEFAULT_RUNS: Record<Codec, number> = { gzip: 1000, bzip2: 300, lzma: 500, xz: 500, lzo: 1000, lz4: 1000, zstd: 200 };

/** Offsets of each sample's length and size fields, where a lie does the most damage. */
function lengthFieldOffsets(codec: Codec, sample: Uint8Array): number[] {
  switch (codec) {
    case 'gzip':
      return [3, sample.length - 8, sample.length - 4]; // FLG (FEXTRA/FNAME), CRC32, ISIZE
    case 'bzip2':
      return [3, 10, 14, 17]; // level, block CRC, origPtr, symbol map
    case 'lzma':
      return [1, 5, 9]; // dictionary size, uncompressed size (both halves)
    case 'xz':
      return [12, 13, 14, 16, sample.length - 8, sample.length - 16]; // block header size/flags/filters, backward size, index
    case 'lzo': {
      const block = 9 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 4 + 1 + sample[25]! + 4;
      return [block, block + 4, block + 8, 9 + 7]; // dst_len, src_len, checksum, flags
    }
    case 'lz4':
      return [4]; // the first block's compressed size
    case 'zstd':
      return [4, 5, 6, 8]; // frame header descriptor, window descriptor, first block header
  }
}

interface Mutation {
  flips: { at: number; bit: number }[];
  cut: number | undefined;
  overwrite: { field: number; value: number; bigEndian: boolean } | undefined;
}

function mutation(codec: Codec, sample: Uint8Array): fc.Arbitrary<Mutation> {
  const fields = lengthFieldOffsets(codec, sample);
  return fc.record({
    flips: fc.array(fc.record({ at: fc.integer({ min: 0, max: sample.length - 1 }), bit: fc.integer({ min: 0, max: 7 }) }), { maxLength: 4 }),
    cut: fc.option(fc.integer({ min: 0, max: sample.length }), { nil: undefined }),
    overwrite: fc.option(
      fc.record({
        field: fc.constantFrom(...fields),
        value: fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, sample.length), fc.integer({ min: 0, max: 0xffffffff })),
        bigEndian: fc.boolean(),
      }),
      { nil: undefined },
    ),
  });
}

function apply(sample: Uint8Array, { flips, cut, overwrite }: Mutation): Uint8Array {
  const mutated = sample.slice(0, cut ?? sample.length);
  for (const { at, bit } of flips) if (at < mutated.length) mutated[at]! ^= 1 << bit;
  if (overwrite && overwrite.field >= 0 && overwrite.field + 4 <= mutated.length) {
    new DataView(mutated.buffer).setUint32(overwrite.field, overwrite.value, !overwrite.bigEndian);
  }
  return mutated;
}

for (const codec of CODECS) {
  test(`${codec}: mutated real samples give the original, another result, or a ParseError, never anything else`, async (t) => {
    const sample = readCodecSample(t, `vmlinux-slice.${CODEC_EXTENSIONS[codec]}`);
    if (!sample) return;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(mutation(codec, sample), async (change) => {
        try {
          const output = await decompress(codec, apply(sample, change), { maxOutputBytes: CAP_BYTES });
          assert.ok(output.length <= CAP_BYTES);
        } catch (error) {
          assert.ok(error instanceof ParseError, `${codec}: not a ParseError: ${error instanceof Error ? error.stack : String(error)}`);
          assert.equal(error.format, codec);
          refused++;
        }
      }),
      fuzzSettings(DEFAULT_RUNS[codec]),
    );
    // The mutations must mostly break something, or the test proves nothing.
    assert.ok(refused > 0, 'no mutation was refused');
  });
}
