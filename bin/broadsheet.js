#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader: no build step between a
// clone and `npm start`, and stack traces point at the .ts sources.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
