// The arm64 guest's base initramfs: test/vm's layout (same /init, same /opt/kexec-ts, same
// second-stage /init) with an arm64 userland. Only the base differs; the project and scenario
// layers on top are test/vm's own (writeScenarioInitramfs with this base).
//   /bin/busybox, /usr/bin/node, /lib/...           from <cache>/arm64-guest/rootfs
//   /opt/kexec-ts/node_modules                      the project's runtime modules, minus x64 binaries,
//                                                   plus @koromix/koffi-linux-arm64 where koffi looks
//   /fixtures/Image, /fixtures/Image.gz             the kernel built with KEXEC_FILE=y
//   /fixtures/second-initrd.cpio                    arm64 busybox + an /init printing its markers
import { ensureForeignGuestBase } from '../vm/foreign-guest-base.js';
import { GUEST_SECOND_INITRD_PATH } from '../vm/initramfs.js';
import type { Arm64Guest, BuiltArm64Kernel } from './fixtures.js';

export const GUEST_IMAGE_PATH = '/fixtures/Image';
export const GUEST_IMAGE_GZ_PATH = '/fixtures/Image.gz';
/** Debian's arm64 kernel, added by the scenarios that boot it (not part of the base). */
export const GUEST_DEBIAN_IMAGE_PATH = '/fixtures/debian-Image';
export { GUEST_SECOND_INITRD_PATH };

/** The cached base archive for these inputs, written first when they changed. */
export function ensureArm64BaseInitramfs(kernel: BuiltArm64Kernel, guest: Arm64Guest): string {
  return ensureForeignGuestBase({
    name: 'arm64',
    layoutVersion: 1,
    rootfsDir: guest.rootfsDir,
    koffiPackageName: 'koffi-linux-arm64',
    koffiPackageDir: guest.koffiPackageDir,
    // The musl build: the guest runs Debian's glibc.
    koffiLeftOut: /^musl_/,
    fixtures: [
      { guestPath: GUEST_IMAGE_PATH, hostPath: kernel.imagePath, mode: 0o644 },
      { guestPath: GUEST_IMAGE_GZ_PATH, hostPath: kernel.imageGzPath, mode: 0o644 },
    ],
  });
}
