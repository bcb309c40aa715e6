#!/usr/bin/env node
// React picks its build from NODE_ENV when first imported: production unless told otherwise.
process.env.NODE_ENV ??= 'production';
await import('../dist/cli/main.js');
