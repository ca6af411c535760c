/**
 * An ISO 9660 image read in place, no mount: directories are read when a path needs them (one
 * bounded read each, kept in a small cache), files are read extent by extent in chunks.
 *
 *   const iso = openIso(source);                       // names: Rock Ridge, else Joliet, else plain
 *   iso.list('/isolinux');                             // [{ name, kind, sizeBytes, ... }]
 *   iso.stat('/install.amd/vmlinuz');                  // links followed; undefined when missing
 *   for (const chunk of iso.chunks(path, { maxBytes })) write(chunk);
 *
 * Three namespaces can describe the same files: Rock Ridge (POSIX names, case and symbolic links,
 * in the primary tree's System Use fields), Joliet (UCS-2 names up to 64 characters, a tree of
 * its own) and the plain ECMA-119 names (upper-case 8.3 at level 1). The default is the richest
 * the image has, as Linux chooses; plain names are shown as Linux's `map=normal` shows them
 * (lower case, no `;1`) and matched without regard to case. Every size, count and chain comes
 * from the image and is bounded by ISO9660_LIMITS; a lie ends in a ParseError. Pure: bytes come
 * from the IsoSource.
 */
import { ErrorCode, ParseError, ValidationError } from '../../errors.js';
import { ISO9660_LIMITS } from '../../limits.js';
import { parseDirectoryRecords } from './directory.js';
import { readElToritoCatalog, type ElToritoCatalog } from './el-torito.js';
import { FileFlags, LOGICAL_SECTOR_BYTES } from './layout.js';
import {
  directoryNodes,
  publicEntry,
  recordNode,
  type IsoDirectoryEntry,
  type IsoFileInfo,
  type IsoNameSpace,
  type IsoNode,
  type NodeContext,
} from './nodes.js';
import { invalid, ISO9660_FORMAT, limitExceeded, readExactly, type IsoSource } from './source.js';
import { declaresRockRidge, readSuspEntries, suspSkipBytes } from './susp.js';
import { readVolumeDescriptors, type IsoVolumeInfo, type VolumeDescriptorSet } from './volume.js';

export type { IsoNameSpace, IsoEntryKind, IsoDirectoryEntry, IsoExtent, IsoFileInfo } from './nodes.js';

export interface OpenIsoOptions {
  /** Which names to read; `auto` (default) takes Rock Ridge, else Joliet, else plain. */
  names?: 'auto' | IsoNameSpace;
}

export interface ReadIsoFileOptions {
  /** Refuse (FORMAT_LIMIT_EXCEEDED) a file larger than this, before reading any of it. */
  maxBytes: number;
}

export interface IsoChunkOptions extends ReadIsoFileOptions {
  /** Bytes per chunk; default 1 MiB. */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

export class Iso {
  readonly volume: IsoVolumeInfo;
  /** The namespace names come from. */
  readonly nameSpace: IsoNameSpace;
  /** Every namespace the image records, richest first. */
  readonly nameSpaces: IsoNameSpace[];
  readonly sizeBytes: number;
  private readonly root: IsoNode;
  private readonly context: NodeContext;
  private readonly bootCatalogSector: number | undefined;
  private readonly directories = new Map<number, { nodes: IsoNode[]; sizeBytes: number }>();
  private cachedBytes = 0;

  constructor(
    private readonly source: IsoSource,
    descriptors: VolumeDescriptorSet,
    nameSpace: IsoNameSpace,
    nameSpaces: IsoNameSpace[],
    suspSkip: number,
  ) {
    this.volume = descriptors.volume;
    this.nameSpace = nameSpace;
    this.nameSpaces = nameSpaces;
    this.sizeBytes = source.sizeBytes;
    this.bootCatalogSector = descriptors.bootCatalogSector;
    const rootRecord = nameSpace === 'joliet' ? descriptors.joliet!.root : descriptors.primaryRoot;
    this.context = { source, nameSpace, logicalBlockBytes: descriptors.volume.logicalBlockBytes, suspSkip };
    this.root = { ...recordNode(this.context, rootRecord, '/'), kind: 'directory' };
  }

  /** Entries of a directory (links followed), in recorded order; undefined when it is not one. */
  list(dir: string): IsoDirectoryEntry[] | undefined {
    const found = this.resolve(dir, true);
    if (found === undefined || found.node.kind !== 'directory') return undefined;
    return this.children(found.node).map(publicEntry);
  }

  /** What `path` names, symbolic links followed; undefined when nothing does. */
  stat(path: string): IsoFileInfo | undefined {
    return this.info(path, true);
  }

  /** As stat, but a symbolic link at the end of the path is described, not followed. */
  lstat(path: string): IsoFileInfo | undefined {
    return this.info(path, false);
  }

