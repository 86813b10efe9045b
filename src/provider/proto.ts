/**
 * The wire contracts, as a protobufjs JSON descriptor: tfplugin6 (hashicorp/terraform,
 * docs/plugin-protocol/tfplugin6.*.proto), go-plugin's controller, stdio and broker
 * services, and the gRPC health service. Only the messages this server exchanges are
 * declared, with their field numbers exactly as upstream; protobuf skips fields it does not
 * know, so newer Terraform versions sending more are fine.
 *
 * A JSON descriptor, rather than a .proto parsed at start-up, keeps the bundle
 * self-contained and skips the parser on every cold start.
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { IConversionOptions, INamespace, Root, Type } from 'protobufjs/light';

type Fields = Record<string, { type: string; id: number; rule?: 'repeated'; keyType?: string }>;

const f = (type: string, id: number): { type: string; id: number } => ({ type, id });
const repeated = (type: string, id: number): { type: string; id: number; rule: 'repeated' } => ({ type, id, rule: 'repeated' });
const map = (type: string, id: number): { type: string; id: number; keyType: string } => ({ type, id, keyType: 'string' });
const message = (fields: Fields, nested?: INamespace['nested']): object => (nested ? { fields, nested } : { fields });
/** An RPC's Request/Response pair, declared as nested messages the way tfplugin6 does. */
const rpc = (request: Fields, response: Fields, nested: Record<string, object> = {}): object => ({
  fields: {},
  nested: { Request: { fields: request }, Response: { fields: response }, ...nested },
});

const diagnostics = (id: number): { type: string; id: number; rule: 'repeated' } => repeated('Diagnostic', id);

