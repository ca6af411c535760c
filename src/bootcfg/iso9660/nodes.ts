/**
 * A directory's records -> the entries one namespace shows: the name (Rock Ridge NM, Joliet
 * UCS-2 or the plain identifier), the kind and size, a file's extents (several records for a
 * multi-extent file, ECMA-119 9.1.6), Rock Ridge's links, modes, times and relocations. `.`,
 * `..`, associated files and Rock Ridge's relocated directories (RE) are not shown. Pure.
 */
import { ISO9660_LIMITS } from '../../limits.js';
import { isSelfOrParent, jolietName, parseDirectoryRecords, plainName, recordDate, type RawDirectoryRecord } from './directory.js';
import { FileFlags, LOGICAL_SECTOR_BYTES } from './layout.js';
import { rockRidgeAttributes, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './rock-ridge.js';
import { invalid, limitExceeded, readExactly, type IsoSource } from './source.js';
import { readSuspEntries } from './susp.js';

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

export interface IsoNode extends IsoDirectoryEntry {
  extents: IsoExtent[];
  /** File Unit Size or Interleave Gap Size set: interleaved recording, which is not read. */
  interleaved: boolean;
}

/** What turning records into entries needs to know about the image. */
export interface NodeContext {
  source: IsoSource;
  nameSpace: IsoNameSpace;
  logicalBlockBytes: number;
  /** The SP entry's LEN_SKP. */
  suspSkip: number;
}

function extentOf(context: NodeContext, record: RawDirectoryRecord): IsoExtent {
  return { offset: (record.extentBlock + record.extendedAttributeBlocks) * context.logicalBlockBytes, sizeBytes: record.dataLength };
}

/** The entry a record makes before any namespace has named it (the root's, or a start for others). */
export function recordNode(context: NodeContext, record: RawDirectoryRecord, name: string): IsoNode {
  const node: IsoNode = { name, kind: 'file', sizeBytes: record.dataLength, extents: [extentOf(context, record)], interleaved: false };
  const modifiedAt = recordDate(record.recordedAt);
  if (modifiedAt !== undefined) node.modifiedAt = modifiedAt;
  return node;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** Records -> entries: `.`, `..` and associated files dropped, multi-extent records joined. */
export function directoryNodes(context: NodeContext, records: RawDirectoryRecord[]): IsoNode[] {
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
    const node = nodeOf(context, group);
    group = [];
    if (node !== undefined) nodes.push(node);
  }
  if (group.length > 0) throw invalid('the directory ends inside a multi-extent file (its last record has the Multi-Extent flag)', group[group.length - 1]!.offset, 'File_Flags');
  return nodes;
}

/** One entry from its records (more than one for a multi-extent file); undefined to hide it. */
function nodeOf(context: NodeContext, records: RawDirectoryRecord[]): IsoNode | undefined {
  const first = records[0]!;
  const isDirectory = (first.flags & FileFlags.DIRECTORY) !== 0;
  if (isDirectory && records.length > 1) throw invalid('a directory recorded in several extents', first.offset, 'File_Flags');
  const extents = records.map((record) => extentOf(context, record));
  const node: IsoNode = {
    ...recordNode(context, first, ''),
    kind: isDirectory ? 'directory' : 'file',
    extents,
    sizeBytes: extents.reduce((sum, extent) => sum + extent.sizeBytes, 0),
    interleaved: records.some((record) => record.fileUnitSize !== 0 || record.interleaveGapSize !== 0),
  };
  node.name = context.nameSpace === 'joliet' ? jolietName(first.identifier, first.offset) : plainName(first.identifier);
  if (context.nameSpace === 'rock-ridge') {
    const rockRidge = rockRidgeAttributes(readSuspEntries(context.source, first.systemUse, first.systemUseOffset, context.suspSkip, context.logicalBlockBytes));
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
    if (rockRidge.childDirectoryBlock !== undefined) relocatedDirectory(context, node, rockRidge.childDirectoryBlock, first.offset);
  }
  if (node.name === '' || node.name === '.' || node.name === '..' || /[/\0]/.test(node.name)) {
    throw invalid(`a file name "${node.name.replace(/\0/g, '\\0')}" that cannot be a path component`, first.offset, 'File_Identifier');
  }
  return node;
}

/** CL: the placeholder becomes the directory moved to `block`; its size is that directory's own `.` record's. */
function relocatedDirectory(context: NodeContext, node: IsoNode, block: number, recordOffset: number): void {
  const offset = block * context.logicalBlockBytes;
  const head = readExactly(context.source, offset, Math.min(LOGICAL_SECTOR_BYTES, Math.max(0, context.source.sizeBytes - offset)), 'relocated directory (CL)');
  const self = parseDirectoryRecords(head.subarray(0, head[0] ?? 0), offset)[0];
  if (self === undefined || !isSelfOrParent(self.identifier) || (self.flags & FileFlags.DIRECTORY) === 0) {
    throw invalid('a CL entry points at no directory', recordOffset, 'CL.Location_of_Child_Directory');
  }
  node.kind = 'directory';
  node.extents = [extentOf(context, self)];
  node.sizeBytes = self.dataLength;
}

export function publicEntry(node: IsoNode): IsoDirectoryEntry {
  const entry: IsoDirectoryEntry = { name: node.name, kind: node.kind, sizeBytes: node.sizeBytes };
  if (node.linkTarget !== undefined) entry.linkTarget = node.linkTarget;
  if (node.mode !== undefined) entry.mode = node.mode;
  if (node.modifiedAt !== undefined) entry.modifiedAt = node.modifiedAt;
  return entry;
}