  /** A regular file's bytes, whole. INPUT_NOT_FOUND / INPUT_NOT_REGULAR_FILE when it is not one. */
  readFile(path: string, options: ReadIsoFileOptions): Uint8Array {
    const node = this.regularFile(path, options.maxBytes);
    const bytes = new Uint8Array(node.sizeBytes);
    let filled = 0;
    for (const chunk of this.extentChunks(node, DEFAULT_CHUNK_BYTES)) {
      bytes.set(chunk, filled);
      filled += chunk.length;
    }
    return bytes;
  }

  /**
   * A regular file's bytes in chunks of at most `chunkBytes`, in order. Every extent is checked
   * to lie inside the image before the first chunk, so a lying one fails before any output.
   */
  *chunks(path: string, options: IsoChunkOptions): Generator<Uint8Array> {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0) throw new RangeError(`chunkBytes must be a positive integer, not ${chunkBytes}`);
    yield* this.extentChunks(this.regularFile(path, options.maxBytes), chunkBytes);
  }

  /**
   * Every entry under `dir`, depth first, with its path. A directory met twice (an extent
   * pointing at an ancestor) is not entered again; deeper than ISO9660_LIMITS.directoryDepth
   * is FORMAT_LIMIT_EXCEEDED.
   */
  *walk(dir = '/'): Generator<{ path: string; entry: IsoDirectoryEntry }> {
    const start = this.resolve(dir, true);
    if (start === undefined || start.node.kind !== 'directory') return;
    const visited = new Set<number>([start.node.extents[0]?.offset ?? -1]);
    const stack: { path: string; node: IsoNode; depth: number }[] = [{ path: start.path, node: start.node, depth: 0 }];
    while (stack.length > 0) {
      const { path, node, depth } = stack.pop()!;
      const children = this.children(node);
      const subdirectories: { path: string; node: IsoNode; depth: number }[] = [];
      for (const child of children) {
        const childPath = path === '/' ? `/${child.name}` : `${path}/${child.name}`;
        yield { path: childPath, entry: publicEntry(child) };
        if (child.kind !== 'directory') continue;
        const key = child.extents[0]?.offset ?? -1;
        if (visited.has(key)) continue;
        visited.add(key);
        if (depth + 1 > ISO9660_LIMITS.directoryDepth) throw limitExceeded(`directories nested deeper than ${ISO9660_LIMITS.directoryDepth} at ${childPath}`);
        subdirectories.push({ path: childPath, node: child, depth: depth + 1 });
      }
      stack.push(...subdirectories.reverse());
    }
  }

  /** The El Torito boot catalog, when the image has a boot record (read on demand). */
  bootCatalog(): ElToritoCatalog | undefined {
    return this.bootCatalogSector === undefined ? undefined : readElToritoCatalog(this.source, this.bootCatalogSector);
  }

  private info(path: string, followLast: boolean): IsoFileInfo | undefined {
    const found = this.resolve(path, followLast);
    if (found === undefined) return undefined;
    return { ...publicEntry(found.node), path: found.path, extents: found.node.extents.map((extent) => ({ ...extent })) };
  }

