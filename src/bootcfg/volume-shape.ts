/**
 * What a directory handed to `list --root` is: a whole system, a /boot partition on its own, an
 * ESP or XBOOTLDR partition, or installer/live media. Each keeps its boot configuration in other
 * places and its entries' paths are relative to other bases, so the shape decides where
 * readBootConfig looks. Decided from what is at the top of the tree, never from its name. Pure:
 * the tree comes through a probe.
 */

export type VolumeShape = 'system-root' | 'boot-partition' | 'esp' | 'xbootldr' | 'installer-media';

export const VOLUME_SHAPES: readonly VolumeShape[] = ['system-root', 'boot-partition', 'esp', 'xbootldr', 'installer-media'];

export interface VolumeShapeProbe {
  kind(readerPath: string): 'file' | 'directory' | 'other' | undefined;
  /** Names in a directory, sorted; [] when it is not one. */
  list(dir: string): string[];
}

export interface VolumeShapeFinding {
  readonly shape: VolumeShape;
  /** What at the top of the tree made it that shape, for people ("/etc and /boot", ...). */
  readonly evidence: string;
}

/** Kernel file names at the top of a /boot partition (Debian, Fedora, Arch, SUSE). */
const TOP_LEVEL_KERNEL = /^(vmlinuz|vmlinux|kernel|bzImage)(-.+)?$/;

/** Markers installer and live media carry and installed systems do not. */
const MEDIA_MARKERS = ['.disk/info', 'isolinux', 'casper', 'live', 'images/pxeboot', 'boot/grub/loopback.cfg', 'LiveOS', 'arch/boot'];

/**
 * The EFI directory of a vfat file system, whatever case the tree was copied in. A system's /efi
 * mount point matches the name too; it holds an ESP, so an EFI directory of its own.
 */
export function efiDirectory(probe: VolumeShapeProbe): string | undefined {
  return probe.list('/').find((name) =>
    name.toUpperCase() === 'EFI' && probe.kind(`/${name}`) === 'directory' && !probe.list(`/${name}`).some((inner) => inner.toUpperCase() === 'EFI'));
}

export function detectVolumeShape(probe: VolumeShapeProbe): VolumeShapeFinding {
  const isDir = (path: string): boolean => probe.kind(path) === 'directory';
  const exists = (path: string): boolean => probe.kind(path) !== undefined;

  // An installed system has /etc beside /usr or /boot; nothing else in this list does.
  if (isDir('/etc') && (isDir('/usr') || isDir('/boot'))) return { shape: 'system-root', evidence: `/etc and ${isDir('/usr') ? '/usr' : '/boot'} at the top` };

  const media = MEDIA_MARKERS.find(exists);
  if (media !== undefined) return { shape: 'installer-media', evidence: `/${media} at the top (installer or live media)` };

  const efi = efiDirectory(probe);
  if (efi !== undefined && exists(`/${efi}/BOOT`) && probe.kind('/boot/grub/grub.cfg') === 'file') {
    return { shape: 'installer-media', evidence: `/${efi}/BOOT and /boot/grub/grub.cfg at the top, no /etc` };
  }
  // A tree with /boot and little else is a system root trimmed to what boots (a copy, a chroot).
  if (isDir('/boot')) return { shape: 'system-root', evidence: '/boot at the top' };

  const hasLoaderDir = isDir('/loader/entries') || exists('/loader/loader.conf');
  const grubConfig = ['/grub/grub.cfg', '/grub2/grub.cfg'].find((path) => probe.kind(path) === 'file');
  const kernels = probe.list('/').filter((name) => TOP_LEVEL_KERNEL.test(name) && probe.kind(`/${name}`) === 'file');
  if (efi !== undefined && grubConfig === undefined && kernels.length === 0) {
    return { shape: 'esp', evidence: `/${efi} at the top${hasLoaderDir ? ' with /loader' : ''}, no /etc` };
  }
  if (grubConfig !== undefined || kernels.length > 0) {
    return { shape: 'boot-partition', evidence: grubConfig !== undefined ? `${grubConfig} at the top, no /etc` : `kernels at the top (${kernels[0]}), no /etc` };
  }
  if (hasLoaderDir) return { shape: 'xbootldr', evidence: '/loader at the top and no /EFI: a boot partition holding Boot Loader Specification entries' };
  return { shape: 'system-root', evidence: 'nothing else recognised; read as a system root' };
}