const tfplugin6 = {
  DynamicValue: message({ msgpack: f('bytes', 1), json: f('bytes', 2) }),
  Diagnostic: message(
    { severity: f('Severity', 1), summary: f('string', 2), detail: f('string', 3), attribute: f('AttributePath', 4) },
    { Severity: { values: { INVALID: 0, ERROR: 1, WARNING: 2 } } },
  ),
  FunctionError: message({ text: f('string', 1), function_argument: f('int64', 2) }),
  AttributePath: message(
    { steps: repeated('Step', 1) },
    {
      Step: {
        oneofs: { selector: { oneof: ['attribute_name', 'element_key_string', 'element_key_int'] } },
        fields: { attribute_name: f('string', 1), element_key_string: f('string', 2), element_key_int: f('int64', 3) },
      },
    },
  ),
  StopProvider: rpc({}, { Error: f('string', 1) }),
  RawState: message({ json: f('bytes', 1), flatmap: map('string', 2) }),
  StringKind: { values: { PLAIN: 0, MARKDOWN: 1 } },
  Schema: message(
    { version: f('int64', 1), block: f('Block', 2) },
    {
      Block: {
        fields: {
          version: f('int64', 1),
          attributes: repeated('Attribute', 2),
          block_types: repeated('NestedBlock', 3),
          description: f('string', 4),
          description_kind: f('StringKind', 5),
          deprecated: f('bool', 6),
        },
      },
      Attribute: {
        fields: {
          name: f('string', 1),
          type: f('bytes', 2),
          description: f('string', 3),
          required: f('bool', 4),
          optional: f('bool', 5),
          computed: f('bool', 6),
          sensitive: f('bool', 7),
          description_kind: f('StringKind', 8),
          deprecated: f('bool', 9),
          write_only: f('bool', 11),
        },
      },
      NestedBlock: {
        fields: { type_name: f('string', 1), block: f('Block', 2), nesting: f('int32', 3), min_items: f('int64', 4), max_items: f('int64', 5) },
      },
    },
  ),
  // Functions are never declared by this provider; the empty message lets GetFunctions
  // and GetProviderSchema name the map's value type.
  Function: message({}),
  ServerCapabilities: message({ plan_destroy: f('bool', 1), get_provider_schema_optional: f('bool', 2), move_resource_state: f('bool', 3) }),
  ClientCapabilities: message({ deferral_allowed: f('bool', 1), write_only_attributes_allowed: f('bool', 2), store_planned_private: f('bool', 3) }),
  // Never sent by this provider (it does not defer); declared so Open's response matches upstream.
  Deferred: message(
    { reason: f('Reason', 1) },
    { Reason: { values: { UNKNOWN: 0, RESOURCE_CONFIG_UNKNOWN: 1, PROVIDER_CONFIG_UNKNOWN: 2, ABSENT_PREREQ: 3 } } },
  ),
  GetMetadata: rpc(
    {},
    {
      server_capabilities: f('ServerCapabilities', 1),
      diagnostics: diagnostics(2),
      data_sources: repeated('TypeName', 3),
      resources: repeated('TypeName', 4),
      functions: repeated('FunctionName', 5),
      ephemeral_resources: repeated('TypeName', 6),
    },
    // Upstream declares one metadata message per kind; all carry the same field 1.
    { TypeName: { fields: { type_name: f('string', 1) } }, FunctionName: { fields: { name: f('string', 1) } } },
  ),
  GetProviderSchema: rpc(
    {},
    {
      provider: f('Schema', 1),
      resource_schemas: map('Schema', 2),
      data_source_schemas: map('Schema', 3),
      diagnostics: diagnostics(4),
      provider_meta: f('Schema', 5),
      server_capabilities: f('ServerCapabilities', 6),
      functions: map('Function', 7),
      ephemeral_resource_schemas: map('Schema', 8),
    },
  ),
  ValidateProviderConfig: rpc({ config: f('DynamicValue', 1) }, { diagnostics: diagnostics(2) }),
  UpgradeResourceState: rpc(
    { type_name: f('string', 1), version: f('int64', 2), raw_state: f('RawState', 3) },
    { upgraded_state: f('DynamicValue', 1), diagnostics: diagnostics(2) },
  ),
  ValidateResourceConfig: rpc({ type_name: f('string', 1), config: f('DynamicValue', 2), client_capabilities: f('ClientCapabilities', 3) }, { diagnostics: diagnostics(1) }),
  ValidateDataResourceConfig: rpc({ type_name: f('string', 1), config: f('DynamicValue', 2) }, { diagnostics: diagnostics(1) }),
  ValidateEphemeralResourceConfig: rpc({ type_name: f('string', 1), config: f('DynamicValue', 2) }, { diagnostics: diagnostics(1) }),
  ConfigureProvider: rpc(
    { terraform_version: f('string', 1), config: f('DynamicValue', 2), client_capabilities: f('ClientCapabilities', 3) },
    { diagnostics: diagnostics(1) },
  ),
  ReadResource: rpc(
    { type_name: f('string', 1), current_state: f('DynamicValue', 2), private: f('bytes', 3), provider_meta: f('DynamicValue', 4), client_capabilities: f('ClientCapabilities', 5) },
    { new_state: f('DynamicValue', 1), diagnostics: diagnostics(2), private: f('bytes', 3) },
  ),
  PlanResourceChange: rpc(
    {
      type_name: f('string', 1),
      prior_state: f('DynamicValue', 2),
      proposed_new_state: f('DynamicValue', 3),
      config: f('DynamicValue', 4),
      prior_private: f('bytes', 5),
      provider_meta: f('DynamicValue', 6),
      client_capabilities: f('ClientCapabilities', 7),
    },
    { planned_state: f('DynamicValue', 1), requires_replace: repeated('AttributePath', 2), planned_private: f('bytes', 3), diagnostics: diagnostics(4) },
  ),
  ApplyResourceChange: rpc(
    {
      type_name: f('string', 1),
      prior_state: f('DynamicValue', 2),
      planned_state: f('DynamicValue', 3),
      config: f('DynamicValue', 4),
      planned_private: f('bytes', 5),
      provider_meta: f('DynamicValue', 6),
    },
    { new_state: f('DynamicValue', 1), private: f('bytes', 2), diagnostics: diagnostics(3) },
  ),
  ImportResourceState: rpc(
    { type_name: f('string', 1), id: f('string', 2), client_capabilities: f('ClientCapabilities', 3) },
    { imported_resources: repeated('ImportedResource', 1), diagnostics: diagnostics(2) },
    { ImportedResource: { fields: { type_name: f('string', 1), state: f('DynamicValue', 2), private: f('bytes', 3) } } },
  ),
  MoveResourceState: rpc(
    {
      source_provider_address: f('string', 1),
      source_type_name: f('string', 2),
      source_schema_version: f('int64', 3),
      source_state: f('RawState', 4),
      target_type_name: f('string', 5),
      source_private: f('bytes', 6),
    },
    { target_state: f('DynamicValue', 1), diagnostics: diagnostics(2), target_private: f('bytes', 3) },
  ),
  ReadDataSource: rpc({ type_name: f('string', 1), config: f('DynamicValue', 2) }, { state: f('DynamicValue', 1), diagnostics: diagnostics(2) }),
  // `renew_at` and `private` are proto3 `optional` upstream: absent and empty differ on the
  // wire only in presence, which protobufjs gives by leaving the field out of the object.
  OpenEphemeralResource: rpc(
    { type_name: f('string', 1), config: f('DynamicValue', 2), client_capabilities: f('ClientCapabilities', 3) },
    { diagnostics: diagnostics(1), renew_at: f('google.protobuf.Timestamp', 2), result: f('DynamicValue', 3), private: f('bytes', 4), deferred: f('Deferred', 5) },
  ),
  RenewEphemeralResource: rpc(
    { type_name: f('string', 1), private: f('bytes', 2) },
    { diagnostics: diagnostics(1), renew_at: f('google.protobuf.Timestamp', 2), private: f('bytes', 3) },
  ),
  CloseEphemeralResource: rpc({ type_name: f('string', 1), private: f('bytes', 2) }, { diagnostics: diagnostics(1) }),
  GetFunctions: rpc({}, { functions: map('Function', 1), diagnostics: diagnostics(2) }),
  CallFunction: rpc({ name: f('string', 1), arguments: repeated('DynamicValue', 2) }, { result: f('DynamicValue', 1), error: f('FunctionError', 2) }),
};

