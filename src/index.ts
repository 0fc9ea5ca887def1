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
export type { JsonReadOptions, ReadOptions, SecretCacheOptions } from './options.js';
export type { StandardSchemaV1 } from './schema.js';
export {
  AwsSecretSource,
  type SecretRequest,
  type SecretSource,
  type SecretsManagerLike,
  type SecretVersion,
} from './source.js';