/** Where readBootConfig looks on a volume of one shape (reader paths), in the order it looks. */
export interface VolumeShapePlaces {
  /** The order the loaders' configs are tried in (`auto`). */
  readonly loaderOrder: readonly ('grub' | 'bls' | 'syslinux' | 'distro')[];
  readonly grubConfigs: readonly string[];
  /** Partition roots holding `loader/entries/`. */
  readonly blsRoots: readonly string[];
  readonly syslinuxConfigs: readonly string[];
  /** Where kernels without a loader config are looked for. */
  readonly kernelDir: string;
  /** Where an ESP or XBOOTLDR is mounted in this tree: its `EFI/Linux` holds UKIs. */
  readonly espMounts: readonly string[];
  /** What paths in GRUB and syslinux configs are relative to, most likely first. */
  readonly pathBases: readonly string[];
}

/**
 * `EFI/<vendor>/grub.cfg` on the ESP mounted at `mount`: the config shim and GRUB read first on
 * UEFI (Fedora, RHEL and CentOS keep the whole menu there on RHEL 8, a stub that `configfile`s
 * the one on /boot since Fedora 34 and RHEL 9; Debian and Ubuntu a stub too). Vendors in name
 * order, the removable-media fallback EFI/BOOT last.
 */
export function espGrubConfigs(probe: VolumeShapeProbe, mount: string): string[] {
  const top = mount === '/' ? '' : mount;
  const efi = probe.list(mount).find((name) => name.toUpperCase() === 'EFI');
  if (efi === undefined) return [];
  const vendors = probe.list(`${top}/${efi}`).filter((name) => probe.kind(`${top}/${efi}/${name}/grub.cfg`) === 'file');
  vendors.sort((a, b) => Number(a.toUpperCase() === 'BOOT') - Number(b.toUpperCase() === 'BOOT') || (a < b ? -1 : a > b ? 1 : 0));
  return vendors.map((vendor) => `${top}/${efi}/${vendor}/grub.cfg`);
}

const SYSLINUX_AT_TOP = ['/extlinux/extlinux.conf', '/syslinux/syslinux.cfg', '/isolinux/isolinux.cfg', '/extlinux.conf', '/syslinux.cfg'];

export function volumeShapePlaces(shape: VolumeShape, probe: VolumeShapeProbe): VolumeShapePlaces {
  switch (shape) {
    case 'system-root':
      return {
        loaderOrder: ['grub', 'bls', 'syslinux', 'distro'],
        // The menu on /boot is what every stub on the ESP leads to; the ESP's own config counts
        // only where /boot has none (RHEL 8 on UEFI keeps the whole menu there).
        grubConfigs: ['/boot/grub/grub.cfg', '/boot/grub2/grub.cfg', ...espGrubConfigs(probe, '/boot/efi'), ...espGrubConfigs(probe, '/efi')],
        blsRoots: ['/boot', '/efi', '/boot/efi'],
        syslinuxConfigs: ['/boot/extlinux/extlinux.conf', '/boot/syslinux/syslinux.cfg', '/boot/isolinux/isolinux.cfg', ...SYSLINUX_AT_TOP, '/pxelinux.cfg/default'],
        kernelDir: '/boot',
        espMounts: ['/efi', '/boot/efi', '/boot'],
        pathBases: ['/', '/boot'],
      };
    case 'boot-partition':
      return {
        loaderOrder: ['grub', 'bls', 'syslinux', 'distro'],
        // Fedora mounts the ESP at /boot/efi: inside the /boot partition that is /efi.
        grubConfigs: ['/grub/grub.cfg', '/grub2/grub.cfg', ...espGrubConfigs(probe, '/efi'), ...espGrubConfigs(probe, '/')],
        blsRoots: ['/'],
        syslinuxConfigs: SYSLINUX_AT_TOP,
        kernelDir: '/',
        espMounts: ['/', '/efi'],
        pathBases: ['/'],
      };
    case 'esp':
    case 'xbootldr':
      // systemd-boot reads loader/ first; a GRUB on the same ESP is the firmware's other choice.
      return {
        loaderOrder: ['bls', 'grub', 'syslinux'],
        grubConfigs: espGrubConfigs(probe, '/'),
        blsRoots: ['/'],
        syslinuxConfigs: ['/syslinux/syslinux.cfg', '/EFI/syslinux/syslinux.cfg', '/extlinux/extlinux.conf'],
        kernelDir: '/',
        espMounts: ['/'],
        pathBases: ['/'],
      };
    case 'installer-media':
      // Read as an ISO image's menus are (iso9660/boot-entries.ts); these are for `loader` given.
      return {
        loaderOrder: ['grub', 'syslinux'],
        grubConfigs: ['/boot/grub/grub.cfg', '/EFI/BOOT/grub.cfg', '/EFI/boot/grub.cfg', '/boot/grub2/grub.cfg'],
        blsRoots: ['/'],
        syslinuxConfigs: ['/boot/isolinux/isolinux.cfg', '/isolinux/isolinux.cfg', '/boot/syslinux/syslinux.cfg', '/syslinux/syslinux.cfg'],
        kernelDir: '/',
        espMounts: ['/'],
        pathBases: ['/'],
      };
  }
}
