#!/usr/bin/env node
// Builds the native addon from source (Rust, napi-rs) and puts the browser
// script next to it. Run by `npm install` (the "install" script), also when an
// app installs this folder (`npm install ./bindings-node`).
//
//   node scripts/build.js [--release | --debug]
//
// Profile: the flag, else OATK_NODE_PROFILE (debug|release), else release.
// The library is built with plain `cargo build` into the workspace's shared
// target directory. With @napi-rs/cli installed (a devDependency: present when
// `npm install` runs in this folder) its generators also rewrite binding.js
// (the platform loader) and binding.d.ts (types from the Rust docs); without
// it (an app installing this folder) the committed copies are used.
'use strict'

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
// The suffix napi's loader (binding.js) looks for: oatk.<platform>-<arch>[-abi].node
const { platformSuffix } = require('../platform.js')

const here = path.resolve(__dirname, '..')
const repo = path.resolve(here, '..')

function fail(message) {
  console.error(`oatk: ${message}`)
  process.exit(1)
}

function profile() {
  if (process.argv.includes('--release')) return 'release'
  if (process.argv.includes('--debug')) return 'debug'
  const wanted = process.env.OATK_NODE_PROFILE
  if (wanted === undefined || wanted === '') return 'release'
  if (wanted !== 'debug' && wanted !== 'release') fail(`OATK_NODE_PROFILE must be debug or release, not ${JSON.stringify(wanted)}`)
  return wanted
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: here, ...options })
  if (result.error && result.error.code === 'ENOENT') {
    fail(`${command} not found: building oatk from source needs Rust (https://rustup.rs) and cargo on the PATH`)
  }
  if (result.error) fail(`${command}: ${result.error.message}`)
  if (result.status !== 0) fail(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
}

function libraryName() {
  if (process.platform === 'win32') return 'oatk_node.dll'
  if (process.platform === 'darwin') return 'liboatk_node.dylib'
  return 'liboatk_node.so'
}

function copyBrowserScript() {
  // One source: core/assets/oatk.js. This copy is generated and not committed.
  const source = path.join(repo, 'core', 'assets', 'oatk.js')
  if (!fs.existsSync(source)) fail(`${source} is missing: build from the oatk repository checkout`)
  fs.mkdirSync(path.join(here, 'browser'), { recursive: true })
  fs.copyFileSync(source, path.join(here, 'browser', 'oatk.js'))
}

function napiCli() {
  try {
    return require.resolve('@napi-rs/cli/package.json', { paths: [here] })
  } catch {
    return null
  }
}

async function main() {
  const mode = profile()
  const addon = path.join(here, `oatk.${platformSuffix()}.node`)
  if (!fs.existsSync(path.join(repo, 'core', 'Cargo.toml'))) {
    // Installed from a packed tarball, outside the repository: use the addon it ships.
    if (fs.existsSync(addon)) return console.error(`oatk: using the prebuilt ${path.basename(addon)}`)
    fail(`no prebuilt ${path.basename(addon)} and no oatk sources to build it from: install from a checkout of the oatk repository (npm install path/to/oatk/bindings-node)`)
  }
  copyBrowserScript()
  const cli = napiCli()
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target')
  const env = { ...process.env }
  let typeDefDir = null
  if (cli) {
    // napi-derive writes the type definitions while compiling this crate.
    fs.mkdirSync(path.join(target, 'napi-rs'), { recursive: true })
    typeDefDir = fs.mkdtempSync(path.join(target, 'napi-rs', 'oatk-node-typedef-'))
    env.NAPI_TYPE_DEF_TMP_FOLDER = typeDefDir
    env.NAPI_FORCE_BUILD_OATK_NODE = String(Date.now())
  }
  // Plain cargo, no --target: the artifacts land in the workspace's shared
  // target/<profile>, next to the core's, so nothing is compiled twice.
  const args = ['build', '--package', 'oatk-node', '--manifest-path', path.join(here, 'Cargo.toml')]
  if (mode === 'release') args.push('--release')
  run('cargo', args, { env })
  const built = path.join(target, mode, libraryName())
  // Replace, not overwrite: a running process may have the old file mapped.
  fs.rmSync(addon, { force: true })
  fs.copyFileSync(built, addon)
  if (cli) {
    await writeTypings(cli, typeDefDir)
    fs.rmSync(typeDefDir, { recursive: true, force: true })
  }
  console.error(`oatk: native addon built (${mode}): ${path.relative(process.cwd(), addon) || addon}`)
}

// binding.d.ts and binding.js (the platform loader), with @napi-rs/cli's own
// generators, exactly as `napi build --platform --js binding.js --dts binding.d.ts` writes them.
async function writeTypings(cli, typeDefDir) {
  const napi = await import(require('node:url').pathToFileURL(path.join(path.dirname(cli), 'dist', 'index.js')).href)
  const { exports, dts } = await napi.generateTypeDef({
    typeDefDir,
    cwd: here,
    noDtsHeader: true,
    declareBindingTarget: true,
  })
  if (exports.length === 0) fail('no type definitions were generated (is napi-derive in use?)')
  fs.writeFileSync(path.join(here, 'binding.d.ts'), dts)
  const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'))
  await napi.writeJsBinding({
    platform: true,
    binaryName: pkg.napi.binaryName,
    packageName: pkg.name,
    version: pkg.version,
    idents: exports,
    outputDir: here,
    jsBinding: 'binding.js',
  })
}

main().catch((e) => fail(e.stack || String(e)))
