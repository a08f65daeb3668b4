#!/usr/bin/env node
'use strict'
// `npx oatk ...`: the same command line as the Rust binary (core's cli::run).
const { runCli } = require('../native.js')

process.exitCode = runCli(process.argv.slice(2))
