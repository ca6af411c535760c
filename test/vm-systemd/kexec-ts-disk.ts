// The guest's second disk: kexec-ts installed as a user installs it (`npm pack` of this
// checkout, then `npm install -g --prefix STAGE` of the tarball, dependencies from the npm
// registry), plus the scenario scripts, in an ext4 image made with `mkfs.ext4 -d`. The root
// image's fstab mounts it at /usr/local, so /usr/local/bin/kexec-ts runs on the release's own
// Debian nodejs, and the cached root does not change when kexec-ts or a scenario does.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kexecTsCacheDir } from '../vm/fixtures.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The filesystem label the root image's fstab mounts at /usr/local (KEXEC_TS_DISK_LABEL in systemd-root.mjs). */
const DISK_LABEL = 'kexects';
const MIB = 1024 * 1024;
const DISK_SLACK_BYTES = 64 * MIB;
const NPM_TIMEOUT_MS = 300_000;
/** Marks a stage whose `npm install -g` finished. */
const STAGE_COMPLETE = '.kexects-stage-complete';

export interface GuestDiskFile {
  /** Relative to the disk's root, which the guest mounts at /usr/local. */
  diskPath: string;
  text: string;
  mode?: number;
}

function run(command: string, args: string[], cwd?: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: NPM_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * MIB });
  if (result.status === 0 && result.error === undefined) return result.stdout;
  const detail = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim().split('\n').slice(-6).join('\n');
  throw new Error(`${command} ${args.join(' ')} failed (${result.error?.message ?? result.signal ?? `status ${result.status}`}):\n${detail}`);
}

/**
 * `npm install -g --prefix STAGE kexec-ts-VERSION.tgz`, cached by the tarball's sha256 (npm pack
 * gives every entry a fixed mtime, so unchanged files pack to the same bytes). Older stages are
 * removed.
 */
export function installedKexecTsStage(cacheDir: string = kexecTsCacheDir()): string {
  const packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-pack-'));
  try {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', packDir], REPO_ROOT)) as { filename: string }[];
    const tarball = path.join(packDir, packed[0]!.filename);
    const sha256 = createHash('sha256').update(fs.readFileSync(tarball)).digest('hex');
    const stagesDir = path.join(cacheDir, 'systemd-root', 'kexec-ts-stage');
    const stage = path.join(stagesDir, sha256.slice(0, 16));
    if (fs.existsSync(path.join(stage, STAGE_COMPLETE))) return stage;
    fs.rmSync(stagesDir, { recursive: true, force: true });
    fs.mkdirSync(stage, { recursive: true });
    run('npm', ['install', '--global', '--prefix', stage, '--no-audit', '--no-fund', '--omit=dev', tarball], packDir);
    if (!fs.existsSync(path.join(stage, 'bin', 'kexec-ts'))) throw new Error(`npm install -g put no bin/kexec-ts in ${stage}`);
    fs.writeFileSync(path.join(stage, STAGE_COMPLETE), `${packed[0]!.filename} ${sha256}\n`);
    return stage;
  } finally {
    fs.rmSync(packDir, { recursive: true, force: true });
  }
}

/** Writes the disk image: the installed stage (hard-linked, not copied) plus `files`. */
export function writeKexecTsDisk(imagePath: string, files: GuestDiskFile[], cacheDir: string = kexecTsCacheDir()): void {
  const stage = installedKexecTsStage(cacheDir);
  const tree = fs.mkdtempSync(path.join(path.dirname(imagePath), 'disk-tree-'));
  try {
    run('cp', ['-al', `${stage}/.`, tree]);
    fs.rmSync(path.join(tree, STAGE_COMPLETE));
    for (const file of files) {
      const target = path.join(tree, file.diskPath);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.text, { mode: file.mode ?? 0o755 });
    }
    const treeBytes = Number(run('du', ['-sb', tree]).split('\t')[0]);
    fs.writeFileSync(imagePath, '');
    fs.truncateSync(imagePath, Math.ceil((treeBytes * 1.2 + DISK_SLACK_BYTES) / MIB) * MIB);
    run('mkfs.ext4', ['-q', '-F', '-L', DISK_LABEL, '-d', tree, imagePath]);
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}
