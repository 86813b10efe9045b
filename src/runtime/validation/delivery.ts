/**
 * How a group hands its members' standing credentials on (`credential_delivery` on
 * `adaptive_group`), and the names of the AWS Secrets Manager secrets it writes.
 *
 * Secrets Manager allows 1 to 512 characters in a name: ASCII letters, digits and
 * `/_+=.@-`. Group and endpoint names already fit (see names.ts); an email's `@`, `.`, `+`
 * and `-` do too, and anything else an email may hold (`!#$%&'*?^{|}~` and backquote) is
 * written as `=` and two hex digits, quoted-printable style, with `=` itself written `=3D`
 * so two members never share a name.
 */
import type { ValidationIssue } from '../types';
import { issue, isUnknown, typeName, type MaybeUnknown } from './common';

/** The delivery modes a group accepts. */
export const DELIVERY_MODES = ['state', 'secrets_manager', 'none'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/** Longest secret name Secrets Manager accepts. */
export const SECRET_NAME_MAX_LENGTH = 512;
/** Longest `secret_prefix`: leaves room for the group, member and endpoint. */
export const SECRET_PREFIX_MAX_LENGTH = 256;
/** The characters Secrets Manager allows in a name. */
const SECRET_NAME_CHARACTERS = /^[A-Za-z0-9/_+.@-]*$/;
/** The secret-name rule in words, for messages and documentation. */
export const SECRET_PREFIX_RULE = `1 to ${SECRET_PREFIX_MAX_LENGTH} characters: ASCII letters, digits and / _ + . @ - (Secrets Manager's name characters, but '='), e.g. adaptive/prod/`;

/** A group's delivery settings as written (absent ones null or undefined). */
export interface DeliveryInput {
  readonly mode: MaybeUnknown<string | null | undefined>;
  readonly secretPrefix: MaybeUnknown<string | null | undefined>;
  readonly region?: MaybeUnknown<string | null | undefined>;
  readonly endpoint?: MaybeUnknown<string | null | undefined>;
}

const SECRETS_MANAGER_ONLY = { secretPrefix: 'secret_prefix', region: 'aws_region', endpoint: 'aws_endpoint' } as const;

/** `credential_delivery`, with `secret_prefix` (and `aws_region`, `aws_endpoint`) checked against it. */
export function checkDelivery(input: DeliveryInput): ValidationIssue[] {
  const { mode, secretPrefix } = input;
  if (isUnknown(mode)) return [];
  if (mode !== null && mode !== undefined && !(DELIVERY_MODES as readonly unknown[]).includes(mode)) {
    return [issue('credential_delivery', `must be one of ${DELIVERY_MODES.map((m) => `"${m}"`).join(', ')}, got ${typeof mode === 'string' ? `"${mode}"` : typeName(mode)}`)];
  }
  if (mode !== 'secrets_manager') {
    return Object.entries(SECRETS_MANAGER_ONLY)
      .filter(([key]) => input[key as keyof typeof SECRETS_MANAGER_ONLY] !== null && input[key as keyof typeof SECRETS_MANAGER_ONLY] !== undefined)
      .map(([, field]) => issue(field, `only applies with credential_delivery = "secrets_manager" (it is "${mode ?? 'state'}"): remove it, or deliver to Secrets Manager`));
  }
  if (isUnknown(secretPrefix)) return [];
  if (secretPrefix === null || secretPrefix === undefined || secretPrefix === '') {
    return [issue('secret_prefix', `required with credential_delivery = "secrets_manager": ${SECRET_PREFIX_RULE}`)];
  }
  if (secretPrefix.length > SECRET_PREFIX_MAX_LENGTH || !SECRET_NAME_CHARACTERS.test(secretPrefix)) {
    return [issue('secret_prefix', `must be ${SECRET_PREFIX_RULE}`)];
  }
  return [];
}

/** A member's email as it may appear in a secret name (see the module comment). */
export function secretNamePart(text: string): string {
  return [...text]
    .map((ch) => {
      if (/^[A-Za-z0-9/_+.@-]$/.test(ch) && ch !== '/') return ch;
      return [...new TextEncoder().encode(ch)].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    })
    .join('');
}

/** The name of the secret holding `member`'s credential for `endpoint`: `<prefix><group>/<member>/<endpoint>`. */
export function memberSecretName(prefix: string, group: string, member: string, endpoint: string): string {
  return `${prefix}${secretNamePart(group)}/${secretNamePart(member)}/${secretNamePart(endpoint)}`;
}
