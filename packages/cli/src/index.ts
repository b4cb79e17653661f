export { run, buildProgram, DEFAULT_AUTH_URL, DEFAULT_STORAGE_URL } from './cli';
export { syncApp, fileNames, MARKER_FILE, INSTANCE_FILE, type SyncOptions, type SyncEvent, type SyncReport, type SyncedInstance, type SyncedFile } from './sync';
export { ConfigStore, defaultConfigDir, type CliConfig } from './config-store';
export { writeFileAtomic, removePartials, syncFolder, PARTIAL_SUFFIX, type WriteFile, type WriteOptions, type WriteResult } from './atomic-file';
export { Progress, userFolder, type CliContext, type Stream } from './io';
export { ExitCode, UsageError } from './errors';
export { contentTypeOf } from './content-type';
export { elementFileName, safeFileName } from './file-names';
export { byScanState, scanNote, type InfectedElement } from './scan-status';
