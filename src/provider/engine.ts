/**
 * The framework proper: answers each tfplugin6 RPC for a `Provider`, turning msgpack into
 * typed values, running validators, plan modifiers and the resource's CRUD, and turning
 * everything that goes wrong into diagnostics. It knows nothing of gRPC (see server.ts), so
 * it can be exercised directly.
 */
import { DiagnosticCollector, diagnosticFromError, error, hasErrors, ResourceError, type Diagnostic } from './diagnostics';
import type { Logger, Redactor } from './log';
import type { DiagnosticMessage, DynamicValueMessage, ProviderRpc, SchemaAttributeMessage, SchemaMessage } from './proto';
import type { EphemeralResource, Provider, Resource, ResourceContext } from './resource';
import type { AnyAttribute, Attributes, PlanModifierRequest, ValidatorResult } from './schema';
import {
  decodeJson,
  decodeMsgpack,
  encodeMsgpack,
  isUnknown,
  isWhollyKnown,
  objectFromWire,
  toWire,
  unknownsToNull,
  UNKNOWN,
  ValueError,
  valuesEqual,
  type ObjectValue,
  type Value,
} from './values';
import { objectType, pathToMessage, diagnosticToMessage, complete, validatorDiagnostics, loggable, secretStrings, registerSensitive, writeOnlyNames, withoutWriteOnly, encodePrivate, decodePrivate, timestamp, HeldLogger } from './engine-support';
export { diagnosticToMessage, validatorDiagnostics } from './engine-support';

/** A decoded request or response message: plain objects with snake_case fields. */
export type Message = Record<string, unknown>;


const EMPTY = new Uint8Array(0);

interface EngineOptions {
  readonly logger: Logger;
  readonly redactor: Redactor;
}

type Handler = (request: Message, logger: Logger) => Promise<Message>;

/**
 * What the server tells Terraform it can do without. `get_provider_schema_optional`: the
 * schema depends on nothing but the plugin's version, so Terraform (1.6+) asks one plugin
 * process of a command for it and serves the others from its cache, saving a whole-schema
 * call in each of them.
 */
const SERVER_CAPABILITIES = { plan_destroy: false, get_provider_schema_optional: true, move_resource_state: false } as const;

/** Serves one provider's RPCs. One instance per plugin process. */
export class ProviderEngine {
  private readonly logger: Logger;
  private readonly redactor: Redactor;
  private readonly stop = new AbortController();
  private configured: { readonly client: unknown } | undefined;
  private readonly handlers: Record<ProviderRpc, Handler>;

  constructor(
    readonly provider: Provider,
    options: EngineOptions,
  ) {
    this.logger = options.logger;
    this.redactor = options.redactor;
    provider.definition.secrets?.((secret) => this.redactor.add(secret));
    this.handlers = {
      GetMetadata: async () => this.getMetadata(),
      GetProviderSchema: async () => this.getProviderSchema(),
      ValidateProviderConfig: (r) => this.validateProviderConfig(r),
      ValidateResourceConfig: (r) => this.validateResourceConfig(r),
      UpgradeResourceState: (r, l) => this.upgradeResourceState(r, l),
      ConfigureProvider: (r, l) => this.configureProvider(r, l),
      ReadResource: (r, l) => this.readResource(r, l),
      PlanResourceChange: (r, l) => this.planResourceChange(r, l),
      ApplyResourceChange: (r, l) => this.applyResourceChange(r, l),
      ImportResourceState: (r, l) => this.importResourceState(r, l),
      MoveResourceState: async (r) => ({ diagnostics: [diagnosticToMessage(error('Moving resources is not supported', `This provider cannot move state into ${String(r.target_type_name)}.`))] }),
      ValidateDataResourceConfig: async (r) => this.noSuch('data source', r),
      ReadDataSource: async (r) => this.noSuch('data source', r),
      ValidateEphemeralResourceConfig: (r) => this.validateEphemeralResourceConfig(r),
      OpenEphemeralResource: (r, l) => this.openEphemeralResource(r, l),
      RenewEphemeralResource: (r, l) => this.renewEphemeralResource(r, l),
      CloseEphemeralResource: (r, l) => this.closeEphemeralResource(r, l),
      GetFunctions: async () => ({ functions: {}, diagnostics: [] }),
      CallFunction: async (r) => ({ error: { text: `This provider declares no functions (asked for ${String(r.name)}).` } }),
      StopProvider: async () => this.stopProvider(),
    };
  }

