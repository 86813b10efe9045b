/** The plugin's entry point, bundled into the executable Terraform runs. */
import { adaptiveProvider } from './provider';
import { runPlugin } from './server';

runPlugin(adaptiveProvider());
