/**
 * The on-disc structures, declared once. Field names are the specs' own with spaces as
 * underscores, so they can be grepped against them: ECMA-119 4th edition (2019) for volume
 * descriptors and directory records, the El Torito Bootable CD-ROM Format Specification 1.0 for
 * the boot record and catalog, IEEE P1281 (SUSP 1.12) and P1282 (RRIP 1.12) for System Use
 * entries. Offsets are the specs' BP (byte position) minus one.
 *
 * ECMA-119 records most numbers twice, little- then big-endian (7.2.3, 7.3.3). Only the
 * little-endian half is declared and read, as Linux (isonum_733) and GRUB do: mastering tools
 * have written wrong big-endian halves, never wrong little-endian ones.
 */
import { defineLayout } from '../../binary/layout.js';

/** ISO 9660 logical sectors are 2048 bytes whatever the logical block size (ECMA-119 6.1.2). */
export const LOGICAL_SECTOR_BYTES = 2048;
/** The volume descriptor set starts at logical sector 16, after the System Area (ECMA-119 6.2.1). */
export const VOLUME_DESCRIPTOR_SET_SECTOR = 16;
export const STANDARD_IDENTIFIER = 'CD001';

/** ECMA-119 8.1.1, Volume Descriptor Type. */
export const VolumeDescriptorType = {
  BOOT_RECORD: 0,
  PRIMARY: 1,
  SUPPLEMENTARY: 2,
  PARTITION: 3,
  TERMINATOR: 255,
} as const;

/** ECMA-119 8.1: the part every volume descriptor shares. */
export const VOLUME_DESCRIPTOR_HEADER = defineLayout('Volume Descriptor', 7, {
  Volume_Descriptor_Type: { offset: 0, type: 'u8' },
  Standard_Identifier: { offset: 1, type: { string: 5 } },
  Volume_Descriptor_Version: { offset: 6, type: 'u8' },
});

/**
 * ECMA-119 8.4 Primary Volume Descriptor and 8.5 Supplementary Volume Descriptor: the same
 * fields, the supplementary one adding Volume Flags and Escape Sequences (Joliet's UCS-2 level).
 * Identifiers are bytes: a-characters in the primary, UCS-2 big-endian in Joliet's.
 */
export const VOLUME_DESCRIPTOR = defineLayout('Primary Volume Descriptor', 2048, {
  Volume_Descriptor_Type: { offset: 0, type: 'u8' },
  Standard_Identifier: { offset: 1, type: { string: 5 } },
  Volume_Descriptor_Version: { offset: 6, type: 'u8' },
  Volume_Flags: { offset: 7, type: 'u8' },
  System_Identifier: { offset: 8, type: { bytes: 32 } },
  Volume_Identifier: { offset: 40, type: { bytes: 32 } },
  Volume_Space_Size: { offset: 80, type: 'u32' },
  Escape_Sequences: { offset: 88, type: { bytes: 32 } },
  Volume_Set_Size: { offset: 120, type: 'u16' },
  Volume_Sequence_Number: { offset: 124, type: 'u16' },
  Logical_Block_Size: { offset: 128, type: 'u16' },
  Path_Table_Size: { offset: 132, type: 'u32' },
  Directory_Record_for_Root_Directory: { offset: 156, type: { bytes: 34 } },
  Volume_Set_Identifier: { offset: 190, type: { bytes: 128 } },
  Publisher_Identifier: { offset: 318, type: { bytes: 128 } },
  Data_Preparer_Identifier: { offset: 446, type: { bytes: 128 } },
  Application_Identifier: { offset: 574, type: { bytes: 128 } },
  Volume_Creation_Date_and_Time: { offset: 813, type: { bytes: 17 } },
  Volume_Modification_Date_and_Time: { offset: 830, type: { bytes: 17 } },
  File_Structure_Version: { offset: 881, type: 'u8' },
});

/** ECMA-119 8.2 Boot Record, with El Torito's catalog pointer (El Torito 2.0, offset 47h). */
export const BOOT_RECORD = defineLayout('Boot Record', 2048, {
  Boot_Record_Indicator: { offset: 0, type: 'u8' },
  ISO_9660_Identifier: { offset: 1, type: { string: 5 } },
  Version_of_this_descriptor: { offset: 6, type: 'u8' },
  Boot_System_Identifier: { offset: 7, type: { string: 32 } },
  Absolute_pointer_to_first_sector_of_Boot_Catalog: { offset: 0x47, type: 'u32' },
});
export const EL_TORITO_BOOT_SYSTEM_IDENTIFIER = 'EL TORITO SPECIFICATION';

/** ECMA-119 9.1 Directory Record: the fixed part; File Identifier, padding and System Use follow. */
export const DIRECTORY_RECORD = defineLayout('Directory Record', 33, {
  Length_of_Directory_Record: { offset: 0, type: 'u8' },
  Extended_Attribute_Record_Length: { offset: 1, type: 'u8' },
  Location_of_Extent: { offset: 2, type: 'u32' },
  Data_Length: { offset: 10, type: 'u32' },
  Recording_Date_and_Time: { offset: 18, type: { bytes: 7 } },
  File_Flags: { offset: 25, type: 'u8' },
  File_Unit_Size: { offset: 26, type: 'u8' },
  Interleave_Gap_Size: { offset: 27, type: 'u8' },
  Volume_Sequence_Number: { offset: 28, type: 'u16' },
  Length_of_File_Identifier: { offset: 32, type: 'u8' },
});

