/** Entry point of the toy provider plugin (bundled by the tests). */
import { runPlugin } from '../../../src/provider/server';
import { toyProvider } from './provider';

runPlugin(toyProvider());
