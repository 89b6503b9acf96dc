#!/usr/bin/env node
// Launcher: all logic lives in the compiled TypeScript (dist/, built by `npm install`).
import { main } from '../dist/cli.js';

main(process.argv.slice(2));
