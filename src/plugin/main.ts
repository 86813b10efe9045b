/** The plugin's entry point, bundled into the executable Terraform runs. */
import { runPlugin } from '../provider/server';
import { adaptiveProvider } from './provider';

runPlugin(adaptiveProvider());
