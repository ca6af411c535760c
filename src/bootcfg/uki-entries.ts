import { ParseError } from '../errors.js';
import { parseUki } from '../image/uki/parse-uki.js';
import { splitBootCounting } from './bls/entry.js';
import { isBadEntry } from './bls/sort.js';
import { compareUapiVersions } from './bls/version-compare.js';
import { UnbootableCode, type BootEntry } from './types.js';

/** A UKI file as found on the ESP: its path in the reader's namespace and its bytes. */
export interface UkiFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

/**
 * Boot Loader Specification Type #2 entries: every EFI/Linux/*.efi on the ESP or XBOOTLDR is
 * a UKI and one entry. Its title is .osrel's PRETTY_NAME (else NAME, else the file name), its
 * version .osrel's VERSION_ID/IMAGE_VERSION or .uname, its command line .cmdline; the kernel
 * is the UKI file itself (load() unpacks it). Its id is the file name without boot counters
 * (`NAME+LEFT-DONE.efi`, as for Type #1). Sorted with the entries that have no tries left last,
 * then newest version first, then by file name, as the BLS orders entries without a sort-key.
 * Pure: files in, entries out.
 */
export function ukiBootEntries(files: readonly UkiFile[]): BootEntry[] {
  const entries = files.map((file): BootEntry => {
    const fileName = file.path.slice(file.path.lastIndexOf('/') + 1);
    const { id, bootCounting } = splitBootCounting(fileName);
    const base: BootEntry = {
      id,
      title: fileName,
      kernel: file.path,
      initrds: [],
      cmdline: '',
      source: { file: file.path, line: 0 },
      isDefault: false,
      origin: 'uki',
      pathBases: [],
      ...(bootCounting !== undefined ? { bootCounting } : {}),
    };
    try {
      const uki = parseUki(file.bytes);
      const osRelease = uki.osRelease?.fields ?? {};
      const version = osRelease.IMAGE_VERSION ?? osRelease.VERSION_ID ?? uki.uname;
      return {
        ...base,
        title: osRelease.PRETTY_NAME ?? osRelease.NAME ?? fileName,
        ...(version !== undefined ? { version } : {}),
        cmdline: uki.cmdline ?? '',
      };
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      return { ...base, unbootableReason: { code: UnbootableCode.NO_KERNEL, message: `not a Unified Kernel Image: ${error.message}` } };
    }
  });
  return entries.sort((left, right) => {
    if (isBadEntry(left) !== isBadEntry(right)) return isBadEntry(left) ? 1 : -1;
    if (left.version !== undefined && right.version !== undefined && left.version !== right.version) {
      return -compareUapiVersions(left.version, right.version);
    }
    return left.id < right.id ? -1 : left.id > right.id ? 1 : 0;
  });
}
