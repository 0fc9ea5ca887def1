import type { Clock } from '../../src/clock.js';
import type { SecretRequest, SecretSource, SecretVersion } from '../../src/source.js';

/** A clock the test moves by hand. */
export class FakeClock implements Clock {
  constructor(public time = 1_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface StoredVersion {
  versionId: string;
  stages: string[];
  secretString?: string;
  secretBinary?: Uint8Array;
}

/**
 * An in-memory Secrets Manager: versions with stages, `put` moving AWSCURRENT to AWSPREVIOUS, a call log, and
 * hooks to fail or hold calls.
 */
export class FakeSource implements SecretSource {
  readonly calls: SecretRequest[] = [];
  readonly secrets = new Map<string, StoredVersion[]>();
  /** When set, every call waits for this promise before answering. */
  gate: Promise<void> | undefined;
  /** When set, every call rejects with what this returns. */
  failWith: ((request: SecretRequest) => unknown) | undefined;
  #nextVersion = 1;

  put(secretId: string, value: string | Uint8Array): string {
    const versions = this.secrets.get(secretId) ?? [];
    for (const version of versions) {
      version.stages = version.stages.filter((stage) => stage !== 'AWSPREVIOUS');
      if (version.stages.includes('AWSCURRENT')) {
        version.stages = version.stages.filter((stage) => stage !== 'AWSCURRENT').concat('AWSPREVIOUS');
      }
    }
    const versionId = `v${this.#nextVersion++}`;
    versions.push({
      versionId,
      stages: ['AWSCURRENT'],
      ...(typeof value === 'string' ? { secretString: value } : { secretBinary: value }),
    });
    this.secrets.set(secretId, versions);
    return versionId;
  }

  /** Adds a version labelled AWSPENDING, as a rotation's createSecret step does. */
  stagePending(secretId: string, value: string): string {
    const versions = this.secrets.get(secretId) ?? [];
    for (const version of versions) version.stages = version.stages.filter((stage) => stage !== 'AWSPENDING');
    const versionId = `v${this.#nextVersion++}`;
    versions.push({ versionId, stages: ['AWSPENDING'], secretString: value });
    this.secrets.set(secretId, versions);
    return versionId;
  }

  /** Moves AWSCURRENT to the AWSPENDING version (AWSPREVIOUS to the old one), as finishSecret does. */
  finishRotation(secretId: string): void {
    const versions = this.secrets.get(secretId) ?? [];
    const pending = versions.find((version) => version.stages.includes('AWSPENDING'));
    if (pending === undefined) throw new Error(`no pending version of ${secretId}`);
    for (const version of versions) {
      const wasCurrent = version.stages.includes('AWSCURRENT');
      version.stages = version.stages.filter((stage) => stage !== 'AWSPREVIOUS' && stage !== 'AWSCURRENT');
      if (wasCurrent) version.stages.push('AWSPREVIOUS');
    }
    pending.stages = ['AWSCURRENT'];
  }

  callsFor(secretId: string): number {
    return this.calls.filter((call) => call.secretId === secretId).length;
  }

  async getSecretValue(request: SecretRequest): Promise<SecretVersion> {
    this.calls.push(request);
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith(request);
    const versions = this.secrets.get(request.secretId) ?? [];
    const version =
      request.versionId !== undefined
        ? versions.find((candidate) => candidate.versionId === request.versionId)
        : versions.find((candidate) => candidate.stages.includes(request.versionStage ?? 'AWSCURRENT'));
    if (version === undefined) {
      throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: 'ResourceNotFoundException',
      });
    }
    return {
      name: request.secretId,
      arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${request.secretId}`,
      versionId: version.versionId,
      versionStages: [...version.stages],
      createdDate: new Date(0),
      ...(version.secretString === undefined ? {} : { secretString: version.secretString }),
      ...(version.secretBinary === undefined ? {} : { secretBinary: version.secretBinary.slice() }),
    };
  }
}

/** A promise and its resolve, to hold fetches open. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
