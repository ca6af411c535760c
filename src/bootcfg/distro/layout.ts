/**
 * A /boot with no boot-loader config: kernels named `vmlinuz-VERSION` (also `vmlinux-`,
 * `kernel-`), each paired with the initrd its distribution names after the same version
 * (Debian `initrd.img-V`, Fedora/dracut `initramfs-V.img`, SUSE and others `initrd-V`), newest
 * first by dpkg's version order; the `/vmlinuz` and `/vmlinuz.old` symlinks Debian's
 * linux-update-symlinks keeps (in / or in /boot) name the current and previous kernel, the
 * current one being the default. The command line is the running one (/proc/cmdline) minus
 * what the previous loader added, for the running system's own /boot; for another tree it is
 * unknown, and the entries say so (cmdlineOrigin). Pure: a listing in, entries out.
 */
import { reusableCmdline } from '../../handoff/cmdline.js';
import { BOOTCFG_LIMITS } from '../../limits.js';
import { joinPath, WarningSink } from '../text.js';
import { BootConfigWarningCode, type BootConfig, type BootEntry } from '../types.js';
import { compareDebianVersions } from './dpkg-version.js';

export interface BootDirectoryListing {
  /** Where the kernels are, in the reader's namespace (normally `/boot`). */
  bootDir: string;
  /** Names in bootDir. */
  bootFiles: string[];
  /** Names in `/` (for the `/vmlinuz` symlinks); optional. */
  rootFiles?: string[];
  /** Symlink path -> target as readlink(2) gives it, for the symlinks among those names. */
  symlinks: Readonly<Record<string, string>>;
  /** The running kernel's /proc/cmdline, if known. */
  procCmdline?: string;
}

const KERNEL_NAME = /^(?:vmlinuz|vmlinux|kernel)-(.+)$/;
/** Initrd names for a version, in the order distributions use them. */
function initrdCandidates(version: string): string[] {
  return [`initrd.img-${version}`, `initramfs-${version}.img`, `initrd-${version}.img`, `initrd-${version}`, `initramfs-${version}`];
}
const SYMLINKS = [
  { kernel: 'vmlinuz', initrd: 'initrd.img', title: 'current' },
  { kernel: 'vmlinuz.old', initrd: 'initrd.img.old', title: 'previous' },
] as const;

export function distroBootEntries(listing: BootDirectoryListing): BootConfig {
  const sink = new WarningSink();
  let names = listing.bootFiles;
  if (names.length > BOOTCFG_LIMITS.directoryEntries) {
    sink.add(BootConfigWarningCode.LIMIT_REACHED, `${names.length} files; only the first ${BOOTCFG_LIMITS.directoryEntries} are considered`, listing.bootDir);
    names = names.slice(0, BOOTCFG_LIMITS.directoryEntries);
  }
  const present = new Set(names);
  const cmdline = listing.procCmdline === undefined ? '' : reusableCmdline(listing.procCmdline);
  const origin: Pick<BootEntry, 'cmdlineOrigin' | 'cmdlineUnknownReason'> = listing.procCmdline === undefined
    ? { cmdlineOrigin: 'unknown', cmdlineUnknownReason: "its /boot has kernels but no boot loader configuration, and it is not this system's, so this boot's command line is no guide" }
    : { cmdlineOrigin: 'this-boot' };

  const kernels = names
    .map((name) => ({ name, version: KERNEL_NAME.exec(name)?.[1] }))
    .filter((kernel): kernel is { name: string; version: string } => kernel.version !== undefined && !/\.(old|bak|sig|hmac)$/.test(kernel.name));
  kernels.sort((a, b) => compareDebianVersions(b.version, a.version) || (a.name < b.name ? -1 : 1));

  const entries: BootEntry[] = kernels.slice(0, BOOTCFG_LIMITS.entries).map(({ name, version }) => {
    const kernel = joinPath(listing.bootDir, name);
    const initrd = initrdCandidates(version).find((candidate) => present.has(candidate));
    if (initrd === undefined) {
      sink.add(BootConfigWarningCode.FILE_NOT_FOUND, `no initrd for ${name} (looked for ${initrdCandidates(version).join(', ')})`, listing.bootDir);
    }
    return {
      id: name,
      title: `Linux ${version}`,
      version,
      kernel,
      initrds: initrd === undefined ? [] : [joinPath(listing.bootDir, initrd)],
      cmdline,
      ...origin,
      source: { file: kernel, line: 1 },
      isDefault: false,
      origin: 'distro',
      pathBases: ['/'],
    };
  });

  // The symlinks: they pick the default, and a link to a kernel we did not list is an entry itself.
  let defaultEntry: BootEntry | undefined;
  for (const link of SYMLINKS) {
    for (const [dir, files] of [['/', listing.rootFiles ?? []], [listing.bootDir, names]] as const) {
      if (!files.includes(link.kernel)) continue;
      const linkPath = joinPath(dir, link.kernel);
      const target = listing.symlinks[linkPath];
      const resolved = target === undefined ? linkPath : joinPath(dir, target);
      let entry = entries.find((candidate) => candidate.kernel === resolved);
      if (!entry) {
        const initrdLink = files.includes(link.initrd) ? joinPath(dir, link.initrd) : undefined;
        entry = {
          id: linkPath,
          title: `Linux (${link.title}, ${linkPath})`,
          kernel: linkPath,
          initrds: initrdLink === undefined ? [] : [initrdLink],
          cmdline,
          ...origin,
          source: { file: linkPath, line: 1 },
          isDefault: false,
          origin: 'distro',
          pathBases: ['/'],
        };
        entries.push(entry);
      }
      if (link.kernel === 'vmlinuz') defaultEntry ??= entry;
    }
  }
  defaultEntry ??= entries[0];
  const config: BootConfig = { entries, warnings: sink.warnings };
  if (defaultEntry) {
    defaultEntry.isDefault = true;
    config.defaultId = defaultEntry.id;
  }
  return config;
}
