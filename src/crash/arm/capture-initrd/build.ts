import { createReadStream, createWriteStream, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ErrorCode, KexecError, ParseError, UsageError } from '../../../errors.js';
import { decompress, detectCodec } from '../../../image/codecs/index.js';
import { LIMITS } from '../../../limits.js';
import { captureConfigText, captureInitScript, captureLauncherScript, DEFAULT_SAVE_ARGUMENTS, type CaptureAction, type CaptureConfig } from './init-script.js';
import { detectDumpTarget, driverModulesFor } from './dump-target.js';
import { findProjectRoot, projectRuntimeFiles, requireStaticExecutable, sharedLibrariesOf } from './host-files.js';
import { CAPTURE_CONFIG_PATH, CAPTURE_MODULES_DIR, CAPTURE_POST_HOOKS_DIR, CAPTURE_PRE_HOOKS_DIR, CAPTURE_PROJECT_DIR } from './layout.js';
import { moduleName, parseModulesDep, selectModules } from './modules.js';
import { NewcWriter } from '../../../binary/newc-writer.js';

/**
 * `kexec-ts crash initrd OUT`: a minimal capture initramfs — busybox, node, kexec-ts and what
 * they need — whose /init saves the dump and reboots. Written as one newc archive, then
 * gzip'ed (the compressed file is what sits in the reservation until the kernel unpacks it,
 * so it must be small; gzip is what every kernel's initramfs unpacker knows).
 */
export interface CaptureInitrdOptions {
  readonly out: string;
  /** Replace OUT if it exists. */
  readonly force?: boolean;
  /** "UUID=...", "LABEL=..." or a device path; default: the filesystem holding dumpDir here; 'none': save nothing. */
  readonly dumpDevice?: string;
  readonly dumpFstype?: string;
  readonly dumpMountOptions?: string;
  /** Default /var/crash. With dumpDevice given, the directory on that filesystem. */
  readonly dumpDir?: string;
  readonly saveArguments?: readonly string[];
  /** Module names to load before the save (with their dependencies, from modules.dep). */
  readonly modules?: readonly string[];
  /** The capture kernel's release, for /lib/modules/RELEASE (default: the running kernel's). */
  readonly kernelRelease?: string;
  readonly modulesDir?: string;
  readonly preSaveHooks?: readonly string[];
  readonly postSaveHooks?: readonly string[];
  /** More host files: { hostPath, path in the initramfs }. */
  readonly include?: readonly { readonly hostPath: string; readonly path: string }[];
  readonly onFailure?: CaptureAction;
  readonly finalAction?: CaptureAction;
  readonly deviceTimeoutSeconds?: number;
  readonly busybox?: string;
  readonly node?: string;
  /** false: leave the archive uncompressed. */
  readonly gzip?: boolean;
  /** Told how the compression advances (bytes read of the archive, its total size). */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface CaptureInitrdResult {
  readonly path: string;
  readonly sizeBytes: number;
  /** The archive before compression. */
  readonly archiveBytes: number;
  readonly entries: number;
  readonly config: CaptureConfig;
  readonly dumpTarget: string;
  readonly node: { readonly path: string; readonly libraries: readonly string[] };
  readonly busybox: string;
  readonly modules: readonly string[];
  readonly notes: readonly string[];
  readonly durationMs: number;
}

const DEFAULT_BUSYBOX = '/bin/busybox';
const DEFAULT_DUMP_DIR = '/var/crash';
const DEFAULT_DEVICE_TIMEOUT_SECONDS = 60;
const BUSYBOX_REMEDY = 'Install busybox-static (Debian: apt-get install busybox-static) or give a static one with --busybox.';
/** The directories /init and the tools expect; /dev/console is needed before /init can mount devtmpfs. */
const DIRECTORIES = ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'mnt/dump', 'var'];

