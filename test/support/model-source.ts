import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SecretCacheErrorCode } from '../../src/errors.js';
import {
  type BatchResult,
  type SecretRequest,
  type SecretSource,
  type SecretVersion,
  toSecretCacheError,
} from '../../src/source.js';
import { seededRandom } from '../../src/testing/random.js';

/**
 * The environment of the model-based tests: an in-memory Secrets Manager whose every answer the test decides.
 * Per secret it can answer, fail transiently or permanently, or hang until released; versions are published and
 * stages moved by hand, with a history of which version held which stage when. It also keeps the facts the
 * invariants are checked against: every call (when it started, when and how it was answered) and every value it
 * ever held, for leak scans.
 */

export type ValueKind = 'json' | 'text' | 'binary' | 'none';

export type TransientName = 'ThrottlingException' | 'ServiceUnavailable';
export type PermanentName = 'ResourceNotFoundException' | 'AccessDeniedException';

export type Mode =
  | { readonly kind: 'ok' }
  | { readonly kind: 'transient'; readonly name: TransientName }
  | { readonly kind: 'permanent'; readonly name: PermanentName }
  | { readonly kind: 'hang' };

/** How a released call answers: as the secret's mode says now (a hang counts as ok), or with an error. */
export type ReleaseOutcome = 'current' | 'throttle' | 'notfound' | 'denied';

export interface SourceValue {
  readonly kind: ValueKind;
  readonly string?: string;
  readonly bytes?: Uint8Array;
}

export interface SourceVersion {
  readonly secretId: string;
  readonly versionId: string;
  readonly value: SourceValue;
  stages: string[];
}

/** What a call would answer now: a version, or the name of the AWS error it throws. */
export type Answer = { readonly version: SecretVersion } | { readonly error: string };

export interface SourceCall {
  readonly seq: number;
  readonly type: 'get' | 'batch';
  readonly secretIds: readonly string[];
  readonly versionStage: string | undefined;
  readonly versionId: string | undefined;
  readonly startedAt: number;
  /** The calls of the same key that had not been answered when this one started. */
  readonly concurrentWith: readonly number[];
  held: boolean;
  answeredAt: number | undefined;
  /** `version:<id>`, `error:<name>`, `aborted` or, for a batch, `batch`. */
  outcome: string | undefined;
}

interface HeldCall {
  readonly call: SourceCall;
  readonly answer: (outcome: ReleaseOutcome) => unknown;
  readonly settle: (produce: () => unknown) => void;
}

/** The cache key the model uses for a selector: independent of the cache's own key format. */
export function modelKey(secretId: string, versionStage: string | undefined, versionId: string | undefined) {
  return versionId === undefined ? `${secretId} @stage ${versionStage}` : `${secretId} @id ${versionId}`;
}

/** The cache's error code for an AWS error name, as the README's table gives it. */
export function codeOfAwsError(name: string): SecretCacheErrorCode {
  switch (name) {
    case 'ThrottlingException':
      return 'THROTTLED';
    case 'ResourceNotFoundException':
      return 'NOT_FOUND';
    case 'AccessDeniedException':
      return 'ACCESS_DENIED';
    default:
      return 'FETCH_FAILED';
  }
}

function awsError(name: string): Error {
  // Real AWS messages never quote a value; neither do these.
  return Object.assign(new Error(`Simulated ${name} from the model's source.`), { name });
}

/** Mulberry32 (the memory source's generator): values from a seed fast-check chose, so a failing run replays. */
export const prng = seededRandom;

// Cyrillic letters appear in no message, stack, id or rendering the tests make, so any five of them in a row in
// a rendering can only come from a value.
const ALPHABET = 'абвгдежзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ';

