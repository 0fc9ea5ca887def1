import { SecretCacheError } from '../errors.js';
import type { SecretRequest } from '../source.js';

/** The path both servers answer `GetSecretValue` on. */
export const GET_PATH = '/secretsmanager/get';

/**
 * The path and query of a request, with only the parameters the server knows (the Agent refuses any other
 * with a 400). Each value is percent-encoded with `encodeURIComponent`: `+` becomes `%2B` (the Agent decodes
 * the query as a form, where a bare `+` is a space), `/`, `%`, spaces and non-ASCII characters are encoded too.
 * Throws `INVALID_ARGUMENT` for a string with a lone surrogate, which has no UTF-8 form to send.
 */
export function secretPath(request: SecretRequest, withRefreshNow: boolean): string {
  const { secretId, versionStage, versionId } = request;
  let path = `${GET_PATH}?secretId=${encode(secretId, secretId, 'secret id')}`;
  if (versionStage !== undefined) path += `&versionStage=${encode(versionStage, secretId, 'versionStage')}`;
  if (versionId !== undefined) path += `&versionId=${encode(versionId, secretId, 'versionId')}`;
  if (withRefreshNow && request.refreshNow === true) path += '&refreshNow=true';
  return path;
}

function encode(value: string, secretId: string, what: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    throw new SecretCacheError(
      'INVALID_ARGUMENT',
      secretId,
      `The ${what} is not well-formed Unicode (it has a lone surrogate), so it cannot be sent.`,
    );
  }
}
