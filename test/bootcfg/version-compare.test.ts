import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareUapiVersions } from '../../src/bootcfg/bls/version-compare.js';

/** The ordered list systemd's test suite checks strverscmp_improved() against, oldest first. */
const ORDERED = [
  '~1', '', 'ab', 'abb', 'abc', '0001', '002', '12', '122', '122.9', '123~rc1', '123', '123-a', '123-a.1',
  '123-a1', '123-a1.1', '123-3', '123-3.1', '123^patch1', '123^1', '123.a-1', '123.1-1', '123a-1', '124',
];

test('every version in the reference list is older than each one after it', () => {
  for (let i = 0; i < ORDERED.length; i++) {
    for (let j = i + 1; j < ORDERED.length; j++) {
      assert.equal(compareUapiVersions(ORDERED[i]!, ORDERED[j]!), -1, `${ORDERED[i]} < ${ORDERED[j]}`);
      assert.equal(compareUapiVersions(ORDERED[j]!, ORDERED[i]!), 1, `${ORDERED[j]} > ${ORDERED[i]}`);
    }
    assert.equal(compareUapiVersions(ORDERED[i]!, ORDERED[i]!), 0);
  }
});

test('numbers compare by value, and a longer number is newer', () => {
  assert.equal(compareUapiVersions('123.45-67.88', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123.45-67.9', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123.45-9.99', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('245', '270'), -1);
  assert.equal(compareUapiVersions('6.1.0-9-amd64', '6.1.0-26-amd64'), -1);
});

test('leading zeros are ignored: 0001 equals 1', () => {
  assert.equal(compareUapiVersions('0001', '1'), 0);
  assert.equal(compareUapiVersions('1.002', '1.2'), 0);
});

test('more segments are newer, except a ~ segment, which is older than the end', () => {
  assert.equal(compareUapiVersions('123.45-67', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123.45-67.89', '123.45-67.89a'), -1);
  assert.equal(compareUapiVersions('1.0~rc1', '1.0'), -1);
  assert.equal(compareUapiVersions('123~rc1-99.99', '123~rc2-67.89'), -1);
});

test('separators: - before ^ before ., and a number is newer than letters', () => {
  assert.equal(compareUapiVersions('123-99.99', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123^45-67.89', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123-99.99', '123^aa2-67.89'), -1);
  assert.equal(compareUapiVersions('123.45-67.ab', '123.45-67.89'), -1);
  assert.equal(compareUapiVersions('123~rc1-99.99', '123aa2-67.89'), -1);
});

test('characters outside [A-Za-z0-9~^.-] are ignored', () => {
  assert.equal(compareUapiVersions('123_aa2-67.89', '123aa+2-67.89'), 0);
  assert.equal(compareUapiVersions('0___', '0'), 0);
});

test('letters compare in ASCII order', () => {
  assert.equal(compareUapiVersions('A', 'a'), -1);
  assert.equal(compareUapiVersions('fc38', 'fc39'), -1);
});

test('antisymmetric and never throws on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (a, b) => {
      assert.equal(compareUapiVersions(a, b), -compareUapiVersions(b, a) || 0);
    }),
    { numRuns: 2000, seed: 1 },
  );
});