  /** Aborted once Terraform has called StopProvider. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /**
   * Answers one RPC. Never throws: anything thrown by the framework or a resource becomes
   * an error diagnostic in the response.
   */
  async handle(rpc: ProviderRpc, request: Message): Promise<Message> {
    return this.scrubbed(await this.answer(rpc, request));
  }

  /**
   * The response with every registered secret masked in what Terraform shows and logs:
   * diagnostics' summary and detail, and the error texts of StopProvider and CallFunction.
   * A message built from an error (a connection failure, a secret store's refusal) may
   * quote anything the resource code held.
   */
  private scrubbed(response: Message): Message {
    const scrub = (text: unknown): unknown => (typeof text === 'string' ? this.redactor.scrub(text) : text);
    const out: Message = { ...response };
    if (Array.isArray(response.diagnostics)) {
      out.diagnostics = (response.diagnostics as DiagnosticMessage[]).map((d) => ({
        ...d,
        summary: scrub(d.summary) as string,
        ...(d.detail !== undefined ? { detail: scrub(d.detail) as string } : {}),
      }));
    }
    if (typeof response.Error === 'string') out.Error = scrub(response.Error);
    if (response.error && typeof response.error === 'object') out.error = { ...(response.error as Message), text: scrub((response.error as Message).text) };
    return out;
  }

  private async answer(rpc: ProviderRpc, request: Message): Promise<Message> {
    const typeName = typeof request.type_name === 'string' && request.type_name ? request.type_name : undefined;
    const logger = this.logger.with({ tf_rpc: rpc, ...(typeName ? { tf_resource_type: typeName } : {}) });
    const started = performance.now();
    logger.debug('Received request');
    try {
      const response = await this.handlers[rpc](request, logger);
      const diagnostics = (response.diagnostics as DiagnosticMessage[] | undefined) ?? [];
      logger.debug('Served request', { duration_ms: Math.round(performance.now() - started), diagnostic_count: diagnostics.length });
      for (const d of diagnostics) logger.trace('Diagnostic', { severity: d.severity, summary: d.summary, detail: d.detail });
      return response;
    } catch (err) {
      logger.error('Request failed', { error: err });
      if (rpc === 'StopProvider') return { Error: err instanceof Error ? err.message : String(err) };
      if (rpc === 'CallFunction') return { error: { text: err instanceof Error ? err.message : String(err) } };
      return { diagnostics: [diagnosticToMessage(diagnosticFromError(err, `Unexpected error in ${rpc}`))] };
    }
  }

  private getMetadata(): Message {
    return {
      server_capabilities: SERVER_CAPABILITIES,
      diagnostics: [],
      data_sources: [],
      resources: [...this.provider.resources.keys()].map((type_name) => ({ type_name })),
      functions: [],
      ephemeral_resources: [...this.provider.ephemeralResources.keys()].map((type_name) => ({ type_name })),
    };
  }

  private schemaMessage(attributes: Attributes, description: string, version: number, deprecated: boolean): SchemaMessage {
    const attributeMessages: SchemaAttributeMessage[] = Object.entries(attributes).map(([name, a]) => ({
      name,
      type: Buffer.from(JSON.stringify(a.type)),
      description: a.options.description,
      required: a.options.required === true,
      optional: a.options.optional === true,
      computed: a.options.computed === true,
      sensitive: a.options.sensitive === true,
      deprecated: a.options.deprecated !== undefined,
      write_only: a.options.writeOnly === true,
    }));
    return { version, block: { version, attributes: attributeMessages, block_types: [], description, deprecated } };
  }

  private getProviderSchema(): Message {
    const resource_schemas: Record<string, SchemaMessage> = {};
    for (const [name, resource] of this.provider.resources) {
      const s = resource.schema;
      resource_schemas[name] = this.schemaMessage(s.attributes, s.description, s.version ?? 0, s.deprecated !== undefined);
    }
    const ephemeral_resource_schemas: Record<string, SchemaMessage> = {};
    for (const [name, ephemeral] of this.provider.ephemeralResources) {
      const s = ephemeral.schema;
      ephemeral_resource_schemas[name] = this.schemaMessage(s.attributes, s.description, 0, s.deprecated !== undefined);
    }
    return {
      provider: this.schemaMessage(this.provider.schema.attributes, this.provider.schema.description, 0, false),
      resource_schemas,
      data_source_schemas: {},
      ephemeral_resource_schemas,
      functions: {},
      diagnostics: [],
      server_capabilities: SERVER_CAPABILITIES,
    };
  }

