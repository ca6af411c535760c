// GRUB's own script tests as data (test/fixtures/grub-script-conformance/, see PROVENANCE.md
// there): each case's script runs through our evaluator and what it echoes must equal the
// expected output, which for grub-shell-tester cases is bash's (GRUB's tester requires GRUB
// and bash to print the same; scripts/grub-conformance-expected.mjs regenerates it). Cases
// that grub-script-check judges are checked on the parse: accepted, and how many commands.
// Known failures are listed in manifest.json with the reason; their count is asserted so it
// cannot grow unnoticed, and one that starts to pass must leave the list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FALSE_COMMANDS, HARMLESS_COMMANDS, INITRD_COMMANDS, KERNEL_COMMANDS } from '../../src/bootcfg/grub/commands.js';
import { parseGrubScript } from '../../src/bootcfg/grub/parse.js';
import { runGrubScript } from '../../src/bootcfg/grub/script.js';
import { BootConfigWarningCode, memoryBootFileReader } from '../../src/bootcfg/types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = path.join(ROOT, 'test/fixtures/grub-script-conformance');

interface ConformanceCase {
  name: string;
  origin: string;
  kind: 'output' | 'check';
  reference: 'bash' | 'stated';
  files?: Record<string, string>;
  accepted?: boolean;
  statements?: number;
}

interface Manifest {
  source: { repo: string; commit: string };
  variables: Record<string, string>;
  cases: ConformanceCase[];
  knownFailures: { name: string; why: string }[];
  outOfScope: { origin: string; reason: string }[];
}

/** The known failures this suite admits to; changing it means changing manifest.json too. */
const EXPECTED_KNOWN_FAILURES = 0;

const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Manifest;
const knownFailures = new Map(manifest.knownFailures.map((failure) => [failure.name, failure.why]));

/** Why a case fails, or undefined when it passes. */
function failure(testCase: ConformanceCase): string | undefined {
  const script = fs.readFileSync(path.join(DIR, 'cases', `${testCase.name}.grub`), 'utf8');
  if (testCase.kind === 'check') {
    const parsed = parseGrubScript(script);
    if ((parsed.problems.length === 0) !== testCase.accepted) return `parse problems: ${JSON.stringify(parsed.problems)}`;
    if (parsed.statements.length !== testCase.statements) return `${parsed.statements.length} statements, expected ${testCase.statements}`;
    return undefined;
  }
  const expected = fs.readFileSync(path.join(DIR, 'expected', `${testCase.name}.out`), 'utf8');
  const result = runGrubScript(script, {
    file: `/boot/grub/${testCase.name}.cfg`,
    reader: memoryBootFileReader(testCase.files ?? {}),
    pathBases: ['/'],
    variables: manifest.variables,
  });
  try {
    assert.equal(result.output, expected);
  } catch (error) {
    return (error as Error).message;
  }
  const odd = result.warnings.filter((warning) => warning.code === BootConfigWarningCode.SYNTAX_ERROR || warning.code === BootConfigWarningCode.LIMIT_REACHED);
  return odd.length > 0 ? `warnings: ${JSON.stringify(odd)}` : undefined;
}

test('GRUB script conformance: the manifest names every case file once, and every known failure is a case', () => {
  const names = manifest.cases.map((testCase) => testCase.name);
  assert.equal(new Set(names).size, names.length);
  const files = fs.readdirSync(path.join(DIR, 'cases')).map((file) => file.replace(/\.grub$/, '')).sort();
  assert.deepEqual(files, [...names].sort());
  for (const name of knownFailures.keys()) assert.ok(names.includes(name), `known failure ${name} is no case`);
  assert.equal(knownFailures.size, EXPECTED_KNOWN_FAILURES, 'known failures changed: update EXPECTED_KNOWN_FAILURES with the reason in manifest.json');
  assert.ok(manifest.outOfScope.every((entry) => entry.reason.length > 0));
});

let passing = 0;
for (const testCase of manifest.cases) {
  const known = knownFailures.get(testCase.name);
  test(`GRUB script conformance: ${testCase.name} (${testCase.origin}, ${testCase.reference === 'bash' ? 'bash output' : 'stated expectation'})`, () => {
    const why = failure(testCase);
    if (why === undefined) passing++;
    if (known === undefined) assert.equal(why, undefined);
    else assert.notEqual(why, undefined, `${testCase.name} passes now: take it off knownFailures`);
  });
}

test('GRUB script conformance: the figure', (t) => {
  const figure = `${passing} of ${manifest.cases.length} cases pass (${manifest.outOfScope.length} GRUB tests out of scope)`;
  t.diagnostic(figure);
  assert.equal(passing, manifest.cases.length - EXPECTED_KNOWN_FAILURES, figure);
});

test('docs/grub-commands.md names every command set and states this figure', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/grub-commands.md'), 'utf8');
  const section = (heading: string): string => {
    const start = doc.indexOf(`## ${heading}`);
    assert.ok(start >= 0, `no "## ${heading}" section`);
    const end = doc.indexOf('\n## ', start + 1);
    return doc.slice(start, end < 0 ? undefined : end);
  };
  const named = (text: string, command: string): boolean => text.includes(`\`${command}\``);
  for (const command of HARMLESS_COMMANDS) assert.ok(named(section('Ignored'), command), `${command} missing from Ignored`);
  for (const command of FALSE_COMMANDS) assert.ok(named(section('Answered'), command), `${command} missing from Answered "no"`);
  for (const command of [...KERNEL_COMMANDS, ...INITRD_COMMANDS, 'devicetree']) assert.ok(named(section('Recorded'), command), `${command} missing from Recorded`);
  const figure = /\*\*Conformance:\*\* (\d+) of (\d+) cases[\s\S]*?(\d+) known failures; (\d+) GRUB tests are out of scope/.exec(doc);
  assert.ok(figure, 'no conformance figure');
  assert.deepEqual(figure.slice(1).map(Number), [manifest.cases.length - EXPECTED_KNOWN_FAILURES, manifest.cases.length, EXPECTED_KNOWN_FAILURES, manifest.outOfScope.length]);
});
