// `secretcache/testing`: an in-memory Secrets Manager for tests of code that reads secrets through the cache.
export type { CallFilter, MemoryCall, MemoryOperation } from './testing/call-log.js';
export type { FailureKind, FailureOptions, InjectedFailure } from './testing/failures.js';
export type {
  CreateSecretOptions,
  MemorySource,
  MemorySourceOptions,
  PutSecretValueOptions,
  UpdateVersionStageOptions,
} from './testing/memory-source.js';
export { memorySource } from './testing/memory-source.js';
export type { MemoryRotation, RotateOptions } from './testing/rotation.js';
export type { SecretDescription, SecretVersionInfo } from './testing/secret-store.js';
