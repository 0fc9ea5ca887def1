import { describeValue as describe } from './describe.js';
import { invalidArgument, SecretCacheError } from './errors.js';
import { resolveSelector } from './selector.js';

/**
 * What a secret reference names: the secret, and optionally one top-level field of its JSON and a version
 * (a stage or a version id, never both). Made by {@link parseSecretRef}; frozen.
 *
 * @example
 * ```ts
 * import { parseSecretRef, type SecretRef } from 'secretcache';
 *
 * const ref: SecretRef = parseSecretRef('myapp/prod/db:password:AWSPREVIOUS');
 * // { secretId: 'myapp/prod/db', jsonKey: 'password', versionStage: 'AWSPREVIOUS' }
 * ```
 */
export interface SecretRef {
  /** The secret's name or ARN, as `GetSecretValue` takes it. */
  readonly secretId: string;
  /** One top-level field of the secret's JSON. */
  readonly jsonKey?: string;
  readonly versionStage?: string;
  readonly versionId?: string;
}

/** The forms, as the messages show them. */
const ECS_FORM =
  '`arn:aws:secretsmanager:region:account-id:secret:name` or, with options, ' +
  '`arn:aws:secretsmanager:region:account-id:secret:name:json-key:version-stage:version-id` ' +
  '(all three option fields, trailing colons included; an empty field is unset)';
const NAME_FORM =
  '`name:json-key:version-stage:version-id` (trailing fields optional; an empty field is unset)';
const CFN_FORM =
  '`{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}` ' +
  '(trailing parts optional)';

const CFN_PREFIX = '{{resolve:secretsmanager:';
const CFN_SUFFIX = '}}';

/** What Secrets Manager allows in a name: ASCII letters, digits and `/_+=.@-`. */
const NAME_CHARACTER = /^[A-Za-z0-9/_+=.@-]$/;
const MAX_NAME_LENGTH = 512;
/** An ARN's name ends with `-` and 6 random characters Secrets Manager adds. */
const MAX_ARN_NAME_LENGTH = MAX_NAME_LENGTH + 7;
// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`... and partitions to come.
const PARTITION = /^aws(?:-[a-z]+)*$/;
const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const ACCOUNT = /^\d{12}$/;
/** The fields of an ARN up to and including the name: `arn:partition:secretsmanager:region:account:secret:name`. */
const ARN_FIELDS = 7;

/**
 * Parses a secret reference in any of the forms users already write, and checks it:
 *
 * - an ECS `valueFrom` ARN, `arn:aws:secretsmanager:region:account-id:secret:name-AbCdEf` (the whole ARN is the
 *   id) or `arn:aws:secretsmanager:region:account-id:secret:name-AbCdEf:json-key:version-stage:version-id`
 *   (exactly those three option fields, trailing colons included; the id is the ARN without them);
 * - a CloudFormation dynamic reference,
 *   `{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}` (trailing parts optional);
 * - a name followed by options, `name:json-key:version-stage:version-id` (trailing fields optional), as CodeBuild's
 *   `secrets-manager` variables are written;
 * - a plain name or ARN.
 *
 * An empty field is unset. Secret names cannot contain `:`, so the first `:` after a name starts the options,
 * and the seventh `:` of an ARN does.
 *
 * @param ref - the reference; it is not secret, and error messages quote it
 * @returns the secret id and the options the reference sets, frozen
 * @throws SecretCacheError `INVALID_ARGUMENT` for an empty reference, the wrong number of fields, both a stage and
 *   a version id, or a malformed name, ARN, stage or version id; the message shows the form expected
 * @example
 * ```ts
 * import { parseSecretRef } from 'secretcache';
 *
 * parseSecretRef('arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db-AbCdEf:password::');
 * // { secretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:myapp/prod/db-AbCdEf', jsonKey: 'password' }
 * parseSecretRef('{{resolve:secretsmanager:myapp/prod/db:SecretString:password}}');
 * // { secretId: 'myapp/prod/db', jsonKey: 'password' }
 * parseSecretRef('myapp/prod/db:password:AWSCURRENT');
 * // { secretId: 'myapp/prod/db', jsonKey: 'password', versionStage: 'AWSCURRENT' }
 * ```
 */
export function parseSecretRef(ref: string): SecretRef {
  if (typeof ref !== 'string') {
    throw invalidArgument('', `Expected a secret reference to be a string, got ${describe(ref)}.`);
  }
  if (ref.length === 0) {
    throw invalidArgument(
      '',
      `Expected a secret reference (a name, an ARN, ${NAME_FORM}, or ${CFN_FORM}), got an empty string.`,
    );
  }
  if (ref.startsWith('{{')) return parseDynamicReference(ref);
  if (ref.startsWith('arn:')) return parseArnReference(ref);
  return parseNameReference(ref);
}

/** `arn:...:secret:name` or `arn:...:secret:name:json-key:version-stage:version-id`, as ECS reads `valueFrom`. */
function parseArnReference(ref: string): SecretRef {
  const fields = ref.split(':');
  const arnProblem = arnFieldsProblem(fields);
  if (arnProblem !== undefined)
    throw invalidArgument(ref, `${quote(ref)}: ${arnProblem}; expected ${ECS_FORM}.`);
  // The resource part is `secret:name` plus the option fields: ECS takes 2 of them or 5, nothing between.
  const resourceFields = fields.length - ARN_FIELDS + 2;
  if (resourceFields !== 2 && resourceFields !== 5) {
    throw invalidArgument(
      ref,
      `${quote(ref)} has ${resourceFields} fields in its resource part (\`secret\` and what follows); expected 2 or 5: ${ECS_FORM}.`,
    );
  }
  const secretId = fields.slice(0, ARN_FIELDS).join(':');
  return refOf(ref, secretId, fields.slice(ARN_FIELDS), ECS_FORM);
}

