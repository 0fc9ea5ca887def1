import type { SecretCacheError } from '../errors.js';
import { toSecretCacheError } from '../source.js';

/**
 * An error shaped as the AWS SDK v3 throws a service exception: `name` is Secrets Manager's error code, with
 * the SDK's `$fault` and `$metadata` (and `$retryable` for throttling, which the cache also reads). The setup
 * methods of a memory source throw these as they are, as the SDK would; reads turn them into a
 * `SecretCacheError` with `toSecretCacheError`, as `AwsSecretSource` does.
 */
export function awsError(
  name: string,
  message: string,
  options: { readonly fault?: 'client' | 'server'; readonly throttling?: boolean } = {},
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: options.fault ?? 'client',
    $metadata: {},
    ...(options.throttling === true ? { $retryable: { throttling: true } } : {}),
  });
}

/** A read's failure as `AwsSecretSource` reports the same AWS answer: classified, the AWS error as `cause`. */
export function readError(name: string, message: string, secretId: string): SecretCacheError {
  return toSecretCacheError(awsError(name, message), secretId);
}

// Secrets Manager's own messages (as moto_server also words them).
export const NO_SUCH_SECRET = "Secrets Manager can't find the specified secret.";
export const noSuchStage = (stage: string): string =>
  `Secrets Manager can't find the specified secret value for staging label: ${stage}`;
export const noSuchVersionId = (versionId: string): string =>
  `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`;

/** The error of a setup call that names a secret the source does not hold. */
export function secretNotFound(): Error {
  return awsError('ResourceNotFoundException', NO_SUCH_SECRET);
}

/** The error of a setup call whose parameters Secrets Manager would reject. */
export function invalidParameter(message: string): Error {
  return awsError('InvalidParameterException', message);
}

/** The kinds of failure a memory source injects by name, with what AWS answers in each case. */
export type NamedFailure = 'transient' | 'throttled' | 'denied';

/** The AWS error an injected failure stands for: a 500, a throttle, an IAM denial of `operation`. */
export function injectedCause(
  kind: NamedFailure,
  operation: string,
  resource: string,
  accountId: string,
): Error {
  switch (kind) {
    case 'transient':
      return awsError('InternalServiceError', 'An internal error occurred (injected by memorySource).', {
        fault: 'server',
      });
    case 'throttled':
      return awsError('ThrottlingException', 'Rate exceeded', { throttling: true });
    case 'denied':
      return awsError(
        'AccessDeniedException',
        `User: arn:aws:sts::${accountId}:assumed-role/memorySource/test is not authorized to perform: ` +
          `secretsmanager:${operation} on resource: ${resource} because no identity-based policy allows the ` +
          `secretsmanager:${operation} action`,
      );
  }
}