  private noSuch(kind: string, request: Message): Message {
    return { diagnostics: [diagnosticToMessage(error(`Unknown ${kind} type`, `This provider has no ${kind} named ${JSON.stringify(request.type_name)}.`))] };
  }

  private resource(request: Message): Resource<unknown> {
    const typeName = String(request.type_name);
    const resource = this.provider.resources.get(typeName);
    if (!resource) throw new ResourceError('Unknown resource type', { detail: `This provider has no resource type named ${JSON.stringify(typeName)}.` });
    return resource;
  }

  private ephemeral(request: Message): EphemeralResource<unknown> {
    const typeName = String(request.type_name);
    const ephemeral = this.provider.ephemeralResources.get(typeName);
    if (!ephemeral) throw new ResourceError('Unknown ephemeral resource type', { detail: `This provider has no ephemeral resource type named ${JSON.stringify(typeName)}.` });
    return ephemeral;
  }

  /**
   * Decodes a DynamicValue into an object of `attributes` (null for a null value) and
   * registers the values of sensitive (and write-only) attributes with the log redactor.
   */
  private decode(attributes: Attributes, message: unknown): ObjectValue | null {
    const dv = (message ?? {}) as DynamicValueMessage;
    const type = objectType(attributes);
    let value: Value;
    try {
      if (dv.msgpack && dv.msgpack.length) value = decodeMsgpack(type, dv.msgpack);
      else if (dv.json && dv.json.length) value = decodeJson(type, dv.json);
      else value = null;
    } catch (err) {
      if (err instanceof ValueError) throw new ResourceError('Invalid value from Terraform', { detail: err.message, path: err.path });
      throw err;
    }
    if (value === null || isUnknown(value)) return null;
    const object = value as ObjectValue;
    registerSensitive(this.redactor, attributes, object);
    return object;
  }

  /** Encodes an object of `attributes` (every attribute present, unknowns as extension 0). */
  private encode(attributes: Attributes, value: ObjectValue | null): DynamicValueMessage {
    return { msgpack: encodeMsgpack(objectType(attributes), value) };
  }

  private context(logger: Logger): ResourceContext<unknown> {
    const configured = (): { readonly client: unknown } => {
      if (!this.configured) throw new Error('The provider has not been configured yet (Terraform calls ConfigureProvider before managing resources).');
      return this.configured;
    };
    return {
      get provider(): unknown {
        return configured().client;
      },
      logger,
      signal: this.stop.signal,
      redact: (secret) => this.redactor.add(secret),
    };
  }

  /** Validators of each known, non-null attribute, then the block-level check. */
  private async validate(
    attributes: Attributes,
    config: ObjectValue,
    blockCheck: ((request: { readonly config: never }) => ValidatorResult | Promise<ValidatorResult>) | undefined,
  ): Promise<Diagnostic[]> {
    const diagnostics: Diagnostic[] = [];
    for (const [name, attribute] of Object.entries(attributes)) {
      const value = config[name];
      if (value === null || value === undefined || !isWhollyKnown(value)) continue;
      if (attribute.options.deprecated !== undefined) {
        diagnostics.push({ severity: 'warning', summary: `Attribute "${name}" is deprecated`, detail: attribute.options.deprecated, path: [name] });
      }
      for (const validator of attribute.options.validators ?? []) {
        const result = validator(value as never, { path: [name], attribute: name, config });
        diagnostics.push(...validatorDiagnostics(result, [name], `Invalid value for "${name}"`));
      }
    }
    if (blockCheck) diagnostics.push(...validatorDiagnostics(await blockCheck({ config: config as never }), [], 'Invalid configuration'));
    return diagnostics;
  }

  private async validateProviderConfig(request: Message): Promise<Message> {
    const { schema, definition } = this.provider;
    const config = this.decode(schema.attributes, request.config) ?? {};
    const diagnostics = await this.validate(schema.attributes, config, definition.validateConfig?.bind(definition));
    return { diagnostics: diagnostics.map(diagnosticToMessage) };
  }

