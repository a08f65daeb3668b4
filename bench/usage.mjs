// -h or --help: print the calling script's header comment (its usage) and
// exit, before anything is loaded or run. `usage(import.meta.url)` first thing.
import { readFileSync } from 'node:fs'

export function usage(scriptUrl) {
  if (!process.argv.slice(2).some((arg) => arg === '-h' || arg === '--help')) return
  const header = []
  for (const line of readFileSync(new URL(scriptUrl), 'utf8').split('\n').slice(1)) {
    if (!line.startsWith('//')) break
    header.push(line.replace(/^\/\/ ?/, ''))
  }
  console.log(header.join('\n'))
  process.exit(0)
}
