// Fuzz targets for the payload decompressors (src/image/codecs/), one per codec, through
// decompress() with the 16 MiB cap test/image/codecs-properties.test.ts uses: a bomb must stop
// at the cap, a damaged stream must end in a ParseError. Seeds are slices of the real kernel
// (the cached vmlinux-slice) compressed by the same tools and options the kernel's build uses
// (scripts/fixtures/codec-samples.mjs lists them), small so one input decodes in well under a
// millisecond, plus the first 8 KiB of each real sample.
import { decompress, type Codec } from '../../src/image/codecs/index.js';
import { derivedSeed, pipeThroughTool, readArtefact, readArtefactHead } from '../artefacts.js';
import type { Seed } from '../mutate.js';
import { present, type FuzzTarget } from './target.js';

export const CODEC_CAP_BYTES = 16 << 20;

/** The kernel build's compressor for each codec (scripts/Makefile.lib), and the sample's extension. */
const TOOLS: Record<Codec, { tool: string; args: string[]; extension: string; sizeAppended: boolean }> = {
  gzip: { tool: 'gzip', args: ['-n', '-9'], extension: 'gz', sizeAppended: false },
  bzip2: { tool: 'bzip2', args: ['-9'], extension: 'bz2', sizeAppended: true },
  lzma: { tool: 'lzma', args: ['-9'], extension: 'lzma', sizeAppended: true },
  xz: { tool: 'xz', args: ['--check=crc32', '--x86', '--lzma2=,dict=32MiB'], extension: 'xz', sizeAppended: true },
  lzo: { tool: 'lzop', args: ['-9'], extension: 'lzo', sizeAppended: true },
  lz4: { tool: 'lz4', args: ['-l', '-9'], extension: 'lz4', sizeAppended: true },
  zstd: { tool: 'zstd', args: ['-19'], extension: 'zst', sizeAppended: true },
};

const SLICE_SIZES = [512, 2048, 8192];

function withSizeAppended(compressed: Uint8Array, uncompressedBytes: number): Uint8Array {
  const out = new Uint8Array(compressed.length + 4);
  out.set(compressed);
  new DataView(out.buffer).setUint32(compressed.length, uncompressedBytes >>> 0, true);
  return out;
}

async function codecSeeds(codec: Codec): Promise<Seed[]> {
  const { tool, args, extension, sizeAppended } = TOOLS[codec];
  const slice = readArtefact('codec-samples', 'vmlinux-slice');
  const seeds: Seed[] = [];
  for (const size of SLICE_SIZES) {
    const bytes = await derivedSeed(`codec-${codec}-${size}`, () => {
      if (!slice) return undefined;
      const plain = slice.subarray(0, size);
      const compressed = pipeThroughTool(tool, args, plain);
      return compressed && sizeAppended ? withSizeAppended(compressed, plain.length) : compressed;
    });
    seeds.push(...present([{ name: `${size} bytes of vmlinux-slice, ${tool} ${args.join(' ')}`, bytes }]));
  }
  // The real sample's head: a stream cut short, the way a lying payload_length cuts it.
  seeds.push(...present([{ name: `vmlinux-slice.${extension}, first 8 KiB`, bytes: readArtefactHead(8 << 10, 'codec-samples', `vmlinux-slice.${extension}`) }]));
  return seeds;
}

const MAGICS: Record<Codec, string[]> = {
  gzip: ['\x1f\x8b\x08'],
  bzip2: ['BZh9', '1AY&SY', '\x17\x72\x45\x38\x50\x90'],
  lzma: ['\x5d\x00\x00\x80\x00', '\xff\xff\xff\xff\xff\xff\xff\xff'],
  xz: ['\xfd7zXZ\0', 'YZ'],
  lzo: ['\x89LZO\0\r\n\x1a\n'],
  lz4: ['\x02\x21\x4c\x18'],
  zstd: ['\x28\xb5\x2f\xfd', '\x50\x2a\x4d\x18'],
};

/** Slow decoders get fewer quick inputs: zstd decodes a refused frame twice (see codecs-properties). */
const QUICK_INPUTS: Record<Codec, number> = { gzip: 1000, bzip2: 400, lzma: 600, xz: 600, lzo: 1000, lz4: 1000, zstd: 300 };

export const CODEC_TARGETS: readonly FuzzTarget[] = (Object.keys(TOOLS) as Codec[]).map((codec) => ({
  name: `codec-${codec}`,
  description: `decompress('${codec}', ..., { maxOutputBytes: ${CODEC_CAP_BYTES} })`,
  seeds: () => codecSeeds(codec),
  dictionary: MAGICS[codec],
  quickInputs: QUICK_INPUTS[codec],
  maxBytes: 64 << 10,
  async run(bytes: Uint8Array) {
    await decompress(codec, bytes, { maxOutputBytes: CODEC_CAP_BYTES });
  },
}));
