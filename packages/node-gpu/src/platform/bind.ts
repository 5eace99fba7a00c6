/** Binds the Node platform into core once, whichever of the package's entry points is imported first. */
import { bindNodePlatform } from './binding.js';

bindNodePlatform();