export async function buildCaptureInitrd(options: CaptureInitrdOptions): Promise<CaptureInitrdResult> {
  const started = performance.now();
  const notes: string[] = [];
  if (existsSync(options.out) && options.force !== true) {
    throw new UsageError(`${options.out} exists; give --force to replace it.`);
  }
  const busybox = options.busybox ?? DEFAULT_BUSYBOX;
  requireStaticExecutable(busybox, 'busybox', BUSYBOX_REMEDY);
  const node = options.node ?? process.execPath;
  if (!existsSync(node)) throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, `node ${node} does not exist.`, { remedy: 'Give the node binary with --node.' });
  const libraries = sharedLibrariesOf(node);
  const projectRoot = findProjectRoot();
  const projectFiles = projectRuntimeFiles(projectRoot);
  if (!projectFiles.some((file) => file.relativePath === 'dist/src/cli/main.js')) {
    throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, `${projectRoot} has no built dist/src/cli/main.js.`, { remedy: 'Build kexec-ts first (npm run build).' });
  }

  const dumpDir = options.dumpDir ?? DEFAULT_DUMP_DIR;
  let dumpDevice: string | undefined;
  let dumpFstype = options.dumpFstype;
  let directoryOnDevice = dumpDir;
  let dumpTarget: string;
  /** The drivers and filesystem the detected dump target needs, found here in sysfs. */
  const autoModules: string[] = [];
  if (options.dumpDevice === 'none') {
    dumpDevice = undefined;
    dumpTarget = 'none: the capture runs its hooks and saves nothing';
  } else if (options.dumpDevice !== undefined) {
    dumpDevice = options.dumpDevice;
    dumpTarget = `${dumpDevice}${dumpFstype !== undefined ? ` (${dumpFstype})` : ''}, directory ${dumpDir}`;
  } else {
    const detected = detectDumpTarget(dumpDir);
    autoModules.push(...driverModulesFor(detected.majorMinor), detected.fstype);
    dumpDevice = detected.device;
    dumpFstype ??= detected.fstype;
    directoryOnDevice = detected.directory;
    dumpTarget = `${detected.device}: ${detected.description}, directory ${detected.directory} on it (${dumpDir} here)`;
  }

  const modules = await loadModules(options, autoModules, notes);
  const config: CaptureConfig = {
    dumpDevice,
    dumpFstype,
    dumpMountOptions: options.dumpMountOptions ?? 'rw',
    dumpDir: directoryOnDevice,
    saveArguments: options.saveArguments ?? DEFAULT_SAVE_ARGUMENTS,
    modules: modules.map((module) => module.fileName),
    deviceTimeoutSeconds: options.deviceTimeoutSeconds ?? DEFAULT_DEVICE_TIMEOUT_SECONDS,
    onFailure: options.onFailure ?? 'reboot',
    finalAction: options.finalAction ?? 'reboot',
  };
  const configText = captureConfigText(config);

  mkdirSync(dirname(options.out), { recursive: true });
  const archivePath = join(dirname(options.out), `.${basename(options.out)}.${process.pid}.cpio`);
  const compressedPath = join(dirname(options.out), `.${basename(options.out)}.${process.pid}.tmp`);
  let archiveBytes: number;
  let entries = 0;
  try {
    const fd = openSync(archivePath, 'w');
    try {
      const writer = new NewcWriter(fd);
      for (const directory of DIRECTORIES) writer.directory(directory);
      writer.characterDevice('dev/console', 0o600, 5, 1);
      writer.hostFile('bin/busybox', busybox, 0o755);
      writer.file('init', captureInitScript(), 0o755);
      writer.file(CAPTURE_CONFIG_PATH, configText, 0o644);
      writer.hostFile('usr/bin/node', node, 0o755);
      for (const library of libraries) writer.hostFile(library, library, 0o755);
      writer.file('usr/bin/kexec-ts', captureLauncherScript(), 0o755);
      for (const file of projectFiles) writer.hostFile(`${CAPTURE_PROJECT_DIR}/${file.relativePath}`, file.hostPath);
      for (const module of modules) writer.file(`${CAPTURE_MODULES_DIR}/${module.fileName}`, module.bytes, 0o644);
      addHooks(writer, CAPTURE_PRE_HOOKS_DIR, options.preSaveHooks ?? []);
      addHooks(writer, CAPTURE_POST_HOOKS_DIR, options.postSaveHooks ?? []);
      for (const extra of options.include ?? []) writer.hostFile(extra.path, extra.hostPath);
      archiveBytes = writer.finish();
      entries = writer.entries;
    } finally {
      closeSync(fd);
    }
    if (options.gzip === false) {
      renameSync(archivePath, options.out);
    } else {
      let done = 0;
      const source = createReadStream(archivePath);
      source.on('data', (chunk) => {
        done += chunk.length;
        options.onProgress?.(done, archiveBytes);
      });
      await pipeline(source, createGzip({ level: 6 }), createWriteStream(compressedPath));
      renameSync(compressedPath, options.out);
    }
  } finally {
    rmSync(archivePath, { force: true });
    rmSync(compressedPath, { force: true });
  }
  return {
    path: options.out,
    sizeBytes: statSync(options.out).size,
    archiveBytes,
    entries,
    config,
    dumpTarget,
    node: { path: node, libraries },
    busybox,
    modules: modules.map((module) => module.fileName),
    notes,
    durationMs: performance.now() - started,
  };
}