  private async validateResourceConfig(request: Message): Promise<Message> {
    const resource = this.resource(request);
    const attributes = resource.schema.attributes;
    const config = this.decode(attributes, request.config) ?? {};
    const def = resource.definition;
    const diagnostics = await this.validate(attributes, config, def.validateConfig?.bind(def));
    // A client that does not announce write-only support (Terraform before 1.11, or a tool
    // speaking the protocol without it) would plan and store the value like any other.
    const capabilities = (request.client_capabilities ?? {}) as { write_only_attributes_allowed?: boolean };
    if (!capabilities.write_only_attributes_allowed) {
      for (const name of writeOnlyNames(attributes)) {
        if (config[name] === null || config[name] === undefined) continue;
        diagnostics.push(
          error(
            'Write-only attribute not supported by this client',
            `"${name}" is write-only: its value must never be stored in plan or state, and this client did not announce ` +
              'support for write-only attributes. Use Terraform 1.11 or later (or OpenTofu 1.11 or later), or leave it unset.',
            [name],
          ),
        );
      }
    }
    return { diagnostics: diagnostics.map(diagnosticToMessage) };
  }

  private async configureProvider(request: Message, logger: Logger): Promise<Message> {
    const { schema, definition } = this.provider;
    const config = this.decode(schema.attributes, request.config) ?? {};
    const client = await definition.configure({
      config: config as never,
      terraformVersion: typeof request.terraform_version === 'string' ? request.terraform_version : '',
      logger,
      signal: this.stop.signal,
      redact: (secret) => this.redactor.add(secret),
    });
    this.configured = { client };
    return { diagnostics: [] };
  }

  private stopProvider(): Message {
    this.logger.info('Stop requested: in-flight operations are asked to finish');
    this.stop.abort(new Error('Terraform asked the provider to stop'));
    return { Error: '' };
  }

  /**
   * Completes what a resource returned into a full object: attributes it left out come
   * from `base`, leftover unknowns become null, and each value is checked against its type.
   */
  private completeState(resource: Resource<unknown> | EphemeralResource<unknown>, returned: unknown, base: ObjectValue | null, logger: Logger): ObjectValue {
    if (returned === null || typeof returned !== 'object' || Array.isArray(returned)) {
      throw new ResourceError('Invalid result from the resource', { detail: `${resource.typeName} returned ${returned === null ? 'null' : typeof returned}, expected an object of attribute values.` });
    }
    const record = returned as Record<string, unknown>;
    const out: ObjectValue = {};
    for (const [name, attribute] of Object.entries(resource.schema.attributes)) {
      // Write-only values never reach state, whatever the resource returned.
      const value = attribute.options.writeOnly ? null : record[name] !== undefined ? record[name] : (base?.[name] ?? null);
      try {
        toWire(attribute.type, value, [name]);
      } catch (err) {
        if (err instanceof ValueError) {
          throw new ResourceError('Invalid result from the resource', { detail: `${resource.typeName}.${name}: ${err.message}`, path: err.path });
        }
        throw err;
      }
      out[name] = unknownsToNull(value as Value);
      if (attribute.options.sensitive) for (const s of secretStrings(out[name], attribute.options.secretFields)) this.redactor.add(s);
    }
    for (const name of Object.keys(record)) {
      if (!(name in resource.schema.attributes)) logger.warn('Resource returned an attribute its schema does not declare; ignored', { attribute: name });
    }
    return out;
  }

  private async readResource(request: Message, logger: Logger): Promise<Message> {
    const resource = this.resource(request);
    const attributes = resource.schema.attributes;
    const state = this.decode(attributes, request.current_state);
    const privateData = (request.private as Uint8Array | undefined) ?? EMPTY;
    if (state === null) return { new_state: this.encode(attributes, null), private: privateData, diagnostics: [] };
    const result = await resource.definition.read({ state: state as never, ctx: this.context(logger) });
    if (result === null || result === undefined) {
      logger.info('Object no longer exists; Terraform will plan to create it');
      return { new_state: this.encode(attributes, null), private: privateData, diagnostics: [] };
    }
    const newState = this.completeState(resource, result, state, logger);
    if (logger.enabled('trace')) logger.trace('Read state', { state: loggable(attributes, newState) });
    return { new_state: this.encode(attributes, newState), private: privateData, diagnostics: [] };
  }

