import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { cloudKernelFixture } from '../vm/fixtures.js';
import { gzipSync } from 'node:zlib';
import { extractEmbeddedConfig } from '../../src/image/ikconfig.js';
import { ParseError } from '../../src/errors.js';
import { readFixture } from './image-fixtures.js';

test("synthetic IKCONFIG (Debian's kernels embed none): Debian's real config, gzip'ed between the kernel's markers", (t) => {
  const configPath = cloudKernelFixture().configPath;
  if (!existsSync(configPath)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${configPath}`);
    return t.skip(`fixture missing: ${configPath}`);
  }
  const config = readFileSync(configPath, 'utf8');
  const kernel = Buffer.concat([Buffer.alloc(4096, 0x90), Buffer.from('IKCFG_ST'), gzipSync(config), Buffer.from('IKCFG_ED'), Buffer.alloc(100)]);
  const parsed = extractEmbeddedConfig(kernel);
  assert.equal(parsed?.options.get('CONFIG_KEXEC_FILE'), 'y');
  assert.ok(parsed!.options.size > 1000);
});

test("Debian's real decompressed arm64 Image has no embedded config", (t) => {
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!arm64) return;
  assert.equal(extractEmbeddedConfig(arm64), undefined);
});

test('a start marker without an end, or garbage between them, is a ParseError', () => {
  assert.throws(() => extractEmbeddedConfig(Buffer.from('xxIKCFG_STabc')), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_TRUNCATED');
  assert.throws(() => extractEmbeddedConfig(Buffer.from('IKCFG_STnot gzipIKCFG_ED')), (error: unknown) => error instanceof ParseError && error.code === 'DECOMPRESSION_FAILED');
});