/** `name` or `name:json-key:version-stage:version-id`, trailing fields optional. */
function parseNameReference(ref: string): SecretRef {
  const [name = '', ...options] = ref.split(':');
  const problem = nameProblem(name);
  if (problem !== undefined) throw invalidArgument(ref, `${quote(ref)}: ${problem}; expected ${NAME_FORM}.`);
  if (options.length > 3) {
    throw invalidArgument(
      ref,
      `${quote(ref)} has ${options.length} fields after the name; expected at most 3: ${NAME_FORM}.`,
    );
  }
  return refOf(ref, name, options, NAME_FORM);
}

/** `{{resolve:secretsmanager:secret-id:SecretString:json-key:version-stage:version-id}}`. */
function parseDynamicReference(ref: string): SecretRef {
  if (!ref.startsWith(CFN_PREFIX) || !ref.endsWith(CFN_SUFFIX) || ref.length < CFN_PREFIX.length + 2) {
    throw invalidArgument(
      ref,
      `${quote(ref)} is not a Secrets Manager dynamic reference; expected ${CFN_FORM}.`,
    );
  }
  const fields = ref.slice(CFN_PREFIX.length, -CFN_SUFFIX.length).split(':');
  let secretId: string;
  let rest: string[];
  if (fields[0] === 'arn') {
    const problem = arnFieldsProblem(fields);
    if (problem !== undefined) throw invalidArgument(ref, `${quote(ref)}: ${problem}; expected ${CFN_FORM}.`);
    secretId = fields.slice(0, ARN_FIELDS).join(':');
    rest = fields.slice(ARN_FIELDS);
  } else {
    const name = fields[0] ?? '';
    const problem = nameProblem(name);
    if (problem !== undefined) throw invalidArgument(ref, `${quote(ref)}: ${problem}; expected ${CFN_FORM}.`);
    secretId = name;
    rest = fields.slice(1);
  }
  if (rest.length > 4) {
    throw invalidArgument(
      ref,
      `${quote(ref)} has ${rest.length} fields after the secret id; expected at most 4: ${CFN_FORM}.`,
    );
  }
  const [secretString = '', ...options] = rest;
  // CloudFormation's default for the field, and its only value.
  if (secretString !== '' && secretString !== 'SecretString') {
    throw invalidArgument(
      ref,
      `${quote(ref)} reads ${JSON.stringify(secretString)}; \`SecretString\` is the only value of that field: ${CFN_FORM}.`,
    );
  }
  return refOf(ref, secretId, options, CFN_FORM);
}

/**
 * Why the first 7 of `fields` are not a Secrets Manager ARN up to its name, or `undefined`. The partition,
 * region and account are checked by shape only, so partitions and regions yet to come parse.
 */
function arnFieldsProblem(fields: readonly string[]): string | undefined {
  if (fields.length < ARN_FIELDS) return 'an ARN has 7 `:`-separated fields up to the secret name';
  const [, partition = '', service, region = '', account = '', resource, name = ''] = fields;
  if (!PARTITION.test(partition)) return `${JSON.stringify(partition)} is not an AWS partition`;
  if (service !== 'secretsmanager') return 'not a Secrets Manager ARN';
  if (!REGION.test(region)) return `${JSON.stringify(region)} is not a region`;
  if (!ACCOUNT.test(account)) return 'the account id is not 12 digits';
  if (resource !== 'secret') return 'the resource type is not `secret`';
  return nameProblem(name, MAX_ARN_NAME_LENGTH);
}

/** Why `name` cannot be a secret name of at most `maxLength` characters, or `undefined`. */
function nameProblem(name: string, maxLength = MAX_NAME_LENGTH): string | undefined {
  if (name.length === 0) return 'the secret name is empty';
  if (name.length > maxLength) return `the secret name has ${name.length} characters, more than ${maxLength}`;
  for (let index = 0; index < name.length; index++) {
    if (NAME_CHARACTER.test(name.charAt(index))) continue;
    const code = (name.codePointAt(index) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return `a secret name has only ASCII letters, digits and /_+=.@-, not U+${code} (at index ${index})`;
  }
  return undefined;
}

/** The reference's parts from its option fields (json-key, version-stage, version-id; an empty one unset). */
function refOf(ref: string, secretId: string, options: readonly string[], form: string): SecretRef {
  const [jsonKey = '', versionStage = '', versionId = ''] = options;
  if (versionStage !== '' && versionId !== '') {
    throw invalidArgument(ref, `${quote(ref)} sets both a version stage and a version id; set one: ${form}.`);
  }
  const selector = resolveSelector(
    secretId,
    {
      ...(versionStage === '' ? {} : { versionStage }),
      ...(versionId === '' ? {} : { versionId }),
    },
    'AWSCURRENT',
  );
  if (selector instanceof SecretCacheError) {
    throw invalidArgument(ref, `${quote(ref)}: ${selector.message.replace(/\.$/, '')}; expected ${form}.`);
  }
  for (let index = 0; index < jsonKey.length; index++) {
    const code = jsonKey.charCodeAt(index);
    if (code <= 0x1f || code === 0x7f) {
      throw invalidArgument(
        ref,
        `${quote(ref)}: the JSON key has a control character at index ${index}; expected ${form}.`,
      );
    }
  }
  return Object.freeze({
    secretId,
    ...(jsonKey === '' ? {} : { jsonKey }),
    ...(versionStage === '' ? {} : { versionStage }),
    ...(versionId === '' ? {} : { versionId }),
  });
}

function quote(ref: string): string {
  return `Secret reference ${JSON.stringify(ref)}`;
}
