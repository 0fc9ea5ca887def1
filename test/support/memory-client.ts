import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import type { SecretsManagerLike } from '../../src/source.js';

/** The Secrets Manager operations {@link MemoryClient} answers. */
export type Operation = 'GetSecretValue' | 'BatchGetSecretValue';

/**
 * An in-memory Secrets Manager behind the SDK's `send`: answers `GetSecretValue` and `BatchGetSecretValue` with
 * the AWS output shapes (missing ids in a batch come back in `Errors`), logs each call by operation, fails
 * every call while `failWith` is set, and holds every call while `gate` is. The cache talks to it through its real `AwsSecretSource`.
 */
export class MemoryClient implements SecretsManagerLike {
  readonly calls: Array<{ readonly operation: Operation; readonly secretIds: readonly string[] }> = [];
  /** When set, every call rejects with what this returns. */
  failWith: (() => Error) | undefined;
  /** When set, every call waits for this promise before answering. */
  gate: Promise<void> | undefined;
  readonly #values = new Map<string, { versionId: string; value: string | Uint8Array }>();
  #nextVersion = 1;

  /** Creates the secret or puts a new AWSCURRENT version of it. */
  put(secretId: string, value: string | Uint8Array): void {
    this.#values.set(secretId, { versionId: `v${this.#nextVersion++}`, value });
  }

  /** How many calls of `operation` (or of any operation) were made. */
  count(operation?: Operation): number {
    return this.calls.filter((call) => operation === undefined || call.operation === operation).length;
  }

  async send(command: unknown): Promise<Record<string, unknown>> {
    if (command instanceof BatchGetSecretValueCommand) {
      const ids = command.input.SecretIdList ?? [];
      this.calls.push({ operation: 'BatchGetSecretValue', secretIds: ids });
      if (this.gate !== undefined) await this.gate;
      if (this.failWith !== undefined) throw this.failWith();
      return {
        SecretValues: ids.filter((id) => this.#values.has(id)).map((id) => this.#output(id)),
        Errors: ids
          .filter((id) => !this.#values.has(id))
          .map((id) => ({
            SecretId: id,
            ErrorCode: 'ResourceNotFoundException',
            Message: "Secrets Manager can't find the specified secret.",
          })),
      };
    }
    if (command instanceof GetSecretValueCommand) {
      const id = command.input.SecretId ?? '';
      this.calls.push({ operation: 'GetSecretValue', secretIds: [id] });
      if (this.gate !== undefined) await this.gate;
      if (this.failWith !== undefined) throw this.failWith();
      if (!this.#values.has(id)) {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: {},
        });
      }
      return this.#output(id);
    }
    throw new Error(`MemoryClient does not answer ${String((command as object)?.constructor?.name)}`);
  }

  #output(secretId: string): Record<string, unknown> {
    const stored = this.#values.get(secretId)!;
    return {
      Name: secretId,
      ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${secretId}-AbCdEf`,
      VersionId: stored.versionId,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: new Date(0),
      ...(typeof stored.value === 'string'
        ? { SecretString: stored.value }
        : { SecretBinary: stored.value.slice() }),
    };
  }
}

/** A throttling error as the SDK throws it. */
export function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
}

/** A complete Lambda context object, as the Node.js runtime passes one. */
export function lambdaContext(awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders',
    memoryLimitInMB: '128',
    awsRequestId,
    logGroupName: '/aws/lambda/orders',
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 3_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