  private async planResourceChange(request: Message, logger: Logger): Promise<Message> {
    const resource = this.resource(request);
    const attributes = resource.schema.attributes;
    const prior = this.decode(attributes, request.prior_state);
    const proposed = this.decode(attributes, request.proposed_new_state);
    const config = this.decode(attributes, request.config) ?? {};
    const privateData = (request.prior_private as Uint8Array | undefined) ?? EMPTY;
    if (proposed === null) {
      // Destroy: the only valid plan is the null object.
      return { planned_state: this.encode(attributes, null), requires_replace: [], planned_private: privateData, diagnostics: [] };
    }
    const creating = prior === null;
    // Write-only values are in the proposal (it comes from the configuration) but never in a plan.
    const planned: ObjectValue = withoutWriteOnly(attributes, proposed);
    const diagnostics: Diagnostic[] = [];
    const replace = new Set<string>();

    // Defaults fill attributes the configuration leaves unset.
    for (const [name, attribute] of Object.entries(attributes)) {
      if (attribute.options.default !== undefined && config[name] === null) planned[name] = attribute.options.default as Value;
    }
    // A computed attribute the configuration does not set is decided at apply, whenever
    // the resource is created or changes at all; unchanged resources keep their state.
    if (creating || !valuesEqual(objectType(attributes), planned, prior)) {
      for (const [name, attribute] of Object.entries(attributes)) {
        if (attribute.options.computed && attribute.options.default === undefined && config[name] === null) planned[name] = UNKNOWN;
      }
    }
    for (const [name, attribute] of Object.entries(attributes)) {
      if (attribute.options.writeOnly) continue;
      for (const modifier of attribute.options.planModifiers ?? []) {
        const modifierRequest: PlanModifierRequest<unknown> = {
          attribute: name,
          type: attribute.type,
          config: config[name] ?? null,
          state: creating ? undefined : (prior[name] ?? null),
          plan: planned[name] ?? null,
          creating,
        };
        const result = modifier.modify(modifierRequest as PlanModifierRequest<never>);
        if (!result) continue;
        if ('plan' in result) planned[name] = (result.plan ?? null) as Value;
        if (result.requiresReplace) replace.add(name);
        for (const d of result.diagnostics ?? []) diagnostics.push(complete(d, [name]));
      }
    }
    if (resource.definition.modifyPlan && !hasErrors(diagnostics)) {
      const result = await resource.definition.modifyPlan({ config: config as never, state: prior as never, plan: planned as never, ctx: this.context(logger) });
      for (const name of result?.requiresReplace ?? []) replace.add(name);
      for (const d of result?.diagnostics ?? []) diagnostics.push(complete(d, []));
      // modifyPlan may have written one back from the configuration.
      for (const name of writeOnlyNames(attributes)) planned[name] = null;
    }
    if (logger.enabled('trace')) logger.trace('Planned state', { planned: loggable(attributes, planned), requires_replace: [...replace] });
    return {
      planned_state: this.encode(attributes, planned),
      requires_replace: [...replace].map((name) => pathToMessage([name])),
      planned_private: privateData,
      diagnostics: diagnostics.map(diagnosticToMessage),
    };
  }

