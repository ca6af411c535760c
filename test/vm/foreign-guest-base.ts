// The base initramfs of a guest of another architecture (test/vm-arm64, test/vm-riscv64):
// test/vm's layout (same /init, same /opt/kexec-ts, same second-stage /init) with that
// architecture's userland. Only the base differs; the project and scenario layers on top are
// test/vm's own (writeScenarioInitramfs with this base).
//   /bin/busybox, /usr/bin/node, /lib/...   the userland's rootfs, as fetched
//   /opt/kexec-ts/node_modules              the project's runtime modules, minus x64 binaries,
//                                           plus koffi's package for the guest where koffi looks
//   the architecture's own fixtures         kernels and configs, by the caller
//   /fixtures/second-initrd.cpio            the guest's busybox + an /init printing its markers
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from './fixtures.js';
import {
  baseInputsKey,
  findRepoRoot,
  GUEST_PROJECT_DIR,
  GUEST_SECOND_INITRD_PATH,
  runtimeNodeModules,
  secondStageInitrd,
  writeBaseArchive,
  type GuestFile,
} from './initramfs.js';

/**
 * Native modules built for the host's x64: useless in the guest (koffi finds the guest's package
 * by process.arch; lz4-napi is imported only when an LZ4 kernel is inspected).
 */
const HOST_ONLY_NODE_MODULES = /^node_modules\/(@koromix\/koffi-linux-x64|@antoniomuso\/lz4-napi-linux-x64[^/]*)\//;

export interface ForeignGuestBase {
  /** Names the cached archive (`<name>-base-<key>.cpio`) and goes into its key. */
  readonly name: string;
  /** Bump when the layout changes in a way the inputs' metadata would not reveal. */
  readonly layoutVersion: number;
  readonly rootfsDir: string;
  /** koffi's per-platform package for the guest, e.g. `koffi-linux-arm64`, and where it was fetched. */
  readonly koffiPackageName: string;
  readonly koffiPackageDir: string;
  /** Files of koffi's package the guest has no use for. */
  readonly koffiLeftOut?: RegExp;
  /** The architecture's own fixtures (kernels, configs). */
  readonly fixtures: readonly GuestFile[];
}

/** The cached base archive for these inputs, written first when they changed; older ones of the same name removed. */
export function ensureForeignGuestBase(base: ForeignGuestBase): string {
  const files = baseFiles(findRepoRoot(), base);
  const prefix = `${base.name}-base-`;
  const outputDir = path.join(kexecTsCacheDir(), 'initramfs');
  const name = `${prefix}${baseInputsKey([{ guestPath: '/', content: `${base.name} layout ${base.layoutVersion}` }, ...files])}.cpio`;
  const outputPath = path.join(outputDir, name);
  if (fs.existsSync(outputPath)) return outputPath;

  writeBaseArchive(outputPath, files);
  for (const other of fs.readdirSync(outputDir)) {
    if (other !== name && other.startsWith(prefix) && other.endsWith('.cpio')) fs.rmSync(path.join(outputDir, other), { force: true });
  }
  return outputPath;
}

function baseFiles(repoRoot: string, base: ForeignGuestBase): GuestFile[] {
  const busybox = path.join(base.rootfsDir, 'bin', 'busybox');
  const files: GuestFile[] = [
    ...filesBelow(base.rootfsDir).map((relative) => ({ guestPath: `/${relative}`, hostPath: path.join(base.rootfsDir, relative), mode: 0o755 })),
    { guestPath: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' },
    { guestPath: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { guestPath: '/usr/bin/kexec-ts', content: `#!/bin/sh\nexec node ${GUEST_PROJECT_DIR}/dist/src/cli/main.js "$@"\n`, mode: 0o755 },
    ...base.fixtures,
    { guestPath: GUEST_SECOND_INITRD_PATH, content: secondStageInitrd(busybox), mode: 0o644 },
  ];
  for (const relative of runtimeNodeModules(repoRoot)) {
    if (HOST_ONLY_NODE_MODULES.test(relative)) continue;
    files.push({ guestPath: `${GUEST_PROJECT_DIR}/${relative}`, hostPath: path.join(repoRoot, relative) });
  }
  // Where koffi's loader looks for its binary: node_modules/@koromix/koffi-<platform>-<arch>.
  for (const relative of filesBelow(base.koffiPackageDir)) {
    if (base.koffiLeftOut?.test(relative) === true) continue;
    files.push({ guestPath: `${GUEST_PROJECT_DIR}/node_modules/@koromix/${base.koffiPackageName}/${relative}`, hostPath: path.join(base.koffiPackageDir, relative) });
  }
  return files;
}

/** Regular files under `root`, relative to it, sorted. */
function filesBelow(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((relative) => fs.statSync(path.join(root, relative)).isFile())
    .sort();
}
