// The quick fuzz run CI does: every target of fuzz/targets.ts, a fixed seed, a few hundred to
// a thousand generated inputs each (target.quickInputs), in this process. Every input must
// return or throw the project's typed error (fuzz/outcome.ts); any other exception, or an
// input past the time budget, fails the test with the list of what failed and how to replay
// it. The deep run is `npm run fuzz` (fuzz/RESULTS.md says how deep it has gone).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureSignature, isFailure, runInput } from '../../fuzz/outcome.js';
import { loadTarget, TARGETS } from '../../fuzz/targets.js';

const QUICK_SEED = 20261203;
const DEFAULT_QUICK_INPUTS = 1000;
/** KEXEC_TS_FUZZ_QUICK_SCALE=10 runs ten times as many by hand. */
const SCALE = Number(process.env.KEXEC_TS_FUZZ_QUICK_SCALE) || 1;

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${target.description}`, async (t) => {
    const loaded = await loadTarget(target);
    if (loaded.seeds.length === 0) {
      const reason = `no seeds for ${target.name}: its artefacts are not cached (node scripts/prepare-tests.mjs)`;
      if (process.env.CI === 'true') assert.fail(reason);
      t.skip(reason);
      return;
    }
    const inputs = Math.round((target.quickInputs ?? DEFAULT_QUICK_INPUTS) * SCALE);
    const failures: string[] = [];
    for (let index = 0; index < inputs; index++) {
      const outcome = await runInput(target, loaded.input(QUICK_SEED, index));
      if (!isFailure(outcome)) continue;
      if (failures.length < 10) {
        const detail = outcome.kind === 'untyped-error' ? outcome.stack.split('\n').slice(0, 4).join('\n    ') : `took ${Math.round(outcome.ms)} ms`;
        failures.push(`#${index} ${failureSignature(outcome)}\n    ${detail}`);
      }
    }
    t.diagnostic(`${inputs} inputs from ${loaded.seeds.length} seeds`);
    assert.deepEqual(failures, [], `${target.name}: inputs that failed (replay: loadTarget(targetNamed('${target.name}')).input(${QUICK_SEED}, N)):\n${failures.join('\n')}`);
  });
}