export class ModelSource implements SecretSource {
  readonly calls: SourceCall[] = [];
  readonly versions = new Map<string, SourceVersion[]>();
  readonly modes = new Map<string, Mode>();
  /** Which version held which stage of which secret, and when. `to` is undefined while it still does. */
  readonly stageHistory: Array<{
    secretId: string;
    stage: string;
    versionId: string;
    from: number;
    to: number | undefined;
  }> = [];
  /** Every successful answer: the key it was for, the version, and when its call started. */
  readonly answers: Array<{ key: string; versionId: string; startedAt: number }> = [];
  /** Every distinctive string core and byte array ever published, for the leak scans. */
  readonly cores: string[] = [];
  readonly byteValues: Uint8Array[] = [];
  /** A `BatchGetSecretValue` is denied while this is set (the IAM permission is missing). */
  batchDenied = false;
  /** Answers queued for a later turn of the event loop and not given yet. */
  scheduled = 0;
  readonly batchGetSecretValue?: (ids: readonly string[], signal?: AbortSignal) => Promise<BatchResult>;
  readonly #held: HeldCall[] = [];
  readonly #now: () => number;
  readonly #random: () => number;
  #nextVersion = 1;

  constructor(options: { now: () => number; seed: number; batch: boolean }) {
    this.#now = options.now;
    this.#random = prng(options.seed);
    if (options.batch) this.batchGetSecretValue = (ids, signal) => this.#batch(ids, signal);
  }

  mode(secretId: string): Mode {
    return this.modes.get(secretId) ?? { kind: 'ok' };
  }

  /** Every version of every secret, in the order they were published. */
  allVersions(): SourceVersion[] {
    return [...this.versions.values()].flat().sort((a, b) => versionNumber(a) - versionNumber(b));
  }

  get held(): readonly SourceCall[] {
    return this.#held.map((held) => held.call);
  }

  unanswered(): SourceCall[] {
    return this.calls.filter((call) => call.answeredAt === undefined);
  }