  private async applyResourceChange(request: Message, logger: Logger): Promise<Message> {
    const resource = this.resource(request);
    const attributes = resource.schema.attributes;
    const def = resource.definition;
    const prior = this.decode(attributes, request.prior_state);
    const planned = this.decode(attributes, request.planned_state);
    const config = this.decode(attributes, request.config) ?? {};
    const privateData = (request.planned_private as Uint8Array | undefined) ?? EMPTY;
    const ctx = this.context(logger);
    const writeOnly = Object.fromEntries(writeOnlyNames(attributes).map((name) => [name, config[name] ?? null]));
    // What the resource reported on the way (warnings), shown before a failure if one follows.
    const reported = new DiagnosticCollector();
    const answer = (state: ObjectValue | null, diagnostics: Diagnostic[] = []): Message => ({
      new_state: this.encode(attributes, state),
      private: privateData,
      diagnostics: [...reported.diagnostics, ...diagnostics].map(diagnosticToMessage),
    });

    if (planned === null) {
      if (prior === null) return answer(null);
      try {
        await def.delete({ state: prior as never, ctx, diagnostics: reported });
        return answer(null);
      } catch (err) {
        // The object still exists: keep it in state so a later destroy can retry.
        return answer(prior, [diagnosticFromError(err, `Failed to delete ${resource.typeName}`)]);
      }
    }

    const action = prior === null ? 'create' : 'update';
    let returned: unknown;
    try {
      if (prior === null) {
        returned = await def.create({ plan: planned as never, config: config as never, writeOnly, ctx, diagnostics: reported });
      } else {
        if (!def.update) throw new ResourceError('In-place update is not supported', { detail: `${resource.typeName} cannot be updated in place; this is a bug in the provider's plan.` });
        returned = await def.update({ plan: planned as never, state: prior as never, config: config as never, writeOnly, ctx, diagnostics: reported });
      }
    } catch (err) {
      const diagnostic = diagnosticFromError(err, `Failed to ${action} ${resource.typeName}`);
      // A partial result recorded by the resource keeps Terraform tracking what exists.
      if (err instanceof ResourceError && err.state) {
        return answer(this.completeState(resource, err.state, prior ?? planned, logger), [diagnostic]);
      }
      return answer(prior, [diagnostic]);
    }
    const newState = this.completeState(resource, returned, planned, logger);
    for (const [name, attribute] of Object.entries(attributes)) {
      const plannedValue = planned[name];
      if (isWhollyKnown(plannedValue) && !valuesEqual(attribute.type, plannedValue, newState[name])) {
        logger.warn('Applied value differs from the planned value; Terraform will report an inconsistent result', { attribute: name });
      }
    }
    if (logger.enabled('trace')) logger.trace('Applied state', { state: loggable(attributes, newState) });
    return answer(newState);
  }

  private async importResourceState(request: Message, logger: Logger): Promise<Message> {
    const resource = this.resource(request);
    const def = resource.definition;
    if (!def.importState) {
      return { imported_resources: [], diagnostics: [diagnosticToMessage(error('Import is not supported', `${resource.typeName} cannot be imported.`))] };
    }
    const id = typeof request.id === 'string' ? request.id : '';
    const partial = await def.importState({ id, ctx: this.context(logger) });
    const state = this.completeState(resource, partial, null, logger);
    return {
      imported_resources: [{ type_name: resource.typeName, state: this.encode(resource.schema.attributes, state), private: EMPTY }],
      diagnostics: [],
    };
  }

  private async upgradeResourceState(request: Message, logger: Logger): Promise<Message> {
    const resource = this.resource(request);
    const attributes = resource.schema.attributes;
    const current = resource.schema.version ?? 0;
    const version = Number(request.version ?? 0);
    const raw = (request.raw_state ?? {}) as { json?: Uint8Array; flatmap?: Record<string, string> };
    if (!raw.json || raw.json.length === 0) {
      if (raw.flatmap && Object.keys(raw.flatmap).length) {
        throw new ResourceError('Unsupported state format', { detail: 'This state was written in the legacy flatmap format, which this provider cannot read.' });
      }
      return { upgraded_state: this.encode(attributes, null), diagnostics: [] };
    }
    const parsed = JSON.parse(Buffer.from(raw.json).toString('utf8')) as unknown;
    if (parsed === null) return { upgraded_state: this.encode(attributes, null), diagnostics: [] };
    if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ResourceError('Invalid stored state', { detail: 'The stored state is not a JSON object.' });
    let state = parsed as Record<string, unknown>;
    if (version > current) {
      throw new ResourceError('State written by a newer provider', {
        detail: `${resource.typeName} state has schema version ${version}; this provider understands up to ${current}. Upgrade the provider.`,
      });
    }
    if (version < current) {
      if (!resource.definition.upgradeState) {
        throw new ResourceError('Cannot upgrade state', { detail: `${resource.typeName} has no upgrade from schema version ${version} to ${current}.` });
      }
      logger.info('Upgrading state', { from_version: version, to_version: current });
      state = await resource.definition.upgradeState({ fromVersion: version, state });
    }
    const dropped = Object.keys(state).filter((name) => !(name in attributes));
    if (dropped.length) logger.debug('Dropping stored attributes the schema no longer declares', { attributes: dropped });
    let value: ObjectValue;
    try {
      value = objectFromWire(Object.fromEntries(Object.entries(attributes).map(([n, a]: [string, AnyAttribute]) => [n, a.type])), state);
    } catch (err) {
      if (err instanceof ValueError) throw new ResourceError('Invalid stored state', { detail: err.message, path: err.path });
      throw err;
    }
    registerSensitive(this.redactor, attributes, value);
    return { upgraded_state: this.encode(attributes, withoutWriteOnly(attributes, value)), diagnostics: [] };
  }

