/**
 * Shrinks a failing input while it still fails the same way (same failure signature): cut the
 * tail, then remove blocks from large to small. Cheap by design, a bounded number of runs: the
 * point is a regression file a person can read in a hex dump, not the smallest possible one.
 */
import { failureSignature, isFailure, runInput } from './outcome.js';
import type { FuzzTarget } from './targets/target.js';

const MAX_ATTEMPTS = 400;

export async function minimise(target: FuzzTarget, bytes: Uint8Array, signature: string): Promise<Uint8Array> {
  let best = bytes;
  let attempts = 0;
  const stillFails = async (candidate: Uint8Array): Promise<boolean> => {
    attempts++;
    const outcome = await runInput(target, candidate);
    return isFailure(outcome) && failureSignature(outcome) === signature;
  };
  // The shortest prefix that still fails, by bisection.
  let low = 0;
  let high = best.length;
  while (low < high && attempts < MAX_ATTEMPTS / 4) {
    const middle = Math.floor((low + high) / 2);
    if (await stillFails(best.subarray(0, middle))) high = middle;
    else low = middle + 1;
  }
  if (high < best.length) best = best.slice(0, high);
  // Blocks removed, halving the block size each pass.
  for (let block = Math.max(1, best.length >> 1); block >= 1 && attempts < MAX_ATTEMPTS; block >>= 1) {
    for (let at = 0; at + block <= best.length && attempts < MAX_ATTEMPTS; ) {
      const candidate = new Uint8Array(best.length - block);
      candidate.set(best.subarray(0, at));
      candidate.set(best.subarray(at + block), at);
      if (await stillFails(candidate)) best = candidate;
      else at += block;
    }
  }
  return best;
}