  /** A new value: JSON `{"token": "<core>"}`, the bare core (not JSON), bytes, or none at all. */
  makeValue(kind: ValueKind): SourceValue {
    if (kind === 'none') return { kind };
    if (kind === 'binary') {
      // Bytes of 100 to 255: three decimal digits each, so their renderings cannot be mistaken for counters.
      const bytes = Uint8Array.from({ length: 24 }, () => 100 + Math.floor(this.#random() * 156));
      this.byteValues.push(bytes);
      return { kind, bytes };
    }
    const core = Array.from(
      { length: 24 },
      () => ALPHABET[Math.floor(this.#random() * ALPHABET.length)],
    ).join('');
    this.cores.push(core);
    return { kind, string: kind === 'json' ? JSON.stringify({ token: core }) : core };
  }

  /** Publishes a version labelled AWSCURRENT (the old current becomes AWSPREVIOUS) or AWSPENDING. */
  publish(secretId: string, kind: ValueKind, as: 'current' | 'pending'): string {
    const versionId = `${secretId}-v${this.#nextVersion++}`;
    const versions = this.versions.get(secretId) ?? [];
    this.versions.set(secretId, versions);
    versions.push({ secretId, versionId, value: this.makeValue(kind), stages: [] });
    if (as === 'pending') this.#label(secretId, 'AWSPENDING', versionId);
    else this.#makeCurrent(secretId, versionId);
    return versionId;
  }

  /** finishSecret: AWSCURRENT moves to the AWSPENDING version, AWSPREVIOUS to the old current. */
  promote(secretId: string): void {
    const pending = this.#holder(secretId, 'AWSPENDING');
    if (pending === undefined) return;
    this.#label(secretId, 'AWSPENDING', undefined);
    this.#makeCurrent(secretId, pending.versionId);
  }

  /** Removes a staging label from whatever version holds it. */
  dropStage(secretId: string, stage: string): void {
    this.#label(secretId, stage, undefined);
  }

  /** What a `GetSecretValue` would answer now; `forceOk` answers a hanging secret as if it were fine. */
  answerFor(request: SecretRequest, forceOk = false): Answer {
    const { secretId } = request;
    const mode = this.mode(secretId);
    if (mode.kind === 'transient' || mode.kind === 'permanent') return { error: mode.name };
    if (mode.kind === 'hang' && !forceOk) throw new Error('answerFor: the secret hangs');
    const versions = this.versions.get(secretId) ?? [];
    const version =
      request.versionId !== undefined
        ? versions.find((candidate) => candidate.versionId === request.versionId)
        : versions.find((candidate) => candidate.stages.includes(request.versionStage ?? 'AWSCURRENT'));
    if (version === undefined) return { error: 'ResourceNotFoundException' };
    return { version: toAnswer(version) };
  }

  /** What a `BatchGetSecretValue` of `secretIds` would answer now. */
  batchAnswerFor(secretIds: readonly string[], forceOk = false): BatchResult | { readonly error: string } {
    if (this.batchDenied) return { error: 'AccessDeniedException' };
    const transient = secretIds.map((id) => this.mode(id)).find((mode) => mode.kind === 'transient');
    if (transient !== undefined) return { error: transient.name };
    const versions: SecretVersion[] = [];
    const errors: Array<{ secretId: string; error: ReturnType<typeof toSecretCacheError> }> = [];
    for (const secretId of secretIds) {
      const answer = this.answerFor({ secretId, versionStage: 'AWSCURRENT' }, forceOk);
      if ('version' in answer) versions.push(answer.version);
      else errors.push({ secretId, error: toSecretCacheError(awsError(answer.error), secretId) });
    }
    return { versions, errors };
  }

  /** Whether a batch of these ids would hang now. */
  batchHangs(secretIds: readonly string[]): boolean {
    return !this.batchDenied && secretIds.some((id) => this.mode(id).kind === 'hang');
  }

  getSecretValue(request: SecretRequest, signal?: AbortSignal): Promise<SecretVersion> {
    const call = this.#record('get', [request.secretId], request.versionStage, request.versionId);
    const hangs = this.mode(request.secretId).kind === 'hang';
    return this.#answerLater(call, hangs, signal, (outcome) => {
      const answer = outcome === 'current' ? this.answerFor(request, true) : { error: releaseError(outcome) };
      if ('error' in answer) {
        call.outcome = `error:${answer.error}`;
        throw awsError(answer.error);
      }
      call.outcome = `version:${answer.version.versionId}`;
      this.answers.push({
        key: modelKey(request.secretId, request.versionStage, request.versionId),
        versionId: answer.version.versionId,
        startedAt: call.startedAt,
      });
      return answer.version;
    });
  }

  #batch(secretIds: readonly string[], signal?: AbortSignal): Promise<BatchResult> {
    const call = this.#record('batch', [...secretIds], 'AWSCURRENT', undefined);
    return this.#answerLater(call, this.batchHangs(secretIds), signal, (outcome) => {
      const answer =
        outcome === 'current' ? this.batchAnswerFor(secretIds, true) : { error: releaseError(outcome) };
      if ('error' in answer) {
        call.outcome = `error:${answer.error}`;
        throw awsError(answer.error);
      }
      call.outcome = 'batch';
      for (const version of answer.versions) {
        const key = modelKey(version.name, 'AWSCURRENT', undefined);
        this.answers.push({ key, versionId: version.versionId, startedAt: call.startedAt });
      }
      return answer;
    });
  }

  /**
   * Answers `call` on a later turn of the event loop (each answer on a turn of its own, in call order, so that
   * everything an answer sets off has settled before the next one), or holds it until `release` when it hangs.
   * A held call honours its signal: the cache's timeout aborts it.
   */
  #answerLater<T>(
    call: SourceCall,
    hangs: boolean,
    signal: AbortSignal | undefined,
    answer: (outcome: ReleaseOutcome) => T,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const settle = (produce: () => unknown): void => {
        this.scheduled++;
        setImmediate(() => {
          this.scheduled--;
          call.answeredAt = this.#now();
          try {
            resolve(produce() as T);
          } catch (error) {
            reject(error);
          }
        });
      };
      if (!hangs) {
        settle(() => answer('current'));
        return;
      }
      call.held = true;
      const held: HeldCall = { call, answer, settle };
      this.#held.push(held);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.#held.indexOf(held);
          if (index < 0) return;
          this.#held.splice(index, 1);
          call.answeredAt = this.#now();
          call.outcome = 'aborted';
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Answers the held calls `which` selects, in the order they were made. */
  release(which: (call: SourceCall) => boolean, outcome: ReleaseOutcome): SourceCall[] {
    const released = this.#held.filter((held) => which(held.call));
    for (const held of released) {
      this.#held.splice(this.#held.indexOf(held), 1);
      held.settle(() => held.answer(outcome));
    }
    return released.map((held) => held.call);
  }

  #record(
    type: 'get' | 'batch',
    secretIds: readonly string[],
    versionStage: string | undefined,
    versionId: string | undefined,
  ): SourceCall {
    const keys = new Set(secretIds.map((id) => modelKey(id, versionStage, versionId)));
    const concurrentWith = this.unanswered()
      .filter((other) =>
        other.secretIds.some((id) => keys.has(modelKey(id, other.versionStage, other.versionId))),
      )
      .map((other) => other.seq);
    const call: SourceCall = {
      seq: this.calls.length,
      type,
      secretIds,
      versionStage,
      versionId,
      startedAt: this.#now(),
      concurrentWith,
      held: false,
      answeredAt: undefined,
      outcome: undefined,
    };
    this.calls.push(call);
    return call;
  }

  #holder(secretId: string, stage: string): SourceVersion | undefined {
    return this.versions.get(secretId)?.find((version) => version.stages.includes(stage));
  }

  #makeCurrent(secretId: string, versionId: string): void {
    const current = this.#holder(secretId, 'AWSCURRENT');
    if (current?.versionId === versionId) return;
    if (current !== undefined) this.#label(secretId, 'AWSPREVIOUS', current.versionId);
    this.#label(secretId, 'AWSCURRENT', versionId);
  }

  /** Moves `stage` to `versionId` (or removes it), keeping the history. */
  #label(secretId: string, stage: string, versionId: string | undefined): void {
    const now = this.#now();
    for (const version of this.versions.get(secretId) ?? []) {
      if (version.stages.includes(stage) && version.versionId !== versionId) {
        version.stages = version.stages.filter((candidate) => candidate !== stage);
        const open = this.stageHistory.find(
          (entry) =>
            entry.secretId === secretId &&
            entry.stage === stage &&
            entry.versionId === version.versionId &&
            entry.to === undefined,
        );
        if (open !== undefined) open.to = now;
      }
      if (version.versionId === versionId && !version.stages.includes(stage)) {
        version.stages.push(stage);
        this.stageHistory.push({ secretId, stage, versionId, from: now, to: undefined });
      }
    }
  }
}

