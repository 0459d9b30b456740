#!/usr/bin/env node
// Entry point of the compiled binary (bin/discover-metrics imports this file).
import { main } from './program.js';

process.exitCode = await main(process.argv);
