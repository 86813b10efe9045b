/**
 * The value shapes `bench/terraform-alone.ts` gives a `terraform_data`: what a group of N
 * members puts in Terraform's hands, without the provider. Each shape is one variable of a
 * declared type, set from `terraform.tfvars.json` (so Terraform decodes the values instead
 * of evaluating `for` expressions: evaluation stays out of the timings), passed whole to
 * `terraform_data.input`, which keeps it with its type in the state (`input` and `output`).
 */
import { createHash } from 'node:crypto';

export type ShapeId = 'emailSet' | 'emailList' | 'credentialList' | 'credentialMap';

export interface Shape {
  readonly id: ShapeId;
  /** The variable's Terraform type. */
  readonly type: string;
  /** The value for `members` members. */
  value(members: number): unknown;
}

/** A row of the report: one terraform command on one shape, in the report's order. */
export interface RowSpec {
  readonly id: string;
  readonly what: (members: number) => string;
  readonly shape: ShapeId;
  readonly command: 'apply' | 'plan';
  /** The row this one is compared with (ratio = this / that), the same values in another shape. */
  readonly comparedWith: string | null;
}

export const ROWS: readonly RowSpec[] = [
  { id: 'emailSetApply', what: (n) => `apply (saved plan): ${n} emails as a set`, shape: 'emailSet', command: 'apply', comparedWith: 'emailListApply' },
  { id: 'emailListApply', what: (n) => `apply (saved plan): ${n} emails as a list`, shape: 'emailList', command: 'apply', comparedWith: null },
  { id: 'emailSetPlan', what: (n) => `no-op plan: ${n} emails as a set`, shape: 'emailSet', command: 'plan', comparedWith: 'emailListPlan' },
  { id: 'emailListPlan', what: (n) => `no-op plan: ${n} emails as a list`, shape: 'emailList', command: 'plan', comparedWith: null },
  { id: 'credentialListPlan', what: (n) => `no-op plan: ${n} credential objects as a list`, shape: 'credentialList', command: 'plan', comparedWith: 'credentialMapPlan' },
  { id: 'credentialMapPlan', what: (n) => `no-op plan: ${n} credential objects as a map`, shape: 'credentialMap', command: 'plan', comparedWith: null },
];

/** The main.tf of a shape's working directory. */
export function shapeConfig(shape: Shape): string {
  return `variable "value" {\n  type = ${shape.type}\n}\n\nresource "terraform_data" "shape" {\n  input = var.value\n}\n`;
}

const ENDPOINT = 'postgres-dev-access';
const HOST = 'db.internal.example';
const DATABASE = 'production';

const email = (i: number): string => `member${String(i).padStart(5, '0')}@company.example`;

const emails = (members: number): string[] => Array.from({ length: members }, (_, i) => email(i));

/** The attributes of a group's credential (src/resources/adaptive-group.ts `credentialType`), in its order. */
const CREDENTIAL_TYPE = `object({
    member     = string
    endpoint   = string
    username   = string
    password   = string
    expires_at = string
    host       = string
    port       = number
    database   = string
    sslmode    = string
    uri        = string
    ca_cert    = string
  })`;

/** One credential as the provider writes it: the login role `member/endpoint`, a 32-character password. */
function credential(i: number): Record<string, string | number | null> {
  const username = `${email(i)}/${ENDPOINT}`;
  const password = createHash('sha256').update(String(i)).digest().subarray(0, 24).toString('base64url');
  return {
    member: email(i),
    endpoint: ENDPOINT,
    username,
    password,
    expires_at: '2026-12-05T12:00:00.000Z',
    host: HOST,
    port: 5432,
    database: DATABASE,
    sslmode: 'verify-full',
    uri: `postgresql://${encodeURIComponent(username)}:${password}@${HOST}:5432/${DATABASE}?sslmode=verify-full&sslrootcert=system`,
    ca_cert: null,
  };
}

const credentials = (members: number): Record<string, string | number | null>[] => Array.from({ length: members }, (_, i) => credential(i));

export const SHAPES: Readonly<Record<ShapeId, Shape>> = {
  emailSet: { id: 'emailSet', type: 'set(string)', value: emails },
  emailList: { id: 'emailList', type: 'list(string)', value: emails },
  credentialList: { id: 'credentialList', type: `list(${CREDENTIAL_TYPE})`, value: credentials },
  credentialMap: {
    id: 'credentialMap',
    type: `map(${CREDENTIAL_TYPE})`,
    value: (members) => Object.fromEntries(credentials(members).map((c) => [`${String(c.endpoint)}/${String(c.member)}`, c])),
  },
};

/** The tfvars file setting the shape's variable to its value for `members` members. */
export function shapeVars(shape: Shape, members: number): string {
  return JSON.stringify({ value: shape.value(members) });
}

interface StateFile {
  serial: number;
  resources: { type: string; instances: { attributes: { input: { value: unknown }; output: { value: unknown } } }[] }[];
}

/**
 * The state a `terraform apply` of the shape with `members` members leaves, from the state of
 * an apply with 1 member: the same resource (id, type, lineage) with the full value in
 * `input` and `output`, as terraform_data stores it. Setting up a no-op plan this way costs
 * no apply of N values (the set's apply is quadratic, over 5 minutes at 10,000).
 */
export function stateWithMembers(oneMemberState: string, shape: Shape, members: number): string {
  const state = JSON.parse(oneMemberState) as StateFile;
  const instance = state.resources.find((r) => r.type === 'terraform_data')?.instances[0];
  if (instance === undefined) throw new Error('the setup apply left no terraform_data in the state');
  const value = shape.value(members);
  instance.attributes.input.value = value;
  instance.attributes.output.value = value;
  state.serial += 1;
  return JSON.stringify(state, null, 2);
}
