// Real devicetree blobs for the tests and the fuzz seeds, made by the tools that make them on
// real systems: qemu's virt machines dump the tree they would give a guest (-machine dumpdtb),
// and dtc (device-tree-compiler) compiles test/devicetree/every-feature.dts and decompiles
// blobs back to text, the oracle the round-trip tests compare against. Nothing is committed:
// each blob is made on demand; a missing tool leaves its blob out (undefined).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const EVERY_FEATURE_DTS = path.join(REPO_ROOT, 'test', 'devicetree', 'every-feature.dts');

/** The qemu machines whose trees are used, with the options that shape them. */
export const QEMU_VIRT_MACHINES = {
  'qemu-virt-arm64': { binary: 'qemu-system-aarch64', args: ['-M', 'virt'], memoryBytes: 128n << 20n },
  'qemu-virt-arm64-smp2-1g': { binary: 'qemu-system-aarch64', args: ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a57', '-smp', '2', '-m', '1G'], memoryBytes: 1n << 30n },
  'qemu-virt-riscv64': { binary: 'qemu-system-riscv64', args: ['-M', 'virt'], memoryBytes: 128n << 20n },
} as const;

export type QemuVirtMachine = keyof typeof QEMU_VIRT_MACHINES;

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function withTemporaryDir<T>(use: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-dtb-'));
  try {
    return use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The tree qemu would hand the guest, as it dumps it (totalsize includes libfdt's free space). */
export function qemuVirtDtb(machine: QemuVirtMachine): Uint8Array | undefined {
  const { binary, args } = QEMU_VIRT_MACHINES[machine];
  if (!hasTool(binary)) return undefined;
  return withTemporaryDir((dir) => {
    const file = path.join(dir, 'virt.dtb');
    const result = spawnSync(binary, [...args, '-machine', `dumpdtb=${file}`, '-display', 'none'], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0 || !fs.existsSync(file)) throw new Error(`${binary} ${args.join(' ')} dumpdtb failed: ${result.stderr}`);
    return new Uint8Array(fs.readFileSync(file));
  });
}

/** dtc with `args` on `input` (through a file: dtc stops reading stdin at totalsize); its stdout. */
function dtc(args: readonly string[], input: Uint8Array | string): Buffer {
  return withTemporaryDir((dir) => {
    const file = path.join(dir, 'input');
    fs.writeFileSync(file, input);
    const result = spawnSync('dtc', [...args, file], { maxBuffer: 64 << 20, timeout: 60_000 });
    if (result.error !== undefined) throw result.error;
    if (result.status !== 0) throw new Error(`dtc ${args.join(' ')} failed: ${result.stderr.toString()}`);
    return result.stdout;
  });
}

/** test/devicetree/every-feature.dts compiled by dtc; undefined without dtc. */
export function everyFeatureDtb(bootCpuidPhys = 0): Uint8Array | undefined {
  if (!hasTool('dtc')) return undefined;
  return new Uint8Array(dtc(['-q', '-I', 'dts', '-O', 'dtb', '-b', String(bootCpuidPhys)], fs.readFileSync(EVERY_FEATURE_DTS)));
}

/** dtc's text for a blob: what a person reads, and what the round trip must keep. */
export function decompile(blob: Uint8Array): string {
  return dtc(['-q', '-I', 'dtb', '-O', 'dts'], blob).toString('utf8');
}

/** The blob repacked by dtc (-I dtb -O dtb): the same tree without qemu's free space. */
export function repack(blob: Uint8Array): Uint8Array {
  return new Uint8Array(dtc(['-q', '-I', 'dtb', '-O', 'dtb'], blob));
}
