#!/usr/bin/env node
import { runCliProcess } from './cli-process.js';

// The unbundled entry (tsc's dist/main.js); the published bin (dist/bin/fnts) runs the same function from a bundle.
runCliProcess(process.argv);
