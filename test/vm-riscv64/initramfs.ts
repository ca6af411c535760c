// The riscv64 guest's base initramfs: test/vm's layout (same /init, same /opt/kexec-ts, same
// second-stage /init) with Debian 13's riscv64 userland. Only the base differs; the project and
// scenario layers on top are test/vm's own (writeScenarioInitramfs with this base).
//   /bin/busybox, /usr/bin/node, /lib/..., /usr/share/nodejs   from <cache>/riscv64-trixie/rootfs
//   /opt/kexec-ts/node_modules       the project's runtime modules, minus x64 binaries,
//                                    plus @koromix/koffi-linux-riscv64 where koffi looks
//   /fixtures/Image, /boot/config-R  Debian's riscv64 kernel (the one the guest boots) and its config
//   /fixtures/second-initrd.cpio     riscv64 busybox + an /init printing its markers
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from '../vm/fixtures.js';
import {
  baseInputsKey,
  findRepoRoot,
  GUEST_PROJECT_DIR,
  GUEST_SECOND_INITRD_PATH,
  runtimeNodeModules,
  secondStageInitrd,
  writeBaseArchive,
  type GuestFile,
} from '../vm/initramfs.js';
import type { Riscv64Fixture } from './fixtures.js';

export const GUEST_IMAGE_PATH = '/fixtures/Image';
export { GUEST_SECOND_INITRD_PATH };

/** Bump when the layout changes in a way the inputs' metadata would not reveal. */
const RISCV64_BASE_LAYOUT_VERSION = 1;
const ARCHIVE_PREFIX = 'riscv64-base-';
/** Native modules built for the host's x64: useless in a riscv64 guest. */
const HOST_ONLY_NODE_MODULES = /^node_modules\/(@koromix\/koffi-linux-x64|@antoniomuso\/lz4-napi-linux-x64[^/]*)\//;

/** The cached base archive for these inputs, written first when they changed. */
export function ensureRiscv64BaseInitramfs(fixture: Riscv64Fixture): string {
  const repoRoot = findRepoRoot();
  const files = baseFiles(repoRoot, fixture);
  const outputDir = path.join(kexecTsCacheDir(), 'initramfs');
  const name = `${ARCHIVE_PREFIX}${baseInputsKey([{ guestPath: '/', content: `riscv64 layout ${RISCV64_BASE_LAYOUT_VERSION}` }, ...files])}.cpio`;
  const outputPath = path.join(outputDir, name);
  if (fs.existsSync(outputPath)) return outputPath;

  writeBaseArchive(outputPath, files);
  for (const other of fs.readdirSync(outputDir)) {
    if (other !== name && other.startsWith(ARCHIVE_PREFIX) && other.endsWith('.cpio')) fs.rmSync(path.join(outputDir, other), { force: true });
  }
  return outputPath;
}

function baseFiles(repoRoot: string, fixture: Riscv64Fixture): GuestFile[] {
  const busybox = path.join(fixture.rootfsDir, 'bin', 'busybox');
  const files: GuestFile[] = [
    ...filesBelow(fixture.rootfsDir).map((relative) => ({ guestPath: `/${relative}`, hostPath: path.join(fixture.rootfsDir, relative), mode: 0o755 })),
    { guestPath: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' },
    { guestPath: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { guestPath: '/usr/bin/kexec-ts', content: `#!/bin/sh\nexec node ${GUEST_PROJECT_DIR}/dist/src/cli/main.js "$@"\n`, mode: 0o755 },
    { guestPath: GUEST_IMAGE_PATH, hostPath: fixture.vmlinuzPath, mode: 0o644 },
    { guestPath: `/boot/config-${fixture.kernelRelease}`, hostPath: fixture.configPath, mode: 0o644 },
    { guestPath: GUEST_SECOND_INITRD_PATH, content: secondStageInitrd(busybox), mode: 0o644 },
  ];
  for (const relative of runtimeNodeModules(repoRoot)) {
    if (HOST_ONLY_NODE_MODULES.test(relative)) continue;
    files.push({ guestPath: `${GUEST_PROJECT_DIR}/${relative}`, hostPath: path.join(repoRoot, relative) });
  }
  // Where koffi's loader looks for its binary: node_modules/@koromix/koffi-<platform>-<arch>.
  for (const relative of filesBelow(fixture.koffiPackageDir)) {
    files.push({ guestPath: `${GUEST_PROJECT_DIR}/node_modules/@koromix/koffi-linux-riscv64/${relative}`, hostPath: path.join(fixture.koffiPackageDir, relative) });
  }
  return files;
}

/** Regular files under `root`, relative to it, sorted. */
function filesBelow(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((relative) => fs.statSync(path.join(root, relative)).isFile())
    .sort();
}
