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
import { isSelfOrParent, jolietName, parseDirectoryRecords, plainName, recordDate, type RawDirectoryRecord } from './directory.js';
import { readElToritoCatalog, type ElToritoCatalog } from './el-torito.js';
import { FileFlags, LOGICAL_SECTOR_BYTES } from './layout.js';
import { rockRidgeAttributes, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './rock-ridge.js';
import { invalid, ISO9660_FORMAT, limitExceeded, readExactly, type IsoSource } from './source.js';
import { declaresRockRidge, readSuspEntries, suspSkipBytes } from './susp.js';
import { readVolumeDescriptors, type IsoVolumeInfo, type VolumeDescriptorSet } from './volume.js';

export type IsoNameSpace = 'rock-ridge' | 'joliet' | 'plain';
export type IsoEntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface IsoDirectoryEntry {
  name: string;
  kind: IsoEntryKind;
  /** Bytes of data: the sum of a file's extents, a directory's records. */
  sizeBytes: number;
  /** Rock Ridge: a symbolic link's target as recorded. */
  linkTarget?: string;
  /** Rock Ridge: the POSIX mode (type and permission bits). */
  mode?: number;
  /** ISO 8601 UTC: Rock Ridge's modification time, else the record's date. */
  modifiedAt?: string;
}

/** A byte range of the image holding (part of) a file's data. */
export interface IsoExtent {
  offset: number;
  sizeBytes: number;
}

export interface IsoFileInfo extends IsoDirectoryEntry {
  /** The path as found: normalized, symbolic links resolved (except the last one for lstat). */
  path: string;
  extents: IsoExtent[];
}

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

interface IsoNode extends IsoDirectoryEntry {
  extents: IsoExtent[];
  /** File Unit Size or Interleave Gap Size set: interleaved recording, which we do not read. */
  interleaved: boolean;
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
  private readonly suspSkip: number;
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
    this.suspSkip = suspSkip;
    this.bootCatalogSector = descriptors.bootCatalogSector;
    const rootRecord = nameSpace === 'joliet' ? descriptors.joliet!.root : descriptors.primaryRoot;
    this.root = { ...this.plainNode(rootRecord, '/'), kind: 'directory' };
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
    const nodes = this.nodesOf(parseDirectoryRecords(bytes, extent.offset));
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

  /** Records -> entries: `.`, `..` and associated files dropped, multi-extent records joined. */
  private nodesOf(records: RawDirectoryRecord[]): IsoNode[] {
    const nodes: IsoNode[] = [];
    let group: RawDirectoryRecord[] = [];
    for (const record of records) {
      if (isSelfOrParent(record.identifier) || (record.flags & FileFlags.ASSOCIATED_FILE) !== 0) continue;
      if (group.length > 0 && !sameBytes(group[0]!.identifier, record.identifier)) {
        throw invalid('a multi-extent file\'s records are followed by another name before its last extent', record.offset, 'File_Flags');
      }
      group.push(record);
      if (group.length > ISO9660_LIMITS.fileExtents) throw limitExceeded(`a file of more than ${ISO9660_LIMITS.fileExtents} extents`, record.offset);
      if ((record.flags & FileFlags.MULTI_EXTENT) !== 0) continue;
      const node = this.nodeOf(group);
      group = [];
      if (node !== undefined) nodes.push(node);
    }
    if (group.length > 0) throw invalid('the directory ends inside a multi-extent file (its last record has the Multi-Extent flag)', group[group.length - 1]!.offset, 'File_Flags');
    return nodes;
  }

  /** One entry from its records (more than one for a multi-extent file); undefined to hide it. */
  private nodeOf(records: RawDirectoryRecord[]): IsoNode | undefined {
    const first = records[0]!;
    const isDirectory = (first.flags & FileFlags.DIRECTORY) !== 0;
    if (isDirectory && records.length > 1) throw invalid('a directory recorded in several extents', first.offset, 'File_Flags');
    const extents = records.map((record) => this.extentOf(record));
    const node: IsoNode = {
      ...this.plainNode(first, ''),
      kind: isDirectory ? 'directory' : 'file',
      extents,
      sizeBytes: extents.reduce((sum, extent) => sum + extent.sizeBytes, 0),
      interleaved: records.some((record) => record.fileUnitSize !== 0 || record.interleaveGapSize !== 0),
    };
    if (this.nameSpace === 'joliet') node.name = jolietName(first.identifier, first.offset);
    else node.name = plainName(first.identifier);
    if (this.nameSpace === 'rock-ridge') {
      const rockRidge = rockRidgeAttributes(readSuspEntries(this.source, first.systemUse, first.systemUseOffset, this.suspSkip, this.volume.logicalBlockBytes));
      if (rockRidge.relocated || rockRidge.selfOrParent) return undefined;
      if (rockRidge.name !== undefined) node.name = rockRidge.name;
      if (rockRidge.mode !== undefined) node.mode = rockRidge.mode;
      if (rockRidge.modifiedAt !== undefined) node.modifiedAt = rockRidge.modifiedAt;
      const type = rockRidge.mode === undefined ? undefined : rockRidge.mode & S_IFMT;
      if (!isDirectory && (rockRidge.linkTarget !== undefined || type === S_IFLNK)) {
        node.kind = 'symlink';
        node.linkTarget = rockRidge.linkTarget ?? '';
        node.sizeBytes = Buffer.byteLength(node.linkTarget);
      } else if (!isDirectory && type !== undefined && type !== S_IFREG && type !== S_IFDIR) {
        node.kind = 'other';
      }
      if (rockRidge.childDirectoryBlock !== undefined) this.relocatedDirectory(node, rockRidge.childDirectoryBlock, first.offset);
    }
    if (node.name === '' || node.name === '.' || node.name === '..' || /[/\0]/.test(node.name)) {
      throw invalid(`a file name "${node.name.replace(/\0/g, '\\0')}" that cannot be a path component`, first.offset, 'File_Identifier');
    }
    return node;
  }

  /** CL: the placeholder becomes the directory moved to `block`; its size is that directory's own `.` record's. */
  private relocatedDirectory(node: IsoNode, block: number, recordOffset: number): void {
    const offset = block * this.volume.logicalBlockBytes;
    const head = readExactly(this.source, offset, Math.min(LOGICAL_SECTOR_BYTES, Math.max(0, this.source.sizeBytes - offset)), 'relocated directory (CL)');
    const self = parseDirectoryRecords(head.subarray(0, head[0] ?? 0), offset)[0];
    if (self === undefined || !isSelfOrParent(self.identifier) || (self.flags & FileFlags.DIRECTORY) === 0) {
      throw invalid('a CL entry points at no directory', recordOffset, 'CL.Location_of_Child_Directory');
    }
    node.kind = 'directory';
    node.extents = [this.extentOf(self)];
    node.sizeBytes = self.dataLength;
  }

  private extentOf(record: RawDirectoryRecord): IsoExtent {
    return { offset: (record.extentBlock + record.extendedAttributeBlocks) * this.volume.logicalBlockBytes, sizeBytes: record.dataLength };
  }

  private plainNode(record: RawDirectoryRecord, name: string): IsoNode {
    const node: IsoNode = { name, kind: 'file', sizeBytes: record.dataLength, extents: [this.extentOf(record)], interleaved: false };
    const modifiedAt = recordDate(record.recordedAt);
    if (modifiedAt !== undefined) node.modifiedAt = modifiedAt;
    return node;
  }
}

function publicEntry(node: IsoNode): IsoDirectoryEntry {
  const entry: IsoDirectoryEntry = { name: node.name, kind: node.kind, sizeBytes: node.sizeBytes };
  if (node.linkTarget !== undefined) entry.linkTarget = node.linkTarget;
  if (node.mode !== undefined) entry.mode = node.mode;
  if (node.modifiedAt !== undefined) entry.modifiedAt = node.modifiedAt;
  return entry;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
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
