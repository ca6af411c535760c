/**
 * Boot configurations -> BootEntry lists. Everything here is pure except resolve.ts, which
 * reads a root directory (and is what most callers want):
 *
 *   const config = readBootConfig('/');            // GRUB, else BLS, else syslinux, else /boot
 *   const list = readBootList('/');                // + UKIs on the ESP, one default: what `list` shows
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
export { runGrubScript, type GrubScriptOptions, type GrubScriptResult } from './grub/script.js';
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
export { detectVolumeShape, volumeShapePlaces, espGrubConfigs, VOLUME_SHAPES, type VolumeShape, type VolumeShapeFinding, type VolumeShapePlaces } from './volume-shape.js';
export {
  bootList,
  readBootList,
  readMachineBootEntries,
  readIsoFileEntries,
  formatBootConfigWarning,
  type BootList,
  type ListedEntry,
  type MachineBootEntries,
} from './machine.js';
// ISO 9660 images read in place (iso9660/; file-source.ts is its one file that opens files):
// their files, and the boot entries of their own menus with the files inside the image.
export { ISO9660_LIMITS } from '../limits.js';
export { isoSourceFromBytes, type IsoSource } from './iso9660/source.js';
export {
  Iso,
  openIso,
  type IsoNameSpace,
  type IsoEntryKind,
  type IsoDirectoryEntry,
  type IsoExtent,
  type IsoFileInfo,
  type OpenIsoOptions,
  type ReadIsoFileOptions,
  type IsoChunkOptions,
} from './iso9660/iso.js';
export { probeIso, ISO_PROBE_BYTES, type IsoVolumeInfo } from './iso9660/volume.js';
export type { ElToritoCatalog, ElToritoBootImage, ElToritoPlatform, ElToritoEmulation } from './iso9660/el-torito.js';
export { isoBootFileReader } from './iso9660/boot-file-reader.js';
export { extractIsoFile } from './iso9660/extract.js';
export {
  isoBootEntries,
  readIsoBootMenus,
  findIsolinuxConfig,
  ISO_GRUB_CONFIGS,
  ISO_LOOPBACK_CONFIG,
  type IsoBootOptions,
  type IsoBootEntry,
  type IsoBootConfig,
  type IsoConfigFile,
  type IsoBootMenus,
} from './iso9660/boot-entries.js';
export { openIsoFile, withIsoFile, locateIsoFile, type IsoFileSource, type IsoFileLocation } from './iso9660/file-source.js';
