import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode, KexecError, ParseError } from '../../../errors.js';
import { parseElf } from '../../../image/elf/parse.js';
import { readFully } from '../../../read-fully.js';

/**
 * What the capture initramfs takes from the host: a static busybox, the node binary with the
 * shared libraries it needs, and kexec-ts with its runtime dependencies.
 */

const PT_INTERP = 3;
const ELF_HEAD_BYTES = 64 * 1024;
const LDD_TIMEOUT_MS = 20_000;

function unusable(message: string, remedy: string, cause?: unknown): KexecError {
  return new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, message, { remedy, ...(cause !== undefined ? { cause } : {}) });
}

/** Throws unless `path` is an ELF executable without an interpreter: the initramfs has no libraries for it. */
export function requireStaticExecutable(path: string, what: string, remedy: string): void {
  let head: Uint8Array;
  try {
    const fd = openSync(path, 'r');
    try {
      head = readFully(fd, ELF_HEAD_BYTES);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw unusable(`${what} ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'}).`, remedy, cause);
  }
  let interpreted: boolean;
  try {
    interpreted = parseElf(head).programHeaders.some((header) => header.p_type === PT_INTERP);
  } catch (cause) {
    if (!(cause instanceof ParseError)) throw cause;
    throw unusable(`${what} ${path} is not an ELF executable: ${cause.message}`, remedy, cause);
  }
  if (interpreted) throw unusable(`${what} ${path} is dynamically linked; the capture initramfs carries no libraries for it.`, remedy);
}

/** The shared libraries (and ELF interpreter) of a dynamic executable, as `ldd` lists them: absolute paths. */
export function sharedLibrariesOf(binary: string): string[] {
  let output: string;
  try {
    output = execFileSync('ldd', [binary], { encoding: 'utf8', timeout: LDD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
    if (/not a dynamic executable|statically linked/.test(`${String(stdout)}${String(stderr)}`)) return [];
    throw unusable(`ldd ${binary} failed: ${(error as Error).message}`, 'Install libc-bin (it provides ldd), or give a statically linked --node.', error);
  }
  const missing = output.split('\n').filter((line) => line.includes('=> not found'));
  if (missing.length > 0) throw unusable(`${binary} needs libraries this machine lacks: ${missing.map((line) => line.trim()).join('; ')}.`, 'Install them, or give another --node.');
  return [...output.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((match) => match[1]!);
}

/** The kexec-ts package this code runs from: the directory of its package.json. */
export function findProjectRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let directory = from;
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'kexec-ts') return directory;
      } catch {
        // not ours; keep looking upwards
      }
    }
    const parent = dirname(directory);
    if (parent === directory) throw unusable(`No kexec-ts package.json above ${from}.`, 'Run kexec-ts from its installed package or a built checkout.');
    directory = parent;
  }
}

/** Documentation, type declarations and source maps: not needed to run. */
const LEFT_OUT_FILE = /\.(md|markdown|map|d\.ts|d\.mts|d\.cts|tsbuildinfo)$/i;
const LEFT_OUT_DIRECTORY = new Set(['doc', 'docs', 'test', 'tests', 'example', 'examples', '.github']);

export interface ProjectFile {
  /** Relative to the package root; the initramfs keeps the same layout under its project dir. */
  readonly relativePath: string;
  readonly hostPath: string;
}

/**
 * kexec-ts's own runtime files (package.json and the built dist/src) and those of every package
 * in its dependencies, recursively, found where Node's resolver would find them: in a
 * node_modules directory of the package or of any directory above it (npm hoists).
 */
export function projectRuntimeFiles(projectRoot: string): ProjectFile[] {
  const files: ProjectFile[] = [{ relativePath: 'package.json', hostPath: join(projectRoot, 'package.json') }];
  for (const path of walk(join(projectRoot, 'dist', 'src'))) files.push({ relativePath: relative(projectRoot, path), hostPath: path });
  const seen = new Set<string>();
  const pending: string[] = [projectRoot];
  while (pending.length > 0) {
    const packageDir = pending.pop()!;
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const found = resolvePackageDir(packageDir, name);
      // An optional dependency for another platform is simply not installed.
      if (found === undefined || seen.has(found)) continue;
      seen.add(found);
      pending.push(found);
      // Flattened to the top-level node_modules, where Node finds it from anywhere in the tree
      // (the first version found wins where two nest different ones).
      for (const path of walk(found)) files.push({ relativePath: `node_modules/${name}/${relative(found, path)}`, hostPath: path });
    }
  }
  return files;
}

function resolvePackageDir(from: string, name: string): string | undefined {
  let directory = from;
  for (;;) {
    const candidate = join(directory, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

function walk(root: string): string[] {
  const result: string[] = [];
  const visit = (directory: string): void => {
    let entries;
    try {
      entries = readdirSync(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        // A package's own node_modules is reached through the dependency walk instead.
        if (!LEFT_OUT_DIRECTORY.has(entry.name) && entry.name !== 'node_modules') visit(path);
      } else if (entry.isFile() && !LEFT_OUT_FILE.test(entry.name)) {
        result.push(path);
      } else if (entry.isSymbolicLink()) {
        try {
          if (statSync(path).isFile() && !LEFT_OUT_FILE.test(entry.name)) result.push(path);
        } catch {
          // a dangling link is not a file to carry
        }
      }
    }
  };
  visit(root);
  return result;
}
