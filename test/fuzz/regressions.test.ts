// Every input a fuzz run found failing, kept as test/fixtures/fuzz-regressions/<target>/<name>.bin
// with <name>.json holding the exact outcome it must now have: {"expect":"error","code":...}
// (the typed error the parser throws since the fix) or {"expect":"ok"}. Each replays through
// the same target of fuzz/targets.ts that found it, as rust-vmm keeps its fuzz findings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInput } from '../../fuzz/outcome.js';
import { targetNamed } from '../../fuzz/targets.js';

const REGRESSIONS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/fuzz-regressions');

type Expectation = { expect: 'ok' } | { expect: 'error'; code: string };

const cases = fs
  .readdirSync(REGRESSIONS, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .flatMap((dir) =>
    fs
      .readdirSync(path.join(REGRESSIONS, dir.name))
      .filter((file) => file.endsWith('.bin'))
      .sort()
      .map((file) => ({ target: dir.name, name: file.slice(0, -'.bin'.length) })),
  );

test('every regression file has its expectation and names a known target', () => {
  assert.ok(cases.length > 0, `no regression files under ${REGRESSIONS}`);
  for (const { target, name } of cases) {
    assert.ok(fs.existsSync(path.join(REGRESSIONS, target, `${name}.json`)), `${target}/${name}.json is missing`);
    assert.doesNotThrow(() => targetNamed(target));
  }
});

for (const { target, name } of cases) {
  test(`regression ${target}/${name}`, async () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(REGRESSIONS, target, `${name}.bin`)));
    const expected = JSON.parse(fs.readFileSync(path.join(REGRESSIONS, target, `${name}.json`), 'utf8')) as Expectation;
    const outcome = await runInput(targetNamed(target), bytes);
    const actual = outcome.kind === 'ok' ? { expect: 'ok' } : outcome.kind === 'typed-error' ? { expect: 'error', code: outcome.code } : { expect: outcome.kind, detail: failureDetail(outcome) };
    assert.deepEqual(actual, { expect: expected.expect, ...(expected.expect === 'error' ? { code: expected.code } : {}) });
  });
}

function failureDetail(outcome: Awaited<ReturnType<typeof runInput>>): string {
  return outcome.kind === 'untyped-error' ? outcome.stack.split('\n').slice(0, 3).join(' | ') : `${Math.round(outcome.ms)} ms`;
}
