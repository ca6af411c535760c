import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseOsRelease } from '../../src/image/uki/index.js';
import { LIMITS } from '../../src/limits.js';
import { fuzzSettings } from './image-fixtures.js';

test('os-release(5) quoting: double quotes with backslash escapes, single quotes literal, bare words', () => {
  const parsed = parseOsRelease(
    [
      '# a comment',
      '',
      'NAME="Debian GNU/Linux"',
      "PRETTY_NAME='It''s'",
      'VERSION="12 \\"bookworm\\" \\$HOME \\`x\\` \\\\ \\n"',
      "SINGLE='no \\escapes $here'",
      'ID=debian',
      'ESCAPED=a\\ b',
      '  INDENTED = spaced  ',
      'WINDOWS="crlf"\r',
    ].join('\n'),
  );
  assert.equal(parsed.fields.NAME, 'Debian GNU/Linux');
  assert.equal(parsed.fields.VERSION, '12 "bookworm" $HOME `x` \\ \\n', 'only " \\ $ ` are escapable inside double quotes');
  assert.equal(parsed.fields.SINGLE, 'no \\escapes $here');
  assert.equal(parsed.fields.ID, 'debian');
  assert.equal(parsed.fields.ESCAPED, 'a b');
  assert.equal(parsed.fields.INDENTED, 'spaced');
  assert.equal(parsed.fields.WINDOWS, 'crlf');
  // Concatenated quoted strings are "not supported" by the spec: the first one is kept, and flagged.
  assert.equal(parsed.fields.PRETTY_NAME, 'It');
  assert.deepEqual(parsed.warnings, [{ code: 'TEXT_AFTER_QUOTED_VALUE', line: 4 }]);
});

test('bad lines are skipped with a warning and a line number; the last of repeated keys wins, all are kept', () => {
  const parsed = parseOsRelease('ID=one\nnot an assignment\n1BAD=x\nID=two\nOPEN="never closed\nBARE=two words\n');
  assert.equal(parsed.fields.ID, 'two');
  assert.deepEqual(
    parsed.entries.filter((entry) => entry.key === 'ID').map((entry) => [entry.value, entry.line]),
    [['one', 1], ['two', 4]],
  );
  assert.equal(parsed.fields.OPEN, 'never closed');
  assert.equal(parsed.fields.BARE, 'two words');
  assert.deepEqual(parsed.warnings, [
    { code: 'INVALID_ASSIGNMENT', line: 2 },
    { code: 'INVALID_ASSIGNMENT', line: 3 },
    { code: 'DUPLICATE_KEY', line: 4 },
    { code: 'UNTERMINATED_QUOTE', line: 5 },
    { code: 'UNQUOTED_WHITESPACE', line: 6 },
  ]);
  assert.equal(Object.getPrototypeOf(parseOsRelease('__proto__=x').fields), null, 'keys never reach Object.prototype');
});

test("this machine's own os-release parses cleanly", (t) => {
  const path = ['/etc/os-release', '/usr/lib/os-release'].find((candidate) => existsSync(candidate));
  if (!path) return t.skip('no os-release on this machine');
  const parsed = parseOsRelease(readFileSync(path, 'utf8'));
  assert.deepEqual(parsed.warnings, []);
  assert.match(parsed.fields.ID ?? '', /^[a-z0-9._-]+$/, 'ID is lowercase letters, digits, "._-" (os-release(5))');
});

test('a value quoted and escaped the way os-release(5) says reads back unchanged', () => {
  const quote = (value: string) => `"${value.replace(/["\\$`]/g, (character) => `\\${character}`)}"`;
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }).filter((value) => !/[\n\r]/.test(value)), (value) => {
      assert.equal(parseOsRelease(`KEY=${quote(value)}\n`).fields.KEY, value);
    }),
    fuzzSettings(500),
  );
});

test('any text parses without throwing, within the line limit', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (value) => void parseOsRelease(value)),
    fuzzSettings(1000),
  );
  const flood = parseOsRelease('A=1\n'.repeat(LIMITS.osReleaseLines + 10));
  assert.equal(flood.entries.length, LIMITS.osReleaseLines);
  assert.equal(flood.warnings.at(-1)?.code, 'LINE_LIMIT_REACHED');
});