  private async validateEphemeralResourceConfig(request: Message): Promise<Message> {
    const ephemeral = this.ephemeral(request);
    const config = this.decode(ephemeral.schema.attributes, request.config) ?? {};
    const def = ephemeral.definition;
    const diagnostics = await this.validate(ephemeral.schema.attributes, config, def.validateConfig?.bind(def));
    return { diagnostics: diagnostics.map(diagnosticToMessage) };
  }

  /**
   * Opens an ephemeral resource: the result is the configuration with the computed values
   * `open` decided (Terraform checks configured values come back unchanged), sensitive ones
   * registered with the redactor; `private` travels as JSON bytes.
   */
  private async openEphemeralResource(request: Message, logger: Logger): Promise<Message> {
    const ephemeral = this.ephemeral(request);
    const attributes = ephemeral.schema.attributes;
    const config = this.decode(attributes, request.config) ?? {};
    const reported = new DiagnosticCollector();
    const held = new HeldLogger(logger);
    try {
      const opened = await ephemeral.definition.open({ config: config as never, ctx: this.context(held), diagnostics: reported });
      const configured: ObjectValue = Object.fromEntries(Object.keys(attributes).map((name) => [name, config[name] ?? null]));
      const result = this.completeState(ephemeral, { ...(opened.result as object), ...this.configuredOnly(attributes, configured) }, configured, logger);
      if (logger.enabled('trace')) logger.trace('Opened', { result: loggable(attributes, result), renew_at: opened.renewAt?.toISOString() });
      const renewAt = timestamp(opened.renewAt);
      const privateData = encodePrivate(opened.private);
      return {
        result: this.encode(attributes, result),
        ...(renewAt ? { renew_at: renewAt } : {}),
        ...(privateData ? { private: privateData } : {}),
        diagnostics: reported.diagnostics.map(diagnosticToMessage),
      };
    } catch (err) {
      return { diagnostics: [...reported.diagnostics, diagnosticFromError(err, `Failed to open ${ephemeral.typeName}`)].map(diagnosticToMessage) };
    } finally {
      held.release();
    }
  }

  /** The values the configuration sets (non-null) for attributes that are not computed: they must come back as configured. */
  private configuredOnly(attributes: Attributes, config: ObjectValue): ObjectValue {
    const out: ObjectValue = {};
    for (const [name, attribute] of Object.entries(attributes)) {
      if (!attribute.options.computed || config[name] !== null) out[name] = config[name] ?? null;
    }
    return out;
  }

  private async renewEphemeralResource(request: Message, logger: Logger): Promise<Message> {
    const ephemeral = this.ephemeral(request);
    const reported = new DiagnosticCollector();
    try {
      if (!ephemeral.definition.renew) return { diagnostics: [] };
      const renewed = await ephemeral.definition.renew({ private: decodePrivate(request.private), ctx: this.context(logger), diagnostics: reported });
      const renewAt = timestamp(renewed.renewAt);
      const privateData = encodePrivate(renewed.private);
      logger.debug('Renewed', { next_renew_at: renewed.renewAt?.toISOString() });
      return {
        ...(renewAt ? { renew_at: renewAt } : {}),
        ...(privateData ? { private: privateData } : {}),
        diagnostics: reported.diagnostics.map(diagnosticToMessage),
      };
    } catch (err) {
      return { diagnostics: [...reported.diagnostics, diagnosticFromError(err, `Failed to renew ${ephemeral.typeName}`)].map(diagnosticToMessage) };
    }
  }

  private async closeEphemeralResource(request: Message, logger: Logger): Promise<Message> {
    const ephemeral = this.ephemeral(request);
    const reported = new DiagnosticCollector();
    try {
      await ephemeral.definition.close?.({ private: decodePrivate(request.private), ctx: this.context(logger), diagnostics: reported });
      return { diagnostics: reported.diagnostics.map(diagnosticToMessage) };
    } catch (err) {
      return { diagnostics: [...reported.diagnostics, diagnosticFromError(err, `Failed to close ${ephemeral.typeName}`)].map(diagnosticToMessage) };
    }
  }
}