const descriptor = {
  nested: {
    tfplugin6: { nested: tfplugin6 },
    plugin: {
      nested: {
        Empty: message({}),
        StdioData: message({ channel: f('int32', 1), data: f('bytes', 2) }),
        ConnInfo: message(
          { service_id: f('uint32', 1), network: f('string', 2), address: f('string', 3), knock: f('Knock', 4) },
          { Knock: { fields: { knock: f('bool', 1), ack: f('bool', 2), error: f('string', 3) } } },
        ),
      },
    },
    google: { nested: { protobuf: { nested: { Empty: message({}), Timestamp: message({ seconds: f('int64', 1), nanos: f('int32', 2) }) } } } },
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: message({ service: f('string', 1) }),
                HealthCheckResponse: message(
                  { status: f('ServingStatus', 1) },
                  { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                ),
              },
            },
          },
        },
      },
    },
  },
};

let root: Root | undefined;

/**
 * A CommonJS module loaded with `import()`: bundlers and TypeScript hand over its exports
 * directly, Node's own loader sometimes only as `default` (when it cannot see the names).
 */
export function commonJs<T extends object>(loaded: T): T {
  const fallback = (loaded as { default?: T }).default;
  return fallback !== undefined && Object.keys(loaded).every((key) => key === 'default' || key === '__esModule') ? fallback : loaded;
}

/**
 * Loads protobufjs and builds the message types. Separate from module load so the plugin
 * can print its handshake line first and do this while Terraform connects.
 */
export async function loadProtocol(): Promise<void> {
  if (root) return;
  const protobuf = commonJs(await import('protobufjs/light'));
  root = protobuf.Root.fromJSON(descriptor);
}

/** The protobuf type with this fully qualified name (after `loadProtocol`). */
export function protoType(name: string): Type {
  if (!root) throw new Error('loadProtocol() must complete before messages are encoded');
  return root.lookupType(name);
}

const DECODE_OPTIONS: IConversionOptions = { longs: Number, enums: Number, defaults: true, arrays: true, objects: true };

