import type { SecretCacheErrorCode } from './errors.js';

/**
 * AWS error names and the codes they mean, for every transport that reports AWS's errors: the SDK's exceptions
 * (`toSecretCacheError`), the Agent's `__type`, and `regionalSource`'s classification of what a region threw.
 */
export const CODE_BY_AWS_NAME: ReadonlyMap<string, SecretCacheErrorCode> = new Map(
  Object.entries({
    ResourceNotFoundException: 'NOT_FOUND',
    AccessDeniedException: 'ACCESS_DENIED',
    AccessDenied: 'ACCESS_DENIED',
    UnrecognizedClientException: 'ACCESS_DENIED',
    InvalidSignatureException: 'ACCESS_DENIED',
    SignatureDoesNotMatch: 'ACCESS_DENIED',
    ExpiredTokenException: 'ACCESS_DENIED',
    InvalidClientTokenId: 'ACCESS_DENIED',
    DecryptionFailure: 'DECRYPTION_FAILED',
    InvalidRequestException: 'INVALID_REQUEST',
    InvalidParameterException: 'INVALID_REQUEST',
    ValidationException: 'INVALID_REQUEST',
    ThrottlingException: 'THROTTLED',
    Throttling: 'THROTTLED',
    TooManyRequestsException: 'THROTTLED',
    RequestLimitExceeded: 'THROTTLED',
  } satisfies Record<string, SecretCacheErrorCode>),
);

/** How a message says what went wrong with a secret, by code: `Secret "x" ${what} (AccessDeniedException).` */
export const WHAT_FAILED: Readonly<Partial<Record<SecretCacheErrorCode, string>>> = {
  NOT_FOUND: 'was not found (or has no such version)',
  ACCESS_DENIED: 'may not be read with these credentials',
  DECRYPTION_FAILED: 'could not be decrypted with its KMS key',
  INVALID_REQUEST: 'could not be read: AWS rejected the request',
  THROTTLED: 'could not be read: AWS throttled the request',
};