function addHooks(writer: NewcWriter, directory: string, hooks: readonly string[]): void {
  hooks.forEach((hook, index) => {
    if (!existsSync(hook)) throw new UsageError(`The hook ${hook} does not exist.`);
    writer.hostFile(`${directory}/${String(index + 1).padStart(2, '0')}-${basename(hook)}`, hook, 0o755);
  });
}

/** The asked-for modules with their dependencies, decompressed (busybox insmod takes plain .ko files). */
async function loadModules(options: CaptureInitrdOptions, autoModules: readonly string[], notes: string[]): Promise<Array<{ fileName: string; bytes: Uint8Array }>> {
  const requested = options.modules ?? [];
  if (requested.length === 0 && autoModules.length === 0) return [];
  const release = options.kernelRelease ?? readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const modulesDir = options.modulesDir ?? `/lib/modules/${release}`;
  let depText: string;
  try {
    depText = readFileSync(join(modulesDir, 'modules.dep'), 'utf8');
  } catch (cause) {
    if (requested.length === 0) {
      notes.push(`no ${modulesDir}/modules.dep: the capture kernel must have the dump device's drivers (${autoModules.join(', ')}) built in`);
      return [];
    }
    throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, `No modules.dep in ${modulesDir}.`, { cause, remedy: 'Give the capture kernel\'s release (--kernel-release) or its modules directory (--modules-dir); run depmod there.' });
  }
  let builtinText = '';
  try {
    builtinText = readFileSync(join(modulesDir, 'modules.builtin'), 'utf8');
  } catch {
    // Without modules.builtin a built-in module is reported missing instead of skipped.
  }
  const index = parseModulesDep(depText, builtinText);
  const selection = selectModules(index, requested);
  if (selection.missing.length > 0) {
    throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, `No module ${selection.missing.join(', ')} in ${modulesDir}/modules.dep.`, { remedy: 'Check the names with `modinfo NAME`; built-in ones need no --module.' });
  }
  for (const name of selection.builtin) notes.push(`${name} is built into the kernel: nothing to load`);
  const automatic = selectModules(index, autoModules.filter((name) => !requested.includes(name)));
  if (automatic.loadOrder.length > 0) notes.push(`for the dump device, found in sysfs: ${automatic.loadOrder.map((path) => moduleName(path)).join(', ')}`);
  const modules: Array<{ fileName: string; bytes: Uint8Array }> = [];
  for (const relativePath of [...new Set([...selection.loadOrder, ...automatic.loadOrder])]) {
    const path = join(modulesDir, relativePath);
    modules.push({ fileName: `${moduleName(relativePath)}.ko`, bytes: await plainModule(readFileSync(path), path) });
  }
  return modules;
}

/** A module file as insmod needs it: .ko.xz, .ko.zst and .ko.gz are decompressed here. */
async function plainModule(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  const codec = detectCodec(bytes.subarray(0, 16));
  if (codec === undefined) return bytes;
  try {
    return await decompress(codec, bytes, { maxOutputBytes: LIMITS.kernelPayloadBytes });
  } catch (error) {
    if (error instanceof ParseError) throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, `The module ${path} cannot be decompressed: ${error.message}`, { cause: error, remedy: 'Reinstall the kernel\'s modules package.' });
    throw error;
  }
}
