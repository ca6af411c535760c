/**
 * The deterministic mutation engine. Input number `index` of a target is a pure function of
 * (run seed, target name, index): a worker can make any input on its own, a resumed run picks
 * up at the next index, and a finding is reproduced from three numbers. No Math.random.
 */

/** A field a liar would change, found by reading the pristine seed (a length, an offset, a count). */
export interface LyingField {
  offset: number;
  width: 1 | 2 | 4 | 8;
  bigEndian?: boolean;
}

export interface Seed {
  /** Where it came from, for reports: a committed file, or a slice of a cached artefact. */
  name: string;
  bytes: Uint8Array;
  /** Header fields of this seed worth lying in (structure-aware mutation). */
  fields?: readonly LyingField[];
}

export interface MutationOptions {
  /** Line-level mutations as well (configs, os-release, VMCOREINFO). */
  text: boolean;
  /** Tokens worth inserting or writing over bytes: keywords, magics, quoting characters. */
  dictionary: readonly Uint8Array[];
  /** No input grows past this. */
  maxBytes: number;
}

/** A small fast PRNG (sfc32: four 32-bit words), seeded through splitmix32 so nearby seeds diverge. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    const next = splitmix32(seed >>> 0);
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let warm = 0; warm < 12; warm++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, bound); bound 0 gives 0. */
  below(bound: number): number {
    if (bound <= 1) return 0;
    return bound <= 0x100000000 ? Math.floor((this.u32() / 0x100000000) * bound) : Math.floor(((this.u32() * 0x100000000 + this.u32()) / 2 ** 64) * bound);
  }

  chance(oneIn: number): boolean {
    return this.below(oneIn) === 0;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a of a string: turns a target name into part of the PRNG seed. */
export function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < name.length; index++) hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193);
  return hash >>> 0;
}

/** The PRNG for one input: run seed, target and index mixed so no two inputs share a stream. */
export function inputPrng(runSeed: number, targetName: string, index: number): Prng {
  const mixed = splitmix32((runSeed ^ hashName(targetName)) >>> 0);
  const first = mixed();
  return new Prng((first ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.floor(index / 0x100000000)) >>> 0);
}

/** Byte values that sit on boundaries parsers compare against. */
const INTERESTING_8 = [0, 1, 2, 0x10, 0x20, 0x3f, 0x40, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff];
const INTERESTING_16 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x7fff, 0x8000, 0xfffe, 0xffff];
const INTERESTING_32 = [0, 1, 0x7f, 0x80, 0xff, 0x1000, 0x10000, 0x100000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
const INTERESTING_64 = [0n, 1n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn, 0xfffffffffffff000n, 0x100000000n, 0x1fffffffffffffn, 0x20000000000000n];

/** A growable working copy of one input. */
class Buffered {
  bytes: Uint8Array;

  constructor(source: Uint8Array) {
    this.bytes = source.slice();
  }

  get length(): number {
    return this.bytes.length;
  }

  replace(at: number, deleteCount: number, insert: Uint8Array, maxBytes: number): void {
    const room = Math.max(0, maxBytes - (this.bytes.length - deleteCount));
    const added = insert.length > room ? insert.subarray(0, room) : insert;
    const out = new Uint8Array(this.bytes.length - deleteCount + added.length);
    out.set(this.bytes.subarray(0, at), 0);
    out.set(added, at);
    out.set(this.bytes.subarray(at + deleteCount), at + added.length);
    this.bytes = out;
  }
}

/** A value near the input's own length or a seed's field, the sizes parsers trust. */
function sizeNear(rng: Prng, length: number): number {
  const around = rng.pick([0, length, length >>> 1, length << 1]);
  return Math.max(0, around + rng.below(17) - 8);
}

function writeUnsigned(view: DataView, at: number, width: 1 | 2 | 4 | 8, value: number | bigint, bigEndian: boolean): void {
  if (width === 1) view.setUint8(at, Number(BigInt.asUintN(8, BigInt(value))));
  else if (width === 2) view.setUint16(at, Number(BigInt.asUintN(16, BigInt(value))), !bigEndian);
  else if (width === 4) view.setUint32(at, Number(BigInt.asUintN(32, BigInt(value))), !bigEndian);
  else view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), !bigEndian);
}

