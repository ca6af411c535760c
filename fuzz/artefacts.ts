/**
 * Where the fuzz seeds come from: the committed configs under test/fixtures/, and small slices of
 * the real artefacts scripts/prepare-tests.mjs caches (kernels, the UKI, the ISOs, a vmcore).
 * What is built from an artefact (a compact vmcore, a small compressed sample) is made once and
 * kept in <cache>/fuzz/seeds/, so every worker and every resumed run mutates the same bytes.
 * A missing artefact only leaves its seeds out; a target with no seed at all is skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kexecTsCacheDir } from '../test/vm/fixtures.js';

export { kexecTsCacheDir };

/** The repository root (this file runs from dist/fuzz/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function fuzzCacheDir(): string {
  return path.join(kexecTsCacheDir(), 'fuzz');
}

export function cachePath(...parts: string[]): string {
  return path.join(kexecTsCacheDir(), ...parts);
}

/** A cached artefact's bytes, or undefined when it was never fetched. */
export function readArtefact(...parts: string[]): Uint8Array | undefined {
  const file = cachePath(...parts);
  return fs.existsSync(file) ? new Uint8Array(fs.readFileSync(file)) : undefined;
}

/** The first `length` bytes of a cached artefact (a slice of a big one), or undefined. */
export function readArtefactHead(length: number, ...parts: string[]): Uint8Array | undefined {
  const file = cachePath(...parts);
  if (!fs.existsSync(file)) return undefined;
  return readRange(file, 0, length);
}

export function readRange(file: string, offset: number, length: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
    fs.readSync(fd, bytes, 0, bytes.length, offset);
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** Every file under a committed fixture tree, as reader path ("/boot/grub/grub.cfg") -> text. */
export function committedTree(name: string): Record<string, string> {
  const root = path.join(REPO_ROOT, 'test', 'fixtures', 'bootcfg', name);
  const files: Record<string, string> = {};
  if (!fs.existsSync(root)) return files;
  for (const relative of fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(root, relative);
    if (fs.statSync(full).isFile()) files[`/${relative}`] = fs.readFileSync(full, 'utf8');
  }
  return files;
}

/**
 * A seed built from artefacts, kept in <cache>/fuzz/seeds/<name> once made: `build` runs only
 * when the file is missing, and returns undefined when what it needs is missing.
 */
export async function derivedSeed(name: string, build: () => Promise<Uint8Array | undefined> | Uint8Array | undefined): Promise<Uint8Array | undefined> {
  const file = path.join(fuzzCacheDir(), 'seeds', name);
  if (fs.existsSync(file)) return new Uint8Array(fs.readFileSync(file));
  const bytes = await build();
  if (bytes === undefined) return undefined;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Math.floor(performance.now())}.tmp`;
  fs.writeFileSync(temporary, bytes);
  fs.renameSync(temporary, file);
  return bytes;
}

/** `tool args < input`, its stdout; undefined when the tool is missing or fails. */
export function pipeThroughTool(tool: string, args: readonly string[], input: Uint8Array): Uint8Array | undefined {
  const result = spawnSync(tool, args, { input, maxBuffer: 64 << 20, timeout: 60_000 });
  if (result.error !== undefined || result.status !== 0) return undefined;
  return new Uint8Array(result.stdout);
}
