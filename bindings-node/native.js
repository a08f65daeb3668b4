'use strict'
// The native addon, through the loader napi-rs generates (binding.js). A
// release install gets the addon from the platform package npm picked
// (oatk-linux-x64-gnu...); a source checkout builds it next to this file.
// When neither is there, say which platform was looked for and what to do,
// instead of the loader's generic message.

const { platformSuffix } = require('./platform.js')

try {
  module.exports = require('./binding.js')
} catch (error) {
  const suffix = platformSuffix()
  const wrapped = new Error(
    `oatk: no native addon for ${suffix}. oatk ships a prebuilt addon as the package ` +
      `oatk-${suffix}, installed by npm with oatk when the platform matches: ` +
      `reinstall with optional dependencies enabled (not --omit=optional), or build from ` +
      `source with Rust (npm install ./bindings-node in a checkout). Prebuilt: linux-x64-gnu.`,
  )
  wrapped.code = 'OATK_NO_NATIVE_ADDON'
  wrapped.cause = error
  throw wrapped
}
