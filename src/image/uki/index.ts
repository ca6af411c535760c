/** Unified Kernel Images (UAPI group specification), their profiles and PE addons. */
export { probeUki, parseUki } from './parse-uki.js';
export type { Uki, UkiProfile, UkiWarning, UkiWarningCode } from './parse-uki.js';
export { parseAddon, combineUkiCmdline } from './addon.js';
export type { UkiAddon, AddonFile, EffectiveCmdline } from './addon.js';
export { UKI_SECTION_NAMES, mangleStubCmdline } from './sections.js';
export type { UkiSection, UkiSectionName } from './sections.js';
export { parseOsRelease } from './os-release.js';
export type { OsRelease, OsReleaseEntry, OsReleaseWarning, OsReleaseWarningCode } from './os-release.js';