  private regularFile(path: string, maxBytes: number): IsoNode {
    const found = this.resolve(path, true);
    if (found === undefined) throw new ValidationError(ErrorCode.INPUT_NOT_FOUND, `${path} is not in the image`, { path });
    const node = found.node;
    if (node.kind !== 'file') throw new ValidationError(ErrorCode.INPUT_NOT_REGULAR_FILE, `${path} is a ${node.kind} in the image, not a regular file`, { path });
    if (node.sizeBytes > maxBytes) {
      throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, ISO9660_FORMAT, `${found.path} is ${node.sizeBytes} bytes; at most ${maxBytes} are read`);
    }
    if (node.interleaved) throw invalid(`${found.path} is recorded interleaved (File Unit Size, Interleave Gap Size), which is not read`);
    for (const extent of node.extents) {
      if (extent.offset + extent.sizeBytes > this.source.sizeBytes) {
        throw new ParseError(ErrorCode.FORMAT_TRUNCATED, ISO9660_FORMAT, `${found.path}: an extent of ${extent.sizeBytes} bytes at ${extent.offset} ends past the image's ${this.source.sizeBytes} bytes`, { offset: extent.offset });
      }
    }
    return node;
  }

  private *extentChunks(node: IsoNode, chunkBytes: number): Generator<Uint8Array> {
    for (const extent of node.extents) {
      for (let done = 0; done < extent.sizeBytes; done += chunkBytes) {
        yield readExactly(this.source, extent.offset + done, Math.min(chunkBytes, extent.sizeBytes - done), 'file extent');
      }
    }
  }

  /**
   * Walks `path` from the root like a chroot would: `..` at the top stays there, an absolute
   * link target starts again from the root. Undefined for a missing component, a file used as
   * a directory, or more than ISO9660_LIMITS.symlinkHops links (a loop).
   */
  private resolve(path: string, followLast: boolean): { node: IsoNode; path: string } | undefined {
    let stack: IsoNode[] = [this.root];
    const pending = path.split('/');
    let components = 0;
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (++components > ISO9660_LIMITS.pathComponents) throw limitExceeded(`a path of more than ${ISO9660_LIMITS.pathComponents} components (links included): ${path}`);
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      const current = stack[stack.length - 1]!;
      if (current.kind !== 'directory') return undefined;
      const child = this.findChild(current, part);
      if (child === undefined) return undefined;
      if (child.kind === 'symlink' && (followLast || pending.some((rest) => rest !== '' && rest !== '.'))) {
        if (++hops > ISO9660_LIMITS.symlinkHops) return undefined;
        const target = child.linkTarget ?? '';
        if (target.startsWith('/')) stack = [this.root];
        pending.unshift(...target.split('/'));
        continue;
      }
      stack.push(child);
    }
    return { node: stack[stack.length - 1]!, path: `/${stack.slice(1).map((node) => node.name).join('/')}` };
  }

  private findChild(dir: IsoNode, name: string): IsoNode | undefined {
    const children = this.children(dir);
    const exact = children.find((child) => child.name === name);
    if (exact !== undefined || this.nameSpace !== 'plain') return exact;
    const lower = name.toLowerCase();
    return children.find((child) => child.name === lower);
  }

  private children(dir: IsoNode): IsoNode[] {
    const extent = dir.extents[0];
    if (extent === undefined || extent.sizeBytes === 0) return [];
    const cached = this.directories.get(extent.offset);
    if (cached !== undefined) return cached.nodes;
    if (extent.sizeBytes > ISO9660_LIMITS.directoryBytes) {
      throw limitExceeded(`a directory of ${extent.sizeBytes} bytes; at most ${ISO9660_LIMITS.directoryBytes} are read`, extent.offset);
    }
    const bytes = readExactly(this.source, extent.offset, extent.sizeBytes, 'directory');
    const nodes = directoryNodes(this.context, parseDirectoryRecords(bytes, extent.offset));
    this.directories.set(extent.offset, { nodes, sizeBytes: extent.sizeBytes });
    this.cachedBytes += extent.sizeBytes;
    // Oldest first (a Map keeps insertion order); the directory just read stays.
    for (const [key, value] of this.directories) {
      if (this.cachedBytes <= ISO9660_LIMITS.directoryCacheBytes || key === extent.offset) break;
      this.cachedBytes -= value.sizeBytes;
      this.directories.delete(key);
    }
    return nodes;
  }

}

/** Reads the volume descriptors and the root, and picks the namespace (see the module comment). */
export function openIso(source: IsoSource, options: OpenIsoOptions = {}): Iso {
  const descriptors = readVolumeDescriptors(source);
  const blockBytes = descriptors.volume.logicalBlockBytes;
  const root = descriptors.primaryRoot;
  if ((root.flags & FileFlags.DIRECTORY) === 0) throw invalid('the root directory record is not flagged as a directory', root.offset, 'File_Flags');
  // SUSP and Rock Ridge are announced in the System Use field of the root's own `.` record.
  const rootOffset = (root.extentBlock + root.extendedAttributeBlocks) * blockBytes;
  const firstSector = readExactly(source, rootOffset, Math.min(LOGICAL_SECTOR_BYTES, root.dataLength), 'root directory');
  const self = firstSector.length > 0 && firstSector[0]! > 0 ? parseDirectoryRecords(firstSector.subarray(0, firstSector[0]), rootOffset)[0] : undefined;
  const skip = self === undefined ? undefined : suspSkipBytes(self.systemUse);
  const rockRidge = self !== undefined && skip !== undefined &&
    declaresRockRidge(readSuspEntries(source, self.systemUse, self.systemUseOffset, 0, blockBytes));
  const available: IsoNameSpace[] = [];
  if (rockRidge) available.push('rock-ridge');
  if (descriptors.joliet !== undefined) available.push('joliet');
  available.push('plain');
  const wanted = options.names ?? 'auto';
  const chosen = wanted === 'auto' ? available[0]! : wanted;
  if (!available.includes(chosen)) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, ISO9660_FORMAT, `the image records no ${chosen === 'joliet' ? 'Joliet' : 'Rock Ridge'} names (it has: ${available.join(', ')})`);
  }
  return new Iso(source, descriptors, chosen, available, skip ?? 0);
}
