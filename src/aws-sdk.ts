import type {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretCacheError } from './errors.js';

/** The parts of `@aws-sdk/client-secrets-manager` the AWS source uses. */
export interface SecretsManagerSdk {
  readonly SecretsManagerClient: typeof SecretsManagerClient;
  readonly GetSecretValueCommand: typeof GetSecretValueCommand;
  readonly BatchGetSecretValueCommand: typeof BatchGetSecretValueCommand;
}

export const SDK_PACKAGE = '@aws-sdk/client-secrets-manager';

/**
 * The SDK once loaded, for callers that can use it without waiting. `import 'secretcache'` loads no `@aws-sdk`
 * module (about 120 ms of a cold start): the AWS source loads it on its first fetch, so a process that reads
 * through another source (the Agent, the Lambda extension, a test's memory source) never does.
 */
export let loadedSdk: SecretsManagerSdk | undefined;
let loading: Promise<SecretsManagerSdk> | undefined;

/** How the SDK is imported; replaced only by tests of what happens when it is missing or broken. */
export const sdkImport = {
  load: (): Promise<SecretsManagerSdk> => import('@aws-sdk/client-secrets-manager'),
  /** Forgets the loaded SDK, so that the next fetch imports it again through `load` (tests only). */
  forget: (): void => {
    loadedSdk = undefined;
    loading = undefined;
  },
};

/**
 * The SDK, loaded on first use (one import shared by concurrent callers). Rejects with `MISSING_DEPENDENCY`
 * naming the package to install when it cannot be found; a failed load is tried again by the next call.
 */
export function loadSdk(secretId: string): Promise<SecretsManagerSdk> {
  if (loadedSdk !== undefined) return Promise.resolve(loadedSdk);
  loading ??= sdkImport.load().then(
    (sdk) => {
      loadedSdk = sdk;
      return sdk;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading.catch((error: unknown) => {
    throw sdkLoadFailed(secretId, error);
  });
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(SDK_PACKAGE);
}

function sdkLoadFailed(secretId: string, error: unknown): SecretCacheError {
  if (isNotFound(error)) {
    return new SecretCacheError(
      'MISSING_DEPENDENCY',
      secretId,
      `Reading secret "${secretId}" from AWS needs the AWS SDK, which is not installed: npm install ${SDK_PACKAGE} (or read through another source, such as agentSource or lambdaExtensionSource from 'secretcache/http').`,
      { cause: error },
    );
  }
  return new SecretCacheError(
    'MISSING_DEPENDENCY',
    secretId,
    `Reading secret "${secretId}" from AWS needs ${SDK_PACKAGE}, which failed to load (${(error as Error | null)?.name ?? 'Error'}); check that it is installed and intact.`,
    { cause: error },
  );
}
