import { ByteView } from '../binary/byte-view.js';

/**
 * What an initrd may be, by its first bytes: the cpio archives the kernel's initramfs unpacker
 * reads (init/initramfs.c: "070701" newc, "070702" newc with checksums; Documentation/
 * driver-api/early-userspace/buffer-format.rst), and the filesystem images of the old initrd
 * mechanism (init/do_mounts_rd.c identifies romfs, cramfs, squashfs, minix and ext2).
 */
export type InitrdKind = 'cpio-newc' | 'cpio-newc-crc' | 'romfs' | 'cramfs' | 'squashfs' | 'ext2' | 'minix';

export function detectInitrdKind(head: Uint8Array): InitrdKind | undefined {
  const view = new ByteView(head, 'initrd');
  if (view.matches(0, '070701')) return 'cpio-newc';
  if (view.matches(0, '070702')) return 'cpio-newc-crc';
  if (view.matches(0, '-rom1fs-')) return 'romfs';
  if (view.has(0, 4) && view.u32(0, 'cramfs magic') === 0x28cd3d45) return 'cramfs';
  if (view.matches(0, 'hsqs')) return 'squashfs';
  // ext2 and minix keep their superblock at 1024; ext2's magic is at offset 56 in it.
  if (view.has(1024 + 56, 2) && view.u16(1024 + 56, 'ext2 s_magic') === 0xef53) return 'ext2';
  if (view.has(1024 + 16, 2) && [0x137f, 0x138f].includes(view.u16(1024 + 16, 'minix s_magic'))) return 'minix';
  return undefined;
}