/** A gRPC method definition whose messages are plain objects with snake_case fields. */
function method(path: string, requestType: string, responseType: string, requestStream: boolean, responseStream: boolean): MethodDefinition<object, object> {
  const codec = (name: string): { serialize: (value: object) => Buffer; deserialize: (bytes: Buffer) => object } => {
    let type: Type | undefined;
    const get = (): Type => (type ??= protoType(name));
    return {
      serialize: (value) => {
        const bytes = get().encode(value).finish();
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
      deserialize: (bytes) => get().toObject(get().decode(bytes), DECODE_OPTIONS),
    };
  };
  const request = codec(requestType);
  const response = codec(responseType);
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
  };
}

/** The tfplugin6 RPC names this server answers. */
export const PROVIDER_RPCS = [
  'GetMetadata',
  'GetProviderSchema',
  'ValidateProviderConfig',
  'ValidateResourceConfig',
  'ValidateDataResourceConfig',
  'UpgradeResourceState',
  'ConfigureProvider',
  'ReadResource',
  'PlanResourceChange',
  'ApplyResourceChange',
  'ImportResourceState',
  'MoveResourceState',
  'ReadDataSource',
  'ValidateEphemeralResourceConfig',
  'OpenEphemeralResource',
  'RenewEphemeralResource',
  'CloseEphemeralResource',
  'GetFunctions',
  'CallFunction',
  'StopProvider',
] as const;

/** One of the tfplugin6 RPC names. */
export type ProviderRpc = (typeof PROVIDER_RPCS)[number];

/** `tfplugin6.Provider`. */
export function providerService(): ServiceDefinition {
  const service: Record<string, MethodDefinition<object, object>> = {};
  for (const name of PROVIDER_RPCS) {
    service[name] = method(`/tfplugin6.Provider/${name}`, `tfplugin6.${name}.Request`, `tfplugin6.${name}.Response`, false, false);
  }
  return service;
}

/** go-plugin's `plugin.GRPCController`: Terraform asks the plugin to exit through it. */
export function controllerService(): ServiceDefinition {
  return { Shutdown: method('/plugin.GRPCController/Shutdown', 'plugin.Empty', 'plugin.Empty', false, false) };
}

/** go-plugin's `plugin.GRPCStdio`: Terraform opens it at connect and reads forwarded output. */
export function stdioService(): ServiceDefinition {
  return { StreamStdio: method('/plugin.GRPCStdio/StreamStdio', 'google.protobuf.Empty', 'plugin.StdioData', false, true) };
}

/** go-plugin's `plugin.GRPCBroker`: for plugins that serve further plugins; opened at connect. */
export function brokerService(): ServiceDefinition {
  return { StartStream: method('/plugin.GRPCBroker/StartStream', 'plugin.ConnInfo', 'plugin.ConnInfo', true, true) };
}

/** The standard `grpc.health.v1.Health` service. */
export function healthService(): ServiceDefinition {
  return { Check: method('/grpc.health.v1.Health/Check', 'grpc.health.v1.HealthCheckRequest', 'grpc.health.v1.HealthCheckResponse', false, false) };
}

// Plain-object shapes of the tfplugin6 messages, as decoded (defaults filled in) and as
// encoded (unset fields may be omitted).

/** `tfplugin6.DynamicValue`. */
export interface DynamicValueMessage {
  msgpack?: Uint8Array;
  json?: Uint8Array;
}

/** `tfplugin6.AttributePath.Step`. */
export interface PathStepMessage {
  attribute_name?: string;
  element_key_string?: string;
  element_key_int?: number;
}

/** `tfplugin6.Diagnostic`. */
export interface DiagnosticMessage {
  severity: number;
  summary: string;
  detail?: string;
  attribute?: { steps: PathStepMessage[] };
}

/** `tfplugin6.Schema.Attribute`. */
export interface SchemaAttributeMessage {
  name: string;
  type: Uint8Array;
  description: string;
  required: boolean;
  optional: boolean;
  computed: boolean;
  sensitive: boolean;
  deprecated: boolean;
  write_only: boolean;
}

/** `google.protobuf.Timestamp`. */
export interface TimestampMessage {
  seconds: number;
  nanos: number;
}

/** `tfplugin6.Schema`. */
export interface SchemaMessage {
  version: number;
  block: { version: number; attributes: SchemaAttributeMessage[]; block_types: never[]; description: string; deprecated: boolean };
}