function versionNumber(version: SourceVersion): number {
  return Number(version.versionId.slice(version.versionId.lastIndexOf('-v') + 2));
}

function releaseError(outcome: Exclude<ReleaseOutcome, 'current'>): string {
  return {
    throttle: 'ThrottlingException',
    notfound: 'ResourceNotFoundException',
    denied: 'AccessDeniedException',
  }[outcome];
}

function toAnswer(version: SourceVersion): SecretVersion {
  const { value } = version;
  return {
    name: version.secretId,
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${version.secretId}-AbCdEf`,
    versionId: version.versionId,
    versionStages: [...version.stages],
    createdDate: new Date(0),
    ...(value.string === undefined ? {} : { secretString: value.string }),
    ...(value.bytes === undefined ? {} : { secretBinary: value.bytes.slice() }),
  };
}

/**
 * Lets every answer the source has queued, and everything each sets off, run: turns of the event loop until no
 * answer is queued and two quiet turns have passed. Fails when work keeps coming (a runaway loop).
 */
export async function drain(source: ModelSource, maxTurns = 10_000): Promise<void> {
  let quiet = 0;
  for (let turn = 0; turn < maxTurns; turn++) {
    await nextTurn();
    if (source.scheduled > 0) quiet = 0;
    else if (++quiet >= 2) return;
  }
  throw new Error(`the cache did not settle within ${maxTurns} turns of the event loop`);
}
