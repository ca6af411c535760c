/**
 * Boot configurations -> BootEntry lists. Everything here is pure except resolve.ts, which
 * reads a root directory (and is what most callers want):
 *
 *   const config = readBootConfig('/');            // GRUB, else BLS, else syslinux, else /boot
 *   const entry = config.entries.find((e) => e.isDefault);
 *   if (entry?.unbootableReason) console.log(entry.unbootableReason.message);
 *   // else: entry.kernelFile, entry.initrdFiles (every one, in order) and entry.cmdline are what to load
 *
 * The parsers take text plus a BootFileReader for the files a config refers to:
 * parseGrubConfig, readBlsConfig, parseSyslinuxConfig, distroBootEntries; memoryBootFileReader
 * serves files from a map, createRootedReader from a directory that paths cannot leave.
 */
export * from './types.js';
export { BOOTCFG_LIMITS } from '../limits.js';
export { compareUapiVersions } from './bls/version-compare.js';
export { parseBlsEntry, splitBootCounting, type BlsEntry } from './bls/entry.js';
export { parseLoaderConf, type LoaderConf } from './bls/loader-conf.js';
export { compareBlsEntries, sortBlsEntries, chooseBlsDefault, isBadEntry, type BlsDefaultChoice } from './bls/sort.js';
export { readBlsConfig, type BlsReadOptions } from './bls/read.js';
export { lexGrubScript, type Token as GrubToken, type WordPart as GrubWordPart } from './grub/lex.js';
export { parseGrubScript, type Statement as GrubStatement } from './grub/parse.js';
export { parseGrubConfig, type GrubReadOptions } from './grub/read.js';
export { parseGrubenv } from './grub/grubenv.js';
export { chooseGrubDefault, splitMenuPath, type GrubMenuItem } from './grub/menu.js';
export { grubLoaderCmdline } from './grub/cmdline.js';
export { parseSyslinuxConfig, type SyslinuxReadOptions } from './syslinux/parse.js';
export { distroBootEntries, type BootDirectoryListing } from './distro/layout.js';
export { compareDebianVersions } from './distro/dpkg-version.js';
export {
  createRootedReader,
  readBootConfig,
  resolveBootEntry,
  type RootedReader,
  type ResolvedBootEntry,
  type ReadBootConfigOptions,
  type RootBootConfig,
  type BootLoaderKind,
} from './resolve.js';