/** ECMA-119 9.1.6, File Flags bits. */
export const FileFlags = {
  EXISTENCE: 1 << 0,
  DIRECTORY: 1 << 1,
  ASSOCIATED_FILE: 1 << 2,
  RECORD: 1 << 3,
  PROTECTION: 1 << 4,
  MULTI_EXTENT: 1 << 7,
} as const;

/** El Torito 2.1 Validation Entry (the catalog's first 32 bytes). */
export const VALIDATION_ENTRY = defineLayout('Validation Entry', 32, {
  Header_ID: { offset: 0, type: 'u8' },
  Platform_ID: { offset: 1, type: 'u8' },
  ID_string: { offset: 4, type: { string: 24 } },
  Checksum_Word: { offset: 0x1c, type: 'u16' },
  Key_byte_55: { offset: 0x1e, type: 'u8' },
  Key_byte_AA: { offset: 0x1f, type: 'u8' },
});

/** El Torito 2.2 Initial/Default Entry and 2.4 Section Entry (the latter adds selection criteria). */
export const BOOT_ENTRY = defineLayout('Section Entry', 32, {
  Boot_Indicator: { offset: 0, type: 'u8' },
  Boot_media_type: { offset: 1, type: 'u8' },
  Load_Segment: { offset: 2, type: 'u16' },
  System_Type: { offset: 4, type: 'u8' },
  Sector_Count: { offset: 6, type: 'u16' },
  Load_RBA: { offset: 8, type: 'u32' },
  Selection_criteria_type: { offset: 0x0c, type: 'u8' },
});

/** El Torito 2.3 Section Header Entry. */
export const SECTION_HEADER_ENTRY = defineLayout('Section Header Entry', 32, {
  Header_Indicator: { offset: 0, type: 'u8' },
  Platform_ID: { offset: 1, type: 'u8' },
  Number_of_section_entries_following: { offset: 2, type: 'u16' },
  ID_string: { offset: 4, type: { string: 28 } },
});

/** El Torito 2.5 Section Entry Extension: Flags bit 5 says another extension follows. */
export const SECTION_ENTRY_EXTENSION = defineLayout('Section Entry Extension', 32, {
  Extension_Indicator: { offset: 0, type: 'u8' },
  Flags: { offset: 1, type: 'u8' },
});

/** SUSP 4.1: every System Use Entry starts so. */
export const SYSTEM_USE_ENTRY = defineLayout('System Use Entry', 4, {
  Signature_Word: { offset: 0, type: { string: 2 } },
  Length: { offset: 2, type: 'u8' },
  System_Use_Entry_Version: { offset: 3, type: 'u8' },
});

/** SUSP 5.3 "SP": SUSP is in use; bytes to skip at the start of every System Use field. */
export const SUSP_SP = defineLayout('SP', 7, {
  Check_Bytes: { offset: 4, type: { bytes: 2 } },
  LEN_SKP: { offset: 6, type: 'u8' },
});

/** SUSP 5.1 "CE": the entries go on in a Continuation Area elsewhere in the image. */
export const SUSP_CE = defineLayout('CE', 28, {
  Block_Location_of_Continuation_Area: { offset: 4, type: 'u32' },
  Offset_to_Start_of_Continuation_Area: { offset: 12, type: 'u32' },
  Length_of_the_Continuation_Area: { offset: 20, type: 'u32' },
});

/** SUSP 5.5 "ER": which extension (Rock Ridge: RRIP_1991A, IEEE_P1282, IEEE_1282) is recorded. */
export const SUSP_ER = defineLayout('ER', 8, {
  LEN_ID: { offset: 4, type: 'u8' },
  LEN_DES: { offset: 5, type: 'u8' },
  LEN_SRC: { offset: 6, type: 'u8' },
  EXT_VER: { offset: 7, type: 'u8' },
});

/** RRIP 4.1.1 "PX": POSIX file attributes (44 bytes in RRIP 1.12, 36 without the serial number before). */
export const RRIP_PX = defineLayout('PX', 36, {
  POSIX_File_Mode: { offset: 4, type: 'u32' },
  POSIX_File_Links: { offset: 12, type: 'u32' },
  POSIX_File_User_ID: { offset: 20, type: 'u32' },
  POSIX_File_Group_ID: { offset: 28, type: 'u32' },
});

/** RRIP 4.1.4 "NM" and 4.1.3 "SL": a flags byte, then the name or the component records. */
export const RRIP_FLAGS_ENTRY = defineLayout('NM/SL', 5, {
  Flags: { offset: 4, type: 'u8' },
});

/** RRIP 4.1.3.1: one component of a symbolic link's target. */
export const RRIP_SL_COMPONENT = defineLayout('SL Component Record', 2, {
  Component_Flags: { offset: 0, type: 'u8' },
  Component_Length: { offset: 1, type: 'u8' },
});

/** RRIP 4.1.5.1 "CL": where a relocated directory really is (deep directory relocation). */
export const RRIP_CL = defineLayout('CL', 12, {
  Location_of_Child_Directory: { offset: 4, type: 'u32' },
});

/** RRIP 4.1.6 "TF": time stamps, one per Flags bit set, 7 bytes each (17 with LONG_FORM). */
export const RRIP_TF = defineLayout('TF', 5, {
  Flags: { offset: 4, type: 'u8' },
});
