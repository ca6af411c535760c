// The riscv64 guest's base initramfs: test/vm's layout (same /init, same /opt/kexec-ts, same
// second-stage /init) with Debian 13's riscv64 userland. Only the base differs; the project and
// scenario layers on top are test/vm's own (writeScenarioInitramfs with this base).
//   /bin/busybox, /usr/bin/node, /lib/..., /usr/share/nodejs   from <cache>/riscv64-trixie/rootfs
//   /opt/kexec-ts/node_modules       the project's runtime modules, minus x64 binaries,
//                                    plus @koromix/koffi-linux-riscv64 where koffi looks
//   /fixtures/Image, /boot/config-R  Debian's riscv64 kernel (the one the guest boots) and its config
//   /fixtures/second-initrd.cpio     riscv64 busybox + an /init printing its markers
import { ensureForeignGuestBase } from '../vm/foreign-guest-base.js';
import { GUEST_SECOND_INITRD_PATH } from '../vm/initramfs.js';
import type { Riscv64Fixture } from './fixtures.js';

export const GUEST_IMAGE_PATH = '/fixtures/Image';
export { GUEST_SECOND_INITRD_PATH };

/** The cached base archive for these inputs, written first when they changed. */
export function ensureRiscv64BaseInitramfs(fixture: Riscv64Fixture): string {
  return ensureForeignGuestBase({
    name: 'riscv64',
    layoutVersion: 1,
    rootfsDir: fixture.rootfsDir,
    koffiPackageName: 'koffi-linux-riscv64',
    koffiPackageDir: fixture.koffiPackageDir,
    fixtures: [
      { guestPath: GUEST_IMAGE_PATH, hostPath: fixture.vmlinuzPath, mode: 0o644 },
      { guestPath: `/boot/config-${fixture.kernelRelease}`, hostPath: fixture.configPath, mode: 0o644 },
    ],
  });
}
