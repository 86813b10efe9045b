/**
 * The CDKTF example app (cdktf.json at the repository root runs it): the PostgreSQL guide's
 * production example built with the constructs, and the postgres-access HCL module used
 * from CDKTF. Settings come from the environment (see settings.ts).
 */
import { App } from '../../src/constructs/cdk';
import { ModuleStack } from './module-stack';
import { ProductionStack } from './production-stack';
import { settingsFromEnv } from './settings';

const settings = settingsFromEnv();
// No stack traces in the output: they would carry this machine's paths.
const app = new App({ stackTraces: false });
new ProductionStack(app, 'production', { ...settings.production, stateDir: settings.stateDir });
new ModuleStack(app, 'postgres-access-module', { ...settings.module, stateDir: settings.stateDir });
app.synth();
