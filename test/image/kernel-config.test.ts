import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { configEnabled, parseKernelConfig } from '../../src/image/kernel-config.js';
import { cloudKernelFixture } from '../vm/fixtures.js';

test('set, module, string and "is not set" options are read as written', () => {
  const config = parseKernelConfig('CONFIG_A=y\nCONFIG_B=m\nCONFIG_C="x y"\n# CONFIG_D is not set\n# a comment\nCONFIG_E=0x10\n');
  assert.equal(config.options.get('CONFIG_C'), '"x y"');
  assert.equal(config.options.get('CONFIG_E'), '0x10');
  assert.equal(configEnabled(config, 'CONFIG_A'), true);
  assert.equal(configEnabled(config, 'CONFIG_B'), true);
  assert.equal(configEnabled(config, 'CONFIG_D'), false);
  assert.equal(configEnabled(config, 'CONFIG_MISSING'), undefined);
});

test("Debian's cloud kernel config has the kexec options VM-TESTING measured", (t) => {
  const config = cloudKernelFixture().configPath;
  if (!existsSync(config)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${config} (npm test fetches it)`);
    return t.skip(`fixture missing: ${config}; run npm test to fetch it`);
  }
  const parsed = parseKernelConfig(readFileSync(config, 'utf8'));
  assert.ok(parsed.options.size > 1000);
  assert.equal(configEnabled(parsed, 'CONFIG_KEXEC_FILE'), true);
  assert.equal(configEnabled(parsed, 'CONFIG_KEXEC_SIG'), true);
  assert.equal(configEnabled(parsed, 'CONFIG_KEXEC_SIG_FORCE'), false);
  assert.equal(configEnabled(parsed, 'CONFIG_CRASH_DUMP'), true);
});

test("this machine's /proc/config.gz parses, where there is one", (t) => {
  if (!existsSync('/proc/config.gz')) return t.skip('no /proc/config.gz on this kernel');
  const parsed = parseKernelConfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8'));
  assert.ok(parsed.options.size > 100);
});

test('arbitrary text never throws', () => {
  fc.assert(fc.property(fc.string({ maxLength: 500 }), (text) => void parseKernelConfig(text)), { numRuns: 1000 });
});
