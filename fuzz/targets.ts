/**
 * The one registry of fuzz targets: one per parser entry point, each with its seed corpus and a
 * `run` that calls the parser. `npm run fuzz` (fuzz/run.ts), the quick CI run
 * (test/fuzz/quick.test.ts) and the regression replay (test/fuzz/regressions.test.ts) all take
 * their targets from here, so a finding replays through exactly the code that found it.
 */
import { makeInput, inputPrng, type MutationOptions, type Seed } from './mutate.js';
import { BOOTCFG_TARGETS } from './targets/bootcfg.js';
import { CODEC_TARGETS } from './targets/codecs.js';
import { CRASH_TARGETS } from './targets/crash.js';
import { DEVICETREE_TARGETS } from './targets/devicetree.js';
import { DISKS_TARGETS } from './targets/disks.js';
import { IMAGE_TARGETS } from './targets/image.js';
import { PE_TARGETS } from './targets/pe.js';
import type { FuzzTarget } from './targets/target.js';

export type { FuzzTarget } from './targets/target.js';

export const TARGETS: readonly FuzzTarget[] = [...IMAGE_TARGETS, ...PE_TARGETS, ...CODEC_TARGETS, ...BOOTCFG_TARGETS, ...DISKS_TARGETS, ...CRASH_TARGETS, ...DEVICETREE_TARGETS];

export const DEFAULT_MAX_INPUT_BYTES = 512 << 10;

export function targetNamed(name: string): FuzzTarget {
  const target = TARGETS.find((candidate) => candidate.name === name);
  if (target === undefined) throw new Error(`no fuzz target "${name}"; known: ${TARGETS.map((known) => known.name).join(', ')}`);
  return target;
}

export function mutationOptions(target: FuzzTarget): MutationOptions {
  return {
    text: target.text ?? false,
    dictionary: (target.dictionary ?? []).map((token) => new Uint8Array(Buffer.from(token, target.text ? 'utf8' : 'latin1'))),
    maxBytes: target.maxBytes ?? DEFAULT_MAX_INPUT_BYTES,
  };
}

/** A target with its seeds loaded, ready to make input number N of any run seed. */
export interface LoadedTarget {
  target: FuzzTarget;
  seeds: Seed[];
  options: MutationOptions;
  input(runSeed: number, index: number): Uint8Array;
}

export async function loadTarget(target: FuzzTarget): Promise<LoadedTarget> {
  const seeds = await target.seeds();
  const options = mutationOptions(target);
  return { target, seeds, options, input: (runSeed, index) => makeInput(seeds, options, inputPrng(runSeed, target.name, index)) };
}
