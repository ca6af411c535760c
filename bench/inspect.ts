// Full inspect (detect, parse, decompress the payload, look for an embedded config) of real
// Debian kernels, against the native decompressor on the same compressed bytes. Aim: at most
// 1.3x the native tool.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planKernel } from '../src/handoff/plan-kernel.js';
import { decompress } from '../src/image/codecs/index.js';
import { inspect } from '../src/image/detect.js';
import { extractEmbeddedConfig } from '../src/image/ikconfig.js';
import { LIMITS } from '../src/limits.js';
import { FIXTURES } from '../test/image/image-fixtures.js';
import { median } from './common.js';

const ROUNDS = 3;

const NATIVE: Record<string, string[]> = {
  lz4: ['lz4', '-dc'],
  xz: ['xz', '-dc'],
  gzip: ['gzip', '-dc'],
  zstd: ['zstd', '-dc'],
};

/** The whole of `kexec-ts inspect`'s work on the bytes, without printing. */
async function fullInspect(bytes: Uint8Array, path: string): Promise<{ codec: string; compressed: Uint8Array }> {
  const plan = await planKernel(bytes, path);
  const image = plan.image;
  if (image instanceof Error) throw image;
  if (image.format === 'bzImage') {
    const payload = image.bzImage.payload!;
    const compressed = bytes.subarray(payload.offset, payload.offset + payload.length);
    extractEmbeddedConfig(await decompress(payload.codec!, compressed, { maxOutputBytes: LIMITS.kernelPayloadBytes }));
    return { codec: payload.codec!, compressed };
  }
  // A compressed Image: planKernel decompressed it already; the config search runs on the result.
  extractEmbeddedConfig(plan.replacement!.bytes);
  const outer = inspect(bytes);
  return { codec: outer.format === 'compressed' ? outer.codec : 'none', compressed: bytes };
}

function timeNative(codec: string, compressed: Uint8Array, inBzImage: boolean): number {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-bench-native-'));
  const input = join(dir, 'payload');
  // The kernel's build appends the 4-byte uncompressed size to every payload but gzip's
  // (scripts/Makefile.lib size_append); the native tools reject that trailer, so it goes.
  writeFileSync(input, inBzImage && codec !== 'gzip' ? compressed.subarray(0, compressed.length - 4) : compressed);
  const [command, ...args] = NATIVE[codec]!;
  const started = performance.now();
  const result = spawnSync('sh', ['-c', `${command} ${args.join(' ')} < ${input} > /dev/null`]);
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return elapsed;
}

export async function inspectAgainstNativeTools(): Promise<string> {
  const arm64 = FIXTURES.debianCloudArm64Vmlinuz();
  const cases: Array<{ name: string; bytes: () => Uint8Array; path: string }> = [
    { name: 'Debian cloud amd64 bzImage', bytes: () => readFileSync(FIXTURES.debianCloudAmd64Vmlinuz()), path: FIXTURES.debianCloudAmd64Vmlinuz() },
    { name: 'Debian generic amd64 bzImage', bytes: () => readFileSync(FIXTURES.debianGenericAmd64Vmlinuz()), path: FIXTURES.debianGenericAmd64Vmlinuz() },
    {
      name: 'Debian arm64 Image.gz (gzip -9)',
      bytes: () => spawnSync('gzip', ['-9', '-c'], { input: readFileSync(arm64), maxBuffer: 256 << 20 }).stdout,
      path: 'Image.gz',
    },
  ];
  const rows: string[] = [];
  for (const benchCase of cases) {
    if (benchCase.path !== 'Image.gz' && !existsSync(benchCase.path)) {
      rows.push(`| ${benchCase.name} | not run: fixture missing | | | |`);
      continue;
    }
    const bytes = benchCase.bytes();
    const ours: number[] = [];
    const native: number[] = [];
    let codec = '';
    for (let round = 0; round < ROUNDS; round++) {
      const started = performance.now();
      const result = await fullInspect(bytes, benchCase.path);
      ours.push(performance.now() - started);
      codec = result.codec;
      native.push(timeNative(codec, result.compressed, benchCase.path !== 'Image.gz'));
    }
    const ratio = median(ours) / median(native);
    rows.push(`| ${benchCase.name} | ${codec} | ${median(ours).toFixed(0)} | ${median(native).toFixed(0)} (\`${NATIVE[codec]!.join(' ')}\`) | ${ratio.toFixed(2)}x |`);
  }
  return [
    `### Full inspect against the native decompressor (median of ${ROUNDS})`,
    '',
    'kexec-ts: detect, parse, decompress the payload, search it for an embedded config, in-process. Native: the Debian tool on the same compressed bytes, output to /dev/null.',
    '',
    '| image | codec | kexec-ts ms | native ms | ratio |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
