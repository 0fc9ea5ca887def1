export type { BackoffOptions } from './backoff.js';
export { SecretCache, type SecretCacheStats } from './cache.js';
export { type Clock, TurnClock } from './clock.js';
export type { SecretRecord } from './entry.js';
export {
  isSecretCacheError,
  SecretCacheError,
  type SecretCacheErrorCode,
  type SecretCacheErrorOptions,
  type SecretLoadFailure,
} from './errors.js';
export type {
  ErrorEvent,
  EvictEvent,
  FetchEvent,
  FetchReason,
  SecretCacheHooks,
  SecretEventTarget,
  StaleEvent,
  VersionChangeEvent,
} from './events.js';
export type { RetryOptions } from './fetcher.js';
export type { LiveChangeEvent, LiveControls, LiveOptions, LiveSecrets } from './live.js';
export {
  type JsonSpecOptions,
  type LoadedSecrets,
  type Manifest,
  type RefSpecOptions,
  type SecretKind,
  type SecretSpec,
  type SpecOptions,
  secret,
} from './manifest.js';
export type { JsonReadOptions, ReadOptions, SecretCacheOptions } from './options.js';
export {
  arnInRegion,
  type RegionalBatchResult,
  type RegionalSecretVersion,
  type RegionalSource,
  type RegionalSourceOptions,
  type RegionState,
  regionalSource,
} from './regions.js';
export type { StandardSchemaV1 } from './schema.js';
export { parseSecretRef, type SecretRef } from './secret-ref.js';
export {
  AwsSecretSource,
  type AwsSecretSourceOptions,
  type BatchResult,
  type SecretRequest,
  type SecretSource,
  type SecretsManagerLike,
  type SecretVersion,
} from './source.js';
export type { SecretAs, WithSecretOptions, WithSecretValue } from './with-secret.js';
