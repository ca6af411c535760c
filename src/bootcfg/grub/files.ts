/**
 * How GRUB commands reach files (source, configfile, load_env, `[ -f ]`): a GRUB path is
 * relative to a device we cannot identify without the disks, so the `(device)` prefix is
 * dropped and the rest is tried under each path base of the reader's namespace. Pure.
 */
import { underBase } from '../text.js';
import type { BootFileReader } from '../types.js';
import type { FileTests } from './commands.js';
import { stripDevice } from './context.js';

export class GrubFiles {
  constructor(
    readonly reader: BootFileReader,
    readonly pathBases: readonly string[],
  ) {}

  /** The reader path of the first base under which `path` is a readable file. */
  resolveReadable(path: string): string | undefined {
    const stripped = stripDevice(path);
    for (const base of this.pathBases) {
      const candidate = underBase(base, stripped);
      if (this.reader.readText(candidate) !== undefined) return candidate;
    }
    return undefined;
  }

  /** `readText` of the resolved path: text and where it came from. */
  read(path: string): { text: string; file: string } | undefined {
    const file = this.resolveReadable(path);
    if (file === undefined) return undefined;
    const text = this.reader.readText(file);
    return text === undefined ? undefined : { text, file };
  }

  private exists(path: string): boolean {
    const exists = this.reader.exists?.bind(this.reader);
    if (!exists) return this.resolveReadable(path) !== undefined;
    return this.pathBases.some((base) => exists(underBase(base, stripDevice(path))));
  }

  private isDirectory(path: string): boolean {
    return this.pathBases.some((base) => this.reader.list(underBase(base, stripDevice(path))).length > 0);
  }

  /** The file tests of GRUB's `test` command; existence without reading where the reader allows. */
  tests(): FileTests {
    return {
      exists: (path) => this.exists(path) || this.isDirectory(path),
      isFile: (path) => this.exists(path) && !this.isDirectory(path),
      isDirectory: (path) => this.isDirectory(path),
      isNonEmpty: (path) => (this.read(path)?.text.length ?? 0) > 0,
    };
  }
}
