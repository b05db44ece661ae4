#!/usr/bin/env node
// The `netarp` command. The sources are TypeScript, run through tsx's loader: registered
// here, in this process, then the CLI is imported. Paths are relative to this file's real
// location, so `npx netarp` and a symlink in node_modules/.bin work as well.
import { register } from 'tsx/esm/api';

register();
const { runProcess } = await import('../src/cli/main.ts');
await runProcess();
