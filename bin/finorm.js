#!/usr/bin/env node
// Launcher: all logic lives in the compiled TypeScript (dist/, built by `npm install`).
// `finorm --version` is answered here, without loading the CLI (about 90 ms less).
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0);
    const reason = error.code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : `${error.message}`;
    process.stderr.write(`finorm: cannot write stdout: ${reason}\n`);
    process.exit(1);
  });
  process.stdout.write(`${version}\n`);
} else {
  const { main } = await import('../dist/cli.js');
  await main(process.argv.slice(2));
}