function interestingValue(rng: Prng, width: 1 | 2 | 4 | 8, length: number): number | bigint {
  switch (rng.below(width === 1 ? 3 : 4)) {
    case 0:
      return width === 1 ? rng.pick(INTERESTING_8) : width === 2 ? rng.pick(INTERESTING_16) : width === 4 ? rng.pick(INTERESTING_32) : rng.pick(INTERESTING_64);
    case 1:
      return rng.u32() & (width === 1 ? 0xff : width === 2 ? 0xffff : 0xffffffff);
    case 2:
      return rng.below(64);
    default:
      return sizeNear(rng, length);
  }
}

type Mutator = (rng: Prng, input: Buffered, seeds: readonly Seed[], seed: Seed, options: MutationOptions) => void;

const flipBits: Mutator = (rng, input) => {
  if (input.length === 0) return;
  const flips = 1 + rng.below(rng.chance(4) ? 16 : 2);
  for (let flip = 0; flip < flips; flip++) input.bytes[rng.below(input.length)]! ^= 1 << rng.below(8);
};

const setByte: Mutator = (rng, input) => {
  if (input.length === 0) return;
  input.bytes[rng.below(input.length)] = rng.chance(2) ? rng.pick(INTERESTING_8) : rng.below(256);
};

const setWord: Mutator = (rng, input) => {
  const width = rng.pick([2, 4, 4, 8] as const);
  if (input.length < width) return;
  const view = new DataView(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  // Aligned more often than not: fields are.
  let at = rng.below(input.length - width + 1);
  if (rng.chance(2)) at -= at % width;
  writeUnsigned(view, at, width, interestingValue(rng, width, input.length), rng.chance(4));
};

const addToWord: Mutator = (rng, input) => {
  const width = rng.pick([1, 2, 4] as const);
  if (input.length < width) return;
  const view = new DataView(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  const at = rng.below(input.length - width + 1);
  const delta = rng.below(33) - 16;
  const current = width === 1 ? view.getUint8(at) : width === 2 ? view.getUint16(at, true) : view.getUint32(at, true);
  writeUnsigned(view, at, width, current + delta, false);
};

const lieInField: Mutator = (rng, input, _seeds, seed, options) => {
  const fields = seed.fields;
  if (!fields || fields.length === 0) return setWord(rng, input, _seeds, seed, options);
  const field = rng.pick(fields);
  if (field.offset + field.width > input.length) return;
  const view = new DataView(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
  writeUnsigned(view, field.offset, field.width, interestingValue(rng, field.width, input.length), field.bigEndian ?? false);
};

const deleteBlock: Mutator = (rng, input, _seeds, _seed, options) => {
  if (input.length === 0) return;
  const size = 1 + rng.below(Math.min(input.length, rng.chance(3) ? 4096 : 32));
  input.replace(rng.below(input.length - size + 1), size, new Uint8Array(0), options.maxBytes);
};

const insertBlock: Mutator = (rng, input, _seeds, _seed, options) => {
  const size = 1 + rng.below(rng.chance(4) ? 4096 : 32);
  const block = new Uint8Array(size);
  if (rng.chance(2)) block.fill(rng.pick(INTERESTING_8));
  else for (let index = 0; index < size; index++) block[index] = rng.below(256);
  input.replace(rng.below(input.length + 1), 0, block, options.maxBytes);
};

const duplicateBlock: Mutator = (rng, input, _seeds, _seed, options) => {
  if (input.length === 0) return;
  const size = 1 + rng.below(Math.min(input.length, 1024));
  const from = rng.below(input.length - size + 1);
  const block = input.bytes.slice(from, from + size);
  if (rng.chance(2)) input.replace(rng.below(input.length + 1), 0, block, options.maxBytes);
  else {
    const to = rng.below(input.length - size + 1);
    input.bytes.set(block, to);
  }
};

const splice: Mutator = (rng, input, seeds, _seed, options) => {
  const other = rng.pick(seeds).bytes;
  if (other.length === 0) return;
  const cut = rng.below(input.length + 1);
  const from = rng.below(other.length);
  const take = Math.min(other.length - from, rng.chance(2) ? other.length : 1 + rng.below(256));
  if (rng.chance(2)) input.replace(cut, input.length - cut, other.subarray(from, from + take), options.maxBytes);
  else input.replace(cut, Math.min(take, input.length - cut), other.subarray(from, from + take), options.maxBytes);
};

const truncate: Mutator = (rng, input, _seeds, _seed, options) => {
  if (input.length === 0) return;
  const keep = rng.chance(2) ? rng.below(input.length) : input.length - 1 - rng.below(Math.min(input.length, 64));
  input.replace(keep, input.length - keep, new Uint8Array(0), options.maxBytes);
};

const insertToken: Mutator = (rng, input, _seeds, _seed, options) => {
  if (options.dictionary.length === 0) return insertBlock(rng, input, _seeds, _seed, options);
  const token = rng.pick(options.dictionary);
  const at = rng.below(input.length + 1);
  if (rng.chance(2) || at + token.length > input.length) input.replace(at, 0, token, options.maxBytes);
  else input.bytes.set(token, at);
};

const NEWLINE = 0x0a;

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let index = 0; index < bytes.length; index++) {
    if (bytes[index] === NEWLINE) {
      lines.push(bytes.subarray(start, index + 1));
      start = index + 1;
    }
  }
  if (start < bytes.length) lines.push(bytes.subarray(start));
  return lines;
}

function joinLines(lines: readonly Uint8Array[], maxBytes: number): Uint8Array {
  let total = 0;
  for (const line of lines) total += line.length;
  const out = new Uint8Array(Math.min(total, maxBytes));
  let at = 0;
  for (const line of lines) {
    if (at + line.length > out.length) {
      out.set(line.subarray(0, out.length - at), at);
      break;
    }
    out.set(line, at);
    at += line.length;
  }
  return out;
}

const mutateLines: Mutator = (rng, input, seeds, _seed, options) => {
  const lines = splitLines(input.bytes);
  if (lines.length === 0) lines.push(new Uint8Array([NEWLINE]));
  const at = rng.below(lines.length);
  switch (rng.below(7)) {
    case 0:
      lines.splice(at, 1);
      break;
    case 1:
      lines.splice(at, 0, lines[at]!);
      break;
    case 2: {
      const other = rng.below(lines.length);
      [lines[at], lines[other]] = [lines[other]!, lines[at]!];
      break;
    }
    case 3:
      // A line repeated hundreds of times: the runaway generator, the list past every cap.
      lines.splice(at, 0, ...Array.from({ length: 50 + rng.below(2000) }, () => lines[at]!));
      break;
    case 4: {
      // A line of another seed, so keywords meet contexts they never appear in.
      const otherLines = splitLines(rng.pick(seeds).bytes);
      if (otherLines.length > 0) lines.splice(at, 0, rng.pick(otherLines));
      break;
    }
    case 5: {
      const token = options.dictionary.length > 0 ? rng.pick(options.dictionary) : new Uint8Array([0x7b]);
      lines.splice(at, 0, joinLines([token, new Uint8Array([NEWLINE])], options.maxBytes));
      break;
    }
    default: {
      // Deep nesting: the block opener written many times at the top.
      const opener = options.dictionary.length > 0 ? rng.pick(options.dictionary) : new Uint8Array([0x7b]);
      const depth = 10 + rng.below(300);
      lines.splice(0, 0, ...Array.from({ length: depth }, () => joinLines([opener, new Uint8Array([NEWLINE])], options.maxBytes)));
    }
  }
  input.bytes = joinLines(lines, options.maxBytes);
};

const BINARY_MUTATORS: readonly Mutator[] = [flipBits, flipBits, setByte, setWord, setWord, addToWord, lieInField, lieInField, lieInField, deleteBlock, insertBlock, duplicateBlock, splice, truncate, insertToken];
const TEXT_MUTATORS: readonly Mutator[] = [...BINARY_MUTATORS, mutateLines, mutateLines, mutateLines, mutateLines, insertToken, insertToken];

/**
 * Input number `index` of a target: one seed, then one to a handful of mutations (rarely many,
 * rarely none: an unmutated seed now and then proves the seeds themselves pass).
 */
export function makeInput(seeds: readonly Seed[], options: MutationOptions, rng: Prng): Uint8Array {
  const seed = rng.pick(seeds);
  if (rng.chance(500)) return seed.bytes.slice(0, options.maxBytes);
  const input = new Buffered(seed.bytes.length > options.maxBytes ? seed.bytes.subarray(0, options.maxBytes) : seed.bytes);
  const mutators = options.text ? TEXT_MUTATORS : BINARY_MUTATORS;
  const count = rng.chance(8) ? 1 + rng.below(16) : 1 + rng.below(3);
  for (let step = 0; step < count; step++) rng.pick(mutators)(rng, input, seeds, seed, options);
  return input.bytes;
}
